import { expect } from 'chai';
import { InvalidUtf8Error, Utf8StreamDecoder } from '../../../server/xml/utf8-decoder.ts';

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Decode `chunks` with ours; `null` when it rejects them (or ends inside a character). */
function ours(chunks: Buffer[]): string | null {
  const d = new Utf8StreamDecoder();
  let out = '';
  try {
    for (const c of chunks) out += d.decode(c);
  } catch (e) {
    expect(e).to.be.instanceOf(InvalidUtf8Error);
    return null;
  }
  return d.hasPending ? null : out;
}

/** The reference: a fatal, streaming TextDecoder that keeps the BOM. */
function reference(chunks: Buffer[]): string | null {
  const d = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let out = '';
  try {
    for (const c of chunks) out += d.decode(c, { stream: true });
    out += d.decode();
  } catch {
    return null;
  }
  return out;
}

function splitAll(buf: Buffer, cuts: number[]): Buffer[] {
  const parts: Buffer[] = [];
  let prev = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    parts.push(buf.subarray(prev, c));
    prev = c;
  }
  parts.push(buf.subarray(prev));
  return parts;
}

describe('Utf8StreamDecoder', () => {
  it('decodes characters of every length split at every byte', () => {
    const bytes = Buffer.from('a é 日 😀 \u{10FFFF} \uFEFF z');
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        expect(ours(splitAll(bytes, [i, j])), `cuts ${i},${j}`).to.equal(bytes.toString('utf8'));
      }
    }
  });

  it('reports the bytes behind each decoded string', () => {
    const d = new Utf8StreamDecoder();
    expect(d.decode(Buffer.from([0x61, 0xf0, 0x9f]))).to.equal('a');
    expect(d.lastBytes).to.equal(1);
    expect(d.decode(Buffer.from([0x98, 0x80, 0x62]))).to.equal('😀b');
    expect(d.lastBytes).to.equal(5);
  });

  it('rejects invalid sequences, whole or split', () => {
    const bad = [
      [0xc3, 0x28],
      [0xc0, 0xaf],
      [0xc1, 0xbf],
      [0xe0, 0x80, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf0, 0x80, 0x80, 0xaf],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf5, 0x80, 0x80, 0x80],
      [0xff],
      [0x80],
      [0xe2, 0x82],
    ];
    for (const seq of bad) {
      const buf = Buffer.from([0x61, ...seq, 0x62]);
      for (let i = 0; i <= buf.length; i++) {
        expect(ours(splitAll(buf, [i])), `${Buffer.from(seq).toString('hex')} cut ${i}`).to.equal(null);
      }
    }
  });

  it('agrees with a fatal TextDecoder on 20,000 random byte strings split at random', () => {
    const rand = rng(7395);
    const pool = [0x00, 0x3c, 0x61, 0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc2, 0xc3, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf3, 0xf4, 0xf5, 0xff];
    const valid = ['a', 'é', '日', '😀', '\u{10FFFF}', '\uFEFF', '<'];
    for (let n = 0; n < 20_000; n++) {
      let buf: Buffer;
      if (n % 2 === 0) {
        const parts: number[] = [];
        const len = 1 + Math.floor(rand() * 8);
        for (let i = 0; i < len; i++) parts.push(pool[Math.floor(rand() * pool.length)]!);
        buf = Buffer.from(parts);
      } else {
        let s = '';
        const len = 1 + Math.floor(rand() * 6);
        for (let i = 0; i < len; i++) s += valid[Math.floor(rand() * valid.length)];
        buf = Buffer.from(s);
      }
      const cuts = [Math.floor(rand() * (buf.length + 1)), Math.floor(rand() * (buf.length + 1))];
      const chunks = splitAll(buf, cuts);
      expect(ours(chunks), `${buf.toString('hex')} cut ${cuts.join(',')}`).to.equal(reference(chunks));
    }
  });

  it('forgets a held partial character on reset()', () => {
    const d = new Utf8StreamDecoder();
    d.decode(Buffer.from([0xc3]));
    expect(d.hasPending).to.equal(true);
    d.reset();
    expect(d.hasPending).to.equal(false);
    expect(() => d.decode(Buffer.from([0xa9]))).to.throw(InvalidUtf8Error);
  });
});
