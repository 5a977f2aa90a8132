// One lean XMPP client session for load: TCP, STARTTLS, SCRAM-SHA-1, bind, roster get, initial
// presence, the way a real client logs in, then it stays online and hands received messages to
// its owner. It knows what servers send and parses only that (see stream-scanner.ts); anything
// unexpected (SASL <failure/>, a stream error, an IQ error, a closed socket) fails the login.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { StreamScanner, attr, childText } from './stream-scanner.ts';
import { ScramExchange, type ScramCache, type ServerFirst } from './scram-client.ts';

export interface LoadClientOptions {
  host: string;
  port: number;
  localAddress?: string;
  domain: string;
  username: string;
  password: string;
  resource: string;
  cache: ScramCache;
  timeoutMs: number;
}

type Stage = 'connect' | 'starttls' | 'tls' | 'sasl' | 'restart' | 'bind' | 'session' | 'roster' | 'online' | 'closed';

const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
// One context for every session: tls.connect() would otherwise build a fresh one (CA store,
// ciphers) per connection, a third of a millisecond of generator CPU per login.
let sharedContext: SecureContext | undefined;

/** BENCH_TRACE=1 prints every session's traffic: for debugging a target, never for measuring. */
const TRACE = Boolean(process.env.BENCH_TRACE);

export class LoadFailure extends Error {
  constructor(
    readonly stage: string,
    message: string,
  ) {
    super(message);
  }
}

export class LoadClient {
  stage: Stage = 'connect';
  fullJid = '';
  /** Called for every <message/> once online. */
  onMessage: ((xml: string) => void) | undefined;
  /** Called once when an online session ends for any reason other than close(). */
  onDropped: ((reason: string) => void) | undefined;

  #raw: Socket | undefined;
  #tls: TLSSocket | undefined;
  #scanner: StreamScanner;
  #scram: ScramExchange | undefined;
  #serverFirst = '';
  #needSession = false;
  #primeOnly = false;
  #closing = false;
  #timer: NodeJS.Timeout | undefined;
  #resolve: ((sf?: ServerFirst) => void) | undefined;
  #reject: ((err: Error) => void) | undefined;
  #closed: Promise<void> | undefined;

  constructor(private readonly o: LoadClientOptions) {
    this.#scanner = new StreamScanner({
      streamOpen: () => {},
      element: (xml, name) => this.#element(xml, name),
      streamClose: () => this.#lost('server closed the stream'),
      error: (reason) => this.#lost(`unparsable server data: ${reason}`),
    });
  }

  /** The whole login; resolves once the roster has arrived and initial presence is sent. */
  login(): Promise<void> {
    return this.#run(false).then(() => undefined);
  }

  /** Only as far as the SCRAM server-first message (to learn salt and iterations), then leaves. */
  async prime(): Promise<ServerFirst> {
    const sf = await this.#run(true);
    if (!sf) throw new LoadFailure('sasl', 'no server-first message');
    return sf;
  }

  send(xml: string): boolean {
    if (this.stage !== 'online' || !this.#tls) return false;
    this.#tls.write(xml);
    return true;
  }

  /** Closes the stream politely and waits (bounded) for the server to close its side. */
  close(timeoutMs = 5000): Promise<void> {
    if (this.#closed) return this.#closed;
    this.#closing = true;
    const sock = this.#tls ?? this.#raw;
    if (!sock || sock.destroyed) {
      this.stage = 'closed';
      return (this.#closed = Promise.resolve());
    }
    this.#closed = new Promise<void>((resolve) => {
      const t = setTimeout(() => sock.destroy(), timeoutMs);
      sock.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      try {
        sock.end('</stream:stream>');
      } catch {
        sock.destroy();
      }
    });
    this.stage = 'closed';
    return this.#closed;
  }

  #run(primeOnly: boolean): Promise<ServerFirst | undefined> {
    this.#primeOnly = primeOnly;
    return new Promise<ServerFirst | undefined>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.#timer = setTimeout(() => this.#fail(`timed out after ${this.o.timeoutMs} ms`), this.o.timeoutMs);
      const raw = netConnect({ host: this.o.host, port: this.o.port, localAddress: this.o.localAddress });
      this.#raw = raw;
      raw.setNoDelay(true);
      raw.on('connect', () => this.#openStream(raw));
      // Before STARTTLS the server sends ASCII only, so per-chunk decoding is safe.
      raw.on('data', (chunk: Buffer) => this.#receive(chunk.toString('latin1')));
      raw.on('error', (err) => this.#lost(`socket: ${err.message}`));
      raw.on('close', () => this.#lost('socket closed'));
    });
  }

  #receive(s: string): void {
    if (TRACE) process.stderr.write(`${this.o.username} <<< ${s}\n`);
    this.#scanner.push(s);
  }

  #openStream(sock: Socket): void {
    if (TRACE) process.stderr.write(`${this.o.username} >>> <stream:stream to='${this.o.domain}'>\n`);
    sock.write(
      `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${this.o.domain}' version='1.0' xml:lang='en'>`,
    );
  }

  #element(xml: string, name: string): void {
    switch (name) {
      case 'message':
        if (this.stage === 'online') this.onMessage?.(xml);
        return;
      case 'presence':
        return; // our own initial presence comes back (RFC 6121 §4.2.2); nothing else is expected
      case 'iq':
        return this.#iq(xml);
      case 'stream:features':
        return this.#features(xml);
      case 'proceed':
        return this.#startTls();
      case 'challenge':
        return this.#challenge(xml);
      case 'success':
        return this.#success(xml);
      case 'failure':
        return this.#fail(`${this.stage} failure: ${firstChildName(xml) ?? xml.slice(0, 120)}`);
      case 'stream:error':
        return this.#lost(`stream error: ${firstChildName(xml) ?? xml.slice(0, 120)}`);
      default:
        return;
    }
  }

  #features(xml: string): void {
    if (this.stage === 'connect') {
      if (!xml.includes('<starttls')) return this.#fail('server offers no STARTTLS');
      this.stage = 'starttls';
      this.#raw!.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    } else if (this.stage === 'tls') {
      if (!/<mechanism>\s*SCRAM-SHA-1\s*<\/mechanism>/.test(xml)) return this.#fail(`SCRAM-SHA-1 not offered: ${xml.slice(0, 300)}`);
      this.stage = 'sasl';
      this.#scram = new ScramExchange(this.o.username);
      this.#write(`<auth xmlns='${NS_SASL}' mechanism='SCRAM-SHA-1'>${b64(this.#scram.clientFirst())}</auth>`);
    } else if (this.stage === 'restart') {
      if (!xml.includes('<bind')) return this.#fail('server offers no resource binding');
      // RFC 6121 Appendix E: the legacy session IQ is needed only when not marked optional.
      this.#needSession = xml.includes('<session') && !xml.includes('<optional');
      this.stage = 'bind';
      this.#write(
        `<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${this.o.resource}</resource></bind></iq>`,
      );
    }
  }

  #startTls(): void {
    if (this.stage !== 'starttls') return this.#fail('unexpected <proceed/>');
    const raw = this.#raw!;
    raw.removeAllListeners('data');
    this.#scanner.reset();
    this.stage = 'tls';
    sharedContext ??= createSecureContext();
    const sock = tlsConnect({
      socket: raw,
      servername: this.o.domain,
      secureContext: sharedContext,
      rejectUnauthorized: false, // bench only: the targets use self-signed certificates
    });
    this.#tls = sock;
    sock.setEncoding('utf8'); // a streaming decoder: multi-byte characters may span records
    sock.on('secureConnect', () => this.#openStream(sock));
    sock.on('data', (s: string) => this.#receive(s));
    sock.on('error', (err) => this.#lost(`tls: ${err.message}`));
    sock.on('close', () => this.#lost('socket closed'));
  }

  #challenge(xml: string): void {
    if (this.stage !== 'sasl' || !this.#scram) return this.#fail('unexpected SASL challenge');
    const serverFirst = fromB64(childText(xml, 'challenge') ?? '');
    let sf: ServerFirst;
    try {
      sf = this.#scram.parseServerFirst(serverFirst);
    } catch (err) {
      return this.#fail((err as Error).message);
    }
    if (this.#primeOnly) {
      const resolve = this.#resolve;
      this.#settle();
      resolve?.(sf);
      void this.close(1000);
      return;
    }
    this.#serverFirst = serverFirst;
    const keys = this.o.cache.get(this.o.password, sf.salt, sf.iterations);
    if (keys) return this.#respond(sf, keys);
    // A cold client: derive once (thread pool), then every later login of this account is cheap.
    this.o.cache.derive(this.o.password, sf.salt, sf.iterations).then(
      (k) => this.#respond(sf, k),
      (err: Error) => this.#fail(err.message),
    );
  }

  #respond(sf: ServerFirst, keys: Parameters<ScramExchange['clientFinal']>[2]): void {
    if (this.stage !== 'sasl') return;
    this.#write(`<response xmlns='${NS_SASL}'>${b64(this.#scram!.clientFinal(this.#serverFirst, sf, keys))}</response>`);
  }

  #success(xml: string): void {
    if (this.stage !== 'sasl' || !this.#scram) return this.#fail('unexpected SASL success');
    if (!this.#scram.verifyServerFinal(fromB64(childText(xml, 'success') ?? ''))) return this.#fail('server signature does not verify');
    this.stage = 'restart';
    this.#scanner.reset(); // RFC 6120 §6.4.6: a new stream without closing the old one
    this.#openStream(this.#tls!);
  }

  #iq(xml: string): void {
    const id = attr(xml, 'id');
    const type = attr(xml, 'type');
    if (type === 'get' || type === 'set') {
      // Answer the server's pings (XEP-0199) and refuse anything else, as RFC 6120 §8.4 requires.
      const from = attr(xml, 'from');
      const to = from ? ` to='${from}'` : '';
      if (xml.includes('urn:xmpp:ping')) this.#write(`<iq type='result' id='${id ?? ''}'${to}/>`);
      else
        this.#write(
          `<iq type='error' id='${id ?? ''}'${to}><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
        );
      return;
    }
    if (type === 'error') return this.#fail(`iq ${id} error: ${errorCondition(xml) ?? xml.slice(0, 200)}`);
    if (id === 'bind1' && this.stage === 'bind') {
      this.fullJid = childText(xml, 'jid') ?? '';
      if (this.#needSession) {
        this.stage = 'session';
        this.#write("<iq type='set' id='sess1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
      } else this.#rosterGet();
    } else if (id === 'sess1' && this.stage === 'session') this.#rosterGet();
    else if (id === 'roster1' && this.stage === 'roster') {
      this.#write('<presence/>');
      this.stage = 'online';
      const resolve = this.#resolve;
      this.#settle();
      resolve?.();
    }
  }

  #rosterGet(): void {
    this.stage = 'roster';
    this.#write("<iq type='get' id='roster1'><query xmlns='jabber:iq:roster'/></iq>");
  }

  #write(s: string): void {
    if (TRACE) process.stderr.write(`${this.o.username} >>> ${s}\n`);
    (this.#tls ?? this.#raw)?.write(s);
  }

  #settle(): void {
    clearTimeout(this.#timer);
    this.#resolve = undefined;
    this.#reject = undefined;
  }

  #fail(reason: string): void {
    const reject = this.#reject;
    const stage = this.stage;
    this.#settle();
    this.stage = 'closed';
    this.#closing = true;
    (this.#tls ?? this.#raw)?.destroy();
    reject?.(new LoadFailure(stage, reason));
  }

  /** The connection went away: a failed login, or a dropped online session. */
  #lost(reason: string): void {
    if (this.#reject) return this.#fail(reason);
    if (this.#closing) return;
    this.#closing = true;
    const wasOnline = this.stage === 'online';
    this.stage = 'closed';
    (this.#tls ?? this.#raw)?.destroy();
    if (wasOnline) this.onDropped?.(reason);
  }
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const fromB64 = (s: string): string => Buffer.from(s.trim(), 'base64').toString('utf8');

/** The defined condition of a stanza error (RFC 6120 §8.3.3), e.g. 'service-unavailable'. */
function errorCondition(xml: string): string | undefined {
  const at = xml.indexOf('<error');
  if (at < 0) return undefined;
  return /<([a-z-]+)[^>]*xmlns=["']urn:ietf:params:xml:ns:xmpp-stanzas["']/.exec(xml.slice(at))?.[1];
}

function firstChildName(xml: string): string | undefined {
  const gt = xml.indexOf('>');
  const m = /<([A-Za-z][\w:-]*)/.exec(xml.slice(gt + 1));
  return m?.[1];
}
