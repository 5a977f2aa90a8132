// Scraping /metrics in tests: an HTTP GET from a chosen source address, and a reader of the
// Prometheus text exposition format (version 0.0.4) written from its specification, not with
// the server's library.
import * as http from 'node:http';

export interface ScrapeReply {
  status: number;
  contentType: string | undefined;
  body: string;
}

export function scrape(port: number, opts: { path?: string; localAddress?: string; headers?: Record<string, string>; method?: string } = {}): Promise<ScrapeReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: opts.path ?? '/metrics', method: opts.method ?? 'GET', localAddress: opts.localAddress, headers: opts.headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export interface Exposition {
  /** Metric family name -> its `# TYPE`. */
  types: Map<string, string>;
  /** Sample key -> value; the key is the sample name with its labels sorted: `name{a="1",b="2"}`, or the bare name. */
  samples: Map<string, number>;
}

export function sampleKey(name: string, labels: Record<string, string> = {}): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  return pairs.length ? `${name}{${pairs.join(',')}}` : name;
}

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (m) types.set(m[1]!, m[2]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    const key = sampleKey(m[1]!, labels);
    if (samples.has(key)) throw new Error(`sample ${key} appears twice`);
    // Prometheus reads values with Go's ParseFloat, which takes NaN and Inf in any case
    // (prom-client writes 'Nan').
    const raw = m[3]!.toLowerCase();
    const value = raw === '+inf' ? Infinity : raw === '-inf' ? -Infinity : raw === 'nan' ? NaN : Number(raw);
    if (Number.isNaN(value) && raw !== 'nan') throw new Error(`not a value: ${line}`);
    samples.set(key, value);
  }
  return { types, samples };
}
