// The embedded store's directory lock: one holder at a time, the same directory under another
// path included, free again once released (and, across processes, once its holder dies:
// test/integration/lifecycle/restart.test.ts).
import { expect } from 'chai';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockDirectory, StoreLockedError } from '../../server/storage/directory-lock.ts';

describe('storage: directory lock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chorus-lock-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('refuses a second holder, naming the first one, until the first releases it', async () => {
    const first = await lockDirectory(dir);
    const refused = await lockDirectory(dir, { waitMs: 200 }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(StoreLockedError);
    expect((refused as StoreLockedError).pid).to.equal(process.pid);
    expect((refused as Error).message).to.equal(`the data directory ${dir} is in use by another Chorus process (pid ${process.pid})`);
    await first.release();
    const again = await lockDirectory(dir, { waitMs: 0 });
    await again.release();
  });

  it('is the same lock through a symbolic link to the directory', async () => {
    const link = join(tmpdir(), `chorus-lock-link-${process.pid}`);
    await symlink(dir, link);
    try {
      const held = await lockDirectory(dir);
      const refused = await lockDirectory(link, { waitMs: 0 }).catch((err: unknown) => err);
      expect(refused).to.be.instanceOf(StoreLockedError);
      await held.release();
    } finally {
      await rm(link, { force: true });
    }
  });

  it('waits for a holder that lets go within the wait', async () => {
    const first = await lockDirectory(dir);
    setTimeout(() => void first.release(), 150);
    const startedAt = Date.now();
    const second = await lockDirectory(dir, { waitMs: 2000 });
    expect(Date.now() - startedAt).to.be.within(100, 1500);
    await second.release();
  });
});
