// What only the embedded adapter has: its files, compaction, the TTL sweep, a closed or broken store.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore } from '../../server/storage/embedded.ts';
import { StoreLockedError } from '../../server/storage/directory-lock.ts';
import { StorageUsageError, type Store } from '../../server/storage/port.ts';
import { rejection, type Thing } from './contract.ts';

async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '');
}

/** Polls until `check` holds (timers run in the background), failing after `ms`. */
async function eventually(check: () => Promise<boolean>, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) expect.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('embedded store', () => {
  let dir: string;
  let store: Store | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chorus-embedded-'));
  });

  afterEach(async () => {
    await store?.close();
    store = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps each collection in <dir>/<name>.db, one JSON document per line, and creates the directory', async () => {
    const nested = join(dir, 'data', 'db');
    store = await openEmbeddedStore({ dir: nested });
    await store.collection<Thing>('rooms').insertOne({ _id: 'r1', name: 'lobby' });
    const file = join(nested, 'rooms.db');
    expect(existsSync(file)).to.equal(true);
    expect((await lines(file)).map((line) => JSON.parse(line) as unknown)).to.deep.include({ _id: 'r1', name: 'lobby' });
  });

  it('compacts at close: the append-only file is rewritten to one line per document', async () => {
    store = await openEmbeddedStore({ dir, compactionIntervalMs: 0 });
    const things = store.collection<Thing>('things');
    await things.createIndex({ n: 1 });
    await things.insertMany([{ _id: 'a', n: 0 }, { _id: 'b', n: 0 }, { _id: 'gone' }]);
    for (let i = 0; i < 20; i++) await things.updateOne({ _id: 'a' }, { $inc: { n: 1 } });
    await things.deleteOne({ _id: 'gone' });
    const file = join(dir, 'things.db');
    expect((await lines(file)).length).to.be.at.least(24);
    await store.close();
    const compacted = (await lines(file)).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(compacted.filter((doc) => doc['_id'] !== undefined)).to.have.deep.members([{ _id: 'a', n: 20 }, { _id: 'b', n: 0 }]);
    expect(compacted).to.have.length(3); // two documents and the index definition
    store = await openEmbeddedStore({ dir });
    expect(await store.collection<Thing>('things').find({}, { sort: { _id: 1 } })).to.deep.equal([{ _id: 'a', n: 20 }, { _id: 'b', n: 0 }]);
  });

  it('compacts changed collections periodically', async () => {
    store = await openEmbeddedStore({ dir, compactionIntervalMs: 50 });
    const things = store.collection<Thing>('things');
    await things.insertOne({ _id: 'a', n: 0 });
    for (let i = 0; i < 30; i++) await things.updateOne({ _id: 'a' }, { $inc: { n: 1 } });
    const file = join(dir, 'things.db');
    await eventually(async () => (await lines(file)).length === 1, 'the file is compacted');
    expect(JSON.parse((await lines(file))[0]!)).to.deep.equal({ _id: 'a', n: 30 });
  });

  it('deletes expired documents in the background, without any query meeting them', async () => {
    store = await openEmbeddedStore({ dir, ttlSweepIntervalMs: 50, compactionIntervalMs: 0 });
    const things = store.collection<Thing>('things');
    await things.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
    await things.insertMany([{ _id: 'short', expiresAt: new Date(Date.now() + 100) }, { _id: 'long', expiresAt: new Date(Date.now() + 3_600_000) }]);
    const file = join(dir, 'things.db');
    await eventually(async () => (await lines(file)).some((line) => line.includes('"$$deleted":true') && line.includes('"short"')), 'the expired document is deleted');
    expect(await things.find({})).to.have.length(1);
  });

  it('TTL indexes keep expiring after a restart, without being declared again (NeDB alone forgets them)', async () => {
    store = await openEmbeddedStore({ dir });
    await store.collection<Thing>('things').createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
    await store.collection<Thing>('things').insertMany([{ _id: 'soon', expiresAt: new Date(Date.now() + 200) }, { _id: 'kept' }]);
    await store.close();
    store = await openEmbeddedStore({ dir });
    const things = store.collection<Thing>('things');
    expect(await things.countDocuments()).to.equal(2);
    await eventually(async () => (await things.countDocuments()) === 1, 'the document expires');
    expect(await things.find({})).to.deep.equal([{ _id: 'kept' }]);
  });

  it('stores binary in a form NeDB can write, and reads it back after a restart', async () => {
    store = await openEmbeddedStore({ dir });
    await store.collection<Thing>('keys').insertOne({ _id: 'k', key: Buffer.from('secret key bytes') });
    await store.close();
    store = await openEmbeddedStore({ dir });
    const found = await store.collection<Thing>('keys').findOne({ key: Buffer.from('secret key bytes') });
    expect(found?._id).to.equal('k');
    expect((found!['key'] as Buffer).toString()).to.equal('secret key bytes');
  });

  it('after close, handles and the store refuse to work; closing twice is harmless', async () => {
    store = await openEmbeddedStore({ inMemory: true });
    const things = store.collection<Thing>('things');
    await things.insertOne({ _id: 'a' });
    await store.close();
    await store.close();
    await rejection(() => things.findOne({}), StorageUsageError);
    await rejection(() => things.insertOne({}), StorageUsageError);
    await rejection(() => store!.collection('things'), StorageUsageError);
    await rejection(() => store!.dropCollection('things'), StorageUsageError);
  });

  it('a collection whose file is corrupt fails its operations instead of hanging; others work', async () => {
    const garbage = Array.from({ length: 10 }, (_, i) => `{not json ${i}`).join('\n');
    await writeFile(join(dir, 'broken.db'), `{"_id":"fine"}\n${garbage}\n`);
    store = await openEmbeddedStore({ dir });
    const error = await rejection(() => store!.collection<Thing>('broken').find({}), Error);
    expect(error.message).to.match(/corrupt/);
    await rejection(() => store!.collection<Thing>('broken').insertOne({}), Error);
    await store.collection<Thing>('healthy').insertOne({ _id: 'h' });
    expect(await store.collection<Thing>('healthy').countDocuments()).to.equal(1);
  });

  it('dropCollection deletes the file', async () => {
    store = await openEmbeddedStore({ dir });
    await store.collection<Thing>('things').insertOne({ _id: 'a' });
    expect(existsSync(join(dir, 'things.db'))).to.equal(true);
    await store.dropCollection('things');
    expect(existsSync(join(dir, 'things.db'))).to.equal(false);
  });

  it('needs a directory or inMemory', async () => {
    await rejection(() => openEmbeddedStore({}), StorageUsageError);
  });
});

describe('embedded store: one process per data directory', () => {
  it('refuses a second open of a directory in use, and allows it after close or when the owner is gone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chorus-lock-'));
    try {
      const first = await openEmbeddedStore({ dir });
      const err = await openEmbeddedStore({ dir }).then(() => null, (e: unknown) => e);
      expect(err).to.be.instanceOf(StoreLockedError);
      expect((err as Error).message).to.contain(`pid ${process.pid}`);
      await first.close();
      const second = await openEmbeddedStore({ dir });
      await second.close();
      // A lock left by a process that no longer exists (kill -9) is taken over.
      await writeFile(join(dir, 'LOCK'), '999999999\n');
      const third = await openEmbeddedStore({ dir });
      await third.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
