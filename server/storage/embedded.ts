// The embedded adapter: one NeDB (@seald-io/nedb) datastore per collection, each an append-only
// file `<dir>/<collection>.db` loaded at open, or in memory for tests.
//
// LIMIT: NeDB keeps the whole data set in memory (measured: 200k documents ~270 MB RSS, ~4 s to
// load). Right for evaluation, tests and small installs; larger ones use the MongoDB adapter.
// Writes resolve once appended to the file (no fsync: they survive a process crash, not
// necessarily a power cut); compaction rewrites a file crash-safely (temp file, fsync, rename).
//
// NeDB is used for what it does well: persistence, indexes (unique, sparse, TTL) and picking
// candidates from them. Matching, updates and upserts follow MongoDB's semantics in embedded/
// (NeDB's differ), so read-modify-write operations on a collection run one at a time.
import nedbExports from '@seald-io/nedb';
import { rm, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../log.ts';
import {
  DuplicateKeyError, StorageUsageError,
  type Collection, type DeleteResult, type Doc, type Filter, type FindOneAndUpdateOptions, type FindOneOptions, type FindOptions,
  type IndexDescription, type IndexKeys, type IndexOptions, type InsertManyResult, type InsertOneResult, type NewDoc,
  type Projection, type Store, type Update, type UpdateOptions, type UpdateResult,
} from './port.ts';
import {
  checkCollectionName, checkDocument, checkFilter, checkFindOneAndUpdateOptions, checkFindOptions, checkIndex, checkUpdate,
  checkUpsertFilter, projectionMode, type ProjectionMode,
} from './validate.ts';
import { planIndex } from './index-plan.ts';
import { upsertSeed } from './upsert-seed.ts';
import { newId } from './new-id.ts';
import { lockDirectory, type DirectoryLock } from './directory-lock.ts';
import { toStored, fromStoredInPlace, project } from './embedded/codec.ts';
import { toNedbQuery, type NedbQuery } from './embedded/nedb-query.ts';
import { applyUpdate } from './embedded/apply-update.ts';
import { compareCodePoints, deepEquals, isDocument, type StoredDoc } from './embedded/values.ts';

// COMPAT(@seald-io/nedb 4): the package is CommonJS (`module.exports = Datastore`) while its typings
// declare a default export, which TypeScript then places under `.default`.
const Datastore = ((nedbExports as unknown as { default?: unknown }).default ?? nedbExports) as typeof nedbExports.default;
type Datastore = InstanceType<typeof Datastore>;

export interface EmbeddedStoreOptions {
  /** Directory holding `<collection>.db` files (created if missing). */
  dir?: string;
  /** Keep everything in memory (tests); `dir` is then ignored. */
  inMemory?: boolean;
  /** How often collections written since the last rewrite are compacted; 0 = only at close. */
  compactionIntervalMs?: number;
  /** How often expired TTL documents are deleted even when nothing reads them (MongoDB's TTL monitor: 60 s). */
  ttlSweepIntervalMs?: number;
  log?: Logger;
}

const DEFAULT_COMPACTION_INTERVAL_MS = 60 * 60 * 1000; // 1 h: a rewrite costs O(collection size)
const DEFAULT_TTL_SWEEP_INTERVAL_MS = 60 * 1000; // 1 min, as MongoDB's TTL monitor

/**
 * Index definitions live in their own datastore: NeDB keeps unique/sparse in each data file but
 * neither names, key order nor TTLs (its TTL is lost at reload). Collection names start with a
 * letter, so this one cannot clash.
 */
const CATALOG = '_indexes';

interface CatalogEntry {
  _id: string;
  collection: string;
  name: string;
  /** [path, direction] pairs: paths hold dots, which NeDB refuses in field names. */
  keys: [string, 1 | -1][];
  unique: boolean;
  sparse: boolean;
  expireAfterSeconds?: number;
}

function describe(entry: CatalogEntry): IndexDescription {
  const description: IndexDescription = { name: entry.name, keys: Object.fromEntries(entry.keys) as IndexKeys, unique: entry.unique, sparse: entry.sparse };
  if (entry.expireAfterSeconds !== undefined) description.expireAfterSeconds = entry.expireAfterSeconds;
  return description;
}

/** NeDB identifies an index by its sorted field list (and ignores directions). */
function nedbFieldName(keys: IndexKeys): string {
  return Object.keys(keys).sort().join(',');
}

function nedbIndexOptions(index: IndexDescription): { fieldName: string | string[]; unique: boolean; sparse: boolean; expireAfterSeconds?: number } {
  const paths = Object.keys(index.keys);
  const options: ReturnType<typeof nedbIndexOptions> = { fieldName: paths.length === 1 ? paths[0]! : paths, unique: index.unique, sparse: index.sparse };
  if (index.expireAfterSeconds !== undefined) options.expireAfterSeconds = index.expireAfterSeconds;
  return options;
}

/**
 * COMPAT(@seald-io/nedb 4): ensureIndex returns early for an index already restored from the data
 * file and never restores TTLs, so the TTL is set on the datastore's own table.
 */
function setNedbTtl(db: Datastore, field: string, seconds: number): void {
  const table = (db as unknown as { ttlIndexes?: Record<string, number> }).ttlIndexes;
  if (typeof table !== 'object' || table === null) throw new Error('@seald-io/nedb: no ttlIndexes table; TTL support changed');
  table[field] = seconds;
}

function isUniqueViolation(error: unknown): error is { key?: unknown } {
  return typeof error === 'object' && error !== null && (error as { errorType?: unknown }).errorType === 'uniqueViolated';
}

function getPath(doc: StoredDoc, path: string): unknown {
  let node: unknown = doc;
  for (const part of path.split('.')) {
    if (!isDocument(node)) return undefined;
    node = node[part];
  }
  return node;
}

class CollectionState {
  loaded = false;
  dropped = false;
  /** Written since the last compaction. */
  dirty = false;
  indexes: IndexDescription[] = [];
  ready: Promise<void> = Promise.resolve();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly name: string, readonly db: Datastore, readonly persistent: boolean) {}

  /** Runs read-modify-write tasks one at a time, so two updates never both read the old value. */
  serial<R>(task: () => Promise<R>): Promise<R> {
    const run = this.tail.then(() => {
      if (this.dropped) throw new StorageUsageError(`collection ${this.name} was dropped`);
      return task();
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  idle(): Promise<unknown> {
    return this.tail;
  }

  /** Which index refused a write: best effort, as NeDB's error only carries the key value. */
  duplicateKeyError(error: { key?: unknown }, doc: StoredDoc | undefined, building?: IndexDescription): DuplicateKeyError {
    const rawKey = fromStoredInPlace(structuredClone(error.key));
    const candidates: { name: string; paths: string[] }[] = [{ name: '_id_', paths: ['_id'] }];
    for (const index of this.indexes) if (index.unique) candidates.push({ name: index.name, paths: Object.keys(index.keys) });
    const found = building
      ? { name: building.name, paths: Object.keys(building.keys) }
      : doc && candidates.find(({ paths }) => keyMatches(doc, paths, error.key));
    // Shaped like MongoDB's keyValue: { path: value }.
    const key = found && found.paths.length === 1 ? { [found.paths[0]!]: rawKey } : rawKey;
    return new DuplicateKeyError({ collection: this.name, index: found?.name, key }, { cause: error });
  }

  writeError(error: unknown, doc?: StoredDoc, building?: IndexDescription): unknown {
    return isUniqueViolation(error) ? this.duplicateKeyError(error, doc, building) : error;
  }
}

function keyMatches(doc: StoredDoc, paths: string[], key: unknown): boolean {
  if (paths.length === 1) {
    const value = getPath(doc, paths[0]!);
    return deepEquals(value, key) || (Array.isArray(value) && value.some((element) => deepEquals(element, key)));
  }
  return isDocument(key) && paths.every((path) => deepEquals(getPath(doc, path), key[path]));
}

export class EmbeddedStore implements Store {
  readonly kind = 'embedded' as const;
  private readonly states = new Map<string, CollectionState>();
  private readonly handles = new Map<string, EmbeddedCollection<Doc>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private maintenance: Promise<void> | null = null;
  private closed = false;
  /** Held while open on a directory (server/storage/directory-lock.ts). */
  lock: DirectoryLock | null = null;

  private constructor(
    private readonly dir: string | undefined,
    private readonly catalog: Datastore,
    private readonly log: Logger,
  ) {}

  static async open(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
    const dir = options.inMemory ? undefined : options.dir;
    if (!options.inMemory && !dir) throw new StorageUsageError('the embedded store needs a directory or inMemory: true');
    if (dir) await mkdir(dir, { recursive: true });
    const lock = dir ? await lockDirectory(dir) : null;
    const catalog = new Datastore(dir ? { filename: join(dir, `${CATALOG}.db`) } : { inMemoryOnly: true });
    try {
      await catalog.loadDatabaseAsync();
    } catch (err) {
      await lock?.release();
      throw err;
    }
    const store = new EmbeddedStore(dir, catalog, options.log ?? silentLogger);
    store.lock = lock;
    const compactionMs = options.compactionIntervalMs ?? DEFAULT_COMPACTION_INTERVAL_MS;
    if (dir && compactionMs > 0) store.every(compactionMs, () => store.compactChanged());
    store.every(options.ttlSweepIntervalMs ?? DEFAULT_TTL_SWEEP_INTERVAL_MS, () => store.sweepExpired());
    return store;
  }

  collection<T extends Doc>(name: string): Collection<T> {
    if (this.closed) throw new StorageUsageError('the store is closed');
    let handle = this.handles.get(name);
    if (!handle) {
      checkCollectionName(name);
      handle = new EmbeddedCollection<Doc>(this, name);
      this.handles.set(name, handle);
    }
    return handle as unknown as Collection<T>;
  }

  /** The loaded datastore of a collection, opened on first use. */
  async state(name: string): Promise<CollectionState> {
    if (this.closed) throw new StorageUsageError('the store is closed');
    let state = this.states.get(name);
    if (!state) {
      state = this.load(name);
      this.states.set(name, state);
    }
    if (!state.loaded) await state.ready;
    return state;
  }

  private load(name: string): CollectionState {
    const db = new Datastore(
      this.dir
        ? { filename: join(this.dir, `${name}.db`), compareStrings: compareCodePoints }
        : { inMemoryOnly: true, compareStrings: compareCodePoints },
    );
    const state = new CollectionState(name, db, this.dir !== undefined);
    state.ready = (async () => {
      await db.loadDatabaseAsync();
      const entries = (await this.catalog.findAsync({ collection: name })) as unknown as CatalogEntry[];
      for (const entry of entries) {
        const index = describe(entry);
        await db.ensureIndexAsync(nedbIndexOptions(index)); // a no-op when the data file restored it
        if (index.expireAfterSeconds !== undefined) setNedbTtl(db, Object.keys(index.keys)[0]!, index.expireAfterSeconds);
        state.indexes.push(index);
      }
      state.loaded = true;
    })();
    // Failures reach callers through state(); this only keeps the rejection from being unhandled.
    state.ready.catch(() => undefined);
    return state;
  }

  async addIndex(state: CollectionState, wanted: IndexDescription): Promise<string> {
    return state.serial(async () => {
      const plan = planIndex(state.indexes, wanted);
      const id = `${state.name}/${wanted.name}`;
      const field = Object.keys(wanted.keys)[0]!;
      if (plan.action === 'exists') return wanted.name;
      if (plan.action === 'setTtl') {
        setNedbTtl(state.db, field, plan.expireAfterSeconds);
        await this.catalog.updateAsync({ _id: id }, { $set: { expireAfterSeconds: plan.expireAfterSeconds } });
        state.indexes = state.indexes.map((index) => (index.name === wanted.name ? { ...index, expireAfterSeconds: plan.expireAfterSeconds } : index));
        return wanted.name;
      }
      const fieldName = nedbFieldName(wanted.keys);
      const overlapping = state.indexes.find((index) => nedbFieldName(index.keys) === fieldName);
      if (overlapping) throw new StorageUsageError(`index ${wanted.name}: the embedded store holds one index per set of fields, and ${overlapping.name} covers them`);
      try {
        await state.db.ensureIndexAsync(nedbIndexOptions(wanted));
      } catch (error) {
        throw state.writeError(error, undefined, wanted);
      }
      if (wanted.expireAfterSeconds !== undefined) setNedbTtl(state.db, field, wanted.expireAfterSeconds);
      const entry: CatalogEntry = {
        _id: id, collection: state.name, name: wanted.name, keys: Object.entries(wanted.keys), unique: wanted.unique, sparse: wanted.sparse,
      };
      if (wanted.expireAfterSeconds !== undefined) entry.expireAfterSeconds = wanted.expireAfterSeconds;
      await this.catalog.updateAsync({ _id: id }, entry, { upsert: true });
      state.indexes = [...state.indexes, wanted];
      state.dirty = true;
      return wanted.name;
    });
  }

  /** For tests and migrations: operations on the collection must not run meanwhile. */
  async dropCollection(name: string): Promise<void> {
    checkCollectionName(name);
    if (this.closed) throw new StorageUsageError('the store is closed');
    const state = this.states.get(name);
    this.states.delete(name);
    if (state) {
      await state.ready.catch(() => undefined);
      await state.idle();
      state.dropped = true;
      await state.db.dropDatabaseAsync();
    } else if (this.dir) {
      await rm(join(this.dir, `${name}.db`), { force: true });
    }
    await this.catalog.removeAsync({ collection: name }, { multi: true });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.maintenance;
    for (const state of this.states.values()) {
      await state.ready.catch(() => undefined);
      await state.idle();
      if (state.loaded && state.persistent) await state.db.compactDatafileAsync();
    }
    if (this.dir) await this.catalog.compactDatafileAsync();
    await this.lock?.release();
  }

  private every(intervalMs: number, task: () => Promise<void>): void {
    const timer = setInterval(() => {
      if (this.maintenance || this.closed) return;
      this.maintenance = task().finally(() => {
        this.maintenance = null;
      });
    }, intervalMs);
    timer.unref();
    this.timers.push(timer);
  }

  /** Rewrites the files of collections written since their last rewrite (appends leave garbage behind). */
  private async compactChanged(): Promise<void> {
    for (const state of this.states.values()) {
      if (!state.loaded || !state.dirty || this.closed) continue;
      state.dirty = false;
      try {
        await state.db.compactDatafileAsync();
      } catch (err) {
        state.dirty = true;
        this.log.warn({ err, collection: state.name }, 'embedded store: compaction failed');
      }
    }
  }

  /**
   * NeDB only deletes an expired document when a query meets it; this query meets every expired
   * one through the TTL index (O(log n + expired)), so unread collections do not keep them.
   */
  private async sweepExpired(): Promise<void> {
    for (const state of this.states.values()) {
      if (!state.loaded || this.closed) continue;
      for (const index of state.indexes) {
        if (index.expireAfterSeconds === undefined) continue;
        const field = Object.keys(index.keys)[0]!;
        try {
          await state.db.countAsync({ [field]: { $lt: new Date(Date.now() - index.expireAfterSeconds * 1000) } });
          state.dirty = true;
        } catch (err) {
          this.log.warn({ err, collection: state.name }, 'embedded store: TTL sweep failed');
        }
      }
    }
  }
}

function output<T>(doc: StoredDoc, projection: Projection | undefined, mode: ProjectionMode | undefined): T {
  return fromStoredInPlace(projection && mode ? project(doc, projection, mode) : doc) as T;
}

class EmbeddedCollection<T extends Doc> implements Collection<T> {
  constructor(private readonly store: EmbeddedStore, readonly name: string) {}

  private state(): Promise<CollectionState> {
    return this.store.state(this.name);
  }

  async insertOne(doc: NewDoc<T>): Promise<InsertOneResult> {
    checkDocument(doc);
    const stored = toStored(doc) as StoredDoc;
    stored['_id'] ??= newId();
    const state = await this.state();
    try {
      await state.db.insertAsync(stored);
    } catch (error) {
      throw state.writeError(error, stored);
    }
    state.dirty = true;
    return { insertedId: stored['_id'] as string };
  }

  async insertMany(docs: NewDoc<T>[]): Promise<InsertManyResult> {
    for (const doc of docs) checkDocument(doc);
    if (docs.length === 0) return { insertedIds: [] };
    const stored = docs.map((doc) => {
      const copy = toStored(doc) as StoredDoc;
      copy['_id'] ??= newId();
      return copy;
    });
    const state = await this.state();
    try {
      await state.db.insertAsync(stored);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // NeDB inserted none of them; MongoDB's ordered insertMany keeps those before the duplicate.
      for (const doc of stored) {
        try {
          await state.db.insertAsync(doc);
        } catch (error) {
          state.dirty = true;
          throw state.writeError(error, doc);
        }
      }
    }
    state.dirty = true;
    return { insertedIds: stored.map((doc) => doc['_id'] as string) };
  }

  async findOne(filter: Filter<T>, options?: FindOneOptions): Promise<T | null> {
    checkFilter(filter);
    checkFindOptions(options);
    const mode = options?.projection ? projectionMode(options.projection) : undefined;
    const query = toNedbQuery(toStored(filter) as StoredDoc);
    const state = await this.state();
    const found = await this.first(state, query, options?.sort);
    return found ? output<T>(found, options?.projection, mode) : null;
  }

  async find(filter: Filter<T>, options: FindOptions = {}): Promise<T[]> {
    checkFilter(filter);
    checkFindOptions(options);
    const mode = options.projection ? projectionMode(options.projection) : undefined;
    const query = toNedbQuery(toStored(filter) as StoredDoc);
    const state = await this.state();
    const cursor = state.db.findAsync(query);
    if (options.sort) cursor.sort(options.sort);
    if (options.skip) cursor.skip(options.skip);
    if (options.limit) cursor.limit(options.limit);
    const docs = (await cursor) as unknown as StoredDoc[];
    return docs.map((doc) => output<T>(doc, options.projection, mode));
  }

  updateOne(filter: Filter<T>, update: Update, options?: UpdateOptions): Promise<UpdateResult> {
    return this.update(filter, update, options, false);
  }

  updateMany(filter: Filter<T>, update: Update, options?: UpdateOptions): Promise<UpdateResult> {
    return this.update(filter, update, options, true);
  }

  private async update(filter: Filter<T>, update: Update, options: UpdateOptions | undefined, multi: boolean): Promise<UpdateResult> {
    const { query, changes, seed } = prepareUpdate(filter, update, options?.upsert === true);
    const state = await this.state();
    return state.serial(async () => {
      const found = multi
        ? ((await state.db.findAsync(query)) as unknown as StoredDoc[])
        : [await this.first(state, query, undefined)].filter((doc): doc is StoredDoc => doc !== null);
      if (found.length === 0) {
        if (!seed) return { matchedCount: 0, modifiedCount: 0 };
        const inserted = await this.insertUpserted(state, seed, changes);
        return { matchedCount: 0, modifiedCount: 0, upsertedId: inserted['_id'] as string };
      }
      // Apply to every copy first: an update that cannot apply to one document writes nothing.
      const modified = found.filter((doc) => applyUpdate(doc, changes, false));
      for (const doc of modified) await this.replace(state, doc);
      return { matchedCount: found.length, modifiedCount: modified.length };
    });
  }

  async findOneAndUpdate(filter: Filter<T>, update: Update, options: FindOneAndUpdateOptions = {}): Promise<T | null> {
    checkFindOneAndUpdateOptions(options);
    const { query, changes, seed } = prepareUpdate(filter, update, options.upsert === true);
    const mode = options.projection ? projectionMode(options.projection) : undefined;
    const after = options.returnDocument === 'after';
    const state = await this.state();
    return state.serial(async () => {
      const found = await this.first(state, query, options.sort);
      if (!found) {
        if (!seed) return null;
        const inserted = await this.insertUpserted(state, seed, changes);
        return after ? output<T>(inserted, options.projection, mode) : null;
      }
      const before = after ? undefined : structuredClone(found);
      if (applyUpdate(found, changes, false)) await this.replace(state, found);
      return output<T>(before ?? found, options.projection, mode);
    });
  }

  async deleteOne(filter: Filter<T>): Promise<DeleteResult> {
    return this.delete(filter, false);
  }

  async deleteMany(filter: Filter<T>): Promise<DeleteResult> {
    return this.delete(filter, true);
  }

  private async delete(filter: Filter<T>, multi: boolean): Promise<DeleteResult> {
    checkFilter(filter);
    const query = toNedbQuery(toStored(filter) as StoredDoc);
    const state = await this.state();
    const deletedCount = await state.db.removeAsync(query, { multi });
    if (deletedCount > 0) state.dirty = true;
    return { deletedCount };
  }

  async countDocuments(filter: Filter<T> = {}): Promise<number> {
    checkFilter(filter);
    const query = toNedbQuery(toStored(filter) as StoredDoc);
    const state = await this.state();
    return (await state.db.countAsync(query)) as unknown as number;
  }

  async createIndex(keys: IndexKeys, options?: IndexOptions): Promise<string> {
    const wanted = checkIndex(keys, options);
    return this.store.addIndex(await this.state(), wanted);
  }

  async indexes(): Promise<IndexDescription[]> {
    const state = await this.state();
    return state.indexes.map((index) => ({ ...index, keys: { ...index.keys } }));
  }

  private async first(state: CollectionState, query: NedbQuery, sort: FindOptions['sort']): Promise<StoredDoc | null> {
    const cursor = state.db.findOneAsync(query);
    if (sort) cursor.sort(sort);
    return (await cursor) as unknown as StoredDoc | null;
  }

  /** Writes a whole updated document back (NeDB replaces a document given without operators). */
  private async replace(state: CollectionState, doc: StoredDoc): Promise<void> {
    try {
      await state.db.updateAsync({ _id: doc['_id'] }, doc, {});
    } catch (error) {
      throw state.writeError(error, doc);
    }
    state.dirty = true;
  }

  private async insertUpserted(state: CollectionState, seed: StoredDoc, changes: Record<string, StoredDoc>): Promise<StoredDoc> {
    const doc = structuredClone(seed);
    applyUpdate(doc, changes, true);
    doc['_id'] ??= newId();
    try {
      await state.db.insertAsync(doc);
    } catch (error) {
      throw state.writeError(error, doc);
    }
    state.dirty = true;
    return doc;
  }
}

/** Checks an update call and brings its parts into stored form. */
function prepareUpdate(filter: Filter, update: Update, upsert: boolean): { query: NedbQuery; changes: Record<string, StoredDoc>; seed: StoredDoc | undefined } {
  checkFilter(filter);
  checkUpdate(update);
  let seed: StoredDoc | undefined;
  if (upsert) {
    checkUpsertFilter(filter);
    seed = toStored(upsertSeed(filter)) as StoredDoc;
  }
  return { query: toNedbQuery(toStored(filter) as StoredDoc), changes: toStored(update) as Record<string, StoredDoc>, seed };
}

export function openEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  return EmbeddedStore.open(options);
}
