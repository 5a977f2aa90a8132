// @xmpp/client (xmpp.js), the independent client the integration tests log in with.
import { WebSocket } from 'ws';
import { client, type XmppClient } from '@xmpp/client';
import type { Element } from 'ltx';

// xmpp.js uses the WebSocket global, which Node 20 lacks; `ws` provides the same API.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

export interface Connected {
  xmpp: XmppClient;
  jid: string;
  /** Stanzas received so far, in order. */
  inbox: Element[];
  /** Wait for a received stanza matching the predicate (including ones already received). */
  waitFor(match: (el: Element) => boolean, timeoutMs?: number): Promise<Element>;
  stop(): Promise<void>;
}

export async function connectClient(opts: { service: string; domain?: string; username: string; password: string; resource?: string }): Promise<Connected> {
  const xmpp = client({ service: opts.service, domain: opts.domain ?? 'localhost', username: opts.username, password: opts.password, resource: opts.resource });
  xmpp.reconnect.stop();
  const inbox: Element[] = [];
  const waiters: (() => void)[] = [];
  xmpp.on('stanza', (el: Element) => {
    inbox.push(el);
    for (const w of waiters.splice(0)) w();
  });
  xmpp.on('error', () => {});
  await xmpp.start();
  return {
    xmpp,
    jid: xmpp.jid!.toString(),
    inbox,
    waitFor(match, timeoutMs = 5000) {
      return new Promise<Element>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out waiting for a stanza')), timeoutMs);
        const check = () => {
          const found = inbox.find(match);
          if (found) {
            clearTimeout(timer);
            resolve(found);
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
    async stop() {
      await xmpp.stop().catch(() => {});
    },
  };
}
