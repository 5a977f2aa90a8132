// A generator process: holds its share of the sessions (user i belongs to worker i % workers),
// logs them in at a bounded concurrency, drives its share of the message rate, and measures the
// latency of what its sessions receive. Separate processes, not threads: each process has its own
// file-descriptor limit and its own event loop, so the generator scales with the sessions.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LoadClient, LoadFailure } from './load-client.ts';
import { ScramCache } from './scram-client.ts';
import { monoMs, type FromWorker, type ToWorker, type WorkerSetup } from './protocol.ts';

let setup: WorkerSetup | undefined;
const cache = new ScramCache();
const clients = new Map<number, LoadClient>(); // online sessions by user index

// Receive-side state for the current message phase.
let phase = -1;
let received = 0;
let bounced = 0;
let late = 0;
let latency = new Float64Array(1 << 16);
let lastReceivedAtMs = 0;
let dropped = 0;
const dropReasons: Record<string, number> = {};

const post = (m: FromWorker): void => {
  process.send?.(m);
};

function clientFor(user: number): LoadClient {
  const s = setup!;
  return new LoadClient({
    host: s.host,
    port: s.port,
    localAddress: s.sourceAddresses[user % s.sourceAddresses.length],
    domain: s.domain,
    username: `${s.userPrefix}${user}`,
    password: s.password,
    resource: `r${user}`,
    cache,
    timeoutMs: s.loginTimeoutMs,
  });
}

/** Runs fn over items with at most `concurrency` in flight, reporting progress twice a second. */
async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>, counts: { done: number; failed: number }): Promise<void> {
  let next = 0;
  const progress = setInterval(() => post({ t: 'progress', done: counts.done, failed: counts.failed }), 500);
  const lane = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
  } finally {
    clearInterval(progress);
  }
}

function reasonOf(err: unknown): string {
  if (err instanceof LoadFailure) return `${err.stage}: ${err.message}`.slice(0, 160);
  return (err instanceof Error ? err.message : String(err)).slice(0, 160);
}

async function prime(users: number[], concurrency: number): Promise<void> {
  const counts = { done: 0, failed: 0 };
  const reasons: Record<string, number> = {};
  const derivations: Promise<unknown>[] = [];
  await pool(
    users,
    concurrency,
    async (u) => {
      try {
        const sf = await clientFor(u).prime();
        derivations.push(cache.derive(setup!.password, sf.salt, sf.iterations));
        counts.done++;
      } catch (err) {
        counts.failed++;
        const r = reasonOf(err);
        reasons[r] = (reasons[r] ?? 0) + 1;
      }
    },
    counts,
  );
  await Promise.all(derivations);
  post({ t: 'primed', ok: counts.done, failed: counts.failed, reasons });
}

function onMessage(xml: string): void {
  const now = monoMs();
  const id = /\sid=["']b(\d+)_(\d+)_/.exec(xml.slice(0, xml.indexOf('>')));
  if (!id) return;
  if (Number(id[1]) !== phase) {
    late++;
    return;
  }
  if (/\stype=["']error["']/.test(xml.slice(0, xml.indexOf('>')))) {
    bounced++;
    return;
  }
  if (received === latency.length) {
    const bigger = new Float64Array(latency.length * 2);
    bigger.set(latency);
    latency = bigger;
  }
  latency[received++] = now - Number(id[2]) / 1000;
  lastReceivedAtMs = now;
}

async function login(users: number[], concurrency: number): Promise<void> {
  const counts = { done: 0, failed: 0 };
  const reasons: Record<string, number> = {};
  const ok: number[] = [];
  const loginMs = new Float64Array(users.length);
  const hits0 = cache.hits;
  const misses0 = cache.misses;
  await pool(
    users,
    concurrency,
    async (u) => {
      const c = clientFor(u);
      const t0 = monoMs();
      try {
        await c.login();
        loginMs[ok.length] = monoMs() - t0;
        ok.push(u);
        clients.set(u, c);
        c.onMessage = onMessage;
        c.onDropped = (reason) => {
          clients.delete(u);
          dropped++;
          dropReasons[reason] = (dropReasons[reason] ?? 0) + 1;
        };
        counts.done++;
      } catch (err) {
        counts.failed++;
        const r = reasonOf(err);
        reasons[r] = (reasons[r] ?? 0) + 1;
      }
    },
    counts,
  );
  post({
    t: 'loggedIn',
    ok,
    failed: counts.failed,
    reasons,
    loginMs: loginMs.slice(0, ok.length),
    cacheHits: cache.hits - hits0,
    cacheMisses: cache.misses - misses0,
  });
}

/** The most a tick may send, in milliseconds' worth of the rate (see send()). */
const TICK_CAP_MS = 5;

/**
 * Paces by the clock: every tick sends however many messages are due since startAtMs, so timer
 * jitter changes batch sizes, never the rate. A tick sends at most TICK_CAP_MS worth of messages:
 * after a stall of this process (a GC pause) the backlog drains at about twice the rate over the
 * next ticks instead of leaving as one burst of a hundred messages, which no population of
 * independent users sends and which the server would then be timed on. Senders are this worker's
 * sessions, recipients any online session other than the sender.
 */
function send(m: Extract<ToWorker, { t: 'send' }>): void {
  const s = setup!;
  phase = m.phase;
  received = bounced = late = lastReceivedAtMs = 0;
  const senders = [...clients.keys()];
  const total = Math.round((m.rate * m.durationMs) / 1000);
  const body = 'x'.repeat(Math.max(1, m.bodyBytes));
  const delay = monitorEventLoopDelay({ resolution: 5 });
  let sent = 0;
  let notOnline = 0;
  let seq = 0;
  const perTick = Math.max(1, Math.ceil((m.rate * TICK_CAP_MS) / 1000));
  const tick = (): void => {
    const elapsed = monoMs() - m.startAtMs;
    if (elapsed < 0) {
      setTimeout(tick, Math.min(50, Math.max(1, -elapsed)));
      return;
    }
    if (elapsed >= 0 && sent === 0) delay.enable();
    const due = Math.min(total, sent + perTick, elapsed >= m.durationMs ? total : Math.floor((elapsed * m.rate) / 1000));
    while (sent < due && senders.length > 0 && m.online.length > 1) {
      const from = senders[(Math.random() * senders.length) | 0]!;
      let to = m.online[(Math.random() * m.online.length) | 0]!;
      while (to === from) to = m.online[(Math.random() * m.online.length) | 0]!;
      const jid = m.to === 'full' ? `${s.userPrefix}${to}@${s.domain}/r${to}` : `${s.userPrefix}${to}@${s.domain}`;
      const stamp = Math.round(monoMs() * 1000);
      const ok = clients
        .get(from)
        ?.send(`<message to='${jid}' type='chat' id='b${m.phase}_${stamp}_${seq++}'><body>${body}</body></message>`);
      if (!ok) notOnline++;
      sent++;
    }
    if (sent < total) setTimeout(tick, 2);
    else {
      delay.disable();
      post({
        t: 'sent',
        phase: m.phase,
        sent: sent - notOnline,
        finishedAtMs: monoMs(),
        notOnline,
        loopDelayP99Ms: delay.count ? delay.percentile(99) / 1e6 : 0,
        loopDelayMaxMs: delay.count ? delay.max / 1e6 : 0,
      });
    }
  };
  tick();
}

async function closeAll(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  for (let i = 0; i < all.length; i += 500) await Promise.all(all.slice(i, i + 500).map((c) => c.close(3000)));
  post({ t: 'closed' });
}

process.on('message', (raw) => {
  const m = raw as ToWorker;
  const run = async (): Promise<void> => {
    switch (m.t) {
      case 'setup':
        setup = m.setup;
        return post({ t: 'ready' });
      case 'seed':
        for (const s of m.seeds) cache.seed(s);
        return post({ t: 'ready' });
      case 'prime':
        return prime(m.users, m.concurrency);
      case 'login':
        return login(m.users, m.concurrency);
      case 'send':
        return send(m);
      case 'stats':
        return post({
          t: 'stats',
          phase: m.phase,
          received,
          lastReceivedAtMs,
          bounced,
          late,
          latencyMs: m.withLatency ? latency.slice(0, received) : new Float64Array(0),
          dropped,
          dropReasons: { ...dropReasons },
        });
      case 'close':
        await closeAll();
        process.disconnect?.();
        setTimeout(() => process.exit(0), 100).unref();
        return;
    }
  };
  run().catch((err: unknown) => post({ t: 'fatal', error: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
});

// The coordinator going away (crash, Ctrl-C) must not leave sessions behind.
process.on('disconnect', () => setTimeout(() => process.exit(0), 200).unref());
