// XMPP addresses (RFC 7622): parsing, PRECIS enforcement (RFC 8264, RFC 8265) and IDNA2008 domain checks
// (RFC 5890-5893). JIDs are parsed once at the edge into an immutable, normalised `Jid`; everything inside the
// server compares those values (DESIGN.md: Streams and sessions).
//
// Exact from the RFCs, with JS Unicode property escapes and String#normalize (so following the Unicode version of
// the running ICU): the PRECIS derived property (RFC 8264 §8), the IDNA2008 derived property (RFC 5892 §3), the
// contextual rules (RFC 5892 Appendix A), width mapping, the profiles' order of rules. Approximated, because JS
// has no such property: Bidi_Class (see `bidiClass`) and, only inside the IDNA2008 "Unstable" category, full case
// folding (see `caseFold`). Joining_Type (for ZERO WIDTH NON-JOINER) is a Unicode 17 table.
//
// Choices where the RFCs leave room:
// - The class check runs on the mapped string (RFC 8264 §7 order), so KELVIN SIGN becomes 'k' instead of being
//   rejected by the preparation step of RFC 8265 §3.3.2; other PRECIS implementations do the same.
// - Domainparts follow IDNA2008 with the mappings of RFC 5895, not UTS #46 (node:url): compatibility forms are
//   not mapped (ⓔ, Ⅳ are rejected), symbols and emoji are rejected, '_' is rejected (not LDH), reserved "??--"
//   labels are rejected; the DNS limit of 253 octets is not applied (RFC 7622 allows 1023). A trailing U+3002
//   (or its fullwidth/halfwidth forms) is stripped like a trailing dot.
// - IP literals: IPv6 is rewritten in RFC 5952 form; IPvFuture and zone identifiers are rejected.
import { StanzaError } from './errors.ts';

// ---------------------------------------------------------------------------------------------------------------
// Errors

export type JidPart = 'localpart' | 'domainpart' | 'resourcepart';

/** A string that is not a valid JID (or JID part). The router answers it with `jid-malformed` (RFC 6120 §8.3.3.8). */
export class JidError extends Error {
  readonly condition = 'jid-malformed' as const;
  constructor(readonly part: JidPart | undefined, readonly reason: string) {
    super(part ? `${part}: ${reason}` : reason);
    this.name = 'JidError';
  }

  toStanzaError(): StanzaError {
    return new StanzaError('jid-malformed', this.message);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The Jid value

const INTERNAL: unique symbol = Symbol('Jid');

/**
 * An immutable, normalised XMPP address. Build one with `parseJid`, `tryParseJid` or `jid`; the parts are
 * already enforced (RFC 7622 §3), so comparing parts with `===` is the RFC's octet-for-octet comparison.
 */
export class Jid {
  /** '' when absent. */
  readonly local: string;
  readonly domain: string;
  /** '' when absent. */
  readonly resource: string;
  #str: string | undefined;
  #bare: Jid | undefined;

  /** Not for use outside this module: the parts must already be enforced; `str` is their serialisation if known. */
  constructor(key: typeof INTERNAL, local: string, domain: string, resource: string, str?: string) {
    if (key !== INTERNAL) throw new TypeError('use parseJid() or jid() to build a Jid');
    this.local = local;
    this.domain = domain;
    this.resource = resource;
    this.#str = str;
    Object.freeze(this); // shared through the parse cache: nobody may change one (private caches stay writable)
  }

  get isBare(): boolean {
    return this.resource === '';
  }

  /** A domain JID: neither localpart nor resourcepart. */
  get isDomain(): boolean {
    return this.local === '' && this.resource === '';
  }

  bare(): Jid {
    if (this.resource === '') return this;
    return (this.#bare ??= new Jid(INTERNAL, this.local, this.domain, ''));
  }

  get bareString(): string {
    return this.bare().toString();
  }

  /** The same bare JID with another resourcepart, which is enforced (RFC 7622 §3.4). */
  withResource(resource: string): Jid {
    return new Jid(INTERNAL, this.local, this.domain, normalizeResource(resource));
  }

  equals(other: Jid | null | undefined): boolean {
    return other === this || (other != null && other.domain === this.domain && other.local === this.local
      && other.resource === this.resource);
  }

  toString(): string {
    if (this.#str === undefined) {
      const b = this.local === '' ? this.domain : `${this.local}@${this.domain}`;
      this.#str = this.resource === '' ? b : `${b}/${this.resource}`;
    }
    return this.#str;
  }

  toJSON(): string {
    return this.toString();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Public functions

// RFC 7622 §3.1: each part is at most 1023 octets, so a JID is at most 3071 octets. Mapping can shrink a string
// (U+3000 is 3 octets, its mapping 1), so inputs up to three times that are worth looking at; longer ones are
// rejected before any Unicode work.
const MAX_PART_OCTETS = 1023;
const MAX_INPUT_LENGTH = 3 * (3 * MAX_PART_OCTETS + 2);

// A bounded cache of recent parses of non-ASCII JIDs, whose PRECIS and IDNA work costs microseconds. ASCII JIDs
// (nearly all of them) take the fast paths, a split and a table scan, and are not cached: with thousands of
// accounts the traffic touches more distinct JIDs than a cache holds, so every entry would be a miss that lives
// just long enough to be copied by the young-generation GC and promoted (measured: most of what survived each
// scavenge under `npm run bench`, and scavenge pauses grow with what survives). Two
// generations of at most CACHE_GENERATION entries each: when the young one is full it becomes the old one and the
// old one is dropped; a hit in the old generation is copied into the young one. Every operation is O(1) (evicting
// the oldest key of one big Map is not: V8 walks the deleted entries). Only valid results are cached; long keys
// are not, which bounds memory to about 2 * CACHE_GENERATION * CACHE_KEY_MAX UTF-16 units.
const CACHE_GENERATION = 4096;
const CACHE_KEY_MAX = 256;
let young = new Map<string, Jid>();
let old = new Map<string, Jid>();

function cached(key: string): Jid | undefined {
  const hit = young.get(key);
  if (hit !== undefined || old.size === 0) return hit;
  const promoted = old.get(key);
  if (promoted !== undefined) remember(key, promoted);
  return promoted;
}

function remember(key: string, j: Jid): void {
  if (key.length > CACHE_KEY_MAX) return;
  if (young.size >= CACHE_GENERATION) {
    old = young;
    young = new Map();
  }
  young.set(key, j);
}

/** Parse and enforce a JID string (RFC 7622 §3). Throws `JidError`. */
export function parseJid(s: string): Jid {
  if (isAscii(s)) return parseUncached(s);
  const hit = cached(s);
  if (hit !== undefined) return hit;
  const j = parseUncached(s);
  remember(s, j);
  const norm = j.toString();
  if (norm !== s) remember(norm, j); // the normalised form comes back too (stamped 'from', bound JIDs)
  return j;
}

export function tryParseJid(s: string): Jid | null {
  try {
    return parseJid(s);
  } catch (e) {
    if (e instanceof JidError) return null;
    throw e;
  }
}

/** Build a JID from its parts, enforcing each; `local` and `resource` are '' (or omitted) when absent. */
export function jid(local: string, domain: string, resource = ''): Jid {
  return new Jid(INTERNAL, local === '' ? '' : normalizeLocalpart(local), normalizeDomain(domain),
    resource === '' ? '' : normalizeResource(resource));
}

/**
 * Enforce a localpart: the UsernameCaseMapped profile (RFC 8265 §3.3) plus the code points RFC 7622 §3.3.1
 * forbids. SASL and account management use it for usernames, so that an account name is its localpart.
 */
export function normalizeLocalpart(s: string): string {
  return localAscii(s) ?? usernameCaseMapped(s);
}

/** Enforce a domainpart (RFC 7622 §3.2): U-labels and NR-LDH labels, lower case, trailing dot removed; or an IP literal. */
export function normalizeDomain(s: string): string {
  return domainAscii(s) ?? idnDomain(s);
}

// Few distinct domains are seen, and the IDNA path costs microseconds: its valid results are kept (cleared when full).
const idnCache = new Map<string, string>();
function idnDomain(s: string): string {
  let d = idnCache.get(s);
  if (d === undefined) {
    d = domainSlow(s);
    if (idnCache.size >= 1024) idnCache.clear();
    if (s.length <= CACHE_KEY_MAX) idnCache.set(s, d);
  }
  return d;
}

/** Enforce a resourcepart: the OpaqueString profile (RFC 8265 §4.2), as RFC 7622 §3.4 requires. */
export function normalizeResource(s: string): string {
  return resourceAscii(s) ?? opaqueString(s);
}

/** The ASCII form of an enforced domainpart (A-labels), for DNS look-ups, SNI and certificate matching. */
export function domainToAscii(domain: string): string {
  if (isAscii(domain)) return domain;
  return domain.split('.').map((l) => (isAscii(l) ? l : `xn--${punycodeEncode(codePoints(l))}`)).join('.');
}

// ---------------------------------------------------------------------------------------------------------------
// RFC 7622 §3.1: split at the first '/', then at the first '@' before it. Separators are ASCII, so splitting
// comes before any mapping (a fullwidth '＠' maps to '@' inside the localpart and is then rejected there).

function parseUncached(s: string): Jid {
  if (s.length > MAX_INPUT_LENGTH) throw new JidError(undefined, 'too long');
  const slash = s.indexOf('/');
  const head = slash < 0 ? s : s.slice(0, slash);
  const at = head.indexOf('@');
  const rawLocal = at < 0 ? '' : head.slice(0, at);
  const rawDomain = at < 0 ? head : head.slice(at + 1);
  const rawResource = slash < 0 ? '' : s.slice(slash + 1);
  const local = at < 0 ? '' : normalizeLocalpart(rawLocal);
  const domain = normalizeDomain(rawDomain);
  const resource = slash < 0 ? '' : normalizeResource(rawResource);
  // The fast paths return their argument when nothing changes: then the input is already the normal form.
  const same = local === rawLocal && domain === rawDomain && resource === rawResource;
  return new Jid(INTERNAL, local, domain, resource, same ? s : undefined);
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

function codePoints(s: string): number[] {
  const out: number[] = [];
  for (const c of s) out.push(c.codePointAt(0)!);
  return out;
}

function utf8Length(s: string): number {
  return isAscii(s) ? s.length : Buffer.byteLength(s, 'utf8');
}

function checkLength(s: string, part: JidPart): void {
  if (s === '') throw new JidError(part, 'empty');
  if (utf8Length(s) > MAX_PART_OCTETS) throw new JidError(part, 'longer than 1023 octets');
}

// ---------------------------------------------------------------------------------------------------------------
// ASCII fast paths. For ASCII input the profiles reduce to table look-ups: ASCII7 (U+0021..U+007E) is PVALID,
// SPACE is a FreeformClass-only space, the rest are controls (RFC 8264 §9.11, §9.12, §9.14); NFC, width mapping
// and the Bidi Rule change nothing. They return undefined when the string has a non-ASCII code point.

const enum Ascii { Bad = 0, Ok = 1, Upper = 2 }

// RFC 7622 §3.3.1: " & ' / : < > @ are not allowed in a localpart, although the IdentifierClass allows them.
const LOCAL_ASCII = new Uint8Array(128);
for (let c = 0x21; c <= 0x7e; c++) LOCAL_ASCII[c] = c >= 0x41 && c <= 0x5a ? Ascii.Upper : Ascii.Ok;
for (const c of '"&\'/:<>@') LOCAL_ASCII[c.charCodeAt(0)] = Ascii.Bad;

function localAscii(s: string): string | undefined {
  let upper = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return undefined;
    const k = LOCAL_ASCII[c];
    if (k === Ascii.Bad) throw new JidError('localpart', `U+${hex(c)} is not allowed`);
    if (k === Ascii.Upper) upper = true;
  }
  checkLength(s, 'localpart');
  return upper ? s.toLowerCase() : s; // RFC 8265 §3.3.1 case mapping
}

function resourceAscii(s: string): string | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return undefined;
    if (c < 0x20 || c === 0x7f) throw new JidError('resourcepart', `U+${hex(c)} is not allowed`);
  }
  checkLength(s, 'resourcepart');
  return s;
}

// Domain names: NR-LDH labels only (RFC 7622 §3.2.1 via RFC 5890 §2.3.1): letters, digits, hyphen; an A-label
// ("xn--") goes to the slow path to be checked and turned into its U-label.
function domainAscii(s: string): string | undefined {
  let end = s.length;
  if (end > 0 && s.charCodeAt(end - 1) === 0x2e) end--; // RFC 7622 §3.2: a trailing dot is stripped first
  if (end === 0) throw new JidError('domainpart', 'empty');
  if (s.charCodeAt(0) === 0x5b) return undefined; // '[': IP literal, slow path
  let upper = false;
  let start = 0;
  for (let i = 0; i <= end; i++) {
    const c = i === end ? 0x2e : s.charCodeAt(i);
    if (c === 0x2e) {
      if (checkLdhLabel(s, start, i)) return undefined;
      start = i + 1;
    } else if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d) {
      // LDH
    } else if (c >= 0x41 && c <= 0x5a) {
      upper = true;
    } else if (c >= 0x80) {
      return undefined;
    } else {
      throw new JidError('domainpart', `U+${hex(c)} is not allowed`);
    }
  }
  if (end > MAX_PART_OCTETS) throw new JidError('domainpart', 'longer than 1023 octets');
  const d = end === s.length ? s : s.slice(0, end);
  return upper ? d.toLowerCase() : d;
}

/** Checks s[start, end) as an LDH label; true when it is an XN-label (to be decoded). */
function checkLdhLabel(s: string, start: number, end: number): boolean {
  const len = end - start;
  if (len === 0) throw new JidError('domainpart', 'empty label');
  if (len > 63) throw new JidError('domainpart', 'label longer than 63 octets');
  if (s.charCodeAt(start) === 0x2d || s.charCodeAt(end - 1) === 0x2d) {
    throw new JidError('domainpart', 'label starts or ends with a hyphen');
  }
  if (len >= 4 && s.charCodeAt(start + 2) === 0x2d && s.charCodeAt(start + 3) === 0x2d) {
    // RFC 5890 §2.3.1: "??--" labels are reserved (R-LDH); only "xn--" (A-labels) may be used.
    if ((s.charCodeAt(start) | 0x20) === 0x78 && (s.charCodeAt(start + 1) | 0x20) === 0x6e) return true;
    throw new JidError('domainpart', 'reserved label (hyphens in third and fourth position)');
  }
  return false;
}

function hex(cp: number): string {
  return cp.toString(16).toUpperCase().padStart(4, '0');
}

// ---------------------------------------------------------------------------------------------------------------
// PRECIS derived property (RFC 8264 §8, categories of §9)

const enum Prop { Unknown = 0, PValid, ContextJ, ContextO, Disallowed, FreePVal, Unassigned }

/** A code point's derived property; 'FREE_PVAL' stands for "ID_DIS or FREE_PVAL" (RFC 8264 §8). */
export type DerivedProperty = 'PVALID' | 'CONTEXTJ' | 'CONTEXTO' | 'DISALLOWED' | 'FREE_PVAL' | 'UNASSIGNED';
const PROP_NAMES: readonly DerivedProperty[] = ['DISALLOWED', 'PVALID', 'CONTEXTJ', 'CONTEXTO', 'DISALLOWED',
  'FREE_PVAL', 'UNASSIGNED'];

// RFC 5892 §2.6 Exceptions (F), used by PRECIS (RFC 8264 §9.6) and IDNA2008 alike.
const EXCEPTIONS = new Map<number, Prop>([
  [0x00df, Prop.PValid], [0x03c2, Prop.PValid], [0x06fd, Prop.PValid], [0x06fe, Prop.PValid],
  [0x0f0b, Prop.PValid], [0x3007, Prop.PValid],
  [0x00b7, Prop.ContextO], [0x0375, Prop.ContextO], [0x05f3, Prop.ContextO], [0x05f4, Prop.ContextO],
  [0x30fb, Prop.ContextO],
  [0x0640, Prop.Disallowed], [0x07fa, Prop.Disallowed], [0x302e, Prop.Disallowed], [0x302f, Prop.Disallowed],
  [0x3031, Prop.Disallowed], [0x3032, Prop.Disallowed], [0x3033, Prop.Disallowed], [0x3034, Prop.Disallowed],
  [0x3035, Prop.Disallowed], [0x303b, Prop.Disallowed],
]);
for (let cp = 0x0660; cp <= 0x0669; cp++) EXCEPTIONS.set(cp, Prop.ContextO);
for (let cp = 0x06f0; cp <= 0x06f9; cp++) EXCEPTIONS.set(cp, Prop.ContextO);
// RFC 5892 §2.7 BackwardCompatible (G) is empty.

const RE_UNASSIGNED = /\p{Cn}/u;
const RE_NONCHARACTER = /\p{Noncharacter_Code_Point}/u;
const RE_DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
const RE_WHITE_SPACE = /\p{White_Space}/u;
const RE_CONTROL = /\p{Cc}/u;
const RE_LETTER_DIGITS = /[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]/u; // RFC 5892 §2.1 (A)
const RE_OTHER_LETTER_DIGITS = /[\p{Lt}\p{Nl}\p{No}\p{Me}]/u; // RFC 8264 §9.18 (R)
const RE_SPACE_SYMBOL_PUNCT = /[\p{Zs}\p{S}\p{P}]/u; // RFC 8264 §9.14-9.16 (N, O, P)

// RFC 5892 §2.9 OldHangulJamo (I): Hangul_Syllable_Type L, V or T.
function isOldHangulJamo(cp: number): boolean {
  return (cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0xa960 && cp <= 0xa97c) || (cp >= 0xd7b0 && cp <= 0xd7c6)
    || (cp >= 0xd7cb && cp <= 0xd7fb);
}

// Derived properties are memoised for the BMP (one byte per code point).
const precisMemo = new Uint8Array(0x10000);

function precisProp(cp: number): Prop {
  if (cp >= 0x21 && cp <= 0x7e) return Prop.PValid;
  if (cp < 0x10000) {
    const m = precisMemo[cp];
    if (m !== Prop.Unknown) return m;
    return (precisMemo[cp] = computePrecisProp(cp));
  }
  return computePrecisProp(cp);
}

// RFC 8264 §8: the order of these tests is normative. IgnorableBlocks (D), Unstable (B) and IgnorableProperties (C)
// belong to IDNA2008 only (RFC 8264 §9.2-9.5).
function computePrecisProp(cp: number): Prop {
  const ex = EXCEPTIONS.get(cp);
  if (ex !== undefined) return ex;
  const c = String.fromCodePoint(cp);
  const nonchar = RE_NONCHARACTER.test(c);
  if (RE_UNASSIGNED.test(c) && !nonchar) return Prop.Unassigned; // §9.10 Unassigned (J)
  if (cp >= 0x21 && cp <= 0x7e) return Prop.PValid; // §9.11 ASCII7 (K)
  if (cp === 0x200c || cp === 0x200d) return Prop.ContextJ; // §9.8 JoinControl (H)
  if (isOldHangulJamo(cp)) return Prop.Disallowed; // §9.9 OldHangulJamo (I)
  if (nonchar || RE_DEFAULT_IGNORABLE.test(c)) return Prop.Disallowed; // §9.13 PrecisIgnorableProperties (M)
  if (RE_CONTROL.test(c)) return Prop.Disallowed; // §9.12 Controls (L)
  if (c.normalize('NFKC') !== c) return Prop.FreePVal; // §9.17 HasCompat (Q)
  if (RE_LETTER_DIGITS.test(c)) return Prop.PValid; // §9.1 LetterDigits (A)
  if (RE_OTHER_LETTER_DIGITS.test(c) || RE_SPACE_SYMBOL_PUNCT.test(c)) return Prop.FreePVal; // (R, N, O, P)
  return Prop.Disallowed;
}

/** The PRECIS derived property of a code point (RFC 8264 §8), for the Unicode version of the running ICU. */
export function precisDerivedProperty(cp: number): DerivedProperty {
  return PROP_NAMES[precisProp(cp)]!;
}

// ---------------------------------------------------------------------------------------------------------------
// IDNA2008 derived property (RFC 5892 §3), for U-labels in domainparts.

const idnaMemo = new Uint8Array(0x10000);

function idnaProp(cp: number): Prop {
  if (cp < 0x10000) {
    const m = idnaMemo[cp];
    if (m !== Prop.Unknown) return m;
    return (idnaMemo[cp] = computeIdnaProp(cp));
  }
  return computeIdnaProp(cp);
}

// RFC 5892 §3, in its normative order; categories of RFC 5892 §2.
function computeIdnaProp(cp: number): Prop {
  const ex = EXCEPTIONS.get(cp);
  if (ex !== undefined) return ex;
  const c = String.fromCodePoint(cp);
  const nonchar = RE_NONCHARACTER.test(c);
  if (RE_UNASSIGNED.test(c) && !nonchar) return Prop.Unassigned; // (J)
  if (cp === 0x2d || (cp >= 0x30 && cp <= 0x39) || (cp >= 0x61 && cp <= 0x7a)) return Prop.PValid; // LDH (E)
  if (cp === 0x200c || cp === 0x200d) return Prop.ContextJ; // (H)
  const k = c.normalize('NFKC');
  if (caseFold(k).normalize('NFKC') !== c) return Prop.Disallowed; // Unstable (B)
  if (nonchar || RE_DEFAULT_IGNORABLE.test(c) || RE_WHITE_SPACE.test(c)) return Prop.Disallowed; // (C)
  if ((cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0x1d100 && cp <= 0x1d24f)) return Prop.Disallowed; // IgnorableBlocks (D)
  if (isOldHangulJamo(cp)) return Prop.Disallowed; // (I)
  if (RE_LETTER_DIGITS.test(c)) return Prop.PValid; // (A)
  return Prop.Disallowed;
}

// Unicode toCasefold() is not in JS. Per code point (folding has no context), lower-upper-lower reaches the full
// case folding except for Cherokee, whose folding goes to upper case, and U+0131 LATIN SMALL LETTER DOTLESS I,
// which CaseFolding.txt leaves alone. Checked for every code point against the IDNA2008 derived property
// tables of Unicode 17: identical results.
const RE_CHEROKEE = /\p{Script=Cherokee}/u;
function caseFold(s: string): string {
  let out = '';
  for (const c of s) {
    out += c === '\u0131' ? c : RE_CHEROKEE.test(c) ? c.toUpperCase() : c.toLowerCase().toUpperCase().toLowerCase();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Contextual rules (RFC 5892 Appendix A), shared by PRECIS (RFC 8264 §8 "CONTEXTJ"/"CONTEXTO") and IDNA2008.

const RE_GREEK = /\p{Script=Greek}/u;
const RE_HEBREW = /\p{Script=Hebrew}/u;
const RE_HIRA_KATA_HAN = /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u;
const RE_MARK = /\p{M}/u;
const RE_JOIN_TRANSPARENT = /[\p{Mn}\p{Me}\p{Cf}]/u;

function contextRuleHolds(cps: readonly number[], i: number): boolean {
  const cp = cps[i]!;
  const before = i > 0 ? cps[i - 1]! : -1;
  const after = i + 1 < cps.length ? cps[i + 1]! : -1;
  switch (cp) {
    case 0x200c: { // A.1 ZERO WIDTH NON-JOINER
      if (before >= 0 && isVirama(before)) return true;
      // (Joining_Type:{L,D})(Joining_Type:T)*\u200C(Joining_Type:T)*(Joining_Type:{R,D})
      let j = i - 1;
      while (j >= 0 && joiningType(cps[j]!) === 'T') j--;
      let k = i + 1;
      while (k < cps.length && joiningType(cps[k]!) === 'T') k++;
      if (j < 0 || k >= cps.length) return false;
      const l = joiningType(cps[j]!);
      const r = joiningType(cps[k]!);
      return (l === 'L' || l === 'D') && (r === 'R' || r === 'D');
    }
    case 0x200d: // A.2 ZERO WIDTH JOINER
      return before >= 0 && isVirama(before);
    case 0x00b7: // A.3 MIDDLE DOT: only between two 'l' (Catalan l·l)
      return before === 0x6c && after === 0x6c;
    case 0x0375: // A.4 GREEK LOWER NUMERAL SIGN (KERAIA)
      return after >= 0 && RE_GREEK.test(String.fromCodePoint(after));
    case 0x05f3: // A.5, A.6 HEBREW PUNCTUATION GERESH, GERSHAYIM
    case 0x05f4:
      return before >= 0 && RE_HEBREW.test(String.fromCodePoint(before));
    case 0x30fb: // A.7 KATAKANA MIDDLE DOT
      return cps.some((c) => RE_HIRA_KATA_HAN.test(String.fromCodePoint(c)));
    default:
      if (cp >= 0x0660 && cp <= 0x0669) return !cps.some((c) => c >= 0x06f0 && c <= 0x06f9); // A.8
      if (cp >= 0x06f0 && cp <= 0x06f9) return !cps.some((c) => c >= 0x0660 && c <= 0x0669); // A.9
      return false; // a contextual code point without a rule is invalid (RFC 8264 §8)
  }
}

// Canonical_Combining_Class is not in JS. A mark has class 9 (Virama) exactly when canonical reordering puts it
// after a class 8 mark (U+3099) and before a class 10 mark (U+05B0) (UAX #15 canonical ordering).
const viramaMemo = new Map<number, boolean>();
function isVirama(cp: number): boolean {
  let v = viramaMemo.get(cp);
  if (v === undefined) {
    const c = String.fromCodePoint(cp);
    v = cp !== 0x3099 && cp !== 0x05b0 && RE_MARK.test(c) && c.normalize('NFD') === c
      && `a${c}\u3099`.normalize('NFD') === `a\u3099${c}` && `a\u05b0${c}`.normalize('NFD') === `a${c}\u05b0`;
    viramaMemo.set(cp, v);
  }
  return v;
}

// Joining_Type L, D and R from Unicode 17.0 ArabicShaping.txt (hex ranges, type letter last). Joining_Type T is
// its documented default (Mn, Me, Cf) less the few explicitly listed otherwise; everything else is U or C, which
// the ZWNJ rule treats alike.
const JOINING_TABLE = '620D 622-625R 626D 627R 628D 629R 62A-62ED 62F-632R 633-63FD 641-647D 648R 649-64AD '
  + '66E-66FD 671-673R 675-677R 678-687D 688-699R 69A-6BFD 6C0R 6C1-6C2D 6C3-6CBR 6CCD 6CDR 6CED 6CFR 6D0-6D1D '
  + '6D2-6D3R 6D5R 6EE-6EFR 6FA-6FCD 6FFD 710R 712-714D 715-719R 71A-71DD 71ER 71F-727D 728R 729D 72AR 72BD 72CR '
  + '72D-72ED 72FR 74DR 74E-758D 759-75BR 75C-76AD 76B-76CR 76D-770D 771R 772D 773-774R 775-777D 778-779R 77A-77FD '
  + '7CA-7EAD 840R 841-845D 846-847R 848D 849R 84A-853D 854R 855D 856-858R 860D 862-865D 867R 868D 869-86AR '
  + '870-882R 886D 889-88DD 88ER 88FD 8A0-8A9D 8AA-8ACR 8AER 8AF-8B0D 8B1-8B2R 8B3-8B8D 8B9R 8BA-8C8D 1807D '
  + '1820-1878D 1887-18A8D 18AAD A840-A871D A872L 10AC0-10AC4D 10AC5R 10AC7R 10AC9-10ACAR 10ACDL 10ACE-10AD2R '
  + '10AD3-10AD6D 10AD7L 10AD8-10ADCD 10ADDR 10ADE-10AE0D 10AE1R 10AE4R 10AEB-10AEED 10AEFR 10B80D 10B81R 10B82D '
  + '10B83-10B85R 10B86-10B88D 10B89R 10B8A-10B8BD 10B8CR 10B8DD 10B8E-10B8FR 10B90D 10B91R 10BA9-10BACR '
  + '10BAD-10BAED 10D00L 10D01-10D21D 10D22R 10D23D 10EC2R 10EC3-10EC4D 10EC6-10EC7D 10F30-10F32D 10F33R '
  + '10F34-10F44D 10F51-10F53D 10F54R 10F70-10F73D 10F74-10F75R 10F76-10F81D 10FB0D 10FB2-10FB3D 10FB4-10FB6R '
  + '10FB8D 10FB9-10FBAR 10FBB-10FBCD 10FBDR 10FBE-10FBFD 10FC1D 10FC2-10FC3R 10FC4D 10FC9R 10FCAD 10FCBL '
  + '1E900-1E943D';
const NOT_TRANSPARENT = new Set([0x0600, 0x0601, 0x0602, 0x0603, 0x0604, 0x0605, 0x06dd, 0x0890, 0x0891, 0x08e2,
  0x180e, 0x200c, 0x200d, 0x2066, 0x2067, 0x2068, 0x2069, 0x110bd, 0x110cd]);

type JoiningType = 'L' | 'D' | 'R' | 'T' | 'U';
const joinStart: number[] = [];
const joinEnd: number[] = [];
const joinType: JoiningType[] = [];
for (const item of JOINING_TABLE.split(' ')) {
  const t = item.slice(-1) as JoiningType;
  const [a, b] = item.slice(0, -1).split('-');
  joinStart.push(parseInt(a!, 16));
  joinEnd.push(parseInt(b ?? a!, 16));
  joinType.push(t);
}

function joiningType(cp: number): JoiningType {
  let lo = 0;
  let hi = joinStart.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < joinStart[mid]!) hi = mid - 1;
    else if (cp > joinEnd[mid]!) lo = mid + 1;
    else return joinType[mid]!;
  }
  if (cp === 0x1e94b) return 'T';
  return !NOT_TRANSPARENT.has(cp) && RE_JOIN_TRANSPARENT.test(String.fromCodePoint(cp)) ? 'T' : 'U';
}

// ---------------------------------------------------------------------------------------------------------------
// Bidi Rule (RFC 5893 §2)
//
// Bidi_Class is not in JS, so it is approximated; the approximation only has to be right for code points that
// can pass the class checks (letters, digits, marks, ASCII7): marks are NSM, ASCII comes from a table, AN and EN
// digits from short lists, and letters and digits are R (or AL: the rule treats them alike) inside the blocks
// Unicode reserves for right-to-left scripts (DerivedBidiClass.txt defaults) and L elsewhere. Checked against
// Python's Unicode 14 database for every code point that PRECIS or IDNA2008 allows; see the report.

type Bidi = 'L' | 'R' | 'AN' | 'EN' | 'ES' | 'ET' | 'CS' | 'ON' | 'BN' | 'NSM' | 'X';

const ASCII_BIDI: Bidi[] = [];
for (let c = 0; c < 0x80; c++) {
  const ch = String.fromCharCode(c);
  ASCII_BIDI.push(
    /[A-Za-z]/.test(ch) ? 'L' : /[0-9]/.test(ch) ? 'EN' : /[+-]/.test(ch) ? 'ES' : /[#$%]/.test(ch) ? 'ET'
      : /[,./:]/.test(ch) ? 'CS' : c > 0x20 && c < 0x7f ? 'ON' : (c < 0x09 || (c > 0x0d && c < 0x1c) || c === 0x7f) ? 'BN'
        : 'X');
}

const RTL_BLOCKS: readonly (readonly [number, number])[] = [[0x0590, 0x08ff], [0xfb1d, 0xfdcf], [0xfdf0, 0xfdff],
  [0xfe70, 0xfeff], [0x10800, 0x10fff], [0x1e800, 0x1efff]];
const AN_RANGES: readonly (readonly [number, number])[] = [[0x0600, 0x0605], [0x0660, 0x0669], [0x066b, 0x066c],
  [0x06dd, 0x06dd], [0x0890, 0x0891], [0x08e2, 0x08e2], [0x10d30, 0x10d39], [0x10e60, 0x10e7e]];
const EN_RANGES: readonly (readonly [number, number])[] = [[0x00b2, 0x00b3], [0x00b9, 0x00b9], [0x06f0, 0x06f9],
  [0x2070, 0x2070], [0x2074, 0x2079], [0x2080, 0x2089], [0x2488, 0x249b], [0xff10, 0xff19], [0x102e1, 0x102fb],
  [0x1d7ce, 0x1d7ff], [0x1f100, 0x1f10a], [0x1fbf0, 0x1fbf9]];
const RE_NSM = /[\p{Mn}\p{Me}]/u;
const RE_LETTER_NUMBER_MC = /[\p{L}\p{N}\p{Mc}]/u;
const RE_SPACE_SEP = /[\p{Z}]/u;
// Letters whose Bidi_Class is ON rather than L (modifier letters used as symbols).
const LETTER_ON = new Set([0x02b9, 0x02ba, 0x02c6, 0x02c7, 0x02c8, 0x02c9, 0x02ca, 0x02cb, 0x02cc, 0x02cd, 0x02ce,
  0x02cf, 0x02ec, 0x0374, 0x2e2f, 0xa67f, 0xa717, 0xa718, 0xa719, 0xa71a, 0xa71b, 0xa71c, 0xa71d, 0xa71e, 0xa71f,
  0xa788]);
// Nonspacing marks whose Bidi_Class is L, and the Tibetan tsheg (punctuation, PVALID by exception), also L.
const NOT_NSM_L = new Set([0x0cbf, 0x0cc6, 0x0f0b, 0x11a07, 0x11a08, 0x11c3f]);

function inRanges(cp: number, ranges: readonly (readonly [number, number])[]): boolean {
  for (const [a, b] of ranges) if (cp >= a && cp <= b) return true;
  return false;
}

function bidiClass(cp: number): Bidi {
  if (cp < 0x80) return ASCII_BIDI[cp]!;
  if (inRanges(cp, AN_RANGES)) return 'AN';
  if (inRanges(cp, EN_RANGES)) return 'EN';
  if (NOT_NSM_L.has(cp)) return 'L';
  const c = String.fromCodePoint(cp);
  if (RE_NSM.test(c)) return 'NSM';
  if (cp === 0x200e) return 'L';
  if (cp === 0x200f || cp === 0x061c) return 'R';
  if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) return 'X';
  if (RE_DEFAULT_IGNORABLE.test(c)) return 'BN';
  if (inRanges(cp, RTL_BLOCKS)) return 'R';
  if (RE_SPACE_SEP.test(c)) return 'X';
  if (RE_LETTER_NUMBER_MC.test(c) && !LETTER_ON.has(cp)) return 'L';
  return 'ON';
}

/** RFC 5893 §1.4: an "RTL label" has at least one R, AL or AN code point. */
function hasRtl(cps: readonly number[]): boolean {
  for (const cp of cps) {
    if (cp >= 0x0590) {
      const b = bidiClass(cp);
      if (b === 'R' || b === 'AN') return true;
    }
  }
  return false;
}

const LTR_ALLOWED = new Set<Bidi>(['L', 'EN', 'ES', 'CS', 'ET', 'ON', 'BN', 'NSM']);
const RTL_ALLOWED = new Set<Bidi>(['R', 'AN', 'EN', 'ES', 'CS', 'ET', 'ON', 'BN', 'NSM']);

function satisfiesBidiRule(cps: readonly number[]): boolean {
  const classes = cps.map(bidiClass);
  const first = classes[0];
  let last = classes.length - 1;
  while (last > 0 && classes[last] === 'NSM') last--; // conditions 3 and 6: trailing NSMs are skipped
  const end = classes[last]!;
  if (first === 'L') { // conditions 5, 6
    return classes.every((b) => LTR_ALLOWED.has(b)) && (end === 'L' || end === 'EN');
  }
  if (first === 'R') { // conditions 2, 3, 4
    return classes.every((b) => RTL_ALLOWED.has(b)) && (end === 'R' || end === 'EN' || end === 'AN')
      && !(classes.includes('EN') && classes.includes('AN'));
  }
  return false; // condition 1
}

// ---------------------------------------------------------------------------------------------------------------
// PRECIS profiles

// Width mapping (RFC 8265 §3.3.1, UAX #11): code points whose decomposition type is <wide> or <narrow> map to
// their decomposition mapping. That is NFKD for all of them except the ones whose mapping decomposes further.
function widthMap(s: string): string {
  let out: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x3000 || (c >= 0xff01 && c <= 0xffee)) {
      out ??= s.slice(0, i);
      out += widthMapping(c);
    } else if (out !== undefined) {
      out += s[i];
    }
  }
  return out ?? s;
}

function widthMapping(c: number): string {
  let m: number;
  if (c === 0xffa0) m = 0x3164; // halfwidth Hangul maps to compatibility jamo, not to conjoining jamo
  else if (c >= 0xffa1 && c <= 0xffbe) m = c - 0xce70;
  else if (c >= 0xffc2 && c <= 0xffc7) m = c - 0xce73;
  else if (c >= 0xffca && c <= 0xffcf) m = c - 0xce75;
  else if (c >= 0xffd2 && c <= 0xffd7) m = c - 0xce77;
  else if (c >= 0xffda && c <= 0xffdc) m = c - 0xce79;
  else if (c === 0xffe3) m = 0x00af; // FULLWIDTH MACRON -> MACRON (NFKD would go on to SPACE + U+0304)
  else return String.fromCharCode(c).normalize('NFKD');
  return String.fromCharCode(m);
}

// RFC 8264 §7: the rules are applied again until the output is stable; three more rounds at most.
function untilStable(s: string, rules: (x: string) => string, part: JidPart): string {
  let cur = rules(s);
  for (let round = 0; round < 3; round++) {
    const next = rules(cur);
    if (next === cur) return cur;
    cur = next;
  }
  throw new JidError(part, 'PRECIS rules do not reach a stable output');
}

/** RFC 8264 §8 behavioural rules, applied after the mappings (RFC 8264 §7 order). */
function checkClass(cps: readonly number[], freeform: boolean, part: JidPart): void {
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i]!;
    const p = precisProp(cp);
    if (p === Prop.PValid || (p === Prop.FreePVal && freeform)) continue;
    if ((p === Prop.ContextJ || p === Prop.ContextO) && contextRuleHolds(cps, i)) continue;
    const why = p === Prop.FreePVal ? 'is not allowed in an identifier'
      : p === Prop.Unassigned ? 'is unassigned'
        : p === Prop.ContextJ || p === Prop.ContextO ? 'is not allowed in this context' : 'is disallowed';
    throw new JidError(part, `U+${hex(cp)} ${why}`);
  }
}

const usernameCaseMappedRules = (s: string): string => widthMap(s).toLowerCase().normalize('NFC');

// RFC 8265 §3.3: width mapping, toLowerCase(), NFC, Bidi Rule, IdentifierClass; plus RFC 7622 §3.3.1.
function usernameCaseMapped(s: string): string {
  const out = untilStable(s, usernameCaseMappedRules, 'localpart');
  const cps = codePoints(out);
  checkClass(cps, false, 'localpart');
  for (const cp of cps) {
    if (cp < 0x80 && LOCAL_ASCII[cp] === Ascii.Bad) throw new JidError('localpart', `U+${hex(cp)} is not allowed`);
  }
  if (hasRtl(cps) && !satisfiesBidiRule(cps)) throw new JidError('localpart', 'violates the Bidi Rule');
  checkLength(out, 'localpart');
  return out;
}

// RFC 8265 §4.2.2: non-ASCII spaces (Zs) map to U+0020, then NFC; FreeformClass; no case mapping, no Bidi Rule.
const RE_NON_ASCII_SPACE = /(?! )\p{Zs}/gu;
const opaqueStringRules = (s: string): string => s.replace(RE_NON_ASCII_SPACE, ' ').normalize('NFC');

function opaqueString(s: string): string {
  const out = untilStable(s, opaqueStringRules, 'resourcepart');
  checkClass(codePoints(out), true, 'resourcepart');
  checkLength(out, 'resourcepart');
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Domainpart, general case (RFC 7622 §3.2): IP literals, A-labels and U-labels.

function domainSlow(input: string): string {
  let s = input;
  if (s.endsWith('.')) s = s.slice(0, -1); // RFC 7622 §3.2: before any other canonicalisation
  if (s === '') throw new JidError('domainpart', 'empty');
  if (s.startsWith('[')) return ipLiteral(s);
  // RFC 7622 §3.2.2 applies the mappings of RFC 5895 §2: lower case, width mapping, NFC, and U+3002 IDEOGRAPHIC
  // FULL STOP as a label separator (with FULLWIDTH FULL STOP and HALFWIDTH IDEOGRAPHIC FULL STOP after width mapping).
  s = widthMap(s.toLowerCase()).normalize('NFC').replace(/\u3002/g, '.');
  if (s.endsWith('.')) s = s.slice(0, -1);
  const labels = s.split('.');
  const out: string[] = [];
  const uLabels: number[][] = [];
  for (const label of labels) {
    if (label === '') throw new JidError('domainpart', 'empty label');
    if (isAscii(label)) {
      if (!checkLdhLabel(label, 0, label.length)) {
        out.push(label);
        uLabels.push(codePoints(label));
        continue;
      }
      // An A-label: decode, check the U-label, and require that it encodes back to the same A-label (RFC 5891 §5.3).
      const u = punycodeDecode(label.slice(4));
      if (u === undefined || u.every((cp) => cp < 0x80)) throw new JidError('domainpart', `invalid A-label "${label}"`);
      const ul = String.fromCodePoint(...u);
      checkULabel(ul, u);
      if (`xn--${punycodeEncode(u)}` !== label) throw new JidError('domainpart', `invalid A-label "${label}"`);
      out.push(ul);
      uLabels.push(u);
    } else {
      const u = codePoints(label);
      checkULabel(label, u);
      if (punycodeEncode(u).length + 4 > 63) throw new JidError('domainpart', 'label longer than 63 octets as an A-label');
      out.push(label);
      uLabels.push(u);
    }
  }
  // RFC 5893 §2 / RFC 5891 §4.2.3.4: in a domain name with an RTL label, every label must satisfy the Bidi Rule.
  if (uLabels.some(hasRtl) && !uLabels.every(satisfiesBidiRule)) {
    throw new JidError('domainpart', 'violates the Bidi Rule');
  }
  const d = out.join('.');
  if (utf8Length(d) > MAX_PART_OCTETS) throw new JidError('domainpart', 'longer than 1023 octets');
  return d;
}

// RFC 5891 §4.2 and §5.4: a U-label is NFC, has no hyphens in both third and fourth position nor at either end,
// does not start with a combining mark, and has only PVALID code points or contextual ones whose rule holds.
function checkULabel(label: string, cps: readonly number[]): void {
  if (label.normalize('NFC') !== label) throw new JidError('domainpart', 'label is not in NFC');
  if (cps[0] === 0x2d || cps[cps.length - 1] === 0x2d) throw new JidError('domainpart', 'label starts or ends with a hyphen');
  if (cps[2] === 0x2d && cps[3] === 0x2d) throw new JidError('domainpart', 'label has hyphens in third and fourth position');
  if (RE_MARK.test(String.fromCodePoint(cps[0]!))) throw new JidError('domainpart', 'label starts with a combining mark');
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i]!;
    const p = idnaProp(cp);
    if (p === Prop.PValid) continue;
    if ((p === Prop.ContextJ || p === Prop.ContextO) && contextRuleHolds(cps, i)) continue;
    throw new JidError('domainpart', `U+${hex(cp)} is not allowed in a domain name`);
  }
}

// RFC 7622 §3.2: IP-literal (RFC 3986 §3.2.2). IPv6 addresses are written in the canonical text form of
// RFC 5952 §4 so that equal addresses compare equal; IPvFuture and zone identifiers are not accepted.
function ipLiteral(s: string): string {
  const inner = s.endsWith(']') ? s.slice(1, -1) : undefined;
  const words = inner === undefined ? undefined : parseIPv6(inner);
  if (words === undefined) throw new JidError('domainpart', 'invalid IP literal');
  return `[${formatIPv6(words)}]`;
}

const RE_IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const RE_H16 = /^[0-9a-fA-F]{1,4}$/;

function parseIPv6(s: string): number[] | undefined {
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return undefined;
  const parse = (part: string, mayEndInV4: boolean): number[] | undefined => {
    if (part === '') return [];
    const groups = part.split(':');
    const out: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      const v4 = mayEndInV4 && i === groups.length - 1 ? RE_IPV4.exec(g) : null;
      if (v4) {
        out.push((Number(v4[1]) << 8) | Number(v4[2]), (Number(v4[3]) << 8) | Number(v4[4]));
      } else if (RE_H16.test(g)) {
        out.push(parseInt(g, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  if (dbl < 0) {
    const w = parse(s, true);
    return w !== undefined && w.length === 8 ? w : undefined;
  }
  const head = parse(s.slice(0, dbl), false);
  const tail = parse(s.slice(dbl + 2), true);
  if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

function formatIPv6(w: number[]): string {
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${w[6]! >> 8}.${w[6]! & 0xff}.${w[7]! >> 8}.${w[7]! & 0xff}`;
  }
  // RFC 5952 §4.2: the longest run (the first of equal runs) of two or more zero fields becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hexs = w.map((x) => x.toString(16)); // §4.1, §4.3: no leading zeros, lower case
  if (best < 0) return hexs.join(':');
  return `${hexs.slice(0, best).join(':')}::${hexs.slice(best + bestLen).join(':')}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Punycode (RFC 3492), for A-labels (RFC 5891 §4.4, §5.3). node:punycode is deprecated.

const PC_BASE = 36;
const PC_TMIN = 1;
const PC_TMAX = 26;
const PC_SKEW = 38;
const PC_DAMP = 700;
const PC_MAXINT = 0x7fffffff;

function pcAdapt(delta: number, numPoints: number, first: boolean): number {
  let d = first ? Math.floor(delta / PC_DAMP) : delta >> 1;
  d += Math.floor(d / numPoints);
  let k = 0;
  while (d > ((PC_BASE - PC_TMIN) * PC_TMAX) >> 1) {
    d = Math.floor(d / (PC_BASE - PC_TMIN));
    k += PC_BASE;
  }
  return k + Math.floor(((PC_BASE - PC_TMIN + 1) * d) / (d + PC_SKEW));
}

function pcThreshold(k: number, bias: number): number {
  return k <= bias ? PC_TMIN : k >= bias + PC_TMAX ? PC_TMAX : k - bias;
}

function pcDigit(d: number): string {
  return String.fromCharCode(d < 26 ? 0x61 + d : 0x30 + d - 26);
}

function punycodeEncode(input: readonly number[]): string {
  let out = '';
  for (const cp of input) if (cp < 0x80) out += String.fromCharCode(cp);
  const b = out.length;
  let h = b;
  if (b > 0) out += '-';
  let n = 0x80;
  let delta = 0;
  let bias = 72;
  while (h < input.length) {
    let m = PC_MAXINT;
    for (const cp of input) if (cp >= n && cp < m) m = cp;
    if (m - n > Math.floor((PC_MAXINT - delta) / (h + 1))) throw new JidError('domainpart', 'punycode overflow');
    delta += (m - n) * (h + 1);
    n = m;
    for (const cp of input) {
      if (cp < n && ++delta > PC_MAXINT) throw new JidError('domainpart', 'punycode overflow');
      if (cp === n) {
        let q = delta;
        for (let k = PC_BASE; ; k += PC_BASE) {
          const t = pcThreshold(k, bias);
          if (q < t) break;
          out += pcDigit(t + ((q - t) % (PC_BASE - t)));
          q = Math.floor((q - t) / (PC_BASE - t));
        }
        out += pcDigit(q);
        bias = pcAdapt(delta, h + 1, h === b);
        delta = 0;
        h++;
      }
    }
    delta++;
    n++;
  }
  return out;
}

/** Decodes the part after "xn--"; undefined when it is not valid Punycode. */
function punycodeDecode(input: string): number[] | undefined {
  const out: number[] = [];
  const delim = input.lastIndexOf('-');
  for (let j = 0; j < Math.max(delim, 0); j++) out.push(input.charCodeAt(j)); // ASCII: checked by the caller
  let n = 0x80;
  let i = 0;
  let bias = 72;
  for (let pos = delim > 0 ? delim + 1 : 0; pos < input.length;) {
    const oldi = i;
    let w = 1;
    for (let k = PC_BASE; ; k += PC_BASE) {
      if (pos >= input.length) return undefined;
      const c = input.charCodeAt(pos++);
      const digit = c >= 0x61 && c <= 0x7a ? c - 0x61 : c >= 0x30 && c <= 0x39 ? c - 0x30 + 26 : PC_BASE;
      if (digit >= PC_BASE || digit > Math.floor((PC_MAXINT - i) / w)) return undefined;
      i += digit * w;
      const t = pcThreshold(k, bias);
      if (digit < t) break;
      if (w > Math.floor(PC_MAXINT / (PC_BASE - t))) return undefined;
      w *= PC_BASE - t;
    }
    bias = pcAdapt(i - oldi, out.length + 1, oldi === 0);
    if (Math.floor(i / (out.length + 1)) > PC_MAXINT - n) return undefined;
    n += Math.floor(i / (out.length + 1));
    i %= out.length + 1;
    if (n < 0x80 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return undefined;
    out.splice(i, 0, n);
    i++;
  }
  return out;
}
