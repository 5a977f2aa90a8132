// The coordinator's handle on its generator processes: forks them, assigns user i to worker
// i % n, and turns their IPC replies into promises.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromWorker, ToWorker, WorkerSetup } from './protocol.ts';
import type { ScramSeed } from './scram-client.ts';

type Reply<T extends FromWorker['t']> = Extract<FromWorker, { t: T }>;

interface Waiter {
  type: FromWorker['t'];
  resolve: (m: FromWorker) => void;
  reject: (e: Error) => void;
}

class WorkerHandle {
  readonly pid: number;
  #waiters: Waiter[] = [];
  onProgress: ((m: Reply<'progress'>) => void) | undefined;

  constructor(
    readonly index: number,
    readonly child: ChildProcess,
  ) {
    this.pid = child.pid!;
    child.on('message', (raw) => {
      const m = raw as FromWorker;
      if (m.t === 'progress') return this.onProgress?.(m);
      if (m.t === 'fatal') return this.#failAll(new Error(`generator ${index} failed: ${m.error}`));
      const i = this.#waiters.findIndex((w) => w.type === m.t);
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(m);
    });
    child.on('exit', (code, signal) => this.#failAll(new Error(`generator ${index} exited (${signal ?? code})`)));
  }

  request<T extends FromWorker['t']>(msg: ToWorker, reply: T): Promise<Reply<T>> {
    return new Promise<Reply<T>>((resolve, reject) => {
      this.#waiters.push({ type: reply, resolve: resolve as (m: FromWorker) => void, reject });
      this.child.send(msg);
    });
  }

  #failAll(err: Error): void {
    for (const w of this.#waiters.splice(0)) w.reject(err);
  }
}

export class Generator {
  private constructor(readonly workers: WorkerHandle[]) {}

  static async start(count: number, setup: WorkerSetup): Promise<Generator> {
    const entry = fileURLToPath(new URL('./worker.ts', import.meta.url));
    // tsx resolved here, so the workers load TypeScript whatever the working directory is.
    const tsx = import.meta.resolve('tsx');
    const workers = Array.from({ length: count }, (_, i) => {
      const child = fork(entry, [], {
        // Scavenging on one thread: with --pin a generator has a single core, where V8's parallel
        // scavenge made each pause 10–30 ms instead of 4–5 ms, and every pause is measured as
        // message latency. BENCH_WORKER_NODE_ARGS adds Node flags (e.g. --trace-gc).
        execArgv: ['--no-parallel-scavenge', ...(process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean), '--import', tsx],
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      return new WorkerHandle(i, child);
    });
    const g = new Generator(workers);
    await Promise.all(workers.map((w) => w.request({ t: 'setup', setup }, 'ready')));
    return g;
  }

  get size(): number {
    return this.workers.length;
  }

  pids(): number[] {
    return this.workers.map((w) => w.pid);
  }

  /** Users of worker w: w, w + n, w + 2n, ... */
  usersOf(w: number, users: number[]): number[] {
    return users.filter((u) => u % this.workers.length === w);
  }

  async seed(seeds: ScramSeed[]): Promise<void> {
    const n = this.workers.length;
    await Promise.all(this.workers.map((w) => w.request({ t: 'seed', seeds: seeds.filter((_, i) => i % n === w.index) }, 'ready')));
  }

  /** Sends each worker its own message and collects the replies of the given type. */
  all<T extends FromWorker['t']>(make: (w: WorkerHandle) => ToWorker, reply: T): Promise<Reply<T>[]> {
    return Promise.all(this.workers.map((w) => w.request(make(w), reply)));
  }

  onProgress(fn: ((worker: number, m: Reply<'progress'>) => void) | undefined): void {
    for (const w of this.workers) w.onProgress = fn ? (m) => fn(w.index, m) : undefined;
  }

  /** Polite close of every session, then the processes exit by themselves. */
  async close(timeoutMs: number): Promise<void> {
    await Promise.race([
      Promise.all(this.workers.map((w) => w.request({ t: 'close' }, 'closed').catch(() => undefined))),
      new Promise((r) => setTimeout(r, timeoutMs)),
    ]);
    this.kill();
  }

  /** Only our own children, by PID. */
  kill(): void {
    for (const w of this.workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  }
}
