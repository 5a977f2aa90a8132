// `npm run bench`: the load benchmark. Starts (or finds) the server, forks the generator
// processes, and runs the phases: idle → (prime) → login → hold → one phase per message rate.
// Server figures come from /proc/<server pid>; every phase has a time budget and the whole run a
// deadline, so it always ends by itself. See test/bench/README.md.
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { cpus, release, totalmem } from 'node:os';
import { Generator } from './generator.ts';
import { OptionsError, USAGE, parseOptions, type BenchOptions } from './options.ts';
import { clockTicks, cpuMs, descendantsOf, fdCount, isAlive, machineTicks, rssBytes, threadsOf, totalCpuMs } from './proc-stats.ts';
import { monoMs } from './protocol.ts';
import { concat, evaluateTargets, formatReport, percentiles, type BenchResult, type LoginFigures, type RateFigures } from './results.ts';
import { ChorusTarget } from './targets/chorus.ts';
import { EjabberdTarget } from './targets/ejabberd.ts';
import { ExternalTarget } from './targets/external.ts';
import { ProsodyTarget } from './targets/prosody.ts';
import { sleep } from './targets/server-process.ts';
import type { Endpoint, Target, TargetOptions } from './targets/target.ts';

const t0 = Date.now();
const log = (line: string): void => {
  process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
};

class BudgetExceeded extends Error {}

/** Every phase races its budget, so a stuck server ends the run with a reason, not a hang. */
function phase<T>(name: string, budgetS: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BudgetExceeded(`phase '${name}' exceeded its ${Math.round(budgetS)} s budget`)), budgetS * 1000);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

function makeTarget(o: BenchOptions): Target {
  const to: TargetOptions = { sessions: o.sessions, userPrefix: o.userPrefix, password: o.password, domain: o.domain, certKey: o.certKey, keepTemp: o.keep, log };
  switch (o.server) {
    case 'prosody':
      return new ProsodyTarget(to);
    case 'ejabberd':
      return new EjabberdTarget(to);
    case 'external':
      return new ExternalTarget({ host: o.host, port: o.port, domain: o.domain, pid: o.pid });
    case 'chorus':
      return new ChorusTarget(to);
  }
}

/** A point in time for the CPU figures of one phase. */
interface Snapshot {
  at: number; // ms, monotonic
  server: number; // CPU ms
  generator: number; // CPU ms
  machine: { busy: number; total: number };
}

async function main(): Promise<number> {
  let o: BenchOptions | 'help';
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (o === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const opts = o;
  const target = makeTarget(opts);
  let gen: Generator | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      gen?.kill();
      await target.stop().catch((err: unknown) => log(`stopping the server failed: ${(err as Error).message}`));
    })());
  const abort = (why: string, code: number): void => {
    log(`aborting: ${why}`);
    void cleanup().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => abort('interrupted', 130));
  process.once('SIGTERM', () => abort('terminated', 143));
  const deadline = setTimeout(() => abort(`the run exceeded --max-minutes ${opts.maxMinutes}`, 1), opts.maxMinutes * 60_000);
  deadline.unref();

  try {
    const result = await bench(opts, target, (g) => (gen = g));
    const out = formatReport(result);
    process.stdout.write(out);
    if (opts.json) {
      await writeFile(opts.json, JSON.stringify(result, null, 2) + '\n');
      log(`figures written to ${opts.json}`);
    }
    return 0;
  } catch (err) {
    log(err instanceof BudgetExceeded ? `aborted: ${err.message}` : `failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  } finally {
    clearTimeout(deadline);
    await cleanup();
  }
}

async function bench(o: BenchOptions, target: Target, keep: (g: Generator) => void): Promise<BenchResult> {
  const notes: string[] = [];
  log(`target ${o.server}: provisioning ${o.sessions} accounts and starting`);
  const ep: Endpoint = await phase('start', 20 * 60, target.start());
  log(`${ep.version} listening on ${ep.host}:${ep.port}, pid ${ep.pid}`);

  // The server's own CPU plus its live helpers (ejabberd's memsup, inet_gethost, ...).
  const serverCpu = (): number => (cpuMs(ep.pid) ?? NaN) + totalCpuMs(descendantsOf(ep.pid));
  const sources = Array.from({ length: o.sourceIps }, (_, i) => `127.0.0.${i + 1}`);
  const gen = await Generator.start(o.workers, {
    host: ep.host,
    port: ep.port,
    domain: ep.domain,
    password: o.password,
    userPrefix: o.userPrefix,
    sourceAddresses: ep.host.startsWith('127.') ? sources : [],
    loginTimeoutMs: o.loginTimeoutS * 1000,
  });
  keep(gen);
  const serverAlive = (during: string): void => {
    if (!isAlive(ep.pid)) throw new Error(`the server (pid ${ep.pid}) exited during the ${during} phase${ep.workDir ? `; rerun with --keep and read its logs in the temp dir` : ''}`);
  };
  const generatorCpu = (): number => totalCpuMs([process.pid, ...gen.pids()]);
  const snap = (): Snapshot => ({ at: monoMs(), server: serverCpu(), generator: generatorCpu(), machine: machineTicks() });
  const pct = (a: Snapshot, b: Snapshot, field: 'server' | 'generator'): number => ((b[field] - a[field]) / (b.at - a.at)) * 100;
  const busy = (a: Snapshot, b: Snapshot): number => ((b.machine.busy - a.machine.busy) / Math.max(1, b.machine.total - a.machine.total)) * 100;
  // CPU used by neither the server nor the generator (other jobs on a shared machine), % of one core.
  const other = (a: Snapshot, b: Snapshot): number =>
    Math.max(0, (((b.machine.busy - a.machine.busy) * 1000) / clockTicks() - (b.server - a.server) - (b.generator - a.generator)) / (b.at - a.at)) * 100;

  /** Waits (bounded) until other jobs leave the cores alone, so they do not end up in the figures. */
  const waitQuiet = async (before: string): Promise<void> => {
    if (o.waitQuietS <= 0) return;
    const until = monoMs() + o.waitQuietS * 1000;
    let said = false;
    for (;;) {
      const a = snap();
      await sleep(2000);
      const load = other(a, snap());
      if (!(load >= 25)) return; // NaN too: a dead server is caught by the phase itself
      if (monoMs() > until) {
        notes.push(`${before} started while other processes used ${load.toFixed(0)}% of a core (waited ${o.waitQuietS} s)`);
        return;
      }
      if (!said) log(`${before}: waiting for other processes (now ${load.toFixed(0)}% of a core) to calm down`);
      said = true;
    }
  };

  if (o.pin) {
    // Server on CPU 0, generator on CPU 1: neither steals the other's core (multi-threaded servers lose their second core).
    execFileSync('taskset', ['-a', '-p', '-c', '0', String(ep.pid)], { stdio: 'ignore' });
    for (const pid of [process.pid, ...gen.pids()]) execFileSync('taskset', ['-a', '-p', '-c', '1', String(pid)], { stdio: 'ignore' });
    notes.push('--pin: server on CPU 0, generator on CPU 1');
  }
  if (o.nice !== 0) {
    // setpriority() acts on one thread: every thread of each process is reniced.
    for (const pid of [ep.pid, ...descendantsOf(ep.pid), process.pid, ...gen.pids()]) {
      const tids = threadsOf(pid);
      if (tids.length) execFileSync('renice', ['-n', String(o.nice), '-p', ...tids.map(String)], { stdio: 'ignore' });
    }
    notes.push(`--nice ${o.nice}: server and generator reniced`);
  }
  if (ep.seeds) {
    await gen.seed(ep.seeds);
    log(`generator caches seeded with ${ep.seeds.length} salted passwords from provisioning`);
  }

  // (a) idle
  log(`idle: settling ${o.settleS} s`);
  await sleep(o.settleS * 1000);
  const idleA = snap();
  await sleep(2000);
  const idleB = snap();
  const idleRss = rssBytes(ep.pid) ?? NaN;
  log(`idle: server RSS ${(idleRss / 1048576).toFixed(1)} MiB`);

  const users = Array.from({ length: o.sessions }, (_, i) => i);
  const perWorker = Math.max(1, Math.ceil(o.concurrency / gen.size));
  const budgetLogin = 60 + o.sessions / 20;
  const progress = (what: string) => {
    const done = new Array<number>(gen.size).fill(0);
    const failed = new Array<number>(gen.size).fill(0);
    let last = 0;
    gen.onProgress((w, m) => {
      done[w] = m.done;
      failed[w] = m.failed;
      if (Date.now() - last < 2000) return;
      last = Date.now();
      const d = done.reduce((a, b) => a + b, 0);
      const f = failed.reduce((a, b) => a + b, 0);
      log(`${what}: ${d}/${o.sessions}${f ? `, ${f} failed` : ''}`);
    });
  };

  // Priming: a real client has logged in before and kept its salted password; learn each salt
  // (up to the SCRAM challenge only) so the measured logins run with a warm cache.
  let primed = false;
  if (!ep.seeds && o.prime) {
    log('prime: learning each account\'s salt (not measured)');
    progress('prime');
    const r = await phase('prime', budgetLogin, gen.all((w) => ({ t: 'prime', users: gen.usersOf(w.index, users), concurrency: perWorker }), 'primed'));
    const failed = r.reduce((n, x) => n + x.failed, 0);
    if (failed) log(`prime: ${failed} failed: ${JSON.stringify(Object.assign({}, ...r.map((x) => x.reasons)))}`);
    primed = true;
    await sleep(2000); // let the server finish closing the priming connections
  }

  // (b) login
  await waitQuiet('login');
  log(`login: ${o.sessions} sessions, ${o.concurrency} in flight`);
  progress('login');
  const l0 = snap();
  const logins = await phase('login', budgetLogin, gen.all((w) => ({ t: 'login', users: gen.usersOf(w.index, users), concurrency: perWorker }), 'loggedIn'));
  const l1 = snap();
  gen.onProgress(undefined);
  const online = Int32Array.from(logins.flatMap((x) => x.ok));
  const failed = logins.reduce((n, x) => n + x.failed, 0);
  const reasons: Record<string, number> = {};
  for (const x of logins) for (const [k, v] of Object.entries(x.reasons)) reasons[k] = (reasons[k] ?? 0) + v;
  const wallS = (l1.at - l0.at) / 1000;
  const login: LoginFigures = {
    attempted: o.sessions,
    held: online.length,
    failed,
    failureReasons: reasons,
    wallS,
    loginsPerS: online.length / wallS,
    serverCpuMs: l1.server - l0.server,
    serverCpuMsPerLogin: (l1.server - l0.server) / Math.max(1, online.length),
    loginMs: percentiles(concat(logins.map((x) => x.loginMs))),
    generatorCpuPct: pct(l0, l1, 'generator'),
    machineBusyPct: busy(l0, l1),
    otherCpuPct: other(l0, l1),
    primed,
    clientKeyDerivations: logins.reduce((n, x) => n + x.cacheMisses, 0),
  };
  serverAlive('login');
  log(`login: ${online.length} held, ${failed} failed, ${login.loginsPerS.toFixed(0)}/s, ${login.serverCpuMsPerLogin.toFixed(2)} ms server CPU each`);
  if (failed) log(`login failures: ${JSON.stringify(reasons)}`);
  if (online.length < 2) throw new Error('fewer than two sessions online: nothing to measure');

  // (c) hold
  log(`hold: settling ${o.settleS} s`);
  await sleep(o.settleS * 1000);
  serverAlive('hold');
  const heldRss = rssBytes(ep.pid) ?? NaN;
  const hold = { sessions: online.length, serverRssBytes: heldRss, rssPerSessionBytes: (heldRss - idleRss) / online.length, serverFds: fdCount(ep.pid) };
  log(`hold: server RSS ${(heldRss / 1048576).toFixed(1)} MiB, ${(hold.rssPerSessionBytes / 1000).toFixed(1)} kB per session`);

  // (d) one phase per rate
  const rates: RateFigures[] = [];
  const onlineOf = gen.workers.map((w) => online.filter((u) => u % gen.size === w.index).length);
  for (const [k, rate] of o.rates.entries()) {
    const durationMs = o.durationS * 1000;
    await waitQuiet(`rate ${rate}`);
    log(`rate ${rate}/s: sending for ${o.durationS} s`);
    const s0 = snap();
    const startAtMs = monoMs() + 300; // every worker starts on the same clock
    const sent = await phase(
      `rate ${rate}`,
      o.durationS + 60,
      gen.all(
        (w) => ({ t: 'send', phase: k, rate: (rate * onlineOf[w.index]!) / online.length, durationMs, startAtMs, online, to: o.to, bodyBytes: o.bodyBytes }),
        'sent',
      ),
    );
    const sentTotal = sent.reduce((n, x) => n + x.sent, 0);
    const sendEnd = monoMs();
    // Drain: wait (bounded) for what is still in flight.
    let counts = await gen.all(() => ({ t: 'stats', phase: k, withLatency: false }), 'stats');
    const arrived = () => counts.reduce((n, x) => n + x.received + x.bounced, 0);
    while (arrived() < sentTotal && monoMs() - sendEnd < o.drainS * 1000) {
      await sleep(100);
      counts = await gen.all(() => ({ t: 'stats', phase: k, withLatency: false }), 'stats');
    }
    serverAlive(`rate ${rate}`);
    const s1 = snap();
    const stats = await gen.all(() => ({ t: 'stats', phase: k, withLatency: true }), 'stats');
    const received = stats.reduce((n, x) => n + x.received, 0);
    const bounced = stats.reduce((n, x) => n + x.bounced, 0);
    const fig: RateFigures = {
      rate,
      durationS: o.durationS,
      sent: sentTotal,
      // Over the time sending really took: a generator that falls behind shows a lower rate.
      sentPerS: sentTotal / Math.max(o.durationS, (Math.max(...sent.map((x) => x.finishedAtMs)) - startAtMs) / 1000),
      received,
      // Over the time deliveries really took: a server that falls behind delivers less per second.
      deliveredPerS: received / Math.max(o.durationS, (Math.max(...stats.map((x) => x.lastReceivedAtMs)) - startAtMs) / 1000),
      lost: Math.max(0, sentTotal - received - bounced),
      bounced,
      late: stats.reduce((n, x) => n + x.late, 0),
      latencyMs: percentiles(concat(stats.map((x) => x.latencyMs))),
      serverCpuMs: s1.server - s0.server,
      serverCpuUsPerMessage: ((s1.server - s0.server) * 1000) / Math.max(1, received),
      serverCpuPct: pct(s0, s1, 'server'),
      serverRssBytes: rssBytes(ep.pid) ?? NaN,
      generatorCpuPct: pct(s0, s1, 'generator'),
      machineBusyPct: busy(s0, s1),
      otherCpuPct: other(s0, s1),
      generatorLoopDelayP99Ms: Math.max(...sent.map((x) => x.loopDelayP99Ms)),
      droppedSessions: stats.reduce((n, x) => n + x.dropped, 0),
    };
    rates.push(fig);
    log(
      `rate ${rate}/s: delivered ${fig.deliveredPerS.toFixed(0)}/s, lost ${fig.lost}, p50/p99 ${fig.latencyMs.p50.toFixed(2)}/${fig.latencyMs.p99.toFixed(2)} ms, ` +
        `${fig.serverCpuUsPerMessage.toFixed(0)} µs server CPU per message`,
    );
    if (fig.droppedSessions) notes.push(`${fig.droppedSessions} sessions dropped by the server by the end of rate ${rate}: ${JSON.stringify(stats[0]?.dropReasons)}`);
  }

  log('closing sessions');
  await phase('close', 120, gen.close(60_000));
  log('stopping the server');
  await target.stop();

  if (cpus().length <= 2 && !o.pin) notes.push('server and generator share the same cores: compare "busy%" with the generator\'s CPU before blaming the server');
  const result: BenchResult = {
    server: o.server,
    version: ep.version,
    startedAt: new Date(t0).toISOString(),
    machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release() },
    options: { ...o, password: undefined },
    idle: { serverRssBytes: idleRss, serverCpuPctIdle: pct(idleA, idleB, 'server') },
    login,
    hold,
    rates,
    targets: [],
    notes,
  };
  result.targets = evaluateTargets(result);
  return result;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof OptionsError ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
