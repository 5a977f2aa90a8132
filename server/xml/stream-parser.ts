// The strict streaming XML parser of one XMPP stream (RFC 6120 §4, §11), fed raw bytes.
// saxes does the XML work (namespace-aware, rejects all ill-formed input); this class adds
// XMPP's restrictions, the per-element size limit, and builds normalised ltx Elements.
//
// Memory and size bounds: input is fed to saxes in slices of at most SLICE_BYTES, and after
// each slice the bytes of the unfinished top-level element (or stream header, or whatever
// sits between elements) are checked against `maxElementBytes`, so an oversized element is
// rejected after at most one slice of overshoot. Whitespace between elements is dropped as it
// arrives. A few saxes 6 internals are read for this (see SaxesInternals); the unit tests pin
// that behaviour so an upgrade that changes them fails loudly.
//
// Idle memory: the saxes instance is most of a stream's parsing state (~3 kB). It is created on
// the first write and dropped on errors and at the end. hibernate() hands it, between stanzas, to
// a small pool keyed by the stream's root tag; the next write() takes one back from the pool, or
// builds one that re-opens the root with its namespace declarations. Streams that share a root
// (nearly all clients send the same header) thus share a handful of parsers: tens of thousands of
// mostly-idle streams hold none, and a busy server does not build one per stanza.
import { SaxesParser, type SaxesTagNS, type XMLDecl } from 'saxes';
import { StreamError, type StreamErrorCondition } from '../errors.ts';
import type { Element } from './element.ts';
import { DEFAULT_MAX_DEPTH, ElementBuilder, detach, ownString } from './element-builder.ts';
import { handlerSlots, internals, type SaxesInternals } from './saxes-internals.ts';
import { InvalidUtf8Error, Utf8StreamDecoder } from './utf8-decoder.ts';
import { isXmlWhitespace, saxesErrorCondition, sniffEncoding } from './xml-rules.ts';
import { escapeAttr } from './serialize.ts';

export interface StreamHeader {
  /** Local name of the root (`stream`). */
  name: string;
  prefix: string;
  /** Namespace of the root element. */
  uri: string;
  /** Non-xmlns attributes, including `xml:lang`. */
  attrs: Record<string, string>;
  /** Namespaces declared on the header: prefix ('' = default) → URI. */
  namespaces: Record<string, string>;
}

export interface StreamParserHandlers {
  streamStart(header: StreamHeader): void;
  /** Each complete top-level child of the stream (depth 1). */
  element(el: Element): void;
  /** `</stream:stream>`: nothing after it is parsed. */
  streamEnd(): void;
  /** Parsing stops after the first error. */
  error(err: StreamError): void;
}

export interface StreamParserOptions {
  /** Limit on the bytes of one top-level element as received; also bounds the prolog and stream header. */
  maxElementBytes: number;
  /** Limit on element nesting, the top-level element being depth 1 (default DEFAULT_MAX_DEPTH). */
  maxDepth?: number;
}

/** Bytes handed to saxes at once: the bound on how far past a limit parsing can go. */
export const SLICE_BYTES = 16 * 1024;

/** Above this slice size, elements much smaller than their slice are detached from it. */
const DETACH_SLICE_BYTES = 4096;

// saxes 6 state numbers (saxes.js), read after each slice.
const S_DOCTYPE = 2;
const S_DTD_PI_ENDING = 12;
const S_TEXT = 13;
const S_ENTITY = 14;
const S_COMMENT = 17;
const S_COMMENT_ENDED = 19;
const S_PI_BODY = 25;
const S_PI_ENDING = 26;

type Opts = { xmlns: true; position: false; forceXMLVersion: true; defaultXMLVersion: '1.0' };

/** Thrown from inside saxes callbacks to abandon the rest of the current slice. */
const STOP: unique symbol = Symbol('stop');

/**
 * A saxes instance and the stream parser its handlers forward to: the handlers are made once,
 * with the instance, and follow it from stream to stream through the idle pool.
 */
interface SaxSlot {
  sax: SaxesParser<Opts>;
  raw: SaxesInternals;
  owner: StreamParser | null;
}

/** Idle saxes instances, each inside a stream root, by that root's opening tag (see hibernate()). */
const idleSlots = new Map<string, SaxSlot[]>();
/** Bounds on the pool: a few instances suffice, as a stream holds one only while in write(). */
const IDLE_ROOTS = 16;
const IDLE_PER_ROOT = 4;

function takeIdle(root: string): SaxSlot | undefined {
  return idleSlots.get(root)?.pop();
}

function putIdle(root: string, slot: SaxSlot): void {
  let list = idleSlots.get(root);
  if (list === undefined) {
    // Unusual headers must not crowd out the common one for good: the oldest root makes room.
    if (idleSlots.size >= IDLE_ROOTS) idleSlots.delete(idleSlots.keys().next().value!);
    idleSlots.set(root, (list = []));
  }
  if (list.length < IDLE_PER_ROOT) list.push(slot);
}

/** A partial entity reference that can still become `&name;`, `&#123;` or `&#x1F;`. */
const ENTITY_PARTIAL = /^(?:#x?[0-9A-Fa-f]*|[^\s<>&;#'"=/]*)$/;

export class StreamParser {
  /** The XML parser (null before the first write, after hibernate(), an error or the end). */
  private slot: SaxSlot | null = null;
  /** The root's opening tag with its namespace declarations: re-opens it after hibernate(), and keys the idle pool. */
  private root: string | null = null;
  private priming = false;
  private readonly decoder = new Utf8StreamDecoder();
  private readonly builder = new ElementBuilder('');
  private readonly maxBytes: number;
  private readonly maxDepth: number;

  private started = false;
  /** After an error, `</stream:stream>` or stop(): input is ignored until reset(). */
  private done = false;
  private writing = false;
  private resetRequested = false;
  private error: StreamError | null = null;
  /** A closed top-level element not delivered yet: saxes reports a mismatched close tag just after the close event. */
  private pending: Element | null = null;
  private pendingEnd = false;
  /** A trailing CR held back so saxes never carries input over between writes (positions stay exact). */
  private heldCR = false;

  // Byte accounting, in UTF-8 bytes from the start of the current document.
  private chunkText = '';
  private chunkStart = 0;
  private chunkEnd = 0;
  private ascii = true;
  private markIdx = 0;
  private markByte = 0;
  /** Where the unfinished top-level element (or the prolog) began. */
  private boundary = 0;

  constructor(
    private readonly handlers: StreamParserHandlers,
    opts: StreamParserOptions,
  ) {
    this.maxBytes = opts.maxElementBytes;
    this.maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  }

  /** The parser for this write: an idle one for the same root, or a new one (root is null before the header). */
  private takeSlot(): SaxSlot {
    const root = this.root;
    const slot = (root !== null ? takeIdle(root) : undefined) ?? this.newSlot(root);
    slot.owner = this;
    return (this.slot = slot);
  }

  private newSlot(root: string | null): SaxSlot {
    // XMPP is XML 1.0 (RFC 6120 §11.1): parse with 1.0 rules whatever the declaration says.
    const saxOpts: Opts = { xmlns: true, position: false, forceXMLVersion: true, defaultXMLVersion: '1.0' };
    const sax = new SaxesParser<Opts>(saxOpts);
    const slot: SaxSlot = { sax, raw: internals(sax), owner: this };
    const on = handlerSlots(sax); // see SaxesHandlerSlots for why not sax.on()
    on.xmldeclHandler = (d) => slot.owner!.onXmlDecl(d);
    on.textHandler = (t) => slot.owner!.onText(t);
    // RFC 6120 §11.1: comments, processing instructions and DTDs are restricted XML.
    on.piHandler = () => slot.owner!.abortRestricted('processing instruction');
    on.doctypeHandler = () => slot.owner!.abortRestricted('DTD');
    on.commentHandler = () => slot.owner!.abortRestricted('comment');
    on.openTagHandler = (tag) => slot.owner!.onOpenTag(tag);
    on.closeTagHandler = () => slot.owner!.onCloseTag();
    on.cdataHandler = (t) => slot.owner!.onCData(t);
    on.errorHandler = (err) => slot.owner!.onSaxError(err);
    if (root !== null) {
      // Waking from hibernate() with no idle parser for this root: re-open the root (not
      // reported, not counted) so prefixes declared on the stream header resolve and
      // </stream:stream> still matches.
      this.priming = true;
      try {
        sax.write(root);
      } finally {
        this.priming = false;
      }
      slot.raw.chunk = '';
    }
    return slot;
  }

  write(chunk: Buffer): void {
    if (this.done) return;
    if (this.writing) throw new Error('StreamParser.write() called from one of its own handlers');
    this.writing = true;
    const sax = (this.slot ?? this.takeSlot()).sax;
    try {
      const len = chunk.length;
      for (let off = 0; off < len && !this.done && !this.resetRequested; off += SLICE_BYTES) {
        const piece = off === 0 && len <= SLICE_BYTES ? chunk : chunk.subarray(off, off + SLICE_BYTES);
        let text: string;
        try {
          text = this.decoder.decode(piece);
        } catch (e) {
          if (!(e instanceof InvalidUtf8Error)) throw e;
          this.encodingError(piece);
          break;
        }
        this.feed(sax, text, this.decoder.lastBytes);
      }
    } finally {
      this.writing = false;
    }
    if (this.resetRequested) {
      // RFC 6120 §5.4.3.3, §6.4.6: nothing may follow the element that caused the restart
      // before the new stream header; dropping the rest also defeats STARTTLS command injection.
      this.doReset();
      return;
    }
    if (this.done) this.release();
    const err = this.error;
    if (err !== null) {
      this.error = null;
      this.handlers.error(err);
    }
  }

  /** UTF-8 bytes of the current stream (since construction or reset()) handed to the XML parser. */
  get position(): number {
    return this.chunkEnd;
  }

  /**
   * Stream restart (RFC 6120 §4.3.3): a fresh document and decoder. Called from a handler,
   * it takes effect after the current element and the rest of that write() is discarded.
   */
  reset(): void {
    if (this.writing) this.resetRequested = true;
    else this.doReset();
  }

  /** Stop parsing (the session is closing): later input is ignored and parser state is released. */
  stop(): void {
    this.done = true;
    if (!this.writing) this.release();
  }

  /**
   * Drop the XML parser's state while the stream is idle between top-level elements (call it
   * from an idle timer: rebuilding costs a few µs on the next write). Returns false, doing
   * nothing, in the middle of an element or of a character.
   */
  hibernate(): boolean {
    const slot = this.slot;
    if (slot === null) return true;
    const raw = slot.raw;
    if (this.writing || this.done || !this.started || this.builder.open || this.heldCR || this.decoder.hasPending) return false;
    if (raw.state !== S_TEXT || raw.text.length !== 0) return false;
    slot.owner = null;
    raw.chunkPosition = 0; // only counts input (positions are off): keep it a small integer
    putIdle(this.root!, slot);
    this.slot = null;
    this.builder.reset();
    return true;
  }

  private doReset(): void {
    this.release();
    this.decoder.reset();
    this.started = false;
    this.root = null;
    this.done = false;
    this.resetRequested = false;
    this.error = null;
    this.heldCR = false;
    this.chunkStart = this.chunkEnd = this.boundary = 0;
  }

  private release(): void {
    if (this.slot !== null) this.slot.owner = null;
    this.slot = null;
    this.builder.reset();
    this.pending = null;
    this.pendingEnd = false;
    this.chunkText = '';
  }

  private feed(sax: SaxesParser<Opts>, text: string, bytes: number): void {
    if (this.heldCR) {
      text = '\r' + text;
      bytes += 1;
      this.heldCR = false;
    }
    if (text.length !== 0 && text.charCodeAt(text.length - 1) === 0x0d) {
      text = text.slice(0, -1);
      bytes -= 1;
      this.heldCR = true;
    }
    if (text.length === 0) return;
    this.chunkText = text;
    this.chunkStart = this.chunkEnd;
    this.chunkEnd += bytes;
    this.ascii = bytes === text.length;
    this.markIdx = 0;
    this.markByte = this.chunkStart;
    try {
      sax.write(text);
      if (this.pending !== null || this.pendingEnd) this.deliver();
      if (!this.done && !this.resetRequested) this.afterSlice(internals(sax));
    } catch (e) {
      if (e !== STOP) {
        this.done = true;
        throw e;
      }
    }
    internals(sax).chunk = '';
    this.chunkText = '';
  }

  /** Checks between slices: bounded memory and early rejection of constructs saxes buffers whole. */
  private afterSlice(raw: SaxesInternals): void {
    const state = raw.state;
    if (state === S_TEXT && this.started && !this.builder.open) {
      // Between top-level elements: only whitespace (keepalives, RFC 6120 §11.7), never kept.
      if (raw.text.length !== 0) {
        if (!isXmlWhitespace(raw.text)) return this.fail('bad-format', 'character data at the stream level');
        raw.text = '';
      }
      raw.tag = null; // the last stanza's tag: its strings would keep the input chunk alive
      this.boundary = this.chunkEnd;
      return;
    }
    if (state >= S_DOCTYPE && state <= S_DTD_PI_ENDING) return this.fail('restricted-xml', 'DTD');
    if (state >= S_COMMENT && state <= S_COMMENT_ENDED) return this.fail('restricted-xml', 'comment');
    if (state === S_PI_BODY || state === S_PI_ENDING) return this.fail('restricted-xml', 'processing instruction');
    if (state === S_ENTITY && !ENTITY_PARTIAL.test(raw.entity)) return this.fail('not-well-formed', 'bad entity reference');
    if (this.chunkEnd - this.boundary > this.maxBytes) {
      this.fail('policy-violation', this.started ? 'element too large' : 'stream header too large');
    }
  }

  private onOpenTag(tag: SaxesTagNS): void {
    if (this.priming) {
      tag.attributes = {};
      return;
    }
    if (this.pending !== null) this.deliverOrStop();
    if (this.started) {
      if (this.builder.openDepth >= this.maxDepth) this.abort('policy-violation', 'elements nested too deeply');
      this.builder.openTag(tag);
      return;
    }
    this.started = true;
    const end = this.byteAt(this.slot!.raw.i);
    if (end > this.maxBytes) this.abort('policy-violation', 'stream header too large');
    this.boundary = end;
    const header = streamHeader(tag);
    this.root = rootTag(header); // before the handler, which may keep or change `header`
    this.builder.setContentNs(header.namespaces[''] ?? '');
    this.handlers.streamStart(header);
    if (this.done || this.resetRequested) throw STOP;
  }

  private onCloseTag(): void {
    if (this.pending !== null) this.deliverOrStop();
    if (!this.builder.open) {
      this.pendingEnd = true; // the root: delivered unless saxes reports a mismatch right after
      return;
    }
    const el = this.builder.closeTag();
    if (el === null) return;
    const end = this.byteAt(this.slot!.raw.i);
    const size = end - this.boundary;
    if (size > this.maxBytes) this.abort('policy-violation', 'element too large');
    this.boundary = end;
    // Strings of a small element from a large input slice would keep the whole slice alive
    // for as long as the element is kept (presence caches, offline storage): copy them.
    const sliceBytes = this.chunkEnd - this.chunkStart;
    this.pending = sliceBytes > DETACH_SLICE_BYTES && sliceBytes > 4 * size ? detach(el) : el;
  }

  private onText(t: string): void {
    if (this.pending !== null || this.pendingEnd) this.deliverOrStop();
    if (this.builder.open) {
      this.builder.text(t);
    } else if (this.started) {
      if (!isXmlWhitespace(t)) this.abort('bad-format', 'character data at the stream level');
      // Text is reported at the '<' that ends it: the next element starts here.
      this.boundary = this.byteAt(this.slot!.raw.prevI);
    }
    // Before the header saxes itself rejects anything but whitespace.
  }

  private onCData(t: string): void {
    if (this.pending !== null || this.pendingEnd) this.deliverOrStop();
    if (this.builder.open) this.builder.text(t);
    else if (this.started) this.abort('bad-format', 'CDATA at the stream level');
  }

  private onXmlDecl(decl: XMLDecl): void {
    // RFC 6120 §11.6: UTF-8 only.
    const enc = decl.encoding;
    if (enc !== undefined && !/^utf-?8$/i.test(enc)) this.abort('unsupported-encoding', `encoding ${enc}`);
  }

  private onSaxError(err: Error): void {
    const msg = err.message;
    if (this.pendingEnd || this.pending !== null) {
      if (msg.includes('unexpected close tag')) {
        // The element (or stream) just "closed" was closed by a mismatched tag.
        this.pending = null;
        this.pendingEnd = false;
      } else {
        // A complete element or the stream end came first: deliver it; after the stream end
        // nothing more is parsed, so the error is not reported.
        this.deliverOrStop();
      }
    }
    this.abort(saxesErrorCondition(msg), msg);
  }

  private abortRestricted(what: string): never {
    if (this.pending !== null || this.pendingEnd) this.deliverOrStop();
    this.abort('restricted-xml', what);
  }

  private deliver(): void {
    const el = this.pending;
    if (el !== null) {
      this.pending = null;
      this.handlers.element(el);
    } else if (this.pendingEnd) {
      this.pendingEnd = false;
      this.done = true;
      this.release();
      this.handlers.streamEnd();
    }
  }

  /** Deliver from inside a saxes callback; stop the slice if a handler reset or stopped us. */
  private deliverOrStop(): void {
    this.deliver();
    if (this.done || this.resetRequested) throw STOP;
  }

  private fail(condition: StreamErrorCondition, text: string): void {
    if (this.error === null) this.error = new StreamError(condition, text);
    this.done = true;
  }

  private abort(condition: StreamErrorCondition, text: string): never {
    this.fail(condition, text);
    throw STOP;
  }

  private encodingError(piece: Buffer): void {
    // RFC 6120 §11.6: an XML declaration naming another encoding (or a UTF-16 BOM) at the
    // start of the stream is unsupported-encoding; other invalid bytes are not well-formed.
    const atStart = !this.started && this.chunkEnd === 0;
    const declared = atStart ? sniffEncoding(piece) : undefined;
    if (declared !== undefined && !/^utf-?8$/i.test(declared)) this.fail('unsupported-encoding', `encoding ${declared}`);
    else this.fail('not-well-formed', 'invalid UTF-8');
  }

  /** Absolute UTF-8 offset of index `idx` of the current slice (indexes arrive in increasing order). */
  private byteAt(idx: number): number {
    if (this.ascii) return this.chunkStart + idx;
    let k = this.markIdx;
    let b = this.markByte;
    if (idx < k) {
      k = 0;
      b = this.chunkStart;
    }
    const s = this.chunkText;
    for (; k < idx; k++) {
      const c = s.charCodeAt(k);
      // A surrogate pair is 4 bytes: 2 for each half.
      b += c < 0x80 ? 1 : c < 0x800 || (c & 0xf800) === 0xd800 ? 2 : 3;
    }
    this.markIdx = idx;
    this.markByte = b;
    return b;
  }
}

/** The root's opening tag with only its namespace declarations, as written to re-open it. */
function rootTag(h: StreamHeader): string {
  let open = '<' + (h.prefix === '' ? h.name : h.prefix + ':' + h.name);
  for (const p in h.namespaces) open += (p === '' ? ' xmlns="' : ' xmlns:' + p + '="') + escapeAttr(h.namespaces[p]!) + '"';
  return open + '>';
}

function streamHeader(tag: SaxesTagNS): StreamHeader {
  const attrs: Record<string, string> = {};
  const namespaces: Record<string, string> = {};
  const list = tag.attributes;
  for (const name in list) {
    const a = list[name]!;
    if (a.prefix === 'xmlns' || name === 'xmlns') continue;
    attrs[ownString(name)] = ownString(a.value);
  }
  const ns = tag.ns;
  for (const p in ns) {
    // saxes keeps resolving prefixes through this object: give it the owned copies too.
    namespaces[p] = ns[p] = ownString(ns[p]!);
  }
  // saxes keeps the root tag for the whole stream; its attributes are not needed any more.
  tag.attributes = {};
  return { name: ownString(tag.local), prefix: ownString(tag.prefix), uri: ownString(tag.uri), attrs, namespaces };
}
