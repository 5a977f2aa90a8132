// A server someone else started, with the accounts already there; the bench only connects and
// reads /proc/<pid>. It never stops it.
import { isAlive, commandOf } from '../proc-stats.ts';
import { waitForPort } from './server-process.ts';
import type { Endpoint, Target } from './target.ts';

export class ExternalTarget implements Target {
  readonly name = 'external';

  constructor(private readonly e: { host: string; port: number; domain: string; pid: number }) {}

  async start(): Promise<Endpoint> {
    if (!isAlive(this.e.pid)) throw new Error(`--pid ${this.e.pid}: no such process (the server's PID is needed to measure its CPU and memory)`);
    await waitForPort(this.e.host, this.e.port, 10_000);
    return { ...this.e, version: commandOf(this.e.pid).slice(0, 80) || `pid ${this.e.pid}` };
  }

  async stop(): Promise<void> {}
}
