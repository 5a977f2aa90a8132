// Writing XML. ltx's toString escapes correctly but passes characters XML forbids (controls,
// lone surrogates, U+FFFE/U+FFFF) straight through, and writes raw TAB/LF/CR in attribute
// values, which the receiver's attribute-value normalisation turns into spaces (XML 1.0 §3.3.3).
// This writer fixes both and is faster than ltx's callback-per-token write().
import type { Element, Node } from './element.ts';

export const NS_STREAM = 'http://etherx.jabber.org/streams';

/** RFC 6120 §4.4: closes the stream. */
export const streamClose = '</stream:stream>';

// Characters needing work in text: markup, CR (a receiver would turn it into LF) and what XML 1.0
// §2.2 forbids. With the u flag a surrogate range matches only a lone (unpaired) surrogate.
const TEXT_SPECIAL = /[&<>\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/u;
const TEXT_SPECIAL_G = /[&<>\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/gu;
const ATTR_SPECIAL = /[&<>"'\t\n\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/u;
const ATTR_SPECIAL_G = /[&<>"'\t\n\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/gu;

function replaceChar(c: string): string {
  switch (c) {
    case '&': return '&amp;';
    case '<': return '&lt;';
    case '>': return '&gt;';
    case '"': return '&quot;';
    case "'": return '&apos;';
    case '\t': return '&#9;';
    case '\n': return '&#10;';
    case '\r': return '&#13;';
    default: return '\uFFFD'; // a character XML cannot carry at all
  }
}

/** Escape character data; characters XML forbids become U+FFFD. */
export function escapeText(s: string): string {
  return TEXT_SPECIAL.test(s) ? s.replace(TEXT_SPECIAL_G, replaceChar) : s;
}

/** Escape an attribute value for either quote; whitespace other than space is kept as references. */
export function escapeAttr(s: string): string {
  return ATTR_SPECIAL.test(s) ? s.replace(ATTR_SPECIAL_G, replaceChar) : s;
}

function write(el: Element): string {
  let s = '<' + el.name;
  const attrs = el.attrs;
  for (const k in attrs) {
    const v = attrs[k];
    if (v == null) continue;
    s += ' ' + k + '="' + escapeAttr(typeof v === 'string' ? v : String(v)) + '"';
  }
  const children: Node[] = el.children;
  const n = children.length;
  if (n === 0) return s + '/>';
  s += '>';
  for (let i = 0; i < n; i++) {
    const c: Node | null | undefined | number = children[i];
    if (c == null) continue;
    if (typeof c === 'string') s += escapeText(c);
    else if (typeof c === 'object') s += write(c);
    else s += escapeText(String(c));
  }
  return s + '</' + el.name + '>';
}

/** Serialise an element (and its subtree) as XML text. */
export function elementToString(el: Element): string {
  return write(el);
}

export interface StreamHeaderOptions {
  from?: string;
  to?: string;
  id?: string;
  /** '1.0' unless the peer sent no version (RFC 6120 §4.7.5). */
  version?: string;
  lang?: string;
  /** jabber:client, jabber:server or a component namespace. */
  contentNs: string;
  /** Send `<?xml version='1.0'?>` first (RFC 6120 §11.5: SHOULD); default true. */
  xmlDeclaration?: boolean;
}

/** The opening tag of the server's response stream header (RFC 6120 §4.7). */
export function streamHeader(o: StreamHeaderOptions): string {
  let s = o.xmlDeclaration === false ? '' : "<?xml version='1.0'?>";
  s += `<stream:stream xmlns="${escapeAttr(o.contentNs)}" xmlns:stream="${NS_STREAM}"`;
  if (o.from !== undefined) s += ` from="${escapeAttr(o.from)}"`;
  if (o.to !== undefined) s += ` to="${escapeAttr(o.to)}"`;
  if (o.id !== undefined) s += ` id="${escapeAttr(o.id)}"`;
  if (o.version !== undefined) s += ` version="${escapeAttr(o.version)}"`;
  if (o.lang !== undefined) s += ` xml:lang="${escapeAttr(o.lang)}"`;
  return s + '>';
}
