import v8 from 'node:v8';
import fs from 'node:fs';
import { StreamParser } from '../../../server/xml/stream-parser.ts';
import { HEADER } from './helpers.ts';
const MESSAGE = "<message to='romeo@example.net/orchard' from='juliet@example.com/balcony' type='chat' id='ktx72v49' xml:lang='en'><body>Art thou not Romeo, and a Montague? Neither, fair saint, if either thee dislike.</body><active xmlns='http://jabber.org/protocol/chatstates'/><origin-id xmlns='urn:xmpp:sid:0' id='de305d54-75b4'/></message>";
const h = { streamStart() {}, element() {}, streamEnd() {}, error() {} };
const mode = process.argv[2];
function summarize(file: string) {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8'));
  const f = snap.snapshot.meta.node_fields; const types = snap.snapshot.meta.node_types[0]; const n = f.length;
  const res = new Map<string, [number, number]>();
  for (let i = 0; i < snap.nodes.length; i += n) {
    const type = types[snap.nodes[i]]; const name = snap.strings[snap.nodes[i + 1]]; const size = snap.nodes[i + 3];
    const k = type + ':' + (type.includes('string') ? '' : name.slice(0, 40));
    const e = res.get(k) ?? [0, 0]; e[0]++; e[1] += size; res.set(k, e);
  }
  return res;
}
const K = 1000; const keep: any[] = [];
v8.writeHeapSnapshot('/tmp/xb/a.heapsnapshot');
for (let i = 0; i < K; i++) { const p: any = new StreamParser(h, { maxElementBytes: 1e5 }); if (mode !== 'new') { p.write(Buffer.from(HEADER)); if (mode !== 'hdr') p.write(Buffer.from(MESSAGE)); } if (mode === 'tagnull') p.sax.tag = null; keep.push(p); }
v8.writeHeapSnapshot('/tmp/xb/b.heapsnapshot');
const a = summarize('/tmp/xb/a.heapsnapshot'), b = summarize('/tmp/xb/b.heapsnapshot');
const diff: [string, number, number][] = [];
for (const [k, [c, s]] of b) { const [c0, s0] = a.get(k) ?? [0, 0]; if (s - s0 > K * 8) diff.push([k, (c - c0) / K, (s - s0) / K]); }
diff.sort((x, y) => y[2] - x[2]);
let tot = 0; for (const d of diff) { tot += d[2]; console.log(d[0].padEnd(50), d[1].toFixed(1), d[2].toFixed(0)); }
console.log('total', tot.toFixed(0), keep.length);
