// XEP-0153 vCard-based avatars: the hash of the photo a vCard holds, and the update element
// presence carries it in.
import { createHash } from 'node:crypto';
import { StanzaError } from '../../server/errors.ts';
import { x, type Element } from '../../server/xml/element.ts';

export const NS_VCARD = 'vcard-temp';
export const NS_VCARD_UPDATE = 'vcard-temp:x:update';

/** A child in the vcard-temp namespace (the parser drops an xmlns equal to the parent's). */
function vcardChild(el: Element, name: string): Element | undefined {
  return el.getChildElements().find((c) => c.name === name && (c.attrs.xmlns === undefined || c.attrs.xmlns === NS_VCARD));
}

const XML_WHITESPACE = /[ \t\r\n]+/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * XEP-0153 §3.1: the SHA-1 of the image data itself (not of its base64 form), as lower-case hex
 * (§3.1 notes lower case is what the ecosystem emits). '' when the vCard has no PHOTO/BINVAL
 * or an empty one. A BINVAL that is not base64 is bad-request (§4.5: the data MUST conform to
 * base64Binary; whitespace MUST be ignored).
 */
export function photoHash(vcard: Element): string {
  const binval = vcardChild(vcard, 'PHOTO');
  const data = binval && vcardChild(binval, 'BINVAL');
  if (!data) return '';
  const text = data.getText().replace(XML_WHITESPACE, '');
  if (text === '') return '';
  // Padding may be left out, but one character past a multiple of four is never valid base64.
  if (!BASE64.test(text) || text.length % 4 === 1 || (text.includes('=') && text.length % 4 !== 0)) {
    throw new StanzaError('bad-request', 'PHOTO/BINVAL is not base64 (XEP-0153 §4.5)');
  }
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length === 0) return '';
  return createHash('sha1').update(bytes).digest('hex');
}

/** XEP-0153 §4.1: `<x><photo>hash</photo></x>`, or an empty `<photo/>` when there is no image. */
export function updateElement(hash: string): Element {
  return x('x', { xmlns: NS_VCARD_UPDATE }, x('photo', null, hash || null));
}

/** Put the update element in a presence, replacing any the client sent (the server knows the stored vCard). */
export function setUpdateElement(presence: Element, hash: string): void {
  presence.children = presence.children.filter((c) => typeof c === 'string' || !(c.name === 'x' && c.attrs.xmlns === NS_VCARD_UPDATE));
  presence.cnode(updateElement(hash));
}
