// A raw XMPP client for protocol tests: writes exactly the bytes a test gives and parses what
// the server sends with xmpp.js's own parser (an implementation independent of the server's).
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Parser } from '@xmpp/xml';
import type { Element } from 'ltx';
import { Conditions } from './conditions.ts';

export const NS = {
  stream: 'http://etherx.jabber.org/streams',
  streams: 'urn:ietf:params:xml:ns:xmpp-streams',
  stanzas: 'urn:ietf:params:xml:ns:xmpp-stanzas',
  tls: 'urn:ietf:params:xml:ns:xmpp-tls',
  sasl: 'urn:ietf:params:xml:ns:xmpp-sasl',
  bind: 'urn:ietf:params:xml:ns:xmpp-bind',
  client: 'jabber:client',
} as const;

export function header(to = 'localhost', extra = ''): string {
  return `<?xml version='1.0'?><stream:stream to='${to}' version='1.0' xmlns='jabber:client' xmlns:stream='${NS.stream}'${extra}>`;
}

export class RawClient {
  private socket: net.Socket;
  private parser!: InstanceType<typeof Parser>;
  private readonly inbox: Element[] = [];
  private readonly conditions = new Conditions(() => this.received.slice(-800));
  /** The server's last stream header (root element). */
  streamHeader: Element | null = null;
  streamEnded = false;
  closed = false;
  /** Everything received, as text, for assertions on raw bytes. */
  received = '';

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.resetParser();
    this.attach(socket);
  }

  /**
   * `localAddress` picks the client's source address in 127.0.0.0/8 (per-IP limits); `tls` adds
   * TLS options for direct TLS (e.g. maxVersion, or a session to resume).
   */
  static async connect(
    port: number,
    opts: { directTls?: boolean; servername?: string; host?: string; localAddress?: string; tls?: tls.ConnectionOptions } = {},
  ): Promise<RawClient> {
    const host = opts.host ?? '127.0.0.1';
    const socket = opts.directTls
      ? tls.connect({ host, port, servername: opts.servername ?? 'localhost', ...opts.tls })
      : net.connect({ host, port, localAddress: opts.localAddress });
    const session = socket instanceof tls.TLSSocket ? firstSession(socket) : undefined;
    await new Promise<void>((resolve, reject) => {
      socket.once(opts.directTls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const client = new RawClient(socket);
    client.session = session;
    return client;
  }

  /** The first TLS session (a TLS 1.3 ticket) the server gave this connection, to resume it later. */
  tlsSession(): Promise<Buffer> {
    if (!this.session) throw new Error('no TLS on this connection');
    return this.session;
  }

  private session: Promise<Buffer> | undefined;

  get tlsSocket(): tls.TLSSocket | null {
    return this.socket instanceof tls.TLSSocket ? this.socket : null;
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Write raw bytes (for invalid UTF-8 and split characters). */
  sendBytes(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next top-level element the server sends. */
  async next(timeoutMs = 5000): Promise<Element> {
    await this.conditions.until(() => this.inbox.length > 0, timeoutMs, 'an element');
    return this.inbox.shift()!;
  }

  /** Skip elements until one matches. */
  async nextMatching(match: (el: Element) => boolean, timeoutMs = 5000): Promise<Element> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const el = await this.next(Math.max(1, deadline - Date.now()));
      if (match(el)) return el;
    }
  }

  /** The first element (received or still to come) that matches, leaving the others in place. */
  async take(match: (el: Element) => boolean, timeoutMs = 5000): Promise<Element> {
    let found: Element | undefined;
    await this.conditions.until(
      () => {
        const i = this.inbox.findIndex(match);
        if (i >= 0) found = this.inbox.splice(i, 1)[0];
        return found !== undefined;
      },
      timeoutMs,
      'a matching element',
    );
    return found!;
  }

  /** Fails when an element that matches arrives (or has arrived) within `ms`. */
  async none(match: (el: Element) => boolean, ms = 300): Promise<void> {
    const early = this.inbox.find(match);
    if (early) throw new Error(`unexpected ${early.toString()}`);
    let seen: Element | undefined;
    await this.conditions.until(() => (seen = this.inbox.find(match)) !== undefined, ms, '').catch(() => {});
    if (seen) throw new Error(`unexpected ${seen.toString()}`);
  }

  /** Drop everything received so far. */
  clear(): void {
    this.inbox.length = 0;
  }

  /** Resolves once the server has opened its stream (sent its header). */
  async opened(timeoutMs = 5000): Promise<Element> {
    await this.conditions.until(() => this.streamHeader !== null, timeoutMs, 'the stream header');
    return this.streamHeader!;
  }

  /** Resolves when the server has closed the TCP connection. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    await this.conditions.until(() => this.closed, timeoutMs, 'the connection to close');
  }

  /** Expect a stream error; returns its condition name after checking the stream then closes. */
  async streamError(timeoutMs = 5000): Promise<string> {
    const el = await this.nextMatching((e) => e.name === 'stream:error', timeoutMs);
    const condition = el.getChildElements().find((c) => c.attrs.xmlns === NS.streams && c.name !== 'text');
    await this.conditions.until(() => this.streamEnded, timeoutMs, '</stream:stream>');
    return condition?.name ?? '(none)';
  }

  /** Negotiate STARTTLS on a stream whose features were just read; `options` as for tls.connect. */
  async startTls(servername = 'localhost', options: tls.ConnectionOptions = {}): Promise<void> {
    this.send(`<starttls xmlns='${NS.tls}'/>`);
    const proceed = await this.next();
    if (proceed.name !== 'proceed') throw new Error(`expected <proceed/>, got ${proceed.toString()}`);
    const plain = this.socket;
    plain.removeAllListeners('data');
    const secure = tls.connect({ socket: plain, servername, ...options });
    this.session = firstSession(secure);
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.resetParser();
    this.attach(secure);
  }

  /** Open a stream and read its features. */
  async open(to = 'localhost'): Promise<Element> {
    this.resetParser();
    this.send(header(to));
    await this.opened();
    return this.nextMatching((e) => e.name === 'stream:features');
  }

  /**
   * STARTTLS, SASL PLAIN and bind: a ready session for stanza-level tests.
   * Returns the bound full JID.
   */
  async login(user: string, password: string, resource = 'raw', domain = 'localhost'): Promise<string> {
    const features = await this.open(domain);
    if (features.getChild('starttls', NS.tls)) {
      await this.startTls(domain);
      await this.open(domain);
    }
    const creds = Buffer.from(`\0${user}\0${password}`).toString('base64');
    this.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${creds}</auth>`);
    const result = await this.next();
    if (result.name !== 'success') throw new Error(`login failed: ${result.toString()}`);
    await this.open(domain);
    this.send(`<iq type='set' id='bind1'><bind xmlns='${NS.bind}'><resource>${resource}</resource></bind></iq>`);
    const bound = await this.nextMatching((e) => e.name === 'iq' && e.attrs.id === 'bind1');
    const jid = bound.getChild('bind', NS.bind)?.getChildText('jid');
    if (!jid) throw new Error(`bind failed: ${bound.toString()}`);
    return jid;
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private resetParser(): void {
    this.streamHeader = null;
    this.streamEnded = false;
    this.parser = new Parser();
    this.parser.on('start', (el: Element) => {
      this.streamHeader = el;
      this.conditions.wake();
    });
    this.parser.on('element', (el: Element) => {
      this.inbox.push(el);
      this.conditions.wake();
    });
    this.parser.on('end', () => {
      this.streamEnded = true;
      this.conditions.wake();
    });
    this.parser.on('error', () => {});
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (data: Buffer) => {
      const text = data.toString('utf8');
      this.received += text;
      this.parser.write(text);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.conditions.wake();
    });
  }
}

/** A TLS 1.3 ticket can arrive together with the end of the handshake: listen from the start. */
function firstSession(socket: tls.TLSSocket): Promise<Buffer> {
  return new Promise((resolve) => socket.once('session', resolve));
}
