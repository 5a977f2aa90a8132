// The figures a run produces, their percentiles, the targets Chorus must reach, and the
// printed table.

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface LoginFigures {
  attempted: number;
  held: number;
  failed: number;
  failureReasons: Record<string, number>;
  wallS: number;
  loginsPerS: number;
  serverCpuMs: number;
  serverCpuMsPerLogin: number;
  loginMs: Percentiles;
  generatorCpuPct: number; // of one core, all generator processes together
  machineBusyPct: number; // of all cores
  otherCpuPct: number; // of one core: used by neither server nor generator (a shared machine)
  primed: boolean;
  clientKeyDerivations: number; // PBKDF2 runs during the measured logins (0 with a warm cache)
}

export interface RateFigures {
  rate: number;
  durationS: number;
  sent: number;
  sentPerS: number;
  received: number;
  deliveredPerS: number;
  lost: number;
  bounced: number;
  late: number;
  latencyMs: Percentiles;
  serverCpuMs: number;
  serverCpuUsPerMessage: number;
  serverCpuPct: number; // of one core over the phase
  serverRssBytes: number;
  generatorCpuPct: number;
  machineBusyPct: number;
  otherCpuPct: number;
  generatorLoopDelayP99Ms: number;
  droppedSessions: number;
}

export interface BenchResult {
  server: string;
  version: string;
  startedAt: string;
  machine: { cpus: number; memoryGiB: number; kernel: string };
  options: Record<string, unknown>;
  idle: { serverRssBytes: number; serverCpuPctIdle: number };
  login: LoginFigures;
  hold: { sessions: number; serverRssBytes: number; rssPerSessionBytes: number; serverFds: number | undefined };
  rates: RateFigures[];
  targets: { name: string; limit: string; value: string; met: boolean | null }[];
  notes: string[];
}

export function percentiles(samples: Float64Array): Percentiles {
  if (samples.length === 0) return { p50: NaN, p95: NaN, p99: NaN, max: NaN };
  const s = samples.slice().sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s[s.length - 1]! };
}

export function concat(arrays: Float64Array[]): Float64Array {
  const out = new Float64Array(arrays.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrays) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

/** The issue's targets for Chorus, evaluated on any server so figures compare side by side. */
export function evaluateTargets(r: BenchResult): BenchResult['targets'] {
  const t: BenchResult['targets'] = [];
  const kb = r.hold.rssPerSessionBytes / 1000;
  t.push({
    name: `RSS per session at ${r.hold.sessions} sessions`,
    limit: '≤ 48 kB (at 10,000 TLS sessions)',
    value: `${kb.toFixed(1)} kB`,
    met: r.hold.sessions >= 10_000 ? kb <= 48 : null,
  });
  t.push({ name: 'server CPU per login', limit: '≤ 3 ms', value: `${r.login.serverCpuMsPerLogin.toFixed(2)} ms`, met: r.login.serverCpuMsPerLogin <= 3 });
  const at = (rate: number) => r.rates.find((x) => x.rate === rate);
  const r2 = at(2000);
  if (r2) {
    t.push({ name: '2,000 msg/s p99 latency', limit: '≤ 10 ms', value: `${fmt(r2.latencyMs.p99)} ms`, met: r2.latencyMs.p99 <= 10 && sustained(r2) });
    t.push({ name: '2,000 msg/s server CPU per message', limit: '≤ 150 µs', value: `${r2.serverCpuUsPerMessage.toFixed(0)} µs`, met: r2.serverCpuUsPerMessage <= 150 });
  }
  const r4 = at(4000);
  if (r4) t.push({ name: '4,000 msg/s sustained, p99', limit: '< 100 ms, all delivered', value: `${fmt(r4.latencyMs.p99)} ms, ${r4.lost} lost`, met: r4.latencyMs.p99 < 100 && sustained(r4) });
  return t;
}

/** Sustained: everything sent arrived and the generator really sent at the asked rate. */
function sustained(x: RateFigures): boolean {
  return x.lost === 0 && x.bounced === 0 && x.sentPerS >= x.rate * 0.98;
}

const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const mib = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;

export function formatReport(r: BenchResult): string {
  const L: string[] = [];
  const o = r.options;
  L.push('');
  L.push(`== ${r.version} (${r.server}) — ${o.sessions} sessions, ${o.workers} generator processes, ${r.machine.cpus} CPUs, cert ${o.certKey} ==`);
  L.push('');
  L.push(`idle        server RSS                 ${mib(r.idle.serverRssBytes)}   (idle CPU ${fmt(r.idle.serverCpuPctIdle)}% of a core)`);
  const l = r.login;
  L.push(`login       sessions held              ${r.hold.sessions} of ${l.attempted}${l.failed ? ` (${l.failed} failed)` : ''}`);
  L.push(`            logins/s                   ${fmt(l.loginsPerS, 0)}   (${fmt(l.wallS)} s at concurrency ${o.concurrency})`);
  L.push(`            server CPU per login       ${fmt(l.serverCpuMsPerLogin, 2)} ms`);
  L.push(`            login time p50/p95/p99     ${fmt(l.loginMs.p50)} / ${fmt(l.loginMs.p95)} / ${fmt(l.loginMs.p99)} ms   (max ${fmt(l.loginMs.max)})`);
  L.push(`            generator CPU              ${fmt(l.generatorCpuPct, 0)}% of a core; machine busy ${fmt(l.machineBusyPct, 0)}% (other processes ${fmt(l.otherCpuPct, 0)}% of a core); client PBKDF2 during logins: ${l.clientKeyDerivations}`);
  for (const [reason, n] of Object.entries(l.failureReasons).slice(0, 5)) L.push(`            failure × ${n}: ${reason}`);
  L.push(`hold        server RSS                 ${mib(r.hold.serverRssBytes)}   (${r.hold.serverFds ?? '?'} open fds)`);
  L.push(`            RSS per session            ${fmt(r.hold.rssPerSessionBytes / 1000)} kB   ((held − idle) / sessions)`);
  L.push('');
  if (r.rates.length) {
    const head = ['rate/s', 'sent/s', 'deliv/s', 'lost', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'srv µs/msg', 'srv CPU%', 'srv RSS', 'gen CPU%', 'other%', 'busy%', 'gen lag'];
    const rows = r.rates.map((x) => [
      String(x.rate),
      fmt(x.sentPerS, 0),
      fmt(x.deliveredPerS, 0),
      String(x.lost + x.bounced),
      fmt(x.latencyMs.p50, 2),
      fmt(x.latencyMs.p95, 2),
      fmt(x.latencyMs.p99, 2),
      fmt(x.latencyMs.max, 1),
      fmt(x.serverCpuUsPerMessage, 0),
      fmt(x.serverCpuPct, 0),
      mib(x.serverRssBytes),
      fmt(x.generatorCpuPct, 0),
      fmt(x.otherCpuPct, 0),
      fmt(x.machineBusyPct, 0),
      `${fmt(x.generatorLoopDelayP99Ms, 1)}ms`,
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
    L.push(`messages    ${o.durationS} s per rate, to ${o.to} JIDs, ${o.bodyBytes}-byte bodies`);
    L.push(line(head));
    for (const row of rows) L.push(line(row));
    L.push('');
  }
  L.push('targets (the issue\'s, for Chorus)');
  for (const t of r.targets) L.push(`  ${t.met === null ? '·' : t.met ? '✓' : '✗'} ${t.name}: ${t.value} (target ${t.limit})`);
  for (const n of r.notes) L.push(`note: ${n}`);
  L.push('');
  return L.join('\n');
}
