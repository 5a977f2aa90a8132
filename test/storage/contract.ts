// The storage contract: one suite every adapter must pass (DESIGN.md "Storage port"), run by
// embedded-memory.test.ts, embedded-disk.test.ts and mongodb.test.ts. A capability an adapter
// cannot show in a test's time is skipped with the reason in the test's title.
import { expect } from 'chai';
import {
  DuplicateKeyError, StorageUsageError, ensureCollections,
  type Collection, type CollectionSpec, type Filter, type IndexKeys, type Store, type Update,
} from '../../server/storage/port.ts';

export interface OpenedStore {
  store: Store;
  /** Opens the same data again; only called after `store` was closed. */
  reopen?: () => Promise<Store>;
  /** Removes what open() created; called after the store (and any reopened one) was closed. */
  dispose(): Promise<void>;
}

export interface StoreTarget {
  /** A fresh, empty store. */
  open(): Promise<OpenedStore>;
  /** true when data outlives close(), else why the reopen test is skipped. */
  persistent: true | { skip: string };
  /** 'prompt' when an expired TTL document is gone within a test's time, else why that is skipped. */
  ttlExpiry: 'prompt' | { skip: string };
}

export interface Thing {
  _id: string;
  [field: string]: unknown;
}

const ID_PATTERN = /^[A-Za-z0-9_-]{16,}$/;

/** Awaits `run` (which may also throw synchronously) and returns the error, checking its class. */
export async function rejection<E extends Error>(run: () => unknown, type: abstract new (...args: never[]) => E): Promise<E> {
  let caught: unknown;
  try {
    await run();
  } catch (error) {
    caught = error;
  }
  if (caught === undefined) expect.fail(`expected a ${type.name}, but nothing was thrown`);
  expect(caught, String(caught)).to.be.instanceOf(type);
  return caught as E;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function storeContract(target: StoreTarget): void {
  let opened: OpenedStore;
  let store: Store;
  let things: Collection<Thing>;

  beforeEach(async () => {
    opened = await target.open();
    store = opened.store;
    things = store.collection<Thing>('things');
  });

  afterEach(async () => {
    await store.close();
    await opened.dispose();
  });

  const ids = async (filter: Filter<Thing>, collection: Collection<Thing> = things): Promise<string[]> =>
    (await collection.find(filter, { sort: { _id: 1 } })).map((doc) => doc._id);

  describe('insert and read', () => {
    it('insertOne generates a random URL-safe string _id and leaves the input untouched', async () => {
      const input = { name: 'Ann' };
      const { insertedId } = await things.insertOne(input);
      const second = await things.insertOne({ name: 'Ann' });
      expect(insertedId).to.match(ID_PATTERN);
      expect(second.insertedId).to.match(ID_PATTERN).and.not.equal(insertedId);
      expect(input).to.deep.equal({ name: 'Ann' });
      expect(await things.findOne({ _id: insertedId })).to.deep.equal({ _id: insertedId, name: 'Ann' });
    });

    it('insertOne keeps a given _id, and a second document with it is a DuplicateKeyError on _id_', async () => {
      expect(await things.insertOne({ _id: 'ann', n: 1 })).to.deep.equal({ insertedId: 'ann' });
      const error = await rejection(() => things.insertOne({ _id: 'ann', n: 2 }), DuplicateKeyError);
      expect(error.collection).to.equal('things');
      expect(error.index).to.equal('_id_');
      expect(error.key).to.deep.equal({ _id: 'ann' });
      expect(await things.find({})).to.deep.equal([{ _id: 'ann', n: 1 }]);
    });

    it('insertMany returns the ids in order; an empty list inserts nothing', async () => {
      const { insertedIds } = await things.insertMany([{ _id: 'a', n: 1 }, { n: 2 }, { _id: 'c', n: 3 }]);
      expect(insertedIds).to.have.length(3);
      expect(insertedIds[0]).to.equal('a');
      expect(insertedIds[1]).to.match(ID_PATTERN);
      expect(insertedIds[2]).to.equal('c');
      expect(await things.findOne({ n: 2 })).to.deep.equal({ _id: insertedIds[1], n: 2 });
      expect(await things.insertMany([])).to.deep.equal({ insertedIds: [] });
      expect(await things.countDocuments()).to.equal(3);
    });

    it('insertMany is ordered: the documents before a duplicate stay, the rest are not inserted', async () => {
      await things.insertOne({ _id: 'b' });
      const error = await rejection(() => things.insertMany([{ _id: 'a' }, { _id: 'b' }, { _id: 'c' }]), DuplicateKeyError);
      expect(error.collection).to.equal('things');
      expect(await ids({})).to.deep.equal(['a', 'b']);
    });

    it('round-trips every storable value type', async () => {
      const when = new Date('2024-02-29T12:34:56.789Z');
      const doc = {
        _id: 'all',
        text: 'héllo wörld ☃ 😀',
        empty: '',
        int: 42,
        negative: -7,
        float: 3.25,
        zero: 0,
        big: 2 ** 53 - 1,
        yes: true,
        no: false,
        nothing: null,
        when,
        nested: { a: { b: { c: 'deep' } }, list: [1, 'two', { three: 3 }] },
        mixed: [null, true, 1.5, 'x', when, [1, [2]]],
        emptyObject: {},
        emptyArray: [],
        buffer: Buffer.from([0, 1, 2, 254, 255]),
        bytes: new Uint8Array([9, 8, 7]),
        emptyBytes: Buffer.alloc(0),
        'SHA-256': { salt: 'c2FsdA==', iterations: 4096 },
      };
      await things.insertOne(doc);
      const found = await things.findOne({ _id: 'all' });
      expect(found).to.not.equal(null);
      const { buffer, bytes, emptyBytes, ...rest } = found!;
      const { buffer: _b, bytes: _y, emptyBytes: _e, ...expected } = doc;
      expect(rest).to.deep.equal(expected);
      expect(rest['when']).to.be.instanceOf(Date);
      expect(Buffer.isBuffer(buffer)).to.equal(true);
      expect([...(buffer as Buffer)]).to.deep.equal([0, 1, 2, 254, 255]);
      expect(Buffer.isBuffer(bytes)).to.equal(true);
      expect([...(bytes as Buffer)]).to.deep.equal([9, 8, 7]);
      expect((emptyBytes as Buffer).length).to.equal(0);
    });

    it('drops properties whose value is undefined', async () => {
      await things.insertOne({ _id: 'u', kept: 1, dropped: undefined, nested: { gone: undefined, here: 2 } });
      const found = await things.findOne({ _id: 'u' });
      expect(found).to.deep.equal({ _id: 'u', kept: 1, nested: { here: 2 } });
      expect(Object.keys(found!)).to.not.include('dropped');
      expect(await things.countDocuments({ dropped: { $exists: true } })).to.equal(0);
    });

    it('hands out copies: changing a result or the inserted object leaves the store as it was', async () => {
      const input = { _id: 'c', list: [1, 2], sub: { x: 1 }, when: new Date(1000), bin: Buffer.from([1, 2]) };
      await things.insertOne(input);
      input.list.push(3);
      input.sub.x = 99;
      input.when.setTime(5000);
      input.bin[0] = 42;
      const first = (await things.findOne({ _id: 'c' }))!;
      (first['list'] as number[]).push(4);
      (first['sub'] as { x: number }).x = 100;
      (first['when'] as Date).setTime(6000);
      (first['bin'] as Buffer)[1] = 43;
      const [fromFind] = await things.find({ _id: 'c' });
      (fromFind!['list'] as number[]).push(5);
      const again = (await things.findOne({ _id: 'c' }))!;
      expect(again['list']).to.deep.equal([1, 2]);
      expect(again['sub']).to.deep.equal({ x: 1 });
      expect((again['when'] as Date).getTime()).to.equal(1000);
      expect([...(again['bin'] as Buffer)]).to.deep.equal([1, 2]);
    });

    it('refuses values it cannot store, before writing anything', async () => {
      class Point {
        constructor(readonly x: number) {}
      }
      const bad: Record<string, unknown>[] = [
        { f: () => 1 },
        { m: new Map() },
        { s: new Set([1]) },
        { p: new Point(1) },
        { r: /x/ },
        { n: Number.NaN },
        { i: Number.POSITIVE_INFINITY },
        { b: 10n },
        { d: new Date('nonsense') },
        { 'a.b': 1 },
        { $set: 1 },
        { nested: { $bad: 1 } },
        { '': 1 },
        { '\u0000bin': 'AAAA' },
        { '0': 'digits only' },
        JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>,
        { list: [1, undefined] },
        { _id: 5 },
        { _id: '' },
      ];
      for (const doc of bad) {
        await rejection(() => things.insertOne(doc as Thing), StorageUsageError);
        await rejection(() => things.insertMany([{ _id: 'fine' }, doc as Thing]), StorageUsageError);
      }
      const cyclic: Record<string, unknown> = { name: 'loop' };
      cyclic['self'] = cyclic;
      await rejection(() => things.insertOne(cyclic), StorageUsageError);
      expect(await things.countDocuments()).to.equal(0);
    });

    it('refuses collection names that are not plain identifiers', async () => {
      for (const name of ['', 'a b', '../escape', 'dotted.name', '_indexes', '1st', 'x'.repeat(65)]) {
        await rejection(() => store.collection(name), StorageUsageError);
      }
      expect(store.collection('Rooms_2-x').name).to.equal('Rooms_2-x');
    });
  });

  describe('filters', () => {
    beforeEach(async () => {
      await things.insertMany([
        {
          _id: 'ann', name: 'Ann', age: 31, tags: ['admin', 'dev'], address: { city: 'Paris', zip: '75001' },
          joined: new Date('2020-01-01T00:00:00Z'), pets: [{ kind: 'cat', age: 3 }, { kind: 'dog', age: 9 }], nick: null,
        },
        { _id: 'bob', name: 'Bob', age: 25, tags: ['dev'], address: { city: 'Lyon' }, joined: new Date('2021-06-01T00:00:00Z'), pets: [] },
        { _id: 'cy', name: 'Cy', age: 47, tags: [], joined: new Date('2019-03-15T00:00:00Z'), pets: [{ kind: 'dog', age: 2 }], nick: 'cyc' },
        { _id: 'dee', name: 'Dee', age: '40', tags: ['ops'], address: { city: 'Paris' }, pets: [{ kind: 'cat', age: 12 }] },
      ]);
    });

    it('implicit equality, on dotted paths too; {} matches everything', async () => {
      expect(await ids({ name: 'Ann' })).to.deep.equal(['ann']);
      expect(await ids({ 'address.city': 'Paris' })).to.deep.equal(['ann', 'dee']);
      expect(await ids({ 'address.city': 'Paris', age: 31 })).to.deep.equal(['ann']);
      expect(await ids({ age: 40 })).to.deep.equal([]);
      expect(await ids({ age: '40' })).to.deep.equal(['dee']);
      expect(await ids({})).to.deep.equal(['ann', 'bob', 'cy', 'dee']);
    });

    it('equality matches an element of an array, also through arrays of subdocuments', async () => {
      expect(await ids({ tags: 'dev' })).to.deep.equal(['ann', 'bob']);
      expect(await ids({ 'pets.kind': 'dog' })).to.deep.equal(['ann', 'cy']);
      expect(await ids({ 'pets.age': 12 })).to.deep.equal(['dee']);
    });

    it('$eq, including Dates', async () => {
      expect(await ids({ name: { $eq: 'Bob' } })).to.deep.equal(['bob']);
      expect(await ids({ joined: new Date('2020-01-01T00:00:00Z') })).to.deep.equal(['ann']);
      expect(await ids({ joined: { $eq: new Date('2019-03-15T00:00:00Z') } })).to.deep.equal(['cy']);
    });

    it('null matches null and missing fields; $ne: null needs a value', async () => {
      expect(await ids({ nick: null })).to.deep.equal(['ann', 'bob', 'dee']);
      expect(await ids({ nick: { $eq: null } })).to.deep.equal(['ann', 'bob', 'dee']);
      expect(await ids({ nick: { $ne: null } })).to.deep.equal(['cy']);
      expect(await ids({ 'address.zip': null })).to.deep.equal(['bob', 'cy', 'dee']);
    });

    it('$ne: no element may equal, and a missing field counts as not equal', async () => {
      expect(await ids({ name: { $ne: 'Ann' } })).to.deep.equal(['bob', 'cy', 'dee']);
      expect(await ids({ tags: { $ne: 'dev' } })).to.deep.equal(['cy', 'dee']);
      expect(await ids({ 'address.city': { $ne: 'Paris' } })).to.deep.equal(['bob', 'cy']);
      expect(await ids({ 'pets.kind': { $ne: 'cat' } })).to.deep.equal(['bob', 'cy']);
    });

    it('$gt $gte $lt $lte compare within one type: numbers, strings, Dates', async () => {
      expect(await ids({ age: { $gt: 30 } })).to.deep.equal(['ann', 'cy']);
      expect(await ids({ age: { $gte: 25, $lt: 47 } })).to.deep.equal(['ann', 'bob']);
      expect(await ids({ age: { $lte: 25 } })).to.deep.equal(['bob']);
      expect(await ids({ age: { $gt: '3' } })).to.deep.equal(['dee']);
      expect(await ids({ name: { $gte: 'B', $lt: 'D' } })).to.deep.equal(['bob', 'cy']);
      expect(await ids({ joined: { $lt: new Date('2020-06-01T00:00:00Z') } })).to.deep.equal(['ann', 'cy']);
      expect(await ids({ joined: { $gte: new Date('2020-01-01T00:00:00Z') } })).to.deep.equal(['ann', 'bob']);
      expect(await ids({ nick: { $lt: new Date('2100-01-01T00:00:00Z') } })).to.deep.equal([]);
    });

    it('comparisons on arrays: each condition may be met by a different element (without $elemMatch)', async () => {
      expect(await ids({ 'pets.age': { $gt: 10 } })).to.deep.equal(['dee']);
      expect(await ids({ 'pets.age': { $gt: 8, $lt: 4 } })).to.deep.equal(['ann']);
      expect(await ids({ tags: { $gte: 'd', $lt: 'e' } })).to.deep.equal(['ann', 'bob']);
    });

    it('strings compare by code point, as MongoDB does (not by UTF-16 unit)', async () => {
      await things.insertMany([{ _id: 's1', s: '\uFFFD' }, { _id: 's2', s: '😀' }, { _id: 's3', s: 'z' }]);
      expect(await ids({ s: { $gt: '\uFFFD' } })).to.deep.equal(['s2']);
      expect(await ids({ s: { $lt: '😀' } })).to.deep.equal(['s1', 's3']);
    });

    it('$in and $nin, with array elements and null for missing fields', async () => {
      expect(await ids({ name: { $in: ['Ann', 'Cy', 'Zed'] } })).to.deep.equal(['ann', 'cy']);
      expect(await ids({ tags: { $in: ['ops', 'admin'] } })).to.deep.equal(['ann', 'dee']);
      expect(await ids({ nick: { $in: [null, 'cyc'] } })).to.deep.equal(['ann', 'bob', 'cy', 'dee']);
      expect(await ids({ joined: { $in: [new Date('2021-06-01T00:00:00Z')] } })).to.deep.equal(['bob']);
      expect(await ids({ _id: { $in: [] } })).to.deep.equal([]);
      expect(await ids({ tags: { $nin: ['dev'] } })).to.deep.equal(['cy', 'dee']);
      expect(await ids({ nick: { $nin: [null] } })).to.deep.equal(['cy']);
      expect(await ids({ 'address.city': { $nin: ['Lyon'] } })).to.deep.equal(['ann', 'cy', 'dee']);
    });

    it('$exists: a null value exists, an empty array exists, a path through an empty array does not', async () => {
      expect(await ids({ nick: { $exists: true } })).to.deep.equal(['ann', 'cy']);
      expect(await ids({ nick: { $exists: false } })).to.deep.equal(['bob', 'dee']);
      expect(await ids({ tags: { $exists: true } })).to.deep.equal(['ann', 'bob', 'cy', 'dee']);
      expect(await ids({ 'address.zip': { $exists: true } })).to.deep.equal(['ann']);
      expect(await ids({ 'pets.kind': { $exists: true } })).to.deep.equal(['ann', 'cy', 'dee']);
      expect(await ids({ 'pets.kind': { $exists: false } })).to.deep.equal(['bob']);
    });

    it('$size', async () => {
      expect(await ids({ tags: { $size: 0 } })).to.deep.equal(['cy']);
      expect(await ids({ pets: { $size: 1 } })).to.deep.equal(['cy', 'dee']);
      expect(await ids({ tags: { $size: 2 } })).to.deep.equal(['ann']);
      expect(await ids({ name: { $size: 1 } })).to.deep.equal([]);
    });

    it('$elemMatch: one element must meet every condition', async () => {
      expect(await ids({ pets: { $elemMatch: { kind: 'cat', age: { $gt: 5 } } } })).to.deep.equal(['dee']);
      // The same conditions without $elemMatch may be met by different elements:
      expect(await ids({ 'pets.kind': 'cat', 'pets.age': { $gt: 5 } })).to.deep.equal(['ann', 'dee']);
      expect(await ids({ tags: { $elemMatch: { $gte: 'd', $lt: 'e' } } })).to.deep.equal(['ann', 'bob']);
      expect(await ids({ pets: { $elemMatch: { $or: [{ age: 2 }, { age: 12 }] } } })).to.deep.equal(['cy', 'dee']);
      expect(await ids({ name: { $elemMatch: { $eq: 'Ann' } } })).to.deep.equal([]);
    });

    it('$and and $or, nested', async () => {
      expect(await ids({ $or: [{ name: 'Ann' }, { age: { $lt: 30 } }] })).to.deep.equal(['ann', 'bob']);
      expect(await ids({ $and: [{ tags: 'dev' }, { age: { $gt: 30 } }] })).to.deep.equal(['ann']);
      expect(await ids({ $or: [{ $and: [{ 'address.city': 'Paris' }, { age: 31 }] }, { nick: 'cyc' }] })).to.deep.equal(['ann', 'cy']);
      expect(await ids({ tags: 'dev', $or: [{ age: 25 }, { age: 47 }] })).to.deep.equal(['bob']);
    });

    it('binary equality', async () => {
      await things.insertMany([{ _id: 'k1', key: Buffer.from([1, 2, 3]) }, { _id: 'k2', key: Buffer.from([1, 2]) }]);
      expect(await ids({ key: Buffer.from([1, 2, 3]) })).to.deep.equal(['k1']);
      expect(await ids({ key: new Uint8Array([1, 2]) })).to.deep.equal(['k2']);
      expect(await ids({ key: { $in: [Buffer.from([9]), Buffer.from([1, 2])] } })).to.deep.equal(['k2']);
      expect(await ids({ key: { $ne: Buffer.from([1, 2]) }, _id: { $in: ['k1', 'k2'] } })).to.deep.equal(['k1']);
    });

    it('filters work the same in findOne, countDocuments, updateMany and deleteMany', async () => {
      const filter = { tags: { $ne: 'dev' } };
      expect((await things.findOne(filter, { sort: { _id: 1 } }))?._id).to.equal('cy');
      expect(await things.countDocuments(filter)).to.equal(2);
      expect(await things.updateMany(filter, { $set: { flagged: true } })).to.deep.equal({ matchedCount: 2, modifiedCount: 2 });
      expect(await ids({ flagged: true })).to.deep.equal(['cy', 'dee']);
      expect(await things.deleteMany(filter)).to.deep.equal({ deletedCount: 2 });
      expect(await ids({})).to.deep.equal(['ann', 'bob']);
    });

    it('indexes on the tested fields change no result', async () => {
      const filters: Filter<Thing>[] = [
        { name: 'Ann' }, { age: 31 }, { age: '40' }, { tags: 'dev' }, { 'pets.age': 9 }, { 'pets.kind': 'cat', 'pets.age': { $gt: 5 } },
        { age: { $gt: 30 } }, { age: { $gte: 25, $lt: 47 } }, { 'pets.age': { $gt: 8, $lt: 4 } }, { 'pets.age': { $lt: 3 } },
        { tags: { $in: ['ops', 'admin'] } }, { tags: { $nin: ['dev'] } }, { tags: { $ne: 'dev' } }, { nick: null }, { nick: { $in: [null, 'cyc'] } },
        { joined: { $lt: new Date('2020-06-01T00:00:00Z') } }, { joined: new Date('2021-06-01T00:00:00Z') }, { 'address.city': 'Paris', name: 'Dee' },
        { name: { $gt: 'B' } }, { _id: { $in: ['ann', 'cy'] }, tags: 'admin' }, { $or: [{ name: 'Ann' }, { age: 25 }] },
        { 'address.city': 'Paris', 'address.zip': '75001' }, { 'address.city': 'Paris', 'address.zip': null },
      ];
      const unindexed = await Promise.all(filters.map((filter) => ids(filter)));
      const indexed: IndexKeys[] = [{ name: 1 }, { age: 1 }, { tags: 1 }, { 'pets.age': 1 }, { nick: 1 }, { joined: 1 }, { 'address.city': 1, name: -1 }, { 'address.zip': 1, 'address.city': 1 }];
      for (const keys of indexed) await things.createIndex(keys);
      expect(await Promise.all(filters.map((filter) => ids(filter)))).to.deep.equal(unindexed);
    });

    it('refuses every operator and shape not on the list, whatever the call', async () => {
      const bad: Record<string, unknown>[] = [
        { name: { $regex: 'A' } },
        { name: /A/ },
        { $where: 'this.age > 1' },
        { $nor: [{ name: 'Ann' }] },
        { $not: { name: 'Ann' } },
        { name: { $not: { $eq: 'Ann' } } },
        { age: { $type: 'number' } },
        { age: { $mod: [2, 0] } },
        { $expr: { $gt: ['$age', 1] } },
        { $text: { $search: 'x' } },
        { tags: { $all: ['dev'] } },
        { address: { city: 'Paris' } },
        { tags: ['admin', 'dev'] },
        { address: {} },
        { age: { $gt: 1, city: 'x' } },
        { $or: [] },
        { $and: {} },
        { age: { $gt: null } },
        { age: { $gt: true } },
        { age: { $in: 'Ann' } },
        { age: { $in: [{ a: 1 }] } },
        { nick: { $exists: 1 } },
        { tags: { $size: -1 } },
        { tags: { $size: 1.5 } },
        { name: undefined },
        { 'tags.0': 'admin' },
        { 'a..b': 1 },
        { name: { $eq: { a: 1 } } },
        { pets: { $elemMatch: {} } },
      ];
      for (const filter of bad) {
        const f = filter as Filter<Thing>;
        await rejection(() => things.find(f), StorageUsageError);
        await rejection(() => things.findOne(f), StorageUsageError);
        await rejection(() => things.countDocuments(f), StorageUsageError);
        await rejection(() => things.updateMany(f, { $set: { touched: true } }), StorageUsageError);
        await rejection(() => things.deleteMany(f), StorageUsageError);
      }
      expect(await things.countDocuments()).to.equal(4);
      expect(await things.countDocuments({ touched: true })).to.equal(0);
    });
  });

  describe('sort, skip, limit and projection', () => {
    it('sorts ascending and descending, on several keys, on Dates', async () => {
      await things.insertMany([
        { _id: 'a', city: 'Paris', age: 30, at: new Date(3000) },
        { _id: 'b', city: 'Lyon', age: 40, at: new Date(1000) },
        { _id: 'c', city: 'Paris', age: 50, at: new Date(2000) },
        { _id: 'd', city: 'Lyon', age: 20, at: new Date(4000) },
      ]);
      const order = async (sort: Record<string, 1 | -1>): Promise<string[]> => (await things.find({}, { sort })).map((d) => d._id);
      expect(await order({ age: 1 })).to.deep.equal(['d', 'a', 'b', 'c']);
      expect(await order({ age: -1 })).to.deep.equal(['c', 'b', 'a', 'd']);
      expect(await order({ city: 1, age: -1 })).to.deep.equal(['b', 'd', 'c', 'a']);
      expect(await order({ city: -1, age: 1 })).to.deep.equal(['a', 'c', 'd', 'b']);
      expect(await order({ at: 1 })).to.deep.equal(['b', 'c', 'a', 'd']);
      expect(await order({ at: -1 })).to.deep.equal(['d', 'a', 'c', 'b']);
    });

    it('sorts strings by code point and dotted paths', async () => {
      await things.insertMany([
        { _id: '1', s: '😀', p: { q: 3 } },
        { _id: '2', s: '\uFFFD', p: { q: 1 } },
        { _id: '3', s: 'a', p: { q: 2 } },
        { _id: '4', s: 'B', p: { q: 4 } },
        { _id: '5', s: 'é', p: { q: 0 } },
      ]);
      expect((await things.find({}, { sort: { s: 1 } })).map((d) => d['s'])).to.deep.equal(['B', 'a', 'é', '\uFFFD', '😀']);
      expect((await things.find({}, { sort: { 'p.q': -1 } })).map((d) => d._id)).to.deep.equal(['4', '1', '3', '2', '5']);
    });

    it('puts missing and null values first, then numbers, strings, booleans, Dates', async () => {
      await things.insertMany([
        { _id: 'date', v: new Date(0) },
        { _id: 'bool', v: true },
        { _id: 'str', v: 'x' },
        { _id: 'num2', v: 2 },
        { _id: 'null', v: null },
        { _id: 'missing' },
        { _id: 'num1', v: 1 },
      ]);
      const ascending = (await things.find({}, { sort: { v: 1 } })).map((d) => d._id);
      expect(ascending.slice(0, 2)).to.have.members(['null', 'missing']);
      expect(ascending.slice(2)).to.deep.equal(['num1', 'num2', 'str', 'bool', 'date']);
      const descending = (await things.find({}, { sort: { v: -1 } })).map((d) => d._id);
      expect(descending.slice(0, 5)).to.deep.equal(['date', 'bool', 'str', 'num2', 'num1']);
      expect(descending.slice(5)).to.have.members(['null', 'missing']);
    });

    it('skip and limit apply after sorting; limit 0 means no limit', async () => {
      await things.insertMany([5, 3, 9, 1, 7].map((n) => ({ _id: `n${n}`, n })));
      const page = async (skip: number, limit: number): Promise<unknown[]> =>
        (await things.find({}, { sort: { n: 1 }, skip, limit })).map((d) => d['n']);
      expect(await page(0, 2)).to.deep.equal([1, 3]);
      expect(await page(2, 2)).to.deep.equal([5, 7]);
      expect(await page(4, 2)).to.deep.equal([9]);
      expect(await page(5, 2)).to.deep.equal([]);
      expect(await page(1, 0)).to.deep.equal([3, 5, 7, 9]);
      expect((await things.find({ n: { $gt: 1 } }, { limit: 2 })).length).to.equal(2);
      expect((await things.findOne({}, { sort: { n: -1 } }))?._id).to.equal('n9');
    });

    it('projects included or excluded fields, dotted ones and through arrays; _id unless excluded', async () => {
      await things.insertOne({ _id: 'p', name: 'Ann', age: 31, address: { city: 'Paris', zip: '75001' }, pets: [{ kind: 'cat', age: 3 }, { kind: 'dog', age: 9 }] });
      const one = (projection: Record<string, 0 | 1 | boolean>): Promise<Thing | null> => things.findOne({ _id: 'p' }, { projection });
      expect(await one({ name: 1 })).to.deep.equal({ _id: 'p', name: 'Ann' });
      expect(await one({ name: true, age: true, _id: false })).to.deep.equal({ name: 'Ann', age: 31 });
      expect(await one({ 'address.city': 1 })).to.deep.equal({ _id: 'p', address: { city: 'Paris' } });
      expect(await one({ 'pets.kind': 1 })).to.deep.equal({ _id: 'p', pets: [{ kind: 'cat' }, { kind: 'dog' }] });
      expect(await one({ missing: 1 })).to.deep.equal({ _id: 'p' });
      expect(await one({ _id: 1 })).to.deep.equal({ _id: 'p' });
      expect(await one({ address: 0, pets: 0 })).to.deep.equal({ _id: 'p', name: 'Ann', age: 31 });
      expect(await one({ 'address.zip': 0, 'pets.age': 0, _id: 0 })).to.deep.equal({
        name: 'Ann', age: 31, address: { city: 'Paris' }, pets: [{ kind: 'cat' }, { kind: 'dog' }],
      });
      expect(await one({ _id: 0 })).to.deep.equal({ name: 'Ann', age: 31, address: { city: 'Paris', zip: '75001' }, pets: [{ kind: 'cat', age: 3 }, { kind: 'dog', age: 9 }] });
      expect(await things.find({}, { projection: { age: 1 } })).to.deep.equal([{ _id: 'p', age: 31 }]);
      expect(await things.find({}, { projection: {} })).to.deep.equal([await things.findOne({ _id: 'p' })]);
    });

    it('refuses bad sort, skip, limit and projection', async () => {
      const bad = [
        { sort: { a: 2 } }, { sort: { a: 'asc' } }, { sort: {} }, { sort: { $natural: 1 } },
        { skip: -1 }, { limit: -1 }, { limit: 1.5 },
        { projection: { a: 1, b: 0 } }, { projection: { a: 2 } }, { projection: { a: 1, 'a.b': 1 } }, { projection: { 'tags.$': 1 } },
        { projection: { a: { $slice: 1 } } },
      ];
      for (const options of bad) {
        await rejection(() => things.find({}, options as never), StorageUsageError);
      }
      await rejection(() => things.findOne({}, { sort: { a: 0 } } as never), StorageUsageError);
      await rejection(() => things.findOneAndUpdate({}, { $set: { a: 1 } }, { returnDocument: 'new' } as never), StorageUsageError);
    });
  });

  describe('updates', () => {
    const only = async (): Promise<Thing> => (await things.findOne({ _id: 'x' }))!;

    it('$set replaces values and creates missing subdocuments along a dotted path', async () => {
      await things.insertOne({ _id: 'x', name: 'Ann', address: { city: 'Paris' } });
      expect(await things.updateOne({ _id: 'x' }, { $set: { name: 'Anne', 'address.zip': '75001', 'profile.lang.primary': 'fr' } }))
        .to.deep.equal({ matchedCount: 1, modifiedCount: 1 });
      expect(await only()).to.deep.equal({ _id: 'x', name: 'Anne', address: { city: 'Paris', zip: '75001' }, profile: { lang: { primary: 'fr' } } });
      await things.updateOne({ _id: 'x' }, { $set: { address: ['now', 'a', 'list'], when: new Date(7), bin: Buffer.from([7]) } });
      const doc = await only();
      expect(doc['address']).to.deep.equal(['now', 'a', 'list']);
      expect((doc['when'] as Date).getTime()).to.equal(7);
      expect([...(doc['bin'] as Buffer)]).to.deep.equal([7]);
    });

    it('an update that changes nothing is matched but not modified', async () => {
      await things.insertOne({ _id: 'x', name: 'Ann', sub: { a: 1, b: [1, 2] }, when: new Date(5) });
      expect(await things.updateOne({ _id: 'x' }, { $set: { name: 'Ann', sub: { a: 1, b: [1, 2] }, when: new Date(5) } }))
        .to.deep.equal({ matchedCount: 1, modifiedCount: 0 });
      expect(await things.updateOne({ _id: 'x' }, { $unset: { nothing: '' } })).to.deep.equal({ matchedCount: 1, modifiedCount: 0 });
      expect(await things.updateOne({ _id: 'x' }, { $inc: { 'sub.a': 0 } })).to.deep.equal({ matchedCount: 1, modifiedCount: 0 });
      expect(await things.updateOne({ _id: 'nobody' }, { $set: { name: 'Z' } })).to.deep.equal({ matchedCount: 0, modifiedCount: 0 });
      expect(await things.countDocuments()).to.equal(1);
    });

    it('$unset removes fields, dotted ones too', async () => {
      await things.insertOne({ _id: 'x', a: 1, b: { c: 2, d: 3 } });
      expect(await things.updateOne({ _id: 'x' }, { $unset: { a: '', 'b.c': 1, 'no.such': 1 } })).to.deep.equal({ matchedCount: 1, modifiedCount: 1 });
      expect(await only()).to.deep.equal({ _id: 'x', b: { d: 3 } });
    });

    it('$inc adds to numbers and creates missing fields', async () => {
      await things.insertOne({ _id: 'x', n: 5, f: 1.5, sub: {} });
      await things.updateOne({ _id: 'x' }, { $inc: { n: -2, f: 0.25, fresh: 10, 'sub.count': 1 } });
      expect(await only()).to.deep.equal({ _id: 'x', n: 3, f: 1.75, fresh: 10, sub: { count: 1 } });
    });

    it('$min and $max keep the smaller or larger value, numbers and Dates', async () => {
      await things.insertOne({ _id: 'x', low: 10, high: 10, first: new Date(5000), last: new Date(5000) });
      await things.updateOne({ _id: 'x' }, { $min: { low: 3, first: new Date(1000), fresh: 7 }, $max: { high: 30, last: new Date(9000) } });
      let doc = await only();
      expect(doc['low']).to.equal(3);
      expect(doc['high']).to.equal(30);
      expect(doc['fresh']).to.equal(7);
      expect((doc['first'] as Date).getTime()).to.equal(1000);
      expect((doc['last'] as Date).getTime()).to.equal(9000);
      expect(await things.updateOne({ _id: 'x' }, { $min: { low: 4 }, $max: { high: 29, last: new Date(8000) } })).to.deep.equal({ matchedCount: 1, modifiedCount: 0 });
      doc = await only();
      expect(doc['low']).to.equal(3);
    });

    it('$push appends, with $each and $slice, and creates the array', async () => {
      await things.insertOne({ _id: 'x', list: [1, 2] });
      await things.updateOne({ _id: 'x' }, { $push: { list: 3, fresh: 'a', nested: [1, 2] } });
      expect(await only()).to.deep.equal({ _id: 'x', list: [1, 2, 3], fresh: ['a'], nested: [[1, 2]] });
      await things.updateOne({ _id: 'x' }, { $push: { list: { $each: [4, 5, 6] } } });
      expect((await only())['list']).to.deep.equal([1, 2, 3, 4, 5, 6]);
      await things.updateOne({ _id: 'x' }, { $push: { list: { $each: [7], $slice: -3 } } });
      expect((await only())['list']).to.deep.equal([5, 6, 7]);
      await things.updateOne({ _id: 'x' }, { $push: { list: { $each: [8], $slice: 2 } } });
      expect((await only())['list']).to.deep.equal([5, 6]);
      await things.updateOne({ _id: 'x' }, { $push: { list: { $each: [], $slice: 0 } } });
      expect((await only())['list']).to.deep.equal([]);
      await things.updateOne({ _id: 'x' }, { $push: { log: { $each: [{ at: new Date(1), what: 'a' }] } } });
      expect((await only())['log']).to.deep.equal([{ at: new Date(1), what: 'a' }]);
    });

    it('$pull removes matching elements: values, conditions, subdocument queries; a missing array is left alone', async () => {
      await things.insertOne({
        _id: 'x', tags: ['a', 'b', 'a', 'c'], nums: [1, 5, 3, 8, 2],
        items: [{ id: 1, name: 'one' }, { id: 2, name: 'two' }, { id: 1, name: 'uno' }],
      });
      expect(await things.updateOne({ _id: 'x' }, { $pull: { tags: 'a', nums: { $gte: 5 }, missing: 1 } })).to.deep.equal({ matchedCount: 1, modifiedCount: 1 });
      let doc = await only();
      expect(doc['tags']).to.deep.equal(['b', 'c']);
      expect(doc['nums']).to.deep.equal([1, 3, 2]);
      expect(doc).to.not.have.property('missing');
      await things.updateOne({ _id: 'x' }, { $pull: { items: { id: 1 }, nums: { $in: [1, 2] } } });
      doc = await only();
      expect(doc['items']).to.deep.equal([{ id: 2, name: 'two' }]);
      expect(doc['nums']).to.deep.equal([3]);
      expect(await things.updateOne({ _id: 'x' }, { $pull: { tags: 'zzz', missing: 'q' } })).to.deep.equal({ matchedCount: 1, modifiedCount: 0 });
    });

    it('$addToSet adds only what is not there yet, with $each, and creates the array', async () => {
      await things.insertOne({ _id: 'x', set: ['a', 'b'], docs: [{ k: 1 }] });
      expect(await things.updateOne({ _id: 'x' }, { $addToSet: { set: 'a' } })).to.deep.equal({ matchedCount: 1, modifiedCount: 0 });
      await things.updateOne({ _id: 'x' }, { $addToSet: { set: { $each: ['b', 'c', 'c', 'd'] }, docs: { k: 1 }, fresh: 'z' } });
      expect(await only()).to.deep.equal({ _id: 'x', set: ['a', 'b', 'c', 'd'], docs: [{ k: 1 }], fresh: ['z'] });
      await things.updateOne({ _id: 'x' }, { $addToSet: { docs: { k: 2 } } });
      expect((await only())['docs']).to.deep.equal([{ k: 1 }, { k: 2 }]);
    });

    it('$setOnInsert does nothing to an existing document', async () => {
      await things.insertOne({ _id: 'x', a: 1 });
      expect(await things.updateOne({ _id: 'x' }, { $setOnInsert: { created: true } })).to.deep.equal({ matchedCount: 1, modifiedCount: 0 });
      expect(await only()).to.deep.equal({ _id: 'x', a: 1 });
    });

    it('updateOne changes one document, updateMany all matches; the counts say which changed', async () => {
      await things.insertMany([{ _id: 'a', g: 1, v: 0 }, { _id: 'b', g: 1, v: 5 }, { _id: 'c', g: 1, v: 0 }, { _id: 'd', g: 2, v: 0 }]);
      expect(await things.updateOne({ g: 1 }, { $inc: { n: 1 } })).to.deep.equal({ matchedCount: 1, modifiedCount: 1 });
      expect(await things.countDocuments({ n: 1 })).to.equal(1);
      expect(await things.updateMany({ g: 1 }, { $set: { v: 5 } })).to.deep.equal({ matchedCount: 3, modifiedCount: 2 });
      expect(await ids({ v: 5 })).to.deep.equal(['a', 'b', 'c']);
      expect((await things.findOne({ _id: 'd' }))!['v']).to.equal(0);
    });

    it('refuses an update the stored value cannot take, changing nothing', async () => {
      await things.insertOne({ _id: 'x', name: 'Ann', city: 'Paris', list: [1] });
      await rejection(() => things.updateOne({ _id: 'x' }, { $inc: { name: 1 } }), StorageUsageError);
      await rejection(() => things.updateOne({ _id: 'x' }, { $push: { name: 'x' } }), StorageUsageError);
      await rejection(() => things.updateOne({ _id: 'x' }, { $addToSet: { name: 'x' } }), StorageUsageError);
      await rejection(() => things.updateOne({ _id: 'x' }, { $pull: { name: 'x' } }), StorageUsageError);
      await rejection(() => things.updateOne({ _id: 'x' }, { $set: { 'city.code': 75 } }), StorageUsageError);
      await rejection(() => things.updateOne({ _id: 'x' }, { $set: { 'list.first': 1 } }), StorageUsageError);
      expect(await only()).to.deep.equal({ _id: 'x', name: 'Ann', city: 'Paris', list: [1] });
    });

    it('refuses updates not made of listed operators, or touching _id or one path twice', async () => {
      await things.insertOne({ _id: 'x', a: 1, tags: ['t'] });
      const bad: unknown[] = [
        {},
        { a: 2 },
        { $set: { b: 1 }, c: 2 },
        { $rename: { a: 'b' } },
        { $currentDate: { at: true } },
        { $pop: { tags: 1 } },
        { $mul: { a: 2 } },
        { $pullAll: { tags: ['t'] } },
        { $bit: { a: { and: 1 } } },
        { $set: { _id: 'y' } },
        { $set: { '_id.x': 'y' } },
        { $set: { a: 2 }, $inc: { a: 1 } },
        { $set: { a: 2, 'a.b': 3 } },
        { $set: { 'tags.$': 'u' } },
        { $set: { 'tags.0': 'u' } },
        { $set: { 'tags.$[]': 'u' } },
        { $set: { a: undefined } },
        { $set: { a: new Map() } },
        { $set: { 'a.': 1 } },
        { $set: 'a' },
        { $inc: { a: '1' } },
        { $inc: { a: Number.NaN } },
        { $min: { a: null } },
        { $push: { tags: { $slice: 1 } } },
        { $push: { tags: { $each: ['u'], $position: 0 } } },
        { $push: { tags: { $each: ['u'], $sort: 1 } } },
        { $push: { tags: { $each: 'u' } } },
        { $addToSet: { tags: { $each: ['u'], $slice: 1 } } },
        { $pull: { tags: ['t'] } },
        { $pull: { tags: { $regex: 't' } } },
      ];
      for (const update of bad) {
        await rejection(() => things.updateOne({ _id: 'x' }, update as Update), StorageUsageError);
        await rejection(() => things.updateMany({}, update as Update), StorageUsageError);
        await rejection(() => things.findOneAndUpdate({ _id: 'x' }, update as Update), StorageUsageError);
      }
      expect(await only()).to.deep.equal({ _id: 'x', a: 1, tags: ['t'] });
    });

    it('concurrent updates of one document all apply', async () => {
      await things.insertOne({ _id: 'x', n: 0, seen: [] });
      await Promise.all(Array.from({ length: 50 }, (_, i) => things.updateOne({ _id: 'x' }, { $inc: { n: 1 }, $push: { seen: i } })));
      const doc = await only();
      expect(doc['n']).to.equal(50);
      expect((doc['seen'] as number[]).slice().sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
    });
  });

  describe('upserts', () => {
    it('inserts the filter equality fields (dotted, $eq, inside $and) plus the update, $setOnInsert included', async () => {
      const created = new Date('2024-01-01T00:00:00Z');
      const result = await things.updateOne(
        { _id: 'u1', 'profile.lang': 'en', kind: { $eq: 'x' }, age: { $gt: 5 }, $and: [{ team: 'a' }, { score: { $lt: 3 } }], $or: [{ p: 1 }, { p: 2 }] },
        { $set: { n: 1 }, $setOnInsert: { created }, $inc: { count: 1 }, $push: { log: 'x' }, $addToSet: { set: 'y' }, $pull: { gone: 1 }, $unset: { none: '' } },
        { upsert: true },
      );
      expect(result).to.deep.equal({ matchedCount: 0, modifiedCount: 0, upsertedId: 'u1' });
      expect(await things.findOne({ _id: 'u1' })).to.deep.equal({
        _id: 'u1', profile: { lang: 'en' }, kind: 'x', team: 'a', n: 1, created, count: 1, log: ['x'], set: ['y'],
      });
    });

    it('generates a string _id when the filter fixes none', async () => {
      const { upsertedId } = await things.updateOne({ name: 'Zed' }, { $set: { age: 9 } }, { upsert: true });
      expect(upsertedId).to.be.a('string').and.match(ID_PATTERN);
      expect(await things.findOne({ name: 'Zed' })).to.deep.equal({ _id: upsertedId, name: 'Zed', age: 9 });
      const many = await things.updateMany({ name: 'Yan', _id: { $in: ['q', 'r'] } }, { $set: { age: 1 } }, { upsert: true });
      expect(many.upsertedId).to.match(ID_PATTERN);
      expect(await things.countDocuments({ name: 'Yan' })).to.equal(1);
    });

    it('updates instead when something matches, without $setOnInsert and without upsertedId', async () => {
      await things.insertOne({ _id: 'u', name: 'Ann', n: 1 });
      const result = await things.updateOne({ name: 'Ann' }, { $inc: { n: 1 }, $setOnInsert: { created: true } }, { upsert: true });
      expect(result).to.deep.equal({ matchedCount: 1, modifiedCount: 1 });
      expect(await things.find({})).to.deep.equal([{ _id: 'u', name: 'Ann', n: 2 }]);
    });

    it('updateMany with upsert updates every match, or inserts exactly one document', async () => {
      await things.insertMany([{ _id: 'a', g: 1 }, { _id: 'b', g: 1 }]);
      expect(await things.updateMany({ g: 1 }, { $set: { seen: true } }, { upsert: true })).to.deep.equal({ matchedCount: 2, modifiedCount: 2 });
      const inserted = await things.updateMany({ g: 2 }, { $set: { seen: true } }, { upsert: true });
      expect(inserted.matchedCount).to.equal(0);
      expect(await things.find({ g: 2 })).to.deep.equal([{ _id: inserted.upsertedId, g: 2, seen: true }]);
    });

    it('concurrent upserts of one _id leave one document', async () => {
      await Promise.all(Array.from({ length: 20 }, () => things.updateOne({ _id: 'once' }, { $inc: { n: 1 } }, { upsert: true })));
      expect(await things.find({})).to.deep.equal([{ _id: 'once', n: 20 }]);
    });

    it('refuses filters MongoDB would fold into equalities, and equality conflicts', async () => {
      await rejection(() => things.updateOne({ name: { $in: ['Ann'] } }, { $set: { a: 1 } }, { upsert: true }), StorageUsageError);
      await rejection(() => things.updateOne({ $or: [{ name: 'Ann' }] }, { $set: { a: 1 } }, { upsert: true }), StorageUsageError);
      await rejection(() => things.updateOne({ $and: [{ name: { $in: ['Ann'] } }] }, { $set: { a: 1 } }, { upsert: true }), StorageUsageError);
      await rejection(() => things.updateOne({ $and: [{ a: 1 }, { a: 1 }] }, { $set: { b: 1 } }, { upsert: true }), StorageUsageError);
      await rejection(() => things.updateOne({ a: 1, $and: [{ 'a.b': 1 }] }, { $set: { b: 1 } }, { upsert: true }), StorageUsageError);
      await rejection(() => things.updateOne({ _id: { $eq: 7 } }, { $set: { b: 1 } }, { upsert: true }), StorageUsageError);
      expect(await things.countDocuments()).to.equal(0);
      // Without upsert the same filters are fine.
      expect(await things.updateOne({ name: { $in: ['Ann'] } }, { $set: { a: 1 } })).to.deep.equal({ matchedCount: 0, modifiedCount: 0 });
    });
  });

  describe('findOneAndUpdate', () => {
    beforeEach(async () => {
      await things.insertMany([{ _id: 'a', q: 'x', n: 1 }, { _id: 'b', q: 'x', n: 2 }, { _id: 'c', q: 'y', n: 3 }]);
    });

    it('returns the document before the update by default, after with returnDocument: after', async () => {
      expect(await things.findOneAndUpdate({ _id: 'a' }, { $inc: { n: 10 } })).to.deep.equal({ _id: 'a', q: 'x', n: 1 });
      expect(await things.findOneAndUpdate({ _id: 'a' }, { $inc: { n: 10 } }, { returnDocument: 'before' })).to.deep.equal({ _id: 'a', q: 'x', n: 11 });
      expect(await things.findOneAndUpdate({ _id: 'a' }, { $inc: { n: 10 } }, { returnDocument: 'after' })).to.deep.equal({ _id: 'a', q: 'x', n: 31 });
      expect((await things.findOne({ _id: 'a' }))!['n']).to.equal(31);
    });

    it('takes the first match in sort order, and applies the projection', async () => {
      const claimed = await things.findOneAndUpdate({ q: 'x' }, { $set: { taken: true } }, { sort: { n: -1 }, projection: { n: 1, _id: 0 }, returnDocument: 'after' });
      expect(claimed).to.deep.equal({ n: 2 });
      expect(await ids({ taken: true })).to.deep.equal(['b']);
      const next = await things.findOneAndUpdate({ q: 'x', taken: { $exists: false } }, { $set: { taken: true } }, { sort: { n: -1 } });
      expect(next).to.deep.equal({ _id: 'a', q: 'x', n: 1 });
    });

    it('returns null when nothing matches, inserting only with upsert', async () => {
      expect(await things.findOneAndUpdate({ q: 'z' }, { $set: { n: 9 } })).to.equal(null);
      expect(await things.countDocuments({ q: 'z' })).to.equal(0);
      expect(await things.findOneAndUpdate({ _id: 'd', q: 'z' }, { $set: { n: 9 } }, { upsert: true })).to.equal(null);
      expect(await things.findOne({ _id: 'd' })).to.deep.equal({ _id: 'd', q: 'z', n: 9 });
      const after = await things.findOneAndUpdate({ q: 'w' }, { $set: { n: 8 } }, { upsert: true, returnDocument: 'after' });
      expect(after).to.deep.include({ q: 'w', n: 8 });
      expect(after!._id).to.match(ID_PATTERN);
      expect(await things.findOne({ _id: after!._id })).to.deep.equal(after);
    });
  });

  describe('delete and count', () => {
    beforeEach(async () => {
      await things.insertMany([{ _id: 'a', g: 1 }, { _id: 'b', g: 1 }, { _id: 'c', g: 2 }]);
    });

    it('deleteOne removes one match, deleteMany all of them', async () => {
      expect(await things.deleteOne({ g: 1 })).to.deep.equal({ deletedCount: 1 });
      expect(await things.countDocuments({ g: 1 })).to.equal(1);
      expect(await things.deleteOne({ g: 9 })).to.deep.equal({ deletedCount: 0 });
      await things.insertOne({ _id: 'd', g: 1 });
      expect(await things.deleteMany({ g: 1 })).to.deep.equal({ deletedCount: 2 });
      expect(await ids({})).to.deep.equal(['c']);
      expect(await things.deleteMany({})).to.deep.equal({ deletedCount: 1 });
      expect(await things.countDocuments()).to.equal(0);
    });

    it('countDocuments counts everything or the matches', async () => {
      expect(await things.countDocuments()).to.equal(3);
      expect(await things.countDocuments({})).to.equal(3);
      expect(await things.countDocuments({ g: 1 })).to.equal(2);
      expect(await things.countDocuments({ g: { $gt: 5 } })).to.equal(0);
      expect(await store.collection('empty').countDocuments()).to.equal(0);
    });
  });

  describe('indexes', () => {
    it('a unique index refuses a duplicate insert with DuplicateKeyError naming the index', async () => {
      expect(await things.createIndex({ email: 1 }, { unique: true })).to.equal('email_1');
      await things.insertOne({ _id: 'a', email: 'a@x' });
      const error = await rejection(() => things.insertOne({ _id: 'b', email: 'a@x' }), DuplicateKeyError);
      expect(error.collection).to.equal('things');
      expect(error.index).to.equal('email_1');
      expect(error.key).to.deep.equal({ email: 'a@x' });
      expect(await ids({})).to.deep.equal(['a']);
    });

    it('a unique index refuses an update that would duplicate, leaving the document as it was', async () => {
      await things.createIndex({ email: 1 }, { unique: true, name: 'by_email' });
      await things.insertMany([{ _id: 'a', email: 'a@x' }, { _id: 'b', email: 'b@x' }]);
      const error = await rejection(() => things.updateOne({ _id: 'b' }, { $set: { email: 'a@x' } }), DuplicateKeyError);
      expect(error.index).to.equal('by_email');
      await rejection(() => things.findOneAndUpdate({ _id: 'b' }, { $set: { email: 'a@x' } }), DuplicateKeyError);
      await rejection(() => things.updateMany({ _id: { $in: ['a', 'b'] } }, { $set: { email: 'same@x' } }), DuplicateKeyError);
      expect((await things.findOne({ _id: 'b' }))!['email']).to.equal('b@x');
      expect(await things.countDocuments({ email: 'same@x' })).to.be.at.most(1);
    });

    it('a unique index refuses an upsert that would insert a duplicate', async () => {
      await things.createIndex({ email: 1 }, { unique: true });
      await things.insertOne({ _id: 'a', email: 'a@x' });
      const error = await rejection(() => things.updateOne({ _id: 'b' }, { $set: { email: 'a@x' } }, { upsert: true }), DuplicateKeyError);
      expect(error.index).to.equal('email_1');
      await rejection(() => things.findOneAndUpdate({ _id: 'b' }, { $set: { email: 'a@x' } }, { upsert: true }), DuplicateKeyError);
      await rejection(() => things.updateOne({ email: 'a@x', _id: 'c' }, { $set: { n: 1 } }, { upsert: true }), DuplicateKeyError);
      expect(await ids({})).to.deep.equal(['a']);
    });

    it('compound unique indexes compare the whole key', async () => {
      await things.createIndex({ room: 1, nick: 1 }, { unique: true });
      await things.insertMany([{ room: 'r1', nick: 'ann' }, { room: 'r1', nick: 'bob' }, { room: 'r2', nick: 'ann' }]);
      const error = await rejection(() => things.insertOne({ room: 'r1', nick: 'ann' }), DuplicateKeyError);
      expect(error.index).to.equal('room_1_nick_1');
      expect(error.key).to.deep.equal({ room: 'r1', nick: 'ann' });
      expect(await things.countDocuments()).to.equal(3);
    });

    it('a sparse unique index allows many documents without the field; a plain one only one', async () => {
      await things.createIndex({ jid: 1 }, { unique: true, sparse: true });
      await things.createIndex({ code: 1 }, { unique: true });
      await things.insertMany([{ _id: 'a', code: 1 }, { _id: 'b', code: 2 }]);
      await things.insertOne({ _id: 'c', jid: 'c@x' });
      await rejection(() => things.insertOne({ _id: 'd', jid: 'c@x', code: 4 }), DuplicateKeyError);
      await rejection(() => things.insertOne({ _id: 'e', jid: 'e@x' }), DuplicateKeyError); // a second document without code
      expect(await ids({})).to.deep.equal(['a', 'b', 'c']);
    });

    it('creating a unique index over duplicates fails with DuplicateKeyError and creates nothing', async () => {
      await things.insertMany([{ _id: 'a', v: 1 }, { _id: 'b', v: 1 }]);
      const error = await rejection(() => things.createIndex({ v: 1 }, { unique: true }), DuplicateKeyError);
      expect(error.index).to.equal('v_1');
      expect(await things.indexes()).to.deep.equal([]);
      await things.insertOne({ _id: 'c', v: 1 });
      expect(await things.countDocuments({ v: 1 })).to.equal(3);
    });

    it('createIndex is idempotent, lists what exists, and changes a TTL when asked', async () => {
      expect(await things.createIndex({ domain: 1, local: -1 })).to.equal('domain_1_local_-1');
      expect(await things.createIndex({ domain: 1, local: -1 })).to.equal('domain_1_local_-1');
      expect(await things.createIndex({ at: 1 }, { expireAfterSeconds: 3600, name: 'expiry' })).to.equal('expiry');
      expect(await things.createIndex({ 'a.b': 1 }, { sparse: true })).to.equal('a.b_1');
      const sortByName = (list: { name: string }[]): { name: string }[] => list.slice().sort((x, y) => (x.name < y.name ? -1 : 1));
      expect(sortByName(await things.indexes())).to.deep.equal([
        { name: 'a.b_1', keys: { 'a.b': 1 }, unique: false, sparse: true },
        { name: 'domain_1_local_-1', keys: { domain: 1, local: -1 }, unique: false, sparse: false },
        { name: 'expiry', keys: { at: 1 }, unique: false, sparse: false, expireAfterSeconds: 3600 },
      ]);
      expect(await things.createIndex({ at: 1 }, { expireAfterSeconds: 60, name: 'expiry' })).to.equal('expiry');
      expect((await things.indexes()).find((index) => index.name === 'expiry')?.expireAfterSeconds).to.equal(60);
    });

    it('refuses conflicting or malformed index requests', async () => {
      await things.createIndex({ email: 1 }, { unique: true });
      await rejection(() => things.createIndex({ email: 1 }), StorageUsageError);
      await rejection(() => things.createIndex({ email: 1 }, { unique: true, name: 'other' }), StorageUsageError);
      await rejection(() => things.createIndex({ other: 1 }, { name: 'email_1' }), StorageUsageError);
      await rejection(() => things.createIndex({ email: 1 }, { unique: true, expireAfterSeconds: 5 }), StorageUsageError);
      const bad: [Record<string, unknown>, Record<string, unknown>?][] = [
        [{}], [{ a: 2 }], [{ a: 'text' }], [{ _id: 1 }], [{ $a: 1 }],
        [{ a: 1, b: 1 }, { expireAfterSeconds: 10 }], [{ 'a.b': 1 }, { expireAfterSeconds: 10 }],
        [{ a: 1 }, { expireAfterSeconds: -1 }], [{ a: 1 }, { expireAfterSeconds: 1.5 }], [{ a: 1 }, { unique: 'yes' }],
        [{ a: 1 }, { name: '' }],
      ];
      for (const [keys, options] of bad) await rejection(() => things.createIndex(keys as never, options as never), StorageUsageError);
      expect((await things.indexes()).map((index) => index.name)).to.deep.equal(['email_1']);
    });

    it('ensureCollections creates every declared index, and again is a no-op', async () => {
      const specs: CollectionSpec[] = [
        { name: 'accounts', indexes: [{ keys: { domain: 1, local: 1 }, name: 'by_domain' }], version: 1 },
        { name: 'offline', indexes: [{ keys: { owner: 1 } }, { keys: { expiresAt: 1 }, expireAfterSeconds: 86400 }] },
      ];
      await ensureCollections(store, specs);
      await ensureCollections(store, specs);
      expect(await store.collection('accounts').indexes()).to.deep.equal([{ name: 'by_domain', keys: { domain: 1, local: 1 }, unique: false, sparse: false }]);
      expect((await store.collection('offline').indexes()).map((i) => [i.name, i.expireAfterSeconds])).to.have.deep.members([
        ['owner_1', undefined],
        ['expiresAt_1', 86400],
      ]);
    });
  });

  describe('TTL', () => {
    it('a TTL index records its expireAfterSeconds', async () => {
      await things.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
      expect(await things.indexes()).to.deep.equal([{ name: 'expiresAt_1', keys: { expiresAt: 1 }, unique: false, sparse: false, expireAfterSeconds: 0 }]);
    });

    if (target.ttlExpiry === 'prompt') {
      it('expired documents are never returned nor counted; others stay', async () => {
        await things.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
        const now = Date.now();
        await things.insertMany([
          { _id: 'soon', expiresAt: new Date(now + 150) },
          { _id: 'later', expiresAt: new Date(now + 3_600_000) },
          { _id: 'never' },
          { _id: 'text', expiresAt: 'not a date' },
        ]);
        expect(await ids({})).to.deep.equal(['later', 'never', 'soon', 'text']);
        await sleep(300);
        expect(await things.findOne({ _id: 'soon' })).to.equal(null);
        expect(await things.countDocuments()).to.equal(3);
        expect(await ids({})).to.deep.equal(['later', 'never', 'text']);
        expect(await things.updateOne({ _id: 'soon' }, { $set: { x: 1 } })).to.deep.equal({ matchedCount: 0, modifiedCount: 0 });
      });

      it('expiry counts expireAfterSeconds from the stored Date', async () => {
        await things.createIndex({ createdAt: 1 }, { expireAfterSeconds: 1 });
        await things.insertMany([{ _id: 'old', createdAt: new Date(Date.now() - 900) }, { _id: 'new', createdAt: new Date() }]);
        expect(await ids({})).to.deep.equal(['new', 'old']);
        await sleep(300);
        expect(await ids({})).to.deep.equal(['new']);
      });
    } else {
      it.skip(`expired documents disappear (skipped: ${target.ttlExpiry.skip})`);
    }
  });

  describe('collections', () => {
    it('dropCollection removes the documents and indexes; the name can be used again', async () => {
      await things.createIndex({ v: 1 }, { unique: true });
      await things.insertMany([{ v: 1 }, { v: 2 }]);
      await store.dropCollection('things');
      expect(await things.countDocuments()).to.equal(0);
      expect(await things.indexes()).to.deep.equal([]);
      await things.insertMany([{ v: 1 }, { v: 1 }]);
      expect(await things.countDocuments({ v: 1 })).to.equal(2);
      await store.dropCollection('never_created');
    });

    it('collections are separate', async () => {
      const other = store.collection<Thing>('other');
      await things.insertOne({ _id: 'same', where: 'things' });
      await other.insertOne({ _id: 'same', where: 'other' });
      expect((await things.findOne({ _id: 'same' }))!['where']).to.equal('things');
      expect((await other.findOne({ _id: 'same' }))!['where']).to.equal('other');
    });
  });

  describe('persistence', () => {
    (target.persistent === true ? it : it.skip)(
      `documents and indexes survive close and reopen${target.persistent === true ? '' : ` (skipped: ${target.persistent.skip})`}`,
      async () => {
        await things.createIndex({ email: 1 }, { unique: true });
        await things.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 3600 });
        const expiresAt = new Date();
        await things.insertMany([
          { _id: 'a', email: 'a@x', bin: Buffer.from([1, 2]), when: new Date(1234), expiresAt },
          { _id: 'b', email: 'b@x' },
        ]);
        await things.updateOne({ _id: 'b' }, { $set: { n: 1 } });
        await things.deleteOne({ _id: 'b' });
        await things.insertOne({ _id: 'c', email: 'c@x' });
        await store.close();
        store = await opened.reopen!();
        const again = store.collection<Thing>('things');
        expect(await again.find({}, { sort: { _id: 1 } })).to.deep.equal([
          { _id: 'a', email: 'a@x', bin: Buffer.from([1, 2]), when: new Date(1234), expiresAt },
          { _id: 'c', email: 'c@x' },
        ]);
        const error = await rejection(() => again.insertOne({ email: 'a@x' }), DuplicateKeyError);
        expect(error.index).to.equal('email_1');
        expect(await again.indexes()).to.have.deep.members([
          { name: 'email_1', keys: { email: 1 }, unique: true, sparse: false },
          { name: 'expiresAt_1', keys: { expiresAt: 1 }, unique: false, sparse: false, expireAfterSeconds: 3600 },
        ]);
      },
    );
  });
}
