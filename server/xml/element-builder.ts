// Turns saxes namespace-aware events into self-contained ltx Elements (shared by the TCP
// stream parser and the WebSocket frame parser, so sessions see identical elements).
//
// Normalisation (the rest of the server never sees a prefix on an element name):
//  - names are local names; `xmlns` is set exactly where the namespace differs from the
//    parent's, and on a top-level element where it differs from the stream's content
//    namespace (so `<message/>` in jabber:client carries no xmlns: see `elementNs`);
//  - `xmlns`/`xmlns:*` declarations are dropped (they are resolved), `xml:*` attributes keep
//    their name;
//  - an attribute with any other prefix keeps `prefix:local` and its element gets an
//    `xmlns:prefix` declaration, so each element that uses one is self-contained.
import type { SaxesTagNS } from 'saxes';
import { Element } from './element.ts';

/**
 * Default limit on element nesting (a top-level element is depth 1). Real stanzas stay near 10;
 * without a limit a small stanza could nest deep enough to overflow the recursive walks of the
 * rest of the server (serialisation, clone) and cost a DOM node per 3 bytes of input.
 */
export const DEFAULT_MAX_DEPTH = 128;

/** The namespace of a parsed top-level element: an absent `xmlns` means the stream's content namespace. */
export function elementNs(el: Element, contentNs: string): string {
  return el.attrs.xmlns ?? contentNs;
}

/** Copy a string so that it no longer references the (larger) input string it was sliced from. */
export function ownString(s: string): string {
  // V8 keeps substrings of 13+ characters as slices of their parent; slicing a fresh
  // concatenation flattens it first, so the result references only the copy.
  return s.length < 13 ? s : (' ' + s).slice(1);
}

/** Make `el` (in place, with its subtree) reference no input text: for elements kept long. */
export function detach(el: Element): Element {
  const attrs = el.attrs;
  for (const k in attrs) {
    const v = attrs[k];
    if (v !== undefined) attrs[k] = ownString(v);
  }
  const children = el.children;
  for (let i = 0; i < children.length; i++) {
    const c = children[i]!;
    if (typeof c === 'string') children[i] = ownString(c);
    else detach(c);
  }
  return el;
}

export class ElementBuilder {
  /** The element being built (innermost open one), or null between top-level elements. */
  private current: Element | null = null;
  /**
   * Namespace of each open element by depth (1 = top level); index 0 is the content namespace.
   * Its capacity is kept between stanzas: a store allocated per stanza and held by this
   * long-lived builder until the stream's next stanza is exactly what the young-generation GC
   * has to copy and promote (measured under `npm run bench`).
   */
  private uris: string[] = newUris('');
  private depth = 0;

  constructor(contentNs: string) {
    this.uris[0] = contentNs;
  }

  setContentNs(contentNs: string): void {
    this.uris[0] = contentNs;
  }

  /** True while inside a top-level element. */
  get open(): boolean {
    return this.depth !== 0;
  }

  /** How many elements are open (1 inside a top-level element's own tag). */
  get openDepth(): number {
    return this.depth;
  }

  openTag(tag: SaxesTagNS): void {
    const depth = ++this.depth;
    const uri = tag.uri;
    const attrs: Record<string, string> = {};
    if (uri !== this.uris[depth - 1]) attrs.xmlns = uri;
    this.uris[depth] = uri;
    const list = tag.attributes;
    for (const name in list) {
      const a = list[name]!;
      const prefix = a.prefix;
      if (prefix === '') {
        if (name !== 'xmlns') attrs[name] = a.value;
      } else if (prefix === 'xml') {
        attrs[name] = a.value;
      } else if (prefix !== 'xmlns') {
        // Namespaced attribute (rare): keep its prefix and declare it here.
        attrs[name] = a.value;
        attrs['xmlns:' + prefix] = a.uri;
      }
    }
    const el = new Element(tag.local);
    el.attrs = attrs;
    const parent = this.current;
    if (parent !== null) {
      parent.children.push(el);
      el.parent = parent;
    }
    this.current = el;
  }

  /** Closes the innermost element; returns it when it was a top-level one. */
  closeTag(): Element | null {
    const el = this.current!;
    const depth = this.depth--;
    this.uris[depth] = ''; // do not keep the last stanza's strings (and their chunk) alive
    this.current = el.parent;
    return depth === 1 ? el : null;
  }

  /** Character data inside an element; adjacent text nodes are merged. */
  text(s: string): void {
    const children = this.current!.children;
    const last = children.length - 1;
    const prev = last >= 0 ? children[last] : undefined;
    if (typeof prev === 'string') children[last] = prev + s;
    else children.push(s);
  }

  reset(): void {
    this.current = null;
    this.depth = 0;
    // After a deeply nested element a large store is not worth keeping; otherwise clear in place.
    if (this.uris.length > URIS_KEPT) this.uris = newUris(this.uris[0]!);
    else this.uris.fill('', 1);
  }
}

/** Nesting depth whose namespace slots are kept between stanzas (real stanzas stay near 10). */
const URIS_KEPT = 16;

function newUris(contentNs: string): string[] {
  const uris = new Array<string>(URIS_KEPT).fill('');
  uris[0] = contentNs;
  return uris;
}
