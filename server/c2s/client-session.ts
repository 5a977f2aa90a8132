// A client stream (RFC 6120): header → STARTTLS → SASL → restart → bind → stanzas.
// The same negotiation runs over TCP and WebSocket; XmlStream hides the framing.
import { monotonicMs } from '../clock.ts';
import { randomToken } from '../random.ts';
import { StreamError, StanzaError, type StreamErrorCondition } from '../errors.ts';
import { x, type Element } from '../xml/element.ts';
import { parseJid, JidError, type Jid } from '../jid.ts';
import { IQ_TYPES, PRESENCE_TYPES, errorReply, isStanzaName, stanzaType, type Stanza } from '../stanza.ts';
import { SerialQueue, type QueueOwner } from '../stream/serial-queue.ts';
import { NS_FRAMING, NS_STREAM, type PeerHeader, type StreamHandlers, type XmlStream } from '../stream/xml-stream.ts';
import { SaslNegotiation, NS_SASL } from './sasl-negotiation.ts';
import { bindResource, NS_BIND, NS_SESSION } from './bind.ts';
import { answerUnauthenticatedIq } from './unauthenticated-iq.ts';
import type { Host } from '../host.ts';
import type { PresenceState } from '../im/presence.ts';
import type { C2sServices } from './c2s-services.ts';
import type { UnauthenticatedStream } from '../iq-table.ts';

export const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';

/** How the client reached us, for logs: the listener's kind, or WebSocket (RFC 7395). */
export type C2sTransport = 'tcp-starttls' | 'tcp-direct-tls' | 'websocket';

/**
 * Why a session ended, for logs: the stream error condition sent (its own name, e.g.
 * 'connection-timeout', 'system-shutdown', 'conflict'), or one of these.
 */
export type CloseReason =
  | StreamErrorCondition
  | 'peer-closed' // the client closed its stream (RFC 6120 §4.4; RFC 7395 §3.6)
  | 'transport-lost' // the socket or WebSocket went away without a closing handshake
  | 'server-closed' // we closed without an error (e.g. after a STARTTLS <failure/>)
  | 'tls-handshake-failed';

let sessionCounter = 0;

// The session is its stream's handler and its queue's owner itself: no closures per connection.
export class ClientSession implements PresenceState, StreamHandlers, QueueOwner {
  /** For logs. */
  readonly id = (++sessionCounter).toString(36);
  readonly createdAt = monotonicMs();
  readonly transport: C2sTransport;
  host: Host | null = null;
  /** The authenticated account (bare JID) once SASL succeeded. */
  user: Jid | null = null;
  private boundJid: Jid | null = null;
  private fromString = '';
  private streamOpen = false;
  /** Bumped at every stream restart: work queued for the old stream is dropped. */
  private generation = 0;
  private lang = 'en';
  private readonly queue: SerialQueue;
  /** Only until authentication succeeds: a bound session holds no SASL state. */
  private sasl: SaslNegotiation | null;
  private ended = false;
  private pingSentAt = 0;

  available = false;
  priority = 0;
  presence: Element | null = null;

  constructor(
    readonly stream: XmlStream,
    private readonly services: C2sServices,
    /** TLS must be negotiated before anything else (listener setting, RFC 6120 §5.3.1). */
    private readonly requireTls: boolean,
  ) {
    this.queue = new SerialQueue(services.config.c2s.queueLength, this);
    this.sasl = new SaslNegotiation(this, services);
    this.transport = stream.framing === 'websocket' ? 'websocket' : stream.secure ? 'tcp-direct-tls' : 'tcp-starttls';
    stream.setHandlers(this);
    services.live.add(this);
    services.log.info({ session: this.id, address: stream.remoteAddress, transport: this.transport }, 'connection opened');
  }

  /** For the sessions gauge (metrics.ts). */
  get transportKind(): 'tcp' | 'websocket' {
    return this.stream.framing;
  }

  /** For the sessions gauge (metrics.ts). */
  get stage(): 'negotiating' | 'authenticated' | 'bound' {
    return this.boundJid ? 'bound' : this.user ? 'authenticated' : 'negotiating';
  }

  get jid(): Jid {
    if (!this.boundJid) throw new Error('session not bound');
    return this.boundJid;
  }

  get isBound(): boolean {
    return this.boundJid !== null;
  }

  /** Every element to the client goes through here, for the count of what is sent (stream headers and errors aside). */
  send(stanza: Element): void {
    this.services.metrics.stanzasOut.count(stanza.name);
    this.stream.send(stanza);
  }

  setPresence(presence: Element | null, priority: number): void {
    this.presence = presence;
    this.available = presence !== null;
    this.priority = priority;
  }

  close(error?: StreamError): void {
    this.closeFor(error?.condition ?? 'server-closed', error);
  }

  private closeFor(reason: CloseReason, error?: StreamError): void {
    this.queue.clear();
    this.stream.close(error);
    this.cleanup(reason, error?.text);
  }

  /** Called by the idle sweep with monotonicMs() and the time of the stream's last input. */
  tick(now: number, lastRead: number): void {
    const { c2s } = this.services.config;
    if (!this.boundJid) {
      if (now - this.createdAt > c2s.authTimeoutSeconds * 1000) this.close(new StreamError('connection-timeout', 'authentication took too long'));
      return;
    }
    if (this.pingSentAt > 0 && lastRead < this.pingSentAt) {
      if (now - this.pingSentAt > c2s.pingTimeoutSeconds * 1000) this.close(new StreamError('connection-timeout'));
      return;
    }
    this.pingSentAt = 0;
    if (now - lastRead > c2s.idleSeconds * 1000) {
      // XEP-0199 §4.2: a server-to-client ping; any traffic at all counts as the answer.
      this.pingSentAt = now;
      this.send(x('iq', { type: 'get', id: `ping-${now.toString(36)}`, from: this.host!.domain, to: this.fromString }, x('ping', { xmlns: 'urn:xmpp:ping' })));
    }
  }

  // ---- stream header and features (RFC 6120 §4.7, §4.3.2)

  /** StreamHandlers: the client opened (or re-opened) the stream. */
  open(h: PeerHeader): void {
    if (this.ended) return;
    if (this.streamOpen) return this.close(new StreamError('bad-format', 'the stream is already open'));
    const problem = this.checkHeader(h);
    if (problem) {
      // RFC 6120 §4.9.1.2: our own header first, from the host when we serve it.
      this.stream.sendOpen({ from: this.host?.domain, id: newStreamId(), lang: 'en' });
      return this.close(problem);
    }
    this.streamOpen = true;
    if (h.lang) this.lang = h.lang;
    let to: string | undefined;
    if (h.from) to = tryJidString(h.from);
    // RFC 6120 §4.7.3: a new id for every stream, restarts included.
    this.stream.sendOpen({ from: this.host!.domain, to, id: newStreamId(), lang: 'en' });
    this.send(this.features());
  }

  private checkHeader(h: PeerHeader): StreamError | null {
    const ws = this.stream.framing === 'websocket';
    if (ws ? h.uri !== NS_FRAMING || h.name !== 'open' : h.uri !== NS_STREAM || h.name !== 'stream') {
      return new StreamError('invalid-namespace', 'the stream header is not <stream:stream> in the streams namespace');
    }
    // RFC 6120 §4.8.5: the streams namespace is written with the 'stream' prefix.
    if (!ws && h.prefix !== 'stream') return new StreamError('bad-namespace-prefix');
    if (h.contentNs !== 'jabber:client') return new StreamError('invalid-namespace', 'the content namespace must be jabber:client');
    const host = h.to ? this.services.hosts.get(h.to.toLowerCase().replace(/\.$/, '')) : undefined;
    if (this.host === null && host) this.host = host;
    if (!host || host !== this.host) return new StreamError('host-unknown', h.to ? undefined : "the stream header needs a 'to' address");
    // RFC 6120 §4.7.5: version 1.x is spoken as 1.0; no version, or another major version, is not supported.
    if (!h.version || !/^1\.\d+$/.test(h.version)) return new StreamError('unsupported-version', 'only XMPP 1.0 streams are supported');
    return null;
  }

  private features(): Element {
    const features = x('stream:features');
    if (!this.user) {
      if (this.stream.canStartTls) {
        features.cnode(x('starttls', { xmlns: NS_TLS }, this.requireTls ? x('required') : null));
        // RFC 6120 §5.3.1: while TLS is mandatory, it is the only feature offered.
        if (this.requireTls) return features;
      }
      const sasl = this.sasl!;
      features.cnode(sasl.mechanismsFeature());
      const cb = sasl.channelBindingFeature();
      if (cb) features.cnode(cb);
      const extra: Element[] = [];
      this.host!.hooks.run('c2s/unauthenticated-features', { secure: this.stream.secure, features: extra });
      for (const f of extra) features.cnode(f);
      return features;
    }
    features.cnode(x('bind', { xmlns: NS_BIND }));
    // RFC 3921 session establishment is a no-op; advertised as optional for old clients.
    features.cnode(x('session', { xmlns: NS_SESSION }, x('optional')));
    const extra: Element[] = [];
    this.host!.hooks.run('c2s/features', { secure: this.stream.secure, features: extra });
    for (const f of extra) features.cnode(f);
    return features;
  }

  // ---- elements

  /** StreamHandlers: one top-level element. */
  element(el: Element): void {
    if (this.ended) return;
    this.services.metrics.stanzasIn.count(el.name);
    if (!this.streamOpen) return this.close(new StreamError('not-authorized', 'the stream is not open'));
    const gen = this.generation;
    this.queue.push(() => (gen === this.generation && !this.ended ? this.handle(el) : undefined));
  }

  private handle(el: Element): void | Promise<void> {
    if (this.boundJid) return this.handleStanza(el);
    if (this.user) return this.handleBeforeBind(el);
    return this.handleBeforeAuth(el);
  }

  private handleBeforeAuth(el: Element): void | Promise<void> {
    const ns = el.attrs.xmlns;
    if (ns === NS_TLS && el.name === 'starttls') return this.startTls();
    if (ns === NS_SASL) {
      if (this.mustStartTls()) return this.sasl!.refuse('encryption-required');
      return this.sasl!.handle(el);
    }
    if (ns === undefined && el.name === 'iq' && !this.mustStartTls()) {
      // Only what a module registered for the 'unauthenticated' target is answered (XEP-0077 §3.1.1).
      const answered = answerUnauthenticatedIq(this.host!, el, this.unauthenticatedStream(), (reply) => this.sendUnlessEnded(reply), this.services.log);
      if (answered !== false) return answered;
    }
    // RFC 6120 §4.9.3.12: any other stanza before authentication ends the stream.
    if (ns === undefined && isStanzaName(el.name)) return this.close(new StreamError('not-authorized'));
    return this.close(new StreamError(ns === undefined ? 'unsupported-stanza-type' : 'not-authorized'));
  }

  private unauthenticatedStream(): UnauthenticatedStream {
    return { remoteAddress: this.stream.remoteAddress, secure: this.stream.secure, close: (error) => this.close(error) };
  }

  private sendUnlessEnded(el: Element): void {
    if (!this.ended) this.send(el);
  }

  private mustStartTls(): boolean {
    return this.requireTls && this.stream.canStartTls;
  }

  private async startTls(): Promise<void> {
    if (!this.stream.canStartTls) {
      // RFC 6120 §5.4.2.2: <failure/>, then the stream and the connection close.
      this.send(x('failure', { xmlns: NS_TLS }));
      return this.close();
    }
    this.send(x('proceed', { xmlns: NS_TLS }));
    this.restartStream();
    try {
      await this.stream.startTls(this.host?.domain);
    } catch {
      this.cleanup('tls-handshake-failed');
      this.stream.destroy();
    }
  }

  /** After STARTTLS and after SASL success the client opens a new stream (RFC 6120 §4.3.3). */
  restartStream(): void {
    this.generation++;
    this.queue.clear();
    this.streamOpen = false;
    this.stream.restart();
  }

  /** SASL succeeded for `user` (called by SaslNegotiation). */
  authenticated(user: Jid): void {
    this.user = user;
    this.sasl = null;
  }

  private handleBeforeBind(el: Element): void | Promise<void> {
    if (el.name === 'iq' && el.attrs.xmlns === undefined) {
      const bind = el.getChild('bind', NS_BIND);
      if (bind) return bindResource(this, el, bind, this.services);
    }
    // RFC 6120 §7.1: nothing but binding until a resource is bound.
    return this.close(new StreamError('not-authorized', 'bind a resource first'));
  }

  /** Resource binding succeeded (called by bindResource). */
  bound(full: Jid): void {
    this.boundJid = full;
    this.fromString = full.toString();
  }

  // ---- stanzas from a bound client: validate and stamp at the edge, then route

  private handleStanza(el: Element): void | Promise<void> {
    const kind = el.name;
    if (el.attrs.xmlns !== undefined || !isStanzaName(kind)) {
      return this.close(new StreamError('unsupported-stanza-type', `<${el.name}/> is not a stanza`));
    }
    const claimed = el.attrs.from;
    // RFC 6120 §8.1.2.1: the server stamps 'from'; a client claiming another address breaks the stream.
    if (claimed !== undefined && claimed !== this.fromString && !this.isOwnAddress(claimed)) {
      return this.close(new StreamError('invalid-from'));
    }
    el.attrs.from = this.fromString;
    // RFC 6120 §8.1.5: a stanza without xml:lang takes the stream's.
    if (el.attrs['xml:lang'] === undefined && this.lang !== 'en') el.attrs['xml:lang'] = this.lang;
    const type = stanzaType(kind, el);
    const from = this.boundJid!;
    let to: Jid | null = null;
    const toAttr = el.attrs.to;
    if (toAttr !== undefined) {
      try {
        to = parseJid(toAttr);
      } catch (err) {
        if (!(err instanceof JidError)) throw err;
        return this.reject({ el, kind, type, from, to: null }, new StanzaError('jid-malformed'));
      }
    }
    const s: Stanza = { el, kind, type, from, to };
    const invalid = validateStanza(s);
    if (invalid) return this.reject(s, invalid);
    return this.services.router.outbound(s, this, false);
  }

  private isOwnAddress(claimed: string): boolean {
    try {
      const j = parseJid(claimed);
      return j.equals(this.boundJid!) || j.equals(this.boundJid!.bare());
    } catch {
      return false;
    }
  }

  private reject(s: Stanza, error: StanzaError): void {
    if (s.type !== 'error') this.send(errorReply({ ...s, to: null }, error));
  }

  // ---- end of session

  /** StreamHandlers: the client closed its stream. */
  end(): void {
    this.closeFor('peer-closed');
  }

  /** StreamHandlers: the client's input broke the stream's rules. */
  error(err: StreamError): void {
    this.close(err);
  }

  /** StreamHandlers: the transport is gone. */
  closed(): void {
    this.queue.clear();
    this.cleanup('transport-lost');
  }

  queueFull(): void {
    this.stream.pause();
  }

  queueDrained(): void {
    this.stream.resume();
  }

  taskFailed(err: unknown): void {
    this.internalError(err);
  }

  /** The session ends once, for the first reason that comes (closing our side, then the transport going, is one end). */
  private cleanup(reason: CloseReason, text?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.services.log.info(
      { session: this.id, address: this.stream.remoteAddress, transport: this.transport, reason, text, jid: this.boundJid?.toString(), durationMs: Math.round(monotonicMs() - this.createdAt) },
      'connection closed',
    );
    this.services.live.delete(this);
    if (this.boundJid) {
      this.services.sessions.remove(this);
      this.services.presence.sessionEnded(this);
      this.host!.hooks.run('session/closed', { session: this });
    }
  }

  private internalError(err: unknown): void {
    this.services.log.error({ err, session: this.id }, 'stanza processing failed');
    this.close(new StreamError('internal-server-error'));
  }
}

/** RFC 6120 §8.2.3, §8.1.3 and RFC 6121 §4.7.1: what a stanza must look like. */
function validateStanza(s: Stanza): StanzaError | null {
  if (s.kind === 'iq') {
    if (!IQ_TYPES.has(s.type)) return new StanzaError('bad-request', "an IQ needs a type of get, set, result or error");
    if (!s.el.attrs.id) return new StanzaError('bad-request', 'an IQ needs an id');
    if ((s.type === 'get' || s.type === 'set') && s.el.getChildElements().length !== 1) {
      return new StanzaError('bad-request', 'an IQ get or set has exactly one child element');
    }
  } else if (s.kind === 'presence' && !PRESENCE_TYPES.has(s.type)) {
    return new StanzaError('bad-request', `unknown presence type '${s.type}'`);
  }
  // RFC 6121 §5.2.2: a message of unknown type is handled as 'normal' by its recipients.
  return null;
}

function newStreamId(): string {
  return randomToken(12);
}

function tryJidString(s: string): string | undefined {
  try {
    return parseJid(s).toString();
  } catch {
    return undefined;
  }
}
