// An XML stream over some transport: what the session layer reads and writes, the same for
// TCP/TLS (RFC 6120 §4) and WebSocket (RFC 7395) so the negotiation logic exists once.
import type { Element } from '../xml/element.ts';
import type { StreamError } from '../errors.ts';
import type { ChannelBindingType } from '../tls/channel-binding.ts';

/** The peer's opening header, from `<stream:stream>` or a WebSocket `<open/>`. */
export interface PeerHeader {
  /** Local name and namespace of the root: 'stream' in the streams namespace, or 'open' in the framing namespace. */
  readonly name: string;
  readonly uri: string;
  readonly prefix: string;
  /** The default (content) namespace the peer declared; WebSocket framing implies jabber:client. */
  readonly contentNs: string | undefined;
  readonly to: string | undefined;
  readonly from: string | undefined;
  readonly version: string | undefined;
  readonly lang: string | undefined;
}

export interface StreamHandlers {
  /** The peer opened (or re-opened after a restart) the stream. */
  open(header: PeerHeader): void;
  /** A complete top-level element. */
  element(el: Element): void;
  /** The peer closed the XML stream. */
  end(): void;
  /** The peer's input broke a rule of the stream itself (ill-formed, restricted, too large...). */
  error(err: StreamError): void;
  /** The transport is gone; nothing more can be written. */
  closed(): void;
}

export interface ResponseHeader {
  /** Absent only when the peer asked for a host we do not serve. */
  from?: string;
  to?: string;
  id: string;
  lang: string;
}

export interface XmlStream {
  readonly framing: 'tcp' | 'websocket';
  readonly remoteAddress: string;
  /** TLS protects the stream (or a trusted TLS-terminating proxy does). */
  readonly secure: boolean;
  /** STARTTLS can still be negotiated on this stream. */
  readonly canStartTls: boolean;
  readonly isClosed: boolean;
  /** When input last arrived (ms since epoch): whitespace keepalives count too. */
  readonly lastActivity: number;
  setHandlers(handlers: StreamHandlers): void;
  /** Send our response header (RFC 6120 §4.7; RFC 7395 §3.4). */
  sendOpen(header: ResponseHeader): void;
  /** Send one element: a stanza, a nonza, or a stream-level element named `stream:...`. */
  send(el: Element): void;
  /** Upgrade to TLS after `<proceed/>` has been written (RFC 6120 §5.4.3.3), with `host`'s certificate first. */
  startTls(host?: string): Promise<void>;
  /** A new stream starts on the same transport (RFC 6120 §4.3.3). */
  restart(): void;
  /** Close the stream, with a stream error first when given; the transport ends once the peer closes too, or after a grace period. */
  close(error?: StreamError): void;
  /** Drop the transport at once. */
  destroy(): void;
  channelBinding(type: ChannelBindingType): Buffer | undefined;
  channelBindingTypes(): ChannelBindingType[];
  /** Stop reading input (back-pressure) and start again. */
  pause(): void;
  resume(): void;
}

export const NS_STREAM = 'http://etherx.jabber.org/streams';
export const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';
/** How long we wait for the peer's closing tag after sending ours (RFC 6120 §4.4). */
export const CLOSE_GRACE_MS = 2000;
