// The MongoDB adapter: a thin pass-through to the official driver. Calls are checked by the
// shared validator first, so only what the embedded store also honours reaches the server.
// Ids are strings (never ObjectIds); binary comes back as Buffer (promoteBuffers).
import {
  MongoClient, MongoServerError,
  type Collection as MongoCollection, type CreateIndexesOptions, type Db, type Document, type Filter as MongoFilter,
  type MongoClientOptions, type UpdateFilter, type UpdateResult as MongoUpdateResult,
} from 'mongodb';
import { silentLogger, type Logger } from '../log.ts';
import {
  DuplicateKeyError, StorageUsageError,
  type Collection, type DeleteResult, type Doc, type Filter, type FindOneAndUpdateOptions, type FindOneOptions, type FindOptions,
  type IndexDescription, type IndexKeys, type IndexOptions, type InsertManyResult, type InsertOneResult, type NewDoc,
  type Store, type Update, type UpdateOptions, type UpdateResult,
} from './port.ts';
import {
  checkCollectionName, checkDocument, checkFilter, checkFindOneAndUpdateOptions, checkFindOptions, checkIndex, checkUpdate, checkUpsertFilter,
} from './validate.ts';
import { planIndex } from './index-plan.ts';
import { upsertSeed } from './upsert-seed.ts';
import { newId } from './new-id.ts';

export interface MongoStoreOptions {
  uri: string;
  /** Default: the URI's path, else 'chorus'. */
  database?: string;
  log?: Logger;
  /** Extra driver options (tests: timeouts). */
  clientOptions?: MongoClientOptions;
}

const DEFAULT_DATABASE = 'chorus';
const NAMESPACE_NOT_FOUND = 26;
const DUPLICATE_KEY = 11000;
/** BadValue, TypeMismatch, PathNotViable ($inc on a string, $push on a non-array...), index option conflicts. */
const USAGE_ERROR_CODES: ReadonlySet<number> = new Set([2, 14, 28, 85, 86]);

/** The database named in a mongodb:// or mongodb+srv:// URI's path, if any. */
export function databaseFromUri(uri: string): string | undefined {
  const match = /^mongodb(?:\+srv)?:\/\/[^/?#]*\/([^?#]*)/.exec(uri);
  return match?.[1] ? decodeURIComponent(match[1]) : undefined;
}

function codeOf(error: { code?: unknown }): number | undefined {
  return typeof error.code === 'number' ? error.code : undefined;
}

/** Maps driver errors onto the port's: duplicate keys, and updates the server refuses as invalid. */
export function mapMongoError(error: unknown, collection: string): unknown {
  if (!(error instanceof MongoServerError)) return error;
  const writeErrors: unknown = error['writeErrors'];
  const first = (Array.isArray(writeErrors) ? writeErrors[0] : writeErrors) as { code?: unknown; errmsg?: unknown; err?: { keyValue?: unknown } } | undefined;
  const code = codeOf(error) ?? (first ? codeOf(first) : undefined);
  if (code === DUPLICATE_KEY) {
    const message = typeof first?.errmsg === 'string' ? first.errmsg : error.message;
    const index = /index: (\S+) dup key/.exec(message)?.[1];
    return new DuplicateKeyError({ collection, index, key: error['keyValue'] ?? first?.err?.keyValue }, { cause: error });
  }
  if (code !== undefined && USAGE_ERROR_CODES.has(code)) return new StorageUsageError(error.message, { cause: error });
  return error;
}

export class MongoStore implements Store {
  readonly kind = 'mongodb' as const;
  private readonly handles = new Map<string, MongoCollectionAdapter<Doc>>();

  private constructor(private readonly client: MongoClient, readonly db: Db, private readonly log: Logger) {}

  static async open(options: MongoStoreOptions): Promise<MongoStore> {
    const client = new MongoClient(options.uri, {
      promoteBuffers: true, // binary reads back as Buffer, as from the embedded store
      ignoreUndefined: true, // an undefined property is absent, as in the embedded store (not null)
      ...options.clientOptions,
    });
    await client.connect();
    const log = options.log ?? silentLogger;
    const db = client.db(options.database ?? databaseFromUri(options.uri) ?? DEFAULT_DATABASE);
    log.debug({ database: db.databaseName }, 'mongodb store connected');
    return new MongoStore(client, db, log);
  }

  collection<T extends Doc>(name: string): Collection<T> {
    let handle = this.handles.get(name);
    if (!handle) {
      checkCollectionName(name);
      handle = new MongoCollectionAdapter<Doc>(this.db.collection(name), this.db, name);
      this.handles.set(name, handle);
    }
    return handle as unknown as Collection<T>;
  }

  async dropCollection(name: string): Promise<void> {
    checkCollectionName(name);
    try {
      await this.db.collection(name).drop();
    } catch (error) {
      if (!(error instanceof MongoServerError && codeOf(error) === NAMESPACE_NOT_FOUND)) throw error;
    }
  }

  async close(): Promise<void> {
    await this.client.close();
    this.log.debug('mongodb store closed');
  }
}

function toUpdateResult(result: MongoUpdateResult): UpdateResult {
  const out: UpdateResult = { matchedCount: result.matchedCount, modifiedCount: result.modifiedCount };
  if (result.upsertedId !== null && result.upsertedId !== undefined) out.upsertedId = String(result.upsertedId);
  return out;
}

class MongoCollectionAdapter<T extends Doc> implements Collection<T> {
  constructor(private readonly docs: MongoCollection<Document>, private readonly db: Db, readonly name: string) {}

  private fail(error: unknown): never {
    throw mapMongoError(error, this.name);
  }

  async insertOne(doc: NewDoc<T>): Promise<InsertOneResult> {
    checkDocument(doc);
    // A copy only when adding the id: the driver would otherwise add an ObjectId to the caller's object.
    const toInsert: Document = doc._id === undefined ? { ...doc, _id: newId() } : doc;
    await this.docs.insertOne(toInsert).catch((e: unknown) => this.fail(e));
    return { insertedId: toInsert['_id'] as string };
  }

  async insertMany(docs: NewDoc<T>[]): Promise<InsertManyResult> {
    for (const doc of docs) checkDocument(doc);
    if (docs.length === 0) return { insertedIds: [] }; // the driver refuses an empty batch
    const toInsert: Document[] = docs.map((doc) => (doc._id === undefined ? { ...doc, _id: newId() } : doc));
    await this.docs.insertMany(toInsert, { ordered: true }).catch((e: unknown) => this.fail(e));
    return { insertedIds: toInsert.map((doc) => doc['_id'] as string) };
  }

  async findOne(filter: Filter<T>, options: FindOneOptions = {}): Promise<T | null> {
    checkFilter(filter);
    checkFindOptions(options);
    const found = await this.docs
      .findOne(filter as MongoFilter<Document>, findOptions(options))
      .catch((e: unknown) => this.fail(e));
    return found as T | null;
  }

  async find(filter: Filter<T>, options: FindOptions = {}): Promise<T[]> {
    checkFilter(filter);
    checkFindOptions(options);
    const found = await this.docs
      .find(filter as MongoFilter<Document>, findOptions(options))
      .toArray()
      .catch((e: unknown) => this.fail(e));
    return found as unknown as T[];
  }

  async updateOne(filter: Filter<T>, update: Update, options: UpdateOptions = {}): Promise<UpdateResult> {
    const upsert = options.upsert === true;
    const driverUpdate = prepareUpdate(filter, update, upsert);
    const result = await this.docs
      .updateOne(filter as MongoFilter<Document>, driverUpdate, { upsert })
      .catch((e: unknown) => this.fail(e));
    return toUpdateResult(result);
  }

  async updateMany(filter: Filter<T>, update: Update, options: UpdateOptions = {}): Promise<UpdateResult> {
    const upsert = options.upsert === true;
    const driverUpdate = prepareUpdate(filter, update, upsert);
    const result = await this.docs
      .updateMany(filter as MongoFilter<Document>, driverUpdate, { upsert })
      .catch((e: unknown) => this.fail(e));
    return toUpdateResult(result);
  }

  async findOneAndUpdate(filter: Filter<T>, update: Update, options: FindOneAndUpdateOptions = {}): Promise<T | null> {
    checkFindOneAndUpdateOptions(options);
    const upsert = options.upsert === true;
    const driverUpdate = prepareUpdate(filter, update, upsert);
    const found = await this.docs
      .findOneAndUpdate(filter as MongoFilter<Document>, driverUpdate, {
        upsert,
        returnDocument: options.returnDocument ?? 'before',
        ...findOptions(options),
      })
      .catch((e: unknown) => this.fail(e));
    return found as T | null;
  }

  async deleteOne(filter: Filter<T>): Promise<DeleteResult> {
    checkFilter(filter);
    const result = await this.docs.deleteOne(filter as MongoFilter<Document>).catch((e: unknown) => this.fail(e));
    return { deletedCount: result.deletedCount };
  }

  async deleteMany(filter: Filter<T>): Promise<DeleteResult> {
    checkFilter(filter);
    const result = await this.docs.deleteMany(filter as MongoFilter<Document>).catch((e: unknown) => this.fail(e));
    return { deletedCount: result.deletedCount };
  }

  async countDocuments(filter: Filter<T> = {}): Promise<number> {
    checkFilter(filter);
    return this.docs.countDocuments(filter as MongoFilter<Document>).catch((e: unknown) => this.fail(e));
  }

  async createIndex(keys: IndexKeys, options?: IndexOptions): Promise<string> {
    const wanted = checkIndex(keys, options);
    const plan = planIndex(await this.indexes(), wanted);
    if (plan.action === 'exists') return wanted.name;
    if (plan.action === 'setTtl') {
      await this.db
        .command({ collMod: this.name, index: { name: wanted.name, expireAfterSeconds: plan.expireAfterSeconds } })
        .catch((e: unknown) => this.fail(e));
      return wanted.name;
    }
    const driverOptions: CreateIndexesOptions = { name: wanted.name };
    if (wanted.unique) driverOptions.unique = true;
    if (wanted.sparse) driverOptions.sparse = true;
    if (wanted.expireAfterSeconds !== undefined) driverOptions.expireAfterSeconds = wanted.expireAfterSeconds;
    await this.docs.createIndex(wanted.keys, driverOptions).catch((e: unknown) => this.fail(e));
    return wanted.name;
  }

  async indexes(): Promise<IndexDescription[]> {
    let listed: Document[];
    try {
      listed = await this.docs.indexes();
    } catch (error) {
      if (error instanceof MongoServerError && codeOf(error) === NAMESPACE_NOT_FOUND) return [];
      this.fail(error);
    }
    return listed
      .filter((index) => index['name'] !== '_id_')
      .map((index) => {
        const description: IndexDescription = {
          name: String(index['name']),
          keys: { ...(index['key'] as IndexKeys) },
          unique: index['unique'] === true,
          sparse: index['sparse'] === true,
        };
        if (typeof index['expireAfterSeconds'] === 'number') description.expireAfterSeconds = index['expireAfterSeconds'];
        return description;
      });
  }
}

function findOptions(options: FindOptions): { sort?: IndexKeys; projection?: Document; limit?: number; skip?: number } {
  const out: ReturnType<typeof findOptions> = {};
  if (options.sort) out.sort = options.sort;
  if (options.projection) out.projection = options.projection;
  if (options.limit) out.limit = options.limit;
  if (options.skip) out.skip = options.skip;
  return out;
}

/**
 * Checks an update call. An upsert whose filter fixes no `_id` gets a string one through
 * `$setOnInsert`, since the server would otherwise generate an ObjectId.
 */
function prepareUpdate(filter: Filter, update: Update, upsert: boolean): UpdateFilter<Document> {
  checkFilter(filter);
  checkUpdate(update);
  if (!upsert) return update as UpdateFilter<Document>;
  checkUpsertFilter(filter);
  if (upsertSeed(filter)['_id'] !== undefined) return update as UpdateFilter<Document>;
  return { ...update, $setOnInsert: { ...update.$setOnInsert, _id: newId() } } as UpdateFilter<Document>;
}

export function openMongoStore(options: MongoStoreOptions): Promise<MongoStore> {
  return MongoStore.open(options);
}
