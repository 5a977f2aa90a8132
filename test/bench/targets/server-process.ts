// Starting, watching and stopping a server process for the bench: free loopback ports, a
// self-signed certificate, the fd limit raised to the hard limit, and a stop that only ever
// signals the PID it started.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isAlive } from '../proc-stats.ts';

const run = promisify(execFile);

export async function makeTempDir(name: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `chorus-bench-${name}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** A port the kernel says is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Writes cert.pem and key.pem for `domain` into dir with openssl; returns their paths. */
export async function selfSignedCert(dir: string, domain: string, key: 'ec' | 'rsa'): Promise<{ cert: string; key: string }> {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const keyArgs = key === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  await run('openssl', [
    'req', '-x509', ...keyArgs, '-nodes', '-days', '30',
    '-keyout', keyPath, '-out', certPath,
    '-subj', `/CN=${domain}`, '-addext', `subjectAltName=DNS:${domain},DNS:*.${domain}`,
  ]);
  return { cert: certPath, key: keyPath };
}

export interface Spawned {
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<string>;
}

/**
 * Runs cmd with the soft fd limit raised to the hard one (10k sessions need 10k+ descriptors);
 * `exec` keeps the PID the server's own. stdout/stderr go to logFile.
 */
export function spawnServer(
  cmd: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; logFile: string; uid?: number; gid?: number },
): Spawned {
  const out = openSync(opts.logFile, 'a');
  const child = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" && exec "$@"', 'bash', cmd, ...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', out, out],
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
  });
  closeSync(out);
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? String(code))));
  return { child, exited };
}

/** Waits until host:port accepts a TCP connection; fails early when the process dies. */
export async function waitForPort(host: string, port: number, timeoutMs: number, pid?: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (pid !== undefined && !isAlive(pid)) throw new Error(`server process ${pid} exited before listening on ${host}:${port}`);
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** SIGTERM, then SIGKILL after graceMs; only the given PID. */
export async function stopPid(pid: number, graceMs = 10_000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The last lines of a log file, for error messages. */
export async function tail(file: string, lines = 15): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export { run as execFileAsync };
