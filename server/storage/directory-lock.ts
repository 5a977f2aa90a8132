// One process at a time on an embedded store: each process keeps the data set in memory and
// rewrites the files from it, so a second writer's changes would be silently lost. The lock is a
// file holding the owner's pid; a lock whose process is gone is stale and taken over.
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from './port.ts';

export class StoreLockedError extends StorageError {
  constructor(readonly dir: string, readonly pid: number) {
    super(`the data directory ${dir} is in use by another Chorus process (pid ${pid})`);
  }
}

export interface DirectoryLock {
  release(): Promise<void>;
}

export async function lockDirectory(dir: string): Promise<DirectoryLock> {
  const file = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return { release: () => rm(file, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(owner) && isAlive(owner)) throw new StoreLockedError(dir, owner);
    // Stale (its process died, e.g. kill -9): remove it and try again.
    await rm(file, { force: true });
  }
  throw new StorageError(`could not lock ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
