// The lifecycle both XmlStream transports share: who handles input, and how a stream closes
// (our closing element, then waiting for the peer's, but not forever: RFC 6120 §4.4, RFC 7395 §3.6).
import { monotonicMs } from '../clock.ts';
import { randomToken } from '../random.ts';
import type { StreamError } from '../errors.ts';
import type { Element } from '../xml/element.ts';
import { CLOSE_GRACE_MS, type ResponseHeader, type StreamHandlers } from './xml-stream.ts';

export abstract class StreamBase {
  /** When input last arrived (monotonicMs()): whitespace keepalives count too. */
  lastActivity = monotonicMs();
  protected handlers: StreamHandlers | null = null;
  protected closing = false;
  /** Our response header (or <open/>) went out on the current stream. */
  protected headerSent = false;
  private peerEnded = false;
  private gone = false;
  private graceTimer: NodeJS.Timeout | null = null;

  /** What ends our side of the stream: `</stream:stream>` or the framing `<close/>`. */
  protected abstract readonly closeTag: string;

  abstract sendOpen(header: ResponseHeader): void;
  abstract send(el: Element): void;
  /** Drop the transport at once. */
  abstract destroy(): void;
  protected abstract write(text: string): void;
  /** End the transport gracefully, both sides having closed the stream. */
  protected abstract endTransport(): void;

  get isClosed(): boolean {
    return this.gone;
  }

  setHandlers(handlers: StreamHandlers): void {
    this.handlers = handlers;
  }

  close(error?: StreamError): void {
    if (this.closing || this.gone) return;
    this.closing = true;
    if (error) {
      // RFC 6120 §4.9.1.2: even an error on the header is sent inside a stream of our own.
      if (!this.headerSent) this.sendOpen({ id: randomToken(12), lang: 'en' });
      this.send(error.toElement());
    }
    this.write(this.closeTag);
    if (this.peerEnded || !this.canSeePeerClose()) {
      this.endTransport();
      return;
    }
    this.graceTimer = setTimeout(() => this.destroy(), CLOSE_GRACE_MS);
    this.graceTimer.unref();
  }

  /** False when input can no longer be read (after ill-formed XML), so waiting for the peer is pointless. */
  protected canSeePeerClose(): boolean {
    return true;
  }

  /** The peer closed its stream: the end of a close we started, or its own close. */
  protected onPeerEnd(): void {
    this.peerEnded = true;
    if (this.closing) this.endTransport();
    else this.handlers?.end();
  }

  protected onTransportClosed(): void {
    if (this.gone) return;
    this.gone = true;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.handlers?.closed();
  }
}
