// XMPP's rules on XML (RFC 6120 §11) shared by the stream and frame parsers.
import type { StreamErrorCondition } from '../errors.ts';

/** True when `s` is only XML whitespace (S production: space, tab, CR, LF). */
export function isXmlWhitespace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/**
 * The stream error for a saxes well-formedness error (its messages are the only signal it gives).
 * RFC 6120 §11.1: references to entities other than the five predefined ones and DTDs are
 * restricted XML; §4.9.3.2: an undeclared prefix is bad-namespace-prefix; anything else that
 * saxes rejects is not-well-formed (§4.9.3.13).
 */
export function saxesErrorCondition(message: string): StreamErrorCondition {
  if (message.includes('unbound namespace prefix')) return 'bad-namespace-prefix';
  if (message.includes('undefined entity')) return 'restricted-xml';
  if (message.includes('doctype')) return 'restricted-xml';
  return 'not-well-formed';
}

/**
 * The encoding an XML declaration at the start of raw `bytes` names, if any: used only when
 * those bytes are not UTF-8, to answer unsupported-encoding rather than not-well-formed
 * (RFC 6120 §11.6). A UTF-16 byte order mark or UTF-16 '<' counts as naming UTF-16.
 */
export function sniffEncoding(bytes: Buffer): string | undefined {
  const b0 = bytes[0];
  const b1 = bytes[1];
  if ((b0 === 0xfe && b1 === 0xff) || (b0 === 0xff && b1 === 0xfe)) return 'UTF-16';
  if ((b0 === 0x00 && b1 === 0x3c) || (b0 === 0x3c && b1 === 0x00)) return 'UTF-16';
  const head = bytes.subarray(0, 256).toString('latin1');
  const m = /^(?:\xEF\xBB\xBF)?<\?xml\s[^>]*?\bencoding\s*=\s*(["'])([A-Za-z][A-Za-z0-9._-]*)\1/.exec(head);
  return m ? m[2] : undefined;
}
