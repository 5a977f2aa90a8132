import { expect } from 'chai';
import {
  Jid, JidError, domainToAscii, jid, normalizeDomain, normalizeLocalpart, normalizeResource, parseJid,
  precisDerivedProperty, tryParseJid,
} from '../../server/jid.ts';
import type { JidPart } from '../../server/jid.ts';

function parts(s: string): [string, string, string] {
  const j = parseJid(s);
  return [j.local, j.domain, j.resource];
}

function malformed(s: string, part?: JidPart): JidError {
  let err: unknown;
  try {
    parseJid(s);
  } catch (e) {
    err = e;
  }
  expect(err, `${JSON.stringify(s)} should be rejected`).to.be.instanceOf(JidError);
  const je = err as JidError;
  expect(je.condition).to.equal('jid-malformed');
  if (part) expect(je.part, JSON.stringify(s)).to.equal(part);
  return je;
}

function throwsJidError(f: () => unknown, part?: JidPart): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).to.be.instanceOf(JidError);
  if (part) expect((err as JidError).part).to.equal(part);
}

describe('jid (RFC 7622)', () => {
  describe('RFC 7622 §3.5 examples', () => {
    // Table 1, each with its enforced parts.
    const valid: [string, [string, string, string]][] = [
      ['juliet@example.com', ['juliet', 'example.com', '']],
      ['juliet@example.com/foo', ['juliet', 'example.com', 'foo']],
      ['juliet@example.com/foo bar', ['juliet', 'example.com', 'foo bar']],
      ['juliet@example.com/foo@bar', ['juliet', 'example.com', 'foo@bar']],
      ['foo\\20bar@example.com', ['foo\\20bar', 'example.com', '']],
      ['fussball@example.com', ['fussball', 'example.com', '']],
      ['fußball@example.com', ['fußball', 'example.com', '']],
      ['π@example.com', ['π', 'example.com', '']],
      ['Σ@example.com/foo', ['σ', 'example.com', 'foo']],
      ['σ@example.com/foo', ['σ', 'example.com', 'foo']],
      ['ς@example.com/foo', ['ς', 'example.com', 'foo']], // toLowerCase() keeps final sigma (RFC 8265 §3.3.1)
      ['king@example.com/♚', ['king', 'example.com', '♚']],
      ['example.com', ['', 'example.com', '']],
      ['example.com/foobar', ['', 'example.com', 'foobar']],
      ['a.example.com/b@example.net', ['', 'a.example.com', 'b@example.net']],
    ];
    for (const [input, want] of valid) {
      it(`accepts ${input}`, () => {
        expect(parts(input)).to.deep.equal(want);
      });
    }

    // Table 2, without example 18 (erratum 4560: a leading space is allowed in a resourcepart).
    const invalid: [string, JidPart][] = [
      ['"juliet"@example.com', 'localpart'],
      ['foo bar@example.com', 'localpart'],
      ['@example.com/', 'localpart'],
      ['henry\u2163@example.com', 'localpart'],
      ['\u265a@example.com', 'localpart'],
      ['juliet@', 'domainpart'],
      ['/foobar', 'domainpart'],
    ];
    for (const [input, part] of invalid) {
      it(`rejects ${input} (${part})`, () => {
        malformed(input, part);
      });
    }

    it('accepts a leading space in the resourcepart (erratum 4560)', () => {
      expect(parts('juliet@example.com/ foo')).to.deep.equal(['juliet', 'example.com', ' foo']);
    });

    it('keeps fußball and fussball distinct', () => {
      expect(parseJid('fußball@example.com').equals(parseJid('fussball@example.com'))).to.equal(false);
    });
  });

  describe('splitting (RFC 7622 §3.1)', () => {
    it('splits at the first slash, so the resourcepart may hold "/" and "@"', () => {
      expect(parts('a@b/c/d@e')).to.deep.equal(['a', 'b', 'c/d@e']);
      expect(parts('server/resource@foo/bar')).to.deep.equal(['', 'server', 'resource@foo/bar']);
    });

    it('rejects empty parts when their separator is present', () => {
      for (const s of ['', '@', '/', '@/', 'a@', '@b', 'a@b/', 'a@/b', '/b', '@/b', 'b/']) malformed(s);
      malformed('a@b/', 'resourcepart');
      malformed('a@/b', 'domainpart');
      malformed('@b', 'localpart');
    });

    it('rejects a second "@" before the slash', () => {
      for (const s of ['user@@host', 'user@@host/resource', 'a@b@c', 'a@b@c/d']) malformed(s, 'domainpart');
    });
  });

  describe('localpart: UsernameCaseMapped (RFC 8265 §3.3)', () => {
    it('maps upper case to lower case and keeps the resourcepart as is', () => {
      const j = parseJid('JuliA@EXAMPLE.com/BalCony');
      expect(j.toString()).to.equal('julia@example.com/BalCony');
      expect(j.equals(parseJid('julia@example.com/BalCony'))).to.equal(true);
      expect(j.equals(parseJid('julia@example.com/balcony'))).to.equal(false);
    });

    it('uses toLowerCase(), with its final-sigma context', () => {
      expect(normalizeLocalpart('\u039f\u0394\u039f\u03a3')).to.equal('\u03bf\u03b4\u03bf\u03c2'); // ΟΔΟΣ -> οδος
      expect(normalizeLocalpart('ΣΑΣ')).to.equal('σας');
    });

    it('maps fullwidth and halfwidth forms to their decompositions', () => {
      expect(parseJid('\uff2a\uff55\uff4c\uff49\uff41@example.com').local).to.equal('julia'); // ＪＵｌｉａ
      expect(normalizeLocalpart('\uff76\uff9e')).to.equal('\u30ac'); // halfwidth ｶﾞ -> カ + ゙ -> ガ (NFC)
    });

    it('applies NFC', () => {
      expect(normalizeLocalpart('Cafe\u0301')).to.equal('caf\u00e9');
      expect(parseJid('cafe\u0301@example.com').equals(parseJid('CAF\u00c9@example.com'))).to.equal(true);
      expect(normalizeLocalpart('\u212a')).to.equal('k'); // KELVIN SIGN: NFC gives K, then lower case
    });

    it('rejects the code points RFC 7622 §3.3.1 forbids', () => {
      for (const c of ['"', '&', '\'', ':', '<', '>']) malformed(`a${c}b@example.com`, 'localpart');
      for (const c of ['"', '&', '\'', '/', ':', '<', '>', '@']) throwsJidError(() => normalizeLocalpart(`a${c}b`), 'localpart');
      throwsJidError(() => jid('a@b', 'example.com'), 'localpart');
      throwsJidError(() => normalizeLocalpart('a\uff20b'), 'localpart'); // fullwidth @ maps to @
    });

    it('accepts the other ASCII7 punctuation', () => {
      expect(normalizeLocalpart('a!#$%()*+,-.;=?[\\]^_`{|}~z')).to.equal('a!#$%()*+,-.;=?[\\]^_`{|}~z');
    });

    it('rejects spaces, controls, symbols, compatibility forms and unassigned code points', () => {
      for (const s of ['a b', 'a\u00a0b', 'a\u3000b', 'a\tb', 'a\u0000b', 'a\u007fb', 'a\u0085b', 'a\u2603b', 'a\ufb01b',
        'a\u00bdb', 'a\u0378b', 'a\ue000b', 'a\u00adb', 'a\u1100b', 'a\u0640b', 'a\ud800b', 'a\uffffb']) {
        throwsJidError(() => normalizeLocalpart(s), 'localpart');
      }
    });

    it('checks the contextual rules of RFC 5892 Appendix A', () => {
      expect(normalizeLocalpart('l\u00b7l')).to.equal('l\u00b7l'); // MIDDLE DOT between two l
      throwsJidError(() => normalizeLocalpart('a\u00b7b'));
      expect(normalizeLocalpart('\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645')).to.have.length(8); // ZWNJ after a dual-joining letter
      throwsJidError(() => normalizeLocalpart('\u0627\u200c\u0628')); // ZWNJ after ALEF (right-joining only)
      throwsJidError(() => normalizeLocalpart('a\u200cb'));
      expect(normalizeLocalpart('\u0915\u094d\u200d\u0937')).to.have.length(4); // ZWJ after a virama
      throwsJidError(() => normalizeLocalpart('a\u200db'));
      expect(normalizeLocalpart('\u0375\u03b1')).to.equal('\u0375\u03b1'); // keraia before Greek
      throwsJidError(() => normalizeLocalpart('\u0375a'));
      expect(normalizeLocalpart('\u05d0\u05f3')).to.equal('\u05d0\u05f3'); // geresh after Hebrew
      throwsJidError(() => normalizeLocalpart('a\u05f3'));
      expect(normalizeLocalpart('\u30a2\u30fb\u30a4')).to.equal('\u30a2\u30fb\u30a4'); // katakana middle dot with kana
      throwsJidError(() => normalizeLocalpart('a\u30fbb'));
      throwsJidError(() => normalizeLocalpart('\u0628\u0661\u06f1')); // Arabic-Indic and extended digits mixed
    });

    it('applies the Bidi Rule to strings with right-to-left code points', () => {
      expect(normalizeLocalpart('\u05d0\u05d1')).to.equal('\u05d0\u05d1');
      expect(normalizeLocalpart('\u05d0\u05d11')).to.equal('\u05d0\u05d11'); // RTL may end in EN
      expect(normalizeLocalpart('\u0628\u0661')).to.equal('\u0628\u0661'); // ... or in AN
      for (const s of ['a\u05d0', '\u05d0a', '1\u05d0\u05d1', '\u0661\u0662', '\u0628\u06611']) {
        throwsJidError(() => normalizeLocalpart(s), 'localpart');
      }
      expect(normalizeLocalpart('abc1')).to.equal('abc1'); // no RTL code point: no Bidi Rule
      malformed('a\u05d0@example.com', 'localpart');
    });

    it('is idempotent', () => {
      for (const s of ['JuliA', '\u039f\u0394\u039f\u03a3', 'Cafe\u0301', '\uff2a\uff55', '\u212a', 'İstanbul', '\u1e9e']) {
        const once = normalizeLocalpart(s);
        expect(normalizeLocalpart(once)).to.equal(once);
      }
    });
  });

  describe('resourcepart: OpaqueString (RFC 8265 §4.2)', () => {
    it('allows spaces, symbols, compatibility forms and mixed directions, and keeps case', () => {
      expect(parts('a@b/foo bar')[2]).to.equal('foo bar');
      expect(parts('a@b/ Foo ')[2]).to.equal(' Foo ');
      expect(normalizeResource('\u265a \ufb01 \u00bd')).to.equal('\u265a \ufb01 \u00bd');
      expect(normalizeResource('a\u05d0')).to.equal('a\u05d0');
      expect(normalizeResource('\uff2a')).to.equal('\uff2a'); // no width mapping
    });

    it('maps non-ASCII spaces to U+0020 and applies NFC', () => {
      expect(normalizeResource('a\u00a0b\u3000c\u2003d')).to.equal('a b c d');
      expect(parts('a@b/e\u0301')[2]).to.equal('\u00e9');
      expect(parseJid('a@b/e\u0301').equals(parseJid('a@b/\u00e9'))).to.equal(true);
    });

    it('rejects controls, unassigned, private-use, noncharacter and lone surrogate code points', () => {
      for (const s of ['a\tb', 'a\nb', 'a\u0000', '\u007f', 'a\u0085', 'a\u0378', '\ue000', '\uffff', 'a\ud800b',
        'a\u2028b', 'a\u00adb', 'a\u200cb', 'a\u00b7b']) {
        throwsJidError(() => normalizeResource(s), 'resourcepart');
      }
    });
  });

  describe('domainpart (RFC 7622 §3.2)', () => {
    it('maps to lower case', () => {
      expect(parseJid('EXAMPLE.Com').domain).to.equal('example.com');
    });

    it('strips one trailing dot', () => {
      expect(parseJid('example.com.').toString()).to.equal('example.com');
      expect(parseJid('Juliet@Example.COM./r').toString()).to.equal('juliet@example.com/r');
      expect(parseJid('example.com.').equals(parseJid('example.com'))).to.equal(true);
      for (const s of ['.', 'example.com..', '.example.com', 'a..b', 'a@./r']) malformed(s, 'domainpart');
    });

    it('accepts internationalised names and A-labels, stored as U-labels', () => {
      const u = parseJid('例え.テスト');
      expect(u.domain).to.equal('例え.テスト');
      for (const s of ['xn--r8jz45g.xn--zckzah', 'XN--R8JZ45G.xn--ZCKZAH', 'xn--r8jz45g.xn--zckzah.', '例え。テスト',
        '例え\uff0eテスト', '例え\uff61テスト']) {
        expect(parseJid(s).equals(u), s).to.equal(true);
      }
      expect(parts('Juliet@xn--fa-hia.DE/r')).to.deep.equal(['juliet', 'faß.de', 'r']);
      expect(parseJid('\u0627\u06cc\u0631\u0627\u0646.ir').equals(parseJid('xn--mgba3a4f16a.ir'))).to.equal(true);
      expect(parseJid('\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com').domain).to.equal('example.com');
    });

    it('gives the ASCII form for DNS', () => {
      expect(domainToAscii('例え.テスト')).to.equal('xn--r8jz45g.xn--zckzah');
      expect(domainToAscii(normalizeDomain('FAß.de'))).to.equal('xn--fa-hia.de');
      expect(domainToAscii('example.com')).to.equal('example.com');
      expect(domainToAscii('[::1]')).to.equal('[::1]');
    });

    it('rejects code points that are not in NR-LDH labels or U-labels (IDNA2008)', () => {
      for (const s of ['exa mple.com', 'a_b.example', 'a,b', 'a!b', 'a\u0000b', 'a\u007fb', '\u2603.net', 'xn--n3h.net',
        'xn--ls8h.la', '\u24d4xample.com', '\u2163.com', 'a\u200cb.com', 'a\u00adb.com', '\u0301a.com']) {
        malformed(s, 'domainpart');
      }
    });

    it('rejects hyphens at label ends, reserved labels and invalid A-labels', () => {
      for (const s of ['-a.com', 'a-.com', 'a.-b', 'ab--cd.com', 'xn--.com', 'xn--zz.com', 'xn--abc-.com', 'xn--a.com',
        'xn--r8jz45G-.com', 'xn--a-xbb.com' /* a + U+0301: not NFC */, 'xn--ab-.com']) {
        malformed(s, 'domainpart');
      }
      expect(parseJid('a-b.c-d.com').domain).to.equal('a-b.c-d.com');
    });

    it('limits a label to 63 octets in A-label form', () => {
      expect(parseJid(`${'a'.repeat(63)}.com`).domain).to.have.length(67);
      malformed(`${'a'.repeat(64)}.com`, 'domainpart');
      // 19 kanji: 57 octets of UTF-8, an A-label of 62; one more: 60 octets of UTF-8, but an A-label of 65.
      const fits = '日本語漢字例文字列長過検証用名前空間域';
      expect(domainToAscii(fits)).to.have.length(62);
      expect(parseJid(`${fits}.com`).domain).to.equal(`${fits}.com`);
      expect(domainToAscii(`${fits}試`)).to.have.length(65);
      malformed(`${fits}試.com`, 'domainpart');
    });

    it('applies the Bidi Rule to every label of a domain with an RTL label', () => {
      expect(parseJid('\u05d0\u05d1.example').domain).to.equal('\u05d0\u05d1.example');
      malformed('1\u05d0\u05d1.com', 'domainpart');
      malformed('\u05d0\u05d1.1com', 'domainpart');
      expect(parseJid('1com.example').domain).to.equal('1com.example'); // not a Bidi domain name
    });

    it('accepts IPv4 addresses and IPv6 literals, IPv6 in RFC 5952 form', () => {
      expect(parts('juliet@192.0.2.1/r')).to.deep.equal(['juliet', '192.0.2.1', 'r']);
      expect(parts('user@[::1]/r')).to.deep.equal(['user', '[::1]', 'r']);
      expect(parseJid('[0:0::1]').domain).to.equal('[::1]');
      expect(parseJid('[2001:DB8:0:0:1:0:0:1]').domain).to.equal('[2001:db8::1:0:0:1]');
      expect(parseJid('[2001:db8:0:0:0:0:2:1]').domain).to.equal('[2001:db8::2:1]');
      expect(parseJid('[2001:0db8:0:1:1:1:1:1]').domain).to.equal('[2001:db8:0:1:1:1:1:1]');
      expect(parseJid('[::FFFF:192.0.2.1]').domain).to.equal('[::ffff:192.0.2.1]');
      expect(parseJid('[2001:db8::192.0.2.1]').domain).to.equal('[2001:db8::c000:201]');
      for (const s of ['[::1', '[]', '[1.2.3.4]', '[fe80::1%eth0]', '[v1.abc]', '[:::]', '[1::2::3]',
        '[1:2:3:4:5:6:7:8:9]', '[1:2:3:4:5:6:7]', '[12345::]', '[::1]x']) {
        malformed(s, 'domainpart');
      }
    });
  });

  describe('length limits: 1 to 1023 octets of UTF-8 per part (RFC 7622 §3.1)', () => {
    it('localpart', () => {
      expect(parseJid(`${'a'.repeat(1023)}@x`).local).to.have.length(1023);
      malformed(`${'a'.repeat(1024)}@x`, 'localpart');
      expect(parseJid(`${'é'.repeat(511)}a@x`).local).to.have.length(512); // 1022 + 1 octets
      malformed(`${'é'.repeat(512)}@x`, 'localpart'); // 1024 octets in 512 characters
    });

    it('domainpart', () => {
      const label = 'a'.repeat(63);
      const d1023 = Array(16).fill(label).join('.');
      expect(d1023).to.have.length(1023);
      expect(parseJid(d1023).domain).to.equal(d1023);
      expect(parseJid(`${d1023}.`).domain).to.equal(d1023); // the stripped dot does not count
      const d1024 = [...Array<string>(15).fill(label), 'a'.repeat(62), 'a'].join('.');
      expect(d1024).to.have.length(1024);
      malformed(d1024, 'domainpart');
    });

    it('resourcepart', () => {
      expect(parseJid(`a@b/${'r'.repeat(1023)}`).resource).to.have.length(1023);
      malformed(`a@b/${'r'.repeat(1024)}`, 'resourcepart');
      expect(parseJid(`a@b/${'\u265a'.repeat(341)}`).resource).to.have.length(341); // 1023 octets
      malformed(`a@b/${'\u265a'.repeat(342)}`, 'resourcepart'); // 1026 octets
      expect(parseJid(`a@b/${'\ud83d\ude00'.repeat(255)}xyz`).resource).to.have.length(513); // 1020 + 3 octets
      malformed(`a@b/${'\ud83d\ude00'.repeat(256)}`, 'resourcepart'); // 1024 octets
    });

    it('rejects an overlong input before looking at it', () => {
      const e = malformed('a'.repeat(100_000));
      expect(e.part).to.equal(undefined);
    });
  });

  describe('the Jid value', () => {
    it('has bare(), isBare, isDomain and bareString', () => {
      const full = parseJid('Juliet@Example.com/Balcony');
      expect(full.isBare).to.equal(false);
      expect(full.isDomain).to.equal(false);
      expect(full.bareString).to.equal('juliet@example.com');
      const bare = full.bare();
      expect(bare.toString()).to.equal('juliet@example.com');
      expect(bare.isBare).to.equal(true);
      expect(full.bare()).to.equal(bare); // cached
      expect(bare.bare()).to.equal(bare);
      const dom = parseJid('example.com');
      expect(dom.isDomain).to.equal(true);
      expect(dom.isBare).to.equal(true);
      expect(parseJid('example.com/r').isDomain).to.equal(false);
    });

    it('compares normalised parts', () => {
      const a = parseJid('JULIET@example.com/one').bare();
      const b = parseJid('juliet@EXAMPLE.COM./two').bare();
      expect(a.equals(b)).to.equal(true);
      expect(a.equals(parseJid('romeo@example.com'))).to.equal(false);
      expect(a.equals(null)).to.equal(false);
      expect(a.equals(undefined)).to.equal(false);
      expect(parseJid('a@b/c').equals(parseJid('a@b'))).to.equal(false);
      expect(parseJid('b/c').equals(parseJid('a@b/c'))).to.equal(false);
    });

    it('serialises once and round-trips', () => {
      const j = parseJid('Juliet@Example.com/Balcony');
      expect(j.toString()).to.equal('juliet@example.com/Balcony');
      expect(`${j}`).to.equal('juliet@example.com/Balcony');
      expect(JSON.stringify({ to: j })).to.equal('{"to":"juliet@example.com/Balcony"}');
      expect(parseJid(j.toString()).equals(j)).to.equal(true);
    });

    it('is immutable', () => {
      const j = parseJid('juliet@example.com/r');
      expect(() => { (j as unknown as { local: string }).local = 'romeo'; }).to.throw(TypeError);
      expect(j.local).to.equal('juliet');
    });

    it('can only be built through the module functions', () => {
      const Ctor = Jid as unknown as new (k: symbol, l: string, d: string, r: string) => Jid;
      expect(() => new Ctor(Symbol('Jid'), 'a', 'b', 'c')).to.throw(TypeError);
    });

    it('withResource() enforces the new resourcepart', () => {
      const j = parseJid('juliet@example.com/a');
      const k = j.withResource('e\u0301\u00a0Two');
      expect(k.toString()).to.equal('juliet@example.com/\u00e9 Two');
      expect(j.toString()).to.equal('juliet@example.com/a');
      expect(parseJid('example.com').withResource('r').toString()).to.equal('example.com/r');
      throwsJidError(() => j.withResource(''), 'resourcepart');
      throwsJidError(() => j.withResource('a\nb'), 'resourcepart');
      throwsJidError(() => j.withResource('r'.repeat(1024)), 'resourcepart');
    });

    it('jid() builds and enforces from parts', () => {
      expect(jid('JuliA', 'Example.COM', 'Res').toString()).to.equal('julia@example.com/Res');
      expect(jid('', 'example.com').isDomain).to.equal(true);
      expect(jid('a', 'b').isBare).to.equal(true);
      expect(jid('a', 'b', '').isBare).to.equal(true);
      expect(jid('a', 'xn--r8jz45g', 'x y').toString()).to.equal('a@例え/x y');
      throwsJidError(() => jid('a', ''), 'domainpart');
      throwsJidError(() => jid('a b', 'example.com'), 'localpart');
      throwsJidError(() => jid('a', 'example.com', 'a\u0000'), 'resourcepart');
    });
  });

  describe('tryParseJid and the parse cache', () => {
    it('returns null instead of throwing', () => {
      expect(tryParseJid('foo bar@example.com')).to.equal(null);
      expect(tryParseJid('')).to.equal(null);
      expect(tryParseJid('Juliet@Example.com')?.toString()).to.equal('juliet@example.com');
    });

    it('caches non-ASCII parses, for the input and for its normal form', () => {
      const a = parseJid('Jürgen@Example.NET/Orchard');
      expect(parseJid('Jürgen@Example.NET/Orchard')).to.equal(a);
      expect(parseJid('jürgen@example.net/Orchard')).to.equal(a);
    });

    it('parses ASCII input afresh each time, to equal values', () => {
      const a = parseJid('Romeo@Example.NET/Orchard');
      const b = parseJid('Romeo@Example.NET/Orchard');
      expect(b).to.not.equal(a);
      expect(b.equals(a)).to.equal(true);
      expect(parseJid('romeo@example.net/Orchard').equals(a)).to.equal(true);
    });

    it('never caches a failure, nor lets one change a later result', () => {
      malformed('bad user@example.org');
      malformed('bad user@example.org');
      expect(tryParseJid('bad user@example.org')).to.equal(null);
      expect(parseJid('baduser@example.org').local).to.equal('baduser');
      malformed('BAD\u0000@example.org');
      expect(parseJid('BAD@example.org').local).to.equal('bad');
      malformed('bad user@example.org');
      malformed('juliet@\u2603.net', 'domainpart');
      malformed('juliet@\u2603.net', 'domainpart');
      expect(parseJid('Juliet@\u4f8b\u3048.\u30c6\u30b9\u30c8').domain).to.equal('例え.テスト');
    });

    it('stays correct past its capacity', () => {
      const first = parseJid('First@cache.example');
      for (let i = 0; i < 10_000; i++) parseJid(`user${i}@cache.example/r${i}`);
      expect(parseJid('First@cache.example').equals(first)).to.equal(true);
      expect(parseJid('user1@cache.example/r1').toString()).to.equal('user1@cache.example/r1');
      expect(parseJid('USER9999@cache.example/r9999').toString()).to.equal('user9999@cache.example/r9999');
    });
  });

  describe('errors', () => {
    it('are JidErrors that become jid-malformed stanza errors', () => {
      const e = malformed('a b@example.com', 'localpart');
      expect(e).to.be.instanceOf(Error);
      expect(e.name).to.equal('JidError');
      const se = e.toStanzaError();
      expect(se.condition).to.equal('jid-malformed');
      expect(se.type).to.equal('modify');
    });
  });

  describe('PRECIS derived property (RFC 8264 §8)', () => {
    it('classifies code points', () => {
      const cases: [number, string][] = [
        [0x61, 'PVALID'], [0x7e, 'PVALID'], [0x20, 'FREE_PVAL'], [0x00, 'DISALLOWED'], [0x7f, 'DISALLOWED'],
        [0xdf, 'PVALID'], [0x3c2, 'PVALID'], [0xb7, 'CONTEXTO'], [0x0663, 'CONTEXTO'], [0x200c, 'CONTEXTJ'],
        [0x200d, 'CONTEXTJ'], [0x0640, 'DISALLOWED'], [0x2163, 'FREE_PVAL'], [0xfb01, 'FREE_PVAL'], [0xa0, 'FREE_PVAL'],
        [0x265a, 'FREE_PVAL'], [0x41, 'PVALID'], [0x1100, 'DISALLOWED'], [0xad, 'DISALLOWED'], [0xfffe, 'DISALLOWED'],
        [0x378, 'UNASSIGNED'], [0xe000, 'DISALLOWED'], [0xd800, 'DISALLOWED'], [0x4e00, 'PVALID'], [0x1f600, 'FREE_PVAL'],
        [0x2028, 'DISALLOWED'], [0x01c5, 'FREE_PVAL'],
      ];
      for (const [cp, want] of cases) expect(precisDerivedProperty(cp), cp.toString(16)).to.equal(want);
    });
  });
});
