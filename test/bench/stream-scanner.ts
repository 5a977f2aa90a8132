// A tiny incremental scanner that cuts an XMPP stream into its top-level elements, for the load
// generator only. It tracks tag depth (respecting quoted attribute values) and hands back each
// depth-1 element as its raw text; it does not check well-formedness. The server under test is
// the one that must be strict, the generator must be cheap.

export interface ScannerEvents {
  streamOpen(tag: string): void;
  element(xml: string, name: string): void;
  streamClose(): void;
  error(reason: string): void;
}

const LT = 60; // <
const GT = 62; // >
const SLASH = 47;
const QUESTION = 63;
const BANG = 33;
const DQ = 34;
const SQ = 39;

export class StreamScanner {
  #buf = '';
  #pos = 0; // next character to look at
  #depth = 0; // 0: before <stream:stream>, 1: inside it, 2+: inside a top-level child
  #start = -1; // where the current top-level element begins in #buf
  #name = '';
  #dead = false;
  #generation = 0; // bumped by reset(), so a callback that restarts the stream stops the loop

  constructor(private readonly on: ScannerEvents) {}

  /** Forget everything: the stream restarts after STARTTLS and after SASL success (RFC 6120 §5.4.3.3, §6.4.6). */
  reset(): void {
    this.#generation++;
    this.#buf = '';
    this.#pos = 0;
    this.#depth = 0;
    this.#start = -1;
    this.#name = '';
  }

  push(chunk: string): void {
    if (this.#dead) return;
    if (this.#pos >= this.#buf.length && this.#start < 0) {
      this.#buf = chunk;
      this.#pos = 0;
    } else this.#buf += chunk;
    const buf = this.#buf;
    const generation = this.#generation;
    for (;;) {
      const lt = buf.indexOf('<', this.#pos);
      if (lt < 0) {
        this.#pos = buf.length;
        break;
      }
      const kind = buf.charCodeAt(lt + 1);
      if (Number.isNaN(kind)) {
        this.#pos = lt;
        break;
      }
      if (kind === QUESTION) {
        const end = buf.indexOf('?>', lt + 2);
        if (end < 0) {
          this.#pos = lt;
          break;
        }
        this.#pos = end + 2;
        continue;
      }
      if (kind === BANG) return this.#fail('comment, CDATA or DTD in the stream');
      const gt = tagEnd(buf, lt + 1);
      if (gt === -2) return this.#fail('"<" inside a tag');
      if (gt < 0) {
        this.#pos = lt;
        break;
      }
      this.#pos = gt + 1;
      if (kind === SLASH) {
        this.#depth--;
        if (this.#depth === 0) {
          this.#dead = true;
          this.on.streamClose();
          return;
        }
        if (this.#depth === 1) {
          this.#emit(buf, gt);
          if (this.#generation !== generation || this.#dead) return;
        } else if (this.#depth < 0) return this.#fail('unbalanced end tag');
        continue;
      }
      const selfClosing = buf.charCodeAt(gt - 1) === SLASH;
      if (this.#depth === 0) {
        const tag = buf.slice(lt, gt + 1);
        if (!tag.startsWith('<stream:stream') || selfClosing) return this.#fail(`expected <stream:stream>, got ${tag.slice(0, 60)}`);
        this.#depth = 1;
        this.on.streamOpen(tag);
        if (this.#generation !== generation || this.#dead) return;
        continue;
      }
      if (this.#depth === 1) {
        this.#start = lt;
        this.#name = tagName(buf, lt + 1);
        if (selfClosing) {
          this.#emit(buf, gt);
          if (this.#generation !== generation || this.#dead) return;
          continue;
        }
      }
      if (!selfClosing) this.#depth++;
    }
    // Keep only what is still needed: the element being read, or the unfinished tag.
    const keep = this.#start >= 0 ? this.#start : Math.min(this.#pos, this.#buf.length);
    if (keep > 0) {
      this.#buf = this.#buf.slice(keep);
      this.#pos -= keep;
      if (this.#start >= 0) this.#start = 0;
    }
  }

  #emit(buf: string, gt: number): void {
    const xml = buf.slice(this.#start, gt + 1);
    const name = this.#name;
    this.#start = -1;
    this.on.element(xml, name);
  }

  #fail(reason: string): void {
    this.#dead = true;
    this.on.error(reason);
  }

  get dead(): boolean {
    return this.#dead;
  }
}

/** Index of the '>' closing the tag that starts before `from`, skipping quoted values; -1 if not yet received. */
function tagEnd(buf: string, from: number): number {
  let quote = 0;
  for (let i = from; i < buf.length; i++) {
    const c = buf.charCodeAt(i);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === GT) return i;
    else if (c === DQ || c === SQ) quote = c;
    else if (c === LT) return -2; // '<' inside a tag: treated as incomplete garbage below
  }
  return -1;
}

function tagName(buf: string, from: number): string {
  let i = from;
  for (; i < buf.length; i++) {
    const c = buf.charCodeAt(i);
    if (c === 32 || c === GT || c === SLASH || c === 9 || c === 10 || c === 13) break;
  }
  return buf.slice(from, i);
}

/** The value of attribute `name` in the element's start tag, entity references left as they are. */
export function attr(xml: string, name: string): string | undefined {
  const end = xml.indexOf('>');
  const head = end < 0 ? xml : xml.slice(0, end);
  let i = 0;
  for (;;) {
    i = head.indexOf(name, i + 1);
    if (i < 0) return undefined;
    const before = head.charCodeAt(i - 1);
    if ((before === 32 || before === 9 || before === 10 || before === 13) && head.charCodeAt(i + name.length) === 61) {
      const q = head[i + name.length + 1];
      if (q !== '"' && q !== "'") return undefined;
      const close = head.indexOf(q, i + name.length + 2);
      return close < 0 ? undefined : head.slice(i + name.length + 2, close);
    }
  }
}

/** Text of the first <name>…</name> child (no nesting needed for SASL payloads, bodies, jids). */
export function childText(xml: string, name: string): string | undefined {
  const open = xml.indexOf(`<${name}`);
  if (open < 0) return undefined;
  const gt = xml.indexOf('>', open);
  if (gt < 0 || xml.charCodeAt(gt - 1) === SLASH) return '';
  const close = xml.indexOf(`</${name}>`, gt);
  return close < 0 ? undefined : xml.slice(gt + 1, close);
}
