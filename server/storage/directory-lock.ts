// One process at a time on an embedded store: each process keeps the data set in memory and
// rewrites the files from it, so a second writer's changes would be silently lost.
//
// The lock is one the kernel releases when its holder dies, however it dies. On Linux it is a
// listening socket in the abstract namespace, named after the directory's real path: binding is
// atomic (a second bind fails with EADDRINUSE), and the socket closes with the process's last
// file descriptor, before the process is even reaped. A pid file checked with kill(pid, 0) was
// not enough: a process killed with -9 but not yet reaped by its parent still passes that check,
// and 9 of 21 immediate restarts after kill -9 were refused. Elsewhere (no abstract sockets)
// a pid file is the fallback, with that weakness.
import * as net from 'node:net';
import { createHash } from 'node:crypto';
import { open, readFile, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from './port.ts';

export class StoreLockedError extends StorageError {
  constructor(readonly dir: string, readonly pid: number | undefined) {
    super(`the data directory ${dir} is in use by another Chorus process${pid ? ` (pid ${pid})` : ''}`);
  }
}

export interface DirectoryLock {
  release(): Promise<void>;
}

export interface LockOptions {
  /**
   * How long to keep trying while the lock is held. A process that was just killed holds it for
   * the few milliseconds the kernel takes to close its descriptors; a live owner holds it for good.
   */
  waitMs?: number;
}

const RETRY_MS = 50;
const DEFAULT_WAIT_MS = 2000;

export async function lockDirectory(dir: string, opts: LockOptions = {}): Promise<DirectoryLock> {
  const deadline = Date.now() + (opts.waitMs ?? DEFAULT_WAIT_MS);
  const take = process.platform === 'linux' ? socketLock : pidFileLock;
  for (;;) {
    const result = await take(dir);
    if ('release' in result) return result;
    if (Date.now() >= deadline) throw new StoreLockedError(dir, result.owner);
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}

type Attempt = DirectoryLock | { owner: number | undefined };

async function socketLock(dir: string): Promise<Attempt> {
  const name = `\0chorus-store-lock:${createHash('sha256').update(await realpath(dir)).digest('hex')}`;
  const server = net.createServer((socket) => {
    // Whoever finds the lock taken asks who holds it, for its error message.
    socket.on('error', () => {});
    socket.end(`${process.pid}\n`);
  });
  const bound = await new Promise<boolean>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(false) : reject(err)));
    server.listen({ path: name, exclusive: true }, () => resolve(true));
  });
  if (bound) {
    server.unref(); // the lock must not keep the process alive
    return { release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }
  return { owner: await askOwner(name) };
}

/** The holder's pid, or undefined when it does not answer (e.g. it is exiting). */
function askOwner(name: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const socket = net.connect({ path: name });
    const done = () => {
      socket.destroy();
      const pid = Number.parseInt(text, 10);
      resolve(Number.isInteger(pid) && pid > 0 ? pid : undefined);
    };
    socket.setEncoding('utf8');
    socket.setTimeout(500, done);
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', done);
    socket.on('error', done);
  });
}

async function pidFileLock(dir: string): Promise<Attempt> {
  const file = join(dir, 'LOCK');
  try {
    const handle = await open(file, 'wx', 0o600);
    await handle.writeFile(`${process.pid}\n`);
    await handle.close();
    return { release: () => rm(file, { force: true }) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const owner = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
  if (Number.isInteger(owner) && isAlive(owner)) return { owner };
  // Stale (its process died): remove it; the next attempt takes it.
  await rm(file, { force: true });
  return { owner: undefined };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
