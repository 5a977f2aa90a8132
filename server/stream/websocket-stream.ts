// XmlStream over WebSocket (RFC 7395): one complete element per message, <open/> and
// <close/> in the framing namespace instead of the stream header and closing tag.
import type { WebSocket, RawData } from 'ws';
import { parseFrame } from '../xml/frame-parser.ts';
import { escapeXML, type Element } from '../xml/element.ts';
import { elementToString } from '../xml/serialize.ts';
import { StreamError } from '../errors.ts';
import type { ChannelBindingType } from '../tls/channel-binding.ts';
import { NS_FRAMING, NS_STREAM, type ResponseHeader, type XmlStream } from './xml-stream.ts';
import { StreamBase } from './stream-base.ts';
import { monotonicMs } from '../clock.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class WebSocketStream extends StreamBase implements XmlStream {
  readonly framing = 'websocket';
  readonly canStartTls = false;
  protected readonly closeTag = `<close xmlns="${NS_FRAMING}"/>`;

  constructor(
    private readonly ws: WebSocket,
    readonly remoteAddress: string,
    /** The connection is HTTPS, or a trusted TLS-terminating proxy is in front. */
    readonly secure: boolean,
    private readonly maxElementBytes: number,
  ) {
    super();
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', () => this.onTransportClosed());
    ws.on('error', () => {
      // 'close' follows.
    });
  }

  sendOpen(header: ResponseHeader): void {
    this.headerSent = true;
    const from = header.from ? ` from="${escapeXML(header.from)}"` : '';
    const to = header.to ? ` to="${escapeXML(header.to)}"` : '';
    this.write(`<open xmlns="${NS_FRAMING}"${from}${to} id="${escapeXML(header.id)}" version="1.0" xml:lang="${escapeXML(header.lang)}"/>`);
  }

  send(el: Element): void {
    this.write(frameText(el));
  }

  startTls(): Promise<void> {
    return Promise.reject(new Error('STARTTLS does not exist on WebSocket (RFC 7395 §3.3.3)'));
  }

  restart(): void {
    // RFC 7395 §3.5: the client opens the new stream with another <open/>; nothing to reset here.
    this.headerSent = false;
  }

  protected endTransport(): void {
    this.ws.close(1000);
  }

  destroy(): void {
    this.ws.terminate();
  }

  channelBinding(): Buffer | undefined {
    // Channel binding needs the TLS session, which the HTTP layer (or a proxy) owns.
    return undefined;
  }

  channelBindingTypes(): ChannelBindingType[] {
    return [];
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.isClosed) return;
    this.lastActivity = monotonicMs();
    let text: string;
    try {
      text = typeof data === 'string' ? data : utf8.decode(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer));
    } catch {
      return this.fail(new StreamError('not-well-formed', 'invalid UTF-8'));
    }
    void isBinary;
    let el: Element;
    try {
      el = parseFrame(text, this.maxElementBytes);
    } catch (err) {
      return this.fail(err instanceof StreamError ? err : new StreamError('not-well-formed'));
    }
    const framing = el.attrs.xmlns === NS_FRAMING;
    if (framing && el.name === 'close') return this.onPeerEnd();
    // An <open/> (or an RFC 6120 header) outside the framing namespace is still a stream header:
    // the session answers it with <invalid-namespace/> (RFC 7395 §3.3.2).
    if (el.name === 'open' || (!this.headerSent && el.name === 'stream')) {
      if (this.closing) return;
      this.handlers?.open({
        name: el.name,
        uri: el.attrs.xmlns ?? 'jabber:client',
        prefix: '',
        contentNs: 'jabber:client',
        to: el.attrs.to,
        from: el.attrs.from,
        version: el.attrs.version,
        lang: el.attrs['xml:lang'],
      });
      return;
    }
    if (!this.closing) this.handlers?.element(el);
  }

  private fail(err: StreamError): void {
    if (!this.closing) this.handlers?.error(err);
  }

  protected write(text: string): void {
    if (!this.isClosed && this.ws.readyState === this.ws.OPEN) this.ws.send(text);
  }
}

/**
 * Each WebSocket message stands alone, so it must declare its namespaces (RFC 7395 §3.3.3):
 * stanzas without one are written in jabber:client and stream-level elements declare the
 * stream prefix.
 */
function frameText(el: Element): string {
  const text = elementToString(el);
  if (el.name.startsWith('stream:')) return insertAfterName(text, el.name, ` xmlns:stream="${NS_STREAM}"`);
  if (el.attrs.xmlns === undefined) return insertAfterName(text, el.name, ' xmlns="jabber:client"');
  return text;
}

function insertAfterName(text: string, name: string, attr: string): string {
  const at = 1 + name.length;
  return text.slice(0, at) + attr + text.slice(at);
}
