// A raw XMPP-over-WebSocket client (RFC 7395) for protocol tests: sends exactly the text a test
// gives, one WebSocket message per send(), and checks every message the server sends against
// the framing rules before handing it over as an element.
//
// Each server message is parsed on its own with saxes in namespace-aware document mode, not
// with the server's parser and not as part of a stream: RFC 7395 §3.3.3 requires every message
// to be one complete XML element that stands alone, so an undeclared prefix (a `stream:` element
// without xmlns:stream), a second element or a partial element is reported as a framing
// violation instead of being parsed leniently.
import { WebSocket } from 'ws';
import { SaxesParser } from 'saxes';
import { Element } from 'ltx';
import ScramSha1 from 'sasl-scram-sha-1';
import { NS } from './raw-client.ts';
import { Conditions } from './conditions.ts';

export const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';

/**
 * Parse one WebSocket message as a standalone XML document holding one element. Attributes are
 * kept as written, namespace declarations included, so tests can check what each message
 * declares. Throws on anything that is not exactly one well-formed, namespace-well-formed element.
 */
export function parseStandaloneElement(text: string): Element {
  const sax = new SaxesParser({ xmlns: true });
  let root: Element | null = null;
  let current: Element | null = null;
  let problem: Error | null = null;
  sax.on('error', (err) => {
    problem ??= err;
  });
  sax.on('opentag', (tag) => {
    const attrs: Record<string, string> = {};
    for (const a of Object.values(tag.attributes)) attrs[a.name] = a.value;
    const el = new Element(tag.name, attrs);
    if (current) current.cnode(el);
    else if (root) problem ??= new Error('a second top-level element in one message');
    else root = el;
    current = el;
  });
  sax.on('closetag', () => {
    current = current?.parent ?? null;
  });
  sax.on('text', (t) => {
    if (current) current.t(t);
  });
  sax.on('cdata', (t) => {
    if (current) current.t(t);
  });
  sax.on('comment', () => {
    problem ??= new Error('a comment in a message (RFC 6120 §11.1)');
  });
  sax.on('processinginstruction', () => {
    problem ??= new Error('a processing instruction in a message (RFC 6120 §11.1)');
  });
  sax.on('doctype', () => {
    problem ??= new Error('a DTD in a message (RFC 6120 §11.1)');
  });
  sax.write(text).close();
  if (problem) throw new Error(`not a standalone XML element (${(problem as Error).message}): ${text.slice(0, 300)}`);
  if (!root) throw new Error(`no element in the message: ${JSON.stringify(text.slice(0, 300))}`);
  return root;
}

export interface WsClose {
  code: number;
  reason: string;
}

export class WsClient {
  /** Every message received, as text, in order. */
  readonly messages: string[] = [];
  /** Messages that broke the framing rules (see parseStandaloneElement), with the reason. */
  readonly framingViolations: string[] = [];
  private readonly inbox: Element[] = [];
  private readonly conditions = new Conditions(() => this.messages.slice(-5).join(' | ').slice(-800));
  /** Set once the WebSocket is closed: the close code and reason the client saw. */
  closeInfo: WsClose | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? `(binary message of ${(data as Buffer).length} bytes)` : data.toString();
      this.messages.push(text);
      try {
        if (isBinary) throw new Error('a binary message');
        const el = parseStandaloneElement(text);
        // A message cannot inherit a namespace from a stream header, so it must carry its own.
        if (!el.getNS()) throw new Error(`a top-level element in no namespace: ${text.slice(0, 300)}`);
        this.inbox.push(el);
      } catch (err) {
        this.framingViolations.push((err as Error).message);
      }
      this.conditions.wake();
    });
    ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() };
      this.conditions.wake();
    });
    ws.on('error', () => {
      // 'close' follows.
    });
  }

  /** Open a WebSocket offering the `xmpp` subprotocol (RFC 7395 §3.1). */
  static async connect(url: string, protocols: string | string[] = 'xmpp'): Promise<WsClient> {
    const ws = new WebSocket(url, protocols);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`WebSocket handshake refused with HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
    return new WsClient(ws);
  }

  /** The subprotocol the server selected in its handshake response. */
  get protocol(): string {
    return this.ws.protocol;
  }

  get isClosed(): boolean {
    return this.closeInfo !== null;
  }

  /** Send one WebSocket text message. */
  send(text: string): void {
    this.ws.send(text);
  }

  /** Send one binary message (for invalid UTF-8). */
  sendBinary(bytes: Buffer): void {
    this.ws.send(bytes, { binary: true });
  }

  /** The next element the server sends; fails on a message that broke the framing rules. */
  async next(timeoutMs = 5000): Promise<Element> {
    await this.conditions.until(() => this.inbox.length > 0 || this.framingViolations.length > 0, timeoutMs, 'a message');
    if (this.framingViolations.length > 0) throw new Error(`framing violation: ${this.framingViolations[0]}`);
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

  /** Resolves with the close code once the WebSocket is closed. */
  async waitClosed(timeoutMs = 5000): Promise<WsClose> {
    await this.conditions.until(() => this.closeInfo !== null, timeoutMs, 'the WebSocket to close');
    return this.closeInfo!;
  }

  /** Send `<open/>` (RFC 7395 §3.4) and read the server's `<open/>` and features. */
  async open(to = 'localhost'): Promise<{ open: Element; features: Element }> {
    this.send(`<open xmlns='${NS_FRAMING}' to='${to}' version='1.0'/>`);
    const open = await this.next();
    if (!open.is('open', NS_FRAMING)) throw new Error(`expected <open/>, got ${open.toString()}`);
    const features = await this.next();
    return { open, features };
  }

  /**
   * Expect a stream error and the `<close/>` after it (RFC 7395 §3.5, §3.6); returns the
   * condition. Elements before the error are skipped.
   */
  async streamError(timeoutMs = 5000): Promise<string> {
    const el = await this.nextMatching((e) => e.name === 'stream:error', timeoutMs);
    const condition = el.getChildElements().find((c) => c.attrs.xmlns === NS.streams && c.name !== 'text');
    const after = await this.next(timeoutMs);
    if (!after.is('close', NS_FRAMING)) throw new Error(`expected <close/> after the stream error, got ${after.toString()}`);
    return condition?.name ?? '(none)';
  }

  /** SCRAM-SHA-1 with the independent npm client, restart and bind. Returns the bound full JID. */
  async login(user: string, password: string, resource = 'ws', domain = 'localhost'): Promise<string> {
    await this.open(domain);
    const scram = new ScramSha1();
    const cred = { username: user, password };
    this.send(`<auth xmlns='${NS.sasl}' mechanism='SCRAM-SHA-1'>${b64(String(scram.response(cred)))}</auth>`);
    const challenge = await this.next();
    if (challenge.name !== 'challenge') throw new Error(`SCRAM failed: ${challenge.toString()}`);
    scram.challenge(Buffer.from(challenge.getText(), 'base64').toString('utf8'));
    this.send(`<response xmlns='${NS.sasl}'>${b64(await scram.response(cred))}</response>`);
    const success = await this.next();
    if (success.name !== 'success') throw new Error(`SCRAM failed: ${success.toString()}`);
    // RFC 7395 §3.7: a restart is a new <open/>, never a <close/>.
    const { features } = await this.open(domain);
    if (!features.getChild('bind', NS.bind)) throw new Error(`no bind feature after SASL: ${features.toString()}`);
    this.send(`<iq type='set' id='bind1'><bind xmlns='${NS.bind}'><resource>${resource}</resource></bind></iq>`);
    const bound = await this.nextMatching((e) => e.name === 'iq' && e.attrs.id === 'bind1');
    const jid = bound.getChild('bind', NS.bind)?.getChildText('jid');
    if (!jid) throw new Error(`bind failed: ${bound.toString()}`);
    return jid;
  }

  /** Drop the connection without any closing handshake. */
  terminate(): void {
    this.ws.terminate();
  }
}

/**
 * The outcome of a WebSocket handshake: the HTTP status when the server refused the upgrade,
 * or the subprotocol it selected.
 */
export async function tryHandshake(url: string, protocols?: string | string[]): Promise<{ status: number; protocol?: string }> {
  const ws = protocols === undefined ? new WebSocket(url) : new WebSocket(url, protocols);
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      const protocol = ws.protocol;
      ws.terminate();
      resolve({ status: 101, protocol });
    });
    ws.once('unexpected-response', (req, res) => {
      res.resume();
      req.destroy();
      resolve({ status: res.statusCode ?? 0 });
    });
    ws.once('error', reject);
  });
}

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}
