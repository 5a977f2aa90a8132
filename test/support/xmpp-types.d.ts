// Types for the test-side XMPP libraries (they ship none); only what the tests use.
declare module '@xmpp/xml' {
  import type { Element } from 'ltx';
  import type { EventEmitter } from 'node:events';
  export class Parser extends EventEmitter {
    write(data: string): void;
    end(data?: string): void;
  }
  export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: (Element | string)[]): Element;
  export default xml;
}

declare module '@xmpp/client' {
  import type { Element } from 'ltx';
  import type { EventEmitter } from 'node:events';
  export interface ClientOptions {
    service: string;
    domain?: string;
    resource?: string;
    username?: string;
    password?: string;
    credentials?: (auth: (creds: { username: string; password: string }) => Promise<void>, mechanism: string) => Promise<void>;
  }
  export interface XmppClient extends EventEmitter {
    jid: { toString(): string; local: string; domain: string; resource: string } | null;
    status: string;
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(el: Element): Promise<void>;
    sendReceive(el: Element): Promise<Element>;
    iqCaller: { request(el: Element, timeout?: number): Promise<Element>; get(el: Element, to?: string): Promise<Element> };
    /** Answers IQ get/set by namespace and element name: a handler's truthy return is a result, an Element its payload. */
    iqCallee: {
      get(ns: string, name: string, handler: (ctx: { stanza: Element; element: Element }) => unknown): void;
      set(ns: string, name: string, handler: (ctx: { stanza: Element; element: Element }) => unknown): void;
    };
    reconnect: { stop(): void };
    mechanisms: unknown[];
  }
  export function client(options: ClientOptions): XmppClient;
  export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: (Element | string)[]): Element;
}
