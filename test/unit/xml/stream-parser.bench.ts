// Micro-benchmark of the XML layer (not run by mocha). Run:
//   node --expose-gc --import tsx test/unit/xml/stream-parser.bench.ts [name filter]
// Each case is best run in its own process (give a filter): cases share saxes' code, and
// V8's type feedback from one case slows the next.
import { SaxesParser } from 'saxes';
import { StreamParser, type StreamParserHandlers } from '../../../server/xml/stream-parser.ts';
import { parseFrame } from '../../../server/xml/frame-parser.ts';
import { elementToString } from '../../../server/xml/serialize.ts';
import type { Element } from '../../../server/xml/element.ts';
import { HEADER } from './helpers.ts';

const MESSAGE =
  "<message to='romeo@example.net/orchard' from='juliet@example.com/balcony' type='chat' id='ktx72v49' xml:lang='en'>" +
  '<body>Art thou not Romeo, and a Montague? Neither, fair saint, if either thee dislike.</body>' +
  "<active xmlns='http://jabber.org/protocol/chatstates'/><origin-id xmlns='urn:xmpp:sid:0' id='de305d54-75b4'/></message>";
const MESSAGE_BYTES = Buffer.byteLength(MESSAGE);

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 4; i++) g();
}

const filter = process.argv[2];

function time(name: string, n: number, bytesEach: number, f: () => void): void {
  if (filter !== undefined && !name.includes(filter)) return;
  f(); // warm-up
  // CPU time, best of 7: this machine is shared, wall-clock time varies twofold.
  let best = Infinity;
  for (let r = 0; r < 7; r++) {
    const t = process.cpuUsage();
    f();
    const d = process.cpuUsage(t);
    best = Math.min(best, (d.user + d.system) / 1e6);
  }
  const perSec = n / best;
  console.log(
    `${name.padEnd(46)} ${(perSec / 1000).toFixed(0).padStart(5)} k/s  ${((perSec * bytesEach) / 1e6).toFixed(0).padStart(4)} MB/s  ${((best / n) * 1e6).toFixed(2)} µs each`,
  );
}

const sink: Element[] = [];
const handlers: StreamParserHandlers = {
  streamStart() {},
  element(el) {
    if (sink.length < 1) sink.push(el);
  },
  streamEnd() {},
  error(e) {
    throw e;
  },
};

const N = 100_000;
const one = Buffer.from(MESSAGE);
const batch = Buffer.from(MESSAGE.repeat(50));
const nonAscii = Buffer.from(MESSAGE.replace('fair saint', 'ståndaktig hélène 😀'));

console.log(`message: ${MESSAGE_BYTES} bytes; node ${process.version}`);
time('StreamParser, one message per write', N, MESSAGE_BYTES, () => {
  const p = new StreamParser(handlers, { maxElementBytes: 256 * 1024 });
  p.write(Buffer.from(HEADER));
  for (let i = 0; i < N; i++) p.write(one);
});
time('StreamParser, one non-ASCII message per write', N, nonAscii.length, () => {
  const p = new StreamParser(handlers, { maxElementBytes: 256 * 1024 });
  p.write(Buffer.from(HEADER));
  for (let i = 0; i < N; i++) p.write(nonAscii);
});
time('StreamParser, 50 messages per write', N, MESSAGE_BYTES, () => {
  const p = new StreamParser(handlers, { maxElementBytes: 256 * 1024 });
  p.write(Buffer.from(HEADER));
  for (let i = 0; i < N / 50; i++) p.write(batch);
});
time('bare saxes (xmlns, no elements built)', N, MESSAGE_BYTES, () => {
  const s = new SaxesParser({ xmlns: true });
  s.on('opentag', () => {});
  s.on('closetag', () => {});
  s.on('text', () => {});
  s.write(HEADER);
  for (let i = 0; i < N; i++) s.write(one.toString());
});
const frame = MESSAGE.replace('<message ', "<message xmlns='jabber:client' ");
time('parseFrame (WebSocket message)', N, MESSAGE_BYTES, () => {
  for (let i = 0; i < N; i++) parseFrame(frame, 256 * 1024);
});
const el = parseFrame(frame, 256 * 1024);
time('elementToString', N, MESSAGE_BYTES, () => {
  for (let i = 0; i < N; i++) elementToString(el);
});
time('ltx Element.toString (for comparison)', N, MESSAGE_BYTES, () => {
  for (let i = 0; i < N; i++) el.toString();
});

time('StreamParser, hibernate() after each message', N, MESSAGE_BYTES, () => {
  const p = new StreamParser(handlers, { maxElementBytes: 256 * 1024 });
  p.write(Buffer.from(HEADER));
  for (let i = 0; i < N; i++) {
    p.write(one);
    p.hibernate();
  }
});

// Memory of idle streams: header parsed, one stanza and a keepalive received, then idle.
function retained(label: string, make: () => unknown): void {
  if (filter !== undefined && !label.includes(filter)) return;
  const K = 10_000;
  const keep: unknown[] = [];
  gc();
  const h0 = process.memoryUsage().heapUsed;
  const r0 = process.memoryUsage().rss;
  for (let i = 0; i < K; i++) keep.push(make());
  gc();
  const h1 = process.memoryUsage().heapUsed;
  const r1 = process.memoryUsage().rss;
  console.log(`${label.padEnd(46)} heap ${((h1 - h0) / K).toFixed(0).padStart(5)} B/stream  rss ${((r1 - r0) / K).toFixed(0).padStart(5)} B/stream  (${keep.length})`);
}
const header = Buffer.from(HEADER);
const ka = Buffer.from(' ');
retained('idle StreamParser (after header+stanza)', () => {
  const p = new StreamParser(handlers, { maxElementBytes: 256 * 1024 });
  p.write(header);
  p.write(one);
  p.write(ka);
  return p;
});
retained('idle StreamParser after hibernate()', () => {
  const p = new StreamParser(handlers, { maxElementBytes: 256 * 1024 });
  p.write(header);
  p.write(one);
  p.write(ka);
  p.hibernate();
  return p;
});
retained('StreamParser before any input', () => new StreamParser(handlers, { maxElementBytes: 256 * 1024 }));
retained('bare saxes after header', () => {
  const s = new SaxesParser({ xmlns: true });
  s.on('opentag', () => {});
  s.write(HEADER);
  return s;
});
