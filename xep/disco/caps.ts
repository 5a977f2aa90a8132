// XEP-0115 Entity Capabilities: the verification string of §5.1, computed from what the host
// really answers in disco#info, so it changes exactly when its identities, features or forms do.
import { createHash } from 'node:crypto';
import type { DiscoExtension, DiscoIdentity } from '../../server/disco-registry.ts';

export const NS_CAPS = 'http://jabber.org/protocol/caps';

/**
 * The caps 'node' of Chorus (XEP-0115 §4: a URI identifying the software, RECOMMENDED an HTTP URL
 * about it). Stable: clients cache by node#ver, so changing it only costs them one disco#info.
 */
export const CAPS_NODE = 'https://chorus.im';

/** What a disco#info result holds, as the §5.1 algorithm reads it. */
export interface DiscoInfo {
  identities: readonly DiscoIdentity[];
  features: readonly string[];
  extensions: readonly DiscoExtension[];
}

/** XEP-0115 §5.1 step 9 with SHA-1 (mandatory to implement, §9.1): the base64 of the digest of S. */
export function capsVerification(info: DiscoInfo): string {
  return createHash('sha1').update(capsString(info), 'utf8').digest('base64');
}

/** The string S of XEP-0115 §5.1, steps 1 to 7. */
export function capsString(info: DiscoInfo): string {
  let s = '';
  // Steps 2-3: identities by category, then type, then xml:lang; each 'category/type/lang/name<'.
  const identities = [...info.identities].sort(
    (a, b) => octets(a.category, b.category) || octets(a.type, b.type) || octets(a.lang ?? '', b.lang ?? ''),
  );
  for (const id of identities) s += `${id.category}/${id.type}/${id.lang ?? ''}/${id.name ?? ''}<`;
  // Steps 4-5: features.
  for (const f of [...info.features].sort(octets)) s += `${f}<`;
  // Steps 6-7: extension forms by FORM_TYPE; in each, the fields by var, each field's values sorted.
  for (const form of [...info.extensions].sort((a, b) => octets(a.formType, b.formType))) {
    s += `${form.formType}<`;
    const fields = form.fields.filter((f) => f.var !== 'FORM_TYPE').sort((a, b) => octets(a.var, b.var));
    for (const field of fields) {
      s += `${field.var}<`;
      for (const v of [...field.values].sort(octets)) s += `${v}<`;
    }
  }
  return s;
}

/**
 * XEP-0115 §5.1: sorting uses the "i;octet" collation (RFC 4790 §9.3), the order of the UTF-8
 * bytes, which is code point order. JavaScript compares UTF-16 code units, which puts characters
 * above U+FFFF (surrogate pairs, D800-DFFF) before U+E000-U+FFFF; shifting the units at the first
 * difference restores code point order without encoding anything.
 */
function octets(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}
