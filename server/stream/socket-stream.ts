// XmlStream over TCP: plain (upgradable with STARTTLS) or TLS from the first byte (XEP-0368).
import * as tls from 'node:tls';
import type * as net from 'node:net';
import { StreamParser, type StreamHeader } from '../xml/stream-parser.ts';
import { elementToString, streamHeader, streamClose } from '../xml/serialize.ts';
import { channelBinding, supportedChannelBindings, type ChannelBindingType } from '../tls/channel-binding.ts';
import type { Element } from '../xml/element.ts';
import type { PeerHeader, ResponseHeader, XmlStream } from './xml-stream.ts';
import { StreamBase } from './stream-base.ts';
import { monotonicMs } from '../clock.ts';
import { plainAddress } from '../net/address-block.ts';

/** The server's TLS settings: the default certificate and context, and SNI selection among the hosts' certificates. */
export interface TlsSettings extends tls.TlsOptions {
  secureContext: tls.SecureContext;
  SNICallback: NonNullable<tls.TlsOptions['SNICallback']>;
}

export interface SocketStreamOptions {
  maxElementBytes: number;
  /**
   * For STARTTLS: the TLS settings for the host the client named in its stream header, so the
   * handshake starts with that host's certificate even without SNI. Absent: no STARTTLS.
   */
  tls?: (host: string | undefined) => TlsSettings;
}

export class SocketStream extends StreamBase implements XmlStream {
  readonly framing = 'tcp';
  readonly remoteAddress: string;
  protected readonly closeTag = streamClose;
  private socket: net.Socket | tls.TLSSocket;
  private readonly parser: StreamParser;
  private parserFailed = false;
  private bindingTypes: ChannelBindingType[] | undefined;
  /** Set while STARTTLS is under way: any plaintext after <starttls/> is discarded (RFC 6120 §5.4.3.3). */
  private discarding = false;

  constructor(socket: net.Socket | tls.TLSSocket, private readonly opts: SocketStreamOptions) {
    super();
    this.socket = socket;
    this.remoteAddress = plainAddress(socket.remoteAddress ?? '');
    this.parser = new StreamParser(
      {
        streamStart: (h) => this.handlers?.open(toPeerHeader(h)),
        element: (el) => {
          if (!this.discarding && !this.closing) this.handlers?.element(el);
        },
        streamEnd: () => this.onPeerEnd(),
        error: (err) => {
          this.parserFailed = true;
          // While closing, input we cannot parse ends the wait for the peer's closing tag.
          if (this.closing) this.endTransport();
          else this.handlers?.error(err);
        },
      },
      { maxElementBytes: opts.maxElementBytes },
    );
    this.attach(socket);
  }

  get secure(): boolean {
    return this.socket instanceof tls.TLSSocket;
  }

  get canStartTls(): boolean {
    return !this.secure && this.opts.tls !== undefined;
  }

  sendOpen(header: ResponseHeader): void {
    this.headerSent = true;
    this.write(streamHeader({ ...header, version: '1.0', contentNs: 'jabber:client' }));
  }

  send(el: Element): void {
    this.write(elementToString(el));
  }

  async startTls(host?: string): Promise<void> {
    const settingsFor = this.opts.tls;
    if (!settingsFor || this.secure) throw new Error('STARTTLS is not available on this stream');
    const tlsOpts = settingsFor(host);
    this.discarding = true;
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    const secure = new tls.TLSSocket(plain, { ...tlsOpts, isServer: true });
    this.socket = secure;
    this.attach(secure);
    await new Promise<void>((resolve, reject) => {
      secure.once('secure', resolve);
      secure.once('error', reject);
      secure.once('close', () => reject(new Error('closed during the TLS handshake')));
    });
    this.parser.reset();
    this.headerSent = false;
    this.discarding = false;
  }

  restart(): void {
    this.parser.reset();
    this.headerSent = false;
  }

  /** After ill-formed input the parser is stopped and could not see the peer's closing tag. */
  protected override canSeePeerClose(): boolean {
    return !this.parserFailed;
  }

  protected endTransport(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  channelBinding(type: ChannelBindingType): Buffer | undefined {
    return this.socket instanceof tls.TLSSocket ? channelBinding(this.socket, type) : undefined;
  }

  channelBindingTypes(): ChannelBindingType[] {
    // Asked several times per login; the answer is fixed once the handshake is done.
    if (!(this.socket instanceof tls.TLSSocket)) return [];
    if (this.bindingTypes) return this.bindingTypes;
    const types = supportedChannelBindings(this.socket);
    if (types.length > 0) this.bindingTypes = types;
    return types;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.lastActivity = monotonicMs();
      if (this.discarding) return;
      this.parser.write(chunk);
      // Between stanzas the parser's state can go: it is rebuilt on the next write (a few µs),
      // and tens of thousands of mostly-idle streams then hold no parser at all.
      this.parser.hibernate();
    });
    socket.on('error', () => {
      // 'close' follows; a reset peer is an ordinary end of session.
    });
    socket.on('close', () => this.onTransportClosed());
  }

  protected write(text: string): void {
    if (!this.isClosed && this.socket.writable) this.socket.write(text);
  }
}

function toPeerHeader(h: StreamHeader): PeerHeader {
  return {
    name: h.name,
    uri: h.uri,
    prefix: h.prefix,
    contentNs: h.namespaces[''],
    to: h.attrs.to,
    from: h.attrs.from,
    version: h.attrs.version,
    lang: h.attrs['xml:lang'],
  };
}
