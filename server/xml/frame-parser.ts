// XMPP over WebSocket (RFC 7395 §3.3.3): each message is one standalone XML document holding
// one element (<open/>, <close/>, a stanza or a nonza). It is parsed with the same strictness
// and the same normalisation as the TCP stream (element-builder.ts), so sessions see identical
// elements from both transports.
//
// A frame MUST declare its namespaces. Like Prosody's mod_websocket, which feeds frames into a
// stream whose default namespace is jabber:client, an element with no default namespace
// declared is read as being in the content namespace: `<message>` and
// `<message xmlns='jabber:client'>` both come out as `<message>` without xmlns.
// A message with more than one element is not a well-formed standalone document:
// not-well-formed (RFC 6120 §4.9.3.13), as is an empty or whitespace-only message.
import { SaxesParser } from 'saxes';
import { StreamError, type StreamErrorCondition } from '../errors.ts';
import type { Element } from './element.ts';
import { DEFAULT_MAX_DEPTH, ElementBuilder } from './element-builder.ts';
import { handlerSlots, internals } from './saxes-internals.ts';
import { saxesErrorCondition } from './xml-rules.ts';

export const NS_CLIENT = 'jabber:client';
export const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';

type Opts = {
  xmlns: true;
  position: false;
  forceXMLVersion: true;
  defaultXMLVersion: '1.0';
  additionalNamespaces: Record<string, string>;
};

const STOP: unique symbol = Symbol('stop');

/** One reusable saxes parser per content namespace: a frame is parsed synchronously, start to end. */
class FrameParser {
  private readonly sax: SaxesParser<Opts>;
  private readonly builder: ElementBuilder;
  private result: Element | null = null;
  private error: StreamError | null = null;

  constructor(contentNs: string) {
    this.builder = new ElementBuilder(contentNs);
    const opts: Opts = {
      xmlns: true,
      position: false,
      forceXMLVersion: true,
      defaultXMLVersion: '1.0',
      additionalNamespaces: { '': contentNs },
    };
    this.sax = new SaxesParser<Opts>(opts);
    const on = handlerSlots(this.sax); // see SaxesHandlerSlots for why not sax.on()
    on.xmldeclHandler = (d) => {
      if (d.encoding !== undefined && !/^utf-?8$/i.test(d.encoding)) this.abort('unsupported-encoding', `encoding ${d.encoding}`);
    };
    on.textHandler = (t) => this.onText(t);
    // RFC 6120 §11.1
    on.piHandler = () => this.abort('restricted-xml', 'processing instruction');
    on.doctypeHandler = () => this.abort('restricted-xml', 'DTD');
    on.commentHandler = () => this.abort('restricted-xml', 'comment');
    on.openTagHandler = (tag) => {
      if (this.builder.openDepth >= DEFAULT_MAX_DEPTH) this.abort('policy-violation', 'elements nested too deeply');
      this.builder.openTag(tag);
    };
    on.closeTagHandler = () => {
      const el = this.builder.closeTag();
      if (el !== null) this.result = el;
    };
    on.cdataHandler = (t) => this.onText(t);
    on.errorHandler = (err) => this.abort(saxesErrorCondition(err.message), err.message);
  }

  parse(text: string, maxBytes: number): Element {
    // UTF-8 is 1 to 3 bytes per UTF-16 unit: measure only when the length cannot decide.
    if (text.length > maxBytes || (text.length * 3 > maxBytes && Buffer.byteLength(text) > maxBytes)) {
      throw new StreamError('policy-violation', 'element too large');
    }
    try {
      this.sax.write(text);
      this.sax.close(); // end-of-document checks; also readies saxes for the next frame
    } catch (e) {
      internals(this.sax)._init();
      this.builder.reset();
      if (e !== STOP) throw e;
    }
    const el = this.result;
    const err = this.error;
    this.result = null;
    this.error = null;
    if (err !== null) throw err;
    if (el === null) throw new StreamError('not-well-formed', 'no element');
    return el;
  }

  private onText(t: string): void {
    if (this.builder.open) this.builder.text(t);
    // Outside the root saxes rejects anything but whitespace.
  }

  private abort(condition: StreamErrorCondition, text: string): never {
    this.error ??= new StreamError(condition, text);
    throw STOP;
  }
}

const parsers = new Map<string, FrameParser>();

/**
 * Parse one WebSocket message into its element. Throws StreamError: not-well-formed,
 * restricted-xml, bad-namespace-prefix, unsupported-encoding, or policy-violation when the
 * message exceeds `maxBytes` UTF-8 bytes or nests deeper than DEFAULT_MAX_DEPTH.
 */
export function parseFrame(text: string, maxBytes: number, contentNs: string = NS_CLIENT): Element {
  let p = parsers.get(contentNs);
  if (p === undefined) {
    p = new FrameParser(contentNs);
    parsers.set(contentNs, p);
  }
  return p.parse(text, maxBytes);
}

/**
 * Parse XML the server serialised and stored itself (offline messages, pending requests, module
 * data): it was within the limits when it arrived, so only the restricted-XML rules apply again.
 */
export function parseStored(text: string, contentNs: string = NS_CLIENT): Element {
  return parseFrame(text, Number.POSITIVE_INFINITY, contentNs);
}
