// `chorus check`: what the configuration meets on this machine: the storage, the listeners'
// ports and the metrics endpoint, with a running Chorus on the same data directory (asked over
// its admin socket) told apart from anything else.
import * as net from 'node:net';
import { access, constants, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { askRunningServer } from '../admin/admin-socket.ts';
import { lockDirectory, StoreLockedError } from '../storage/directory-lock.ts';
import { hostPort, listenerKind } from '../net/listener-error.ts';
import type { Config } from '../config/load-config.ts';
import type { HttpListenerConfig } from '../config/schema.ts';

/** What a section of the report says; `problem` makes `chorus check` exit 1. */
export interface Finding {
  line: string;
  problem?: boolean;
}

export interface RunningServer {
  pid: number;
  listeners: { kind: string; address: string; port: number }[];
}

/** The Chorus server running on this data directory, if one answers on its admin socket. */
export async function runningServer(dataDir: string): Promise<RunningServer | null> {
  const replies = await askRunningServer(dataDir, [{ cmd: 'status' }]).catch(() => null);
  const reply = replies?.[0];
  if (!reply?.ok) return null;
  let pid = 0;
  const listeners: RunningServer['listeners'] = [];
  for (const line of reply.lines) {
    const [word, ...rest] = line.split(' ');
    if (word === 'pid') pid = Number(rest[0]);
    if (word === 'listening') listeners.push({ kind: rest[0]!, address: rest[1]!, port: Number(rest[2]) });
  }
  return { pid, listeners };
}

export async function checkStorage(config: Config, dataDir: string, running: RunningServer | null): Promise<Finding> {
  const s = config.storage;
  if (s.kind === 'mongodb') {
    const { MongoStore } = await import('../storage/mongodb.ts');
    try {
      const store = await MongoStore.open({ uri: s.uri, database: s.database, clientOptions: { serverSelectionTimeoutMS: 3000 } });
      try {
        const info = await store.db.command({ buildInfo: 1 });
        return { line: `storage: mongodb, database ${store.db.databaseName}: reachable (server ${String(info.version)})` };
      } finally {
        await store.close();
      }
    } catch (err) {
      return { line: `storage: mongodb: PROBLEM, unreachable: ${(err as Error).message}`, problem: true };
    }
  }
  const dir = join(dataDir, 'db');
  if (running) return { line: `storage: embedded, ${dir}: in use by the running Chorus (pid ${running.pid})` };
  if (!(await writable(dir))) {
    const ancestor = await nearestExisting(dir);
    if (!(await stat(ancestor)).isDirectory()) return { line: `storage: embedded, ${dir}: PROBLEM, ${ancestor} is not a directory`, problem: true };
    if (ancestor !== dir && (await writable(ancestor))) return { line: `storage: embedded, ${dir}: created at the first start` };
    return { line: `storage: embedded, ${dir}: PROBLEM, ${ancestor} is not writable by this user`, problem: true };
  }
  try {
    await (await lockDirectory(dir, { waitMs: 0 })).release();
    return { line: `storage: embedded, ${dir}: ok` };
  } catch (err) {
    if (err instanceof StoreLockedError) return { line: `storage: embedded, ${dir}: in use by Chorus (pid ${err.pid ?? 'unknown'}), which has no admin socket` };
    throw err;
  }
}

export async function checkListeners(config: Config, running: RunningServer | null): Promise<Finding[]> {
  if (config.listeners.length === 0) return [{ line: 'listeners: none configured: nothing can connect', problem: true }];
  const findings: Finding[] = [];
  for (const [i, l] of config.listeners.entries()) {
    const name = `listeners.${i} (${listenerKind(l)}) ${hostPort(l)}`;
    if (l.port === 0) {
      findings.push({ line: `${name}: a free port is picked at each start` });
      continue;
    }
    if (running?.listeners.some((r) => r.port === l.port)) {
      findings.push({ line: `${name}: in use by the running Chorus (pid ${running.pid})` });
      continue;
    }
    const code = await tryListen(l.port, l.address);
    if (code === null) findings.push({ line: `${name}: free` });
    else if (code === 'EADDRINUSE') findings.push({ line: `${name}: PROBLEM, in use by another program`, problem: true });
    else findings.push({ line: `${name}: PROBLEM, cannot listen (${code})`, problem: true });
  }
  return findings;
}

/**
 * Where /metrics is served and who may read it; with a running server, whether it answers
 * (asked from this machine, so a loopback-only endpoint is reachable).
 */
export async function checkMetrics(config: Config, running: RunningServer | null): Promise<Finding[]> {
  const m = config.metrics;
  if (!m.enabled) return [{ line: 'metrics: off (metrics.enabled: false)' }];
  const http = config.listeners.filter((l): l is HttpListenerConfig => l.type === 'http');
  if (http.length === 0) return [{ line: `metrics: not served: no http listener (metrics.path ${m.path} would be served on one)` }];
  const findings: Finding[] = [];
  for (const l of http) {
    const url = `${l.tls ? 'https' : 'http'}://${urlHost(l.address)}:${l.port}${m.path}`;
    findings.push({ line: `metrics: ${url}, answered to ${m.allowFrom.join(', ')}` });
    if (!running || l.port === 0 || l.tls) continue;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
      const text = await res.text();
      const series = text.split('\n').filter((line) => line && !line.startsWith('#')).length;
      if (res.ok) findings.push({ line: `  answers: ${series} series` });
      else findings.push({ line: `  PROBLEM: answered ${res.status} to this machine (is it in metrics.allowFrom?)`, problem: true });
    } catch (err) {
      findings.push({ line: `  PROBLEM: no answer: ${(err as Error).message}`, problem: true });
    }
  }
  return findings;
}

/** A host name to reach a listener from this machine: its address, or loopback for every interface. */
function urlHost(address: string | undefined): string {
  if (address === undefined || address === '::' || address === '0.0.0.0') return 'localhost';
  return address.includes(':') ? `[${address}]` : address;
}

/** null when the port can be bound now (and is released at once), else the error code. */
function tryListen(port: number, address: string | undefined): Promise<string | null> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    probe.listen(port, address, () => probe.close(() => resolve(null)));
  });
}

async function writable(path: string): Promise<boolean> {
  return access(path, constants.W_OK).then(() => true, () => false);
}

async function nearestExisting(path: string): Promise<string> {
  for (let p = path; ; p = dirname(p)) {
    if (await access(p).then(() => true, () => false)) return p;
    if (dirname(p) === p) return p;
  }
}
