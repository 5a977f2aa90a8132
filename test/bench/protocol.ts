// Messages between the coordinator (run.ts) and its generator processes (worker.ts), over the
// child_process IPC channel with 'advanced' serialization (typed arrays cross without copying to JSON).
import type { ScramSeed } from './scram-client.ts';

export interface WorkerSetup {
  host: string;
  port: number;
  domain: string;
  password: string;
  userPrefix: string;
  /** Source addresses to spread connections over (each gives its own ephemeral port range). */
  sourceAddresses: string[];
  loginTimeoutMs: number;
}

export type ToWorker =
  | { t: 'setup'; setup: WorkerSetup }
  | { t: 'seed'; seeds: ScramSeed[] }
  | { t: 'prime'; users: number[]; concurrency: number }
  | { t: 'login'; users: number[]; concurrency: number }
  /** Send `rate` msg/s from this worker's online sessions to random online users for durationMs, starting at startAtMs (hrtime ms). */
  | { t: 'send'; phase: number; rate: number; durationMs: number; startAtMs: number; online: Int32Array; to: 'bare' | 'full'; bodyBytes: number }
  /** Receive counters of a phase; the latency samples only when asked (they are large). */
  | { t: 'stats'; phase: number; withLatency: boolean }
  | { t: 'close' };

export interface LoginResult {
  ok: number[];
  failed: number;
  /** Failure reasons with counts, so a reader sees why without a log. */
  reasons: Record<string, number>;
  loginMs: Float64Array;
  cacheHits: number;
  cacheMisses: number;
}

export type FromWorker =
  | { t: 'ready' }
  | { t: 'progress'; done: number; failed: number }
  | { t: 'primed'; ok: number; failed: number; reasons: Record<string, number> }
  | ({ t: 'loggedIn' } & LoginResult)
  | { t: 'sent'; phase: number; sent: number; finishedAtMs: number; notOnline: number; loopDelayP99Ms: number; loopDelayMaxMs: number }
  | { t: 'stats'; phase: number; received: number; lastReceivedAtMs: number; bounced: number; late: number; latencyMs: Float64Array; dropped: number; dropReasons: Record<string, number> }
  | { t: 'closed' }
  | { t: 'fatal'; error: string };

/** Monotonic milliseconds shared by every process on the machine (CLOCK_MONOTONIC through libuv). */
export const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;
