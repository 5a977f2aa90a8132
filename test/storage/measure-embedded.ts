// Rough throughput and latency of the embedded store (not a test; run by hand):
//   npx tsx test/storage/measure-embedded.ts [documents]
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openEmbeddedStore } from '../../server/storage/embedded.ts';
import type { Store } from '../../server/storage/port.ts';

interface Message {
  _id: string;
  owner: string;
  with: string;
  at: Date;
  body: string;
  [field: string]: unknown;
}

const total = Number(process.argv[2] ?? 100_000);
const lookups = 10_000;

function message(i: number): Omit<Message, '_id'> & { _id: string } {
  return {
    _id: `m${i}`,
    owner: `user${i % 1000}@example.org`,
    with: `peer${i % 37}@example.net`,
    at: new Date(1_700_000_000_000 + i * 1000),
    body: `message number ${i} with a little text to make it look like chat`,
  };
}

async function time<R>(label: string, count: number, run: () => Promise<R>): Promise<R> {
  const start = performance.now();
  const result = await run();
  const ms = performance.now() - start;
  console.log(`${label.padEnd(52)} ${ms.toFixed(0).padStart(7)} ms  ${((count / ms) * 1000).toFixed(0).padStart(8)} /s  ${((ms / count) * 1000).toFixed(1).padStart(7)} µs each`);
  return result;
}

async function measure(store: Store, label: string): Promise<void> {
  console.log(`\n${label}: ${total} documents`);
  const messages = store.collection<Message>('messages');
  await messages.createIndex({ owner: 1 });
  await messages.createIndex({ at: 1 });
  const single = Math.min(total, 20_000);
  await time(`insertOne x ${single} (awaited one by one)`, single, async () => {
    for (let i = 0; i < single; i++) await messages.insertOne(message(i));
  });
  await time(`insertMany, batches of 1000, ${total - single} docs`, total - single, async () => {
    for (let i = single; i < total; i += 1000) {
      await messages.insertMany(Array.from({ length: Math.min(1000, total - i) }, (_, j) => message(i + j)));
    }
  });
  await time(`findOne by _id x ${lookups}`, lookups, async () => {
    for (let i = 0; i < lookups; i++) await messages.findOne({ _id: `m${(i * 7919) % total}` });
  });
  await time(`findOne by indexed owner x ${lookups}`, lookups, async () => {
    for (let i = 0; i < lookups; i++) await messages.findOne({ owner: `user${i % 1000}@example.org` });
  });
  await time(`find owner, sort at -1, limit 20 x 1000`, 1000, async () => {
    for (let i = 0; i < 1000; i++) await messages.find({ owner: `user${i % 1000}@example.org` }, { sort: { at: -1 }, limit: 20 });
  });
  await time(`updateOne $set by _id x ${lookups}`, lookups, async () => {
    for (let i = 0; i < lookups; i++) await messages.updateOne({ _id: `m${i}` }, { $set: { read: true } });
  });
  await time('countDocuments by unindexed field x 10 (full scan)', 10, async () => {
    for (let i = 0; i < 10; i++) await messages.countDocuments({ with: `peer${i}@example.net` });
  });
}

const memory = await openEmbeddedStore({ inMemory: true });
await measure(memory, 'in memory');
await memory.close();

const dir = await mkdtemp(join(tmpdir(), 'chorus-measure-'));
try {
  const disk = await openEmbeddedStore({ dir, compactionIntervalMs: 0 });
  await measure(disk, 'on disk');
  await time('close (compacts the files)', 1, () => disk.close());
  console.log(`data file: ${((await stat(join(dir, 'messages.db'))).size / 1e6).toFixed(1)} MB`);
  const before = process.memoryUsage().rss;
  const reopened = await openEmbeddedStore({ dir });
  await time(`reopen and load ${total} documents`, total, () => reopened.collection('messages').countDocuments());
  console.log(`RSS after load: ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB (was ${(before / 1e6).toFixed(0)} MB)`);
  await reopened.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
