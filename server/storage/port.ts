// The storage port (DESIGN.md "Storage port"): a deliberately small MongoDB-shaped API. The
// MongoDB adapter passes it through to the official driver; the embedded adapter (NeDB) honours
// the same semantics. Only the operators listed here exist: both adapters run every filter and
// update through the shared validator (validate.ts), so no module can rely on something one
// adapter lacks. test/storage/contract.ts proves both agree on each of them.

/**
 * A stored document. `_id` is always a string in both adapters (a random URL-safe one when a
 * document is inserted without it), so data can move between adapters.
 *
 * Storable values: string, finite number, boolean, null, Date, Uint8Array/Buffer (binary; read
 * back as a Buffer), arrays of these and plain objects. Field names must not be empty, start with
 * `$`, contain `.` or NUL, or consist only of digits (paths address fields, never array positions).
 * An `undefined` property is dropped, as if absent.
 */
export interface Doc {
  _id: string;
}

/** A document to insert: `_id` may be left out. */
export type NewDoc<T extends Doc> = Omit<T, '_id'> & { _id?: string };

/** Filter operators both adapters evaluate identically (MongoDB query semantics). */
export const FILTER_OPERATORS = [
  '$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$size', '$elemMatch', '$and', '$or',
] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

/** Update operators both adapters apply identically (MongoDB update semantics). */
export const UPDATE_OPERATORS = [
  '$set', '$unset', '$inc', '$min', '$max', '$push', '$pull', '$addToSet', '$setOnInsert',
] as const;
export type UpdateOperator = (typeof UPDATE_OPERATORS)[number];

/**
 * A query: `{ path: value }` (equality; also matches an array holding the value; `null` also
 * matches a missing field) or `{ path: { $op: arg, ... } }`, combined with `$and`/`$or`.
 * Paths may be dotted (`'items.jid'`), and traverse arrays of subdocuments.
 * Equality values are scalars (string, number, boolean, null, Date, binary); to test a
 * subdocument, compare its fields by dotted path.
 */
export type Filter<T extends Doc = Doc> = { [K in keyof T & string]?: unknown } & {
  [path: string]: unknown;
  $and?: Filter<T>[];
  $or?: Filter<T>[];
};

/**
 * Operators and their `{ path: argument }` maps. Whole-document replacement is not offered.
 * `$push` takes a value or `{ $each: [...], $slice?: n }`, `$addToSet` a value or `{ $each: [...] }`,
 * `$pull` a scalar, an operator condition (`{ $lt: 5 }`) or a subdocument query (`{ jid: 'a@b' }`).
 * An update must not touch `_id` nor the same path twice (nor a path and its parent).
 */
export type Update = { [Op in Exclude<UpdateOperator, '$inc'>]?: Record<string, unknown> } & {
  $inc?: Record<string, number>;
};

export type SortDirection = 1 | -1;
/** Sort keys, most significant first. Sort fields should hold scalars (or be missing). */
export type Sort = Record<string, SortDirection>;
/** Either fields to include or fields to exclude (`_id` is included unless `_id: 0`). */
export type Projection = Record<string, 0 | 1 | boolean>;

export interface FindOneOptions {
  sort?: Sort;
  projection?: Projection;
}
export interface FindOptions extends FindOneOptions {
  /** 0 means no limit. */
  limit?: number;
  skip?: number;
}
export interface UpdateOptions {
  /** Insert when nothing matches: the filter's equality fields, then the update, `$setOnInsert` included. */
  upsert?: boolean;
}
export interface FindOneAndUpdateOptions extends UpdateOptions, FindOneOptions {
  /** Default 'before' (as in MongoDB); with 'before', an upsert that inserts returns null. */
  returnDocument?: 'before' | 'after';
}

export interface InsertOneResult {
  insertedId: string;
}
export interface InsertManyResult {
  insertedIds: string[];
}
export interface UpdateResult {
  matchedCount: number;
  /** Documents actually changed (an update that sets the values already there does not count). */
  modifiedCount: number;
  /** Set when the upsert inserted a document. */
  upsertedId?: string;
}
export interface DeleteResult {
  deletedCount: number;
}

export type IndexKeys = Record<string, SortDirection>;
export interface IndexOptions {
  /** Default: MongoDB's naming, e.g. `domain_1_local_1`. */
  name?: string;
  unique?: boolean;
  /** Leave out documents that lack the indexed field(s) (so a unique index allows many of them). */
  sparse?: boolean;
  /**
   * TTL: delete a document once the Date in the (single, top-level) indexed field is this many
   * seconds in the past. MongoDB deletes in a background pass every 60 s, so a reader that needs
   * exact expiry also filters on the date; the embedded store never returns an expired document.
   */
  expireAfterSeconds?: number;
}
export interface IndexDescription {
  name: string;
  keys: IndexKeys;
  unique: boolean;
  sparse: boolean;
  expireAfterSeconds?: number;
}

export interface Collection<T extends Doc> {
  readonly name: string;
  /** Ordered: a duplicate key stops the batch; the documents before it stay inserted. */
  insertOne(doc: NewDoc<T>): Promise<InsertOneResult>;
  insertMany(docs: NewDoc<T>[]): Promise<InsertManyResult>;
  findOne(filter: Filter<T>, options?: FindOneOptions): Promise<T | null>;
  find(filter: Filter<T>, options?: FindOptions): Promise<T[]>;
  updateOne(filter: Filter<T>, update: Update, options?: UpdateOptions): Promise<UpdateResult>;
  updateMany(filter: Filter<T>, update: Update, options?: UpdateOptions): Promise<UpdateResult>;
  findOneAndUpdate(filter: Filter<T>, update: Update, options?: FindOneAndUpdateOptions): Promise<T | null>;
  deleteOne(filter: Filter<T>): Promise<DeleteResult>;
  deleteMany(filter: Filter<T>): Promise<DeleteResult>;
  countDocuments(filter?: Filter<T>): Promise<number>;
  /**
   * Create the index unless it exists (returns its name). Asking again with another
   * `expireAfterSeconds` changes the TTL; other differences (unique, sparse, name) are a
   * StorageUsageError. Existing duplicates make a unique index fail with DuplicateKeyError.
   */
  createIndex(keys: IndexKeys, options?: IndexOptions): Promise<string>;
  /** The collection's indexes, without the implicit one on `_id`. */
  indexes(): Promise<IndexDescription[]>;
}

export interface Store {
  readonly kind: 'embedded' | 'mongodb';
  /** A handle on the collection (created on first write). Names: a letter, then letters, digits, `_` or `-`. */
  collection<T extends Doc>(name: string): Collection<T>;
  /** Delete a collection with its documents and indexes (tests, migrations). */
  dropCollection(name: string): Promise<void>;
  /** Flush and release everything (the embedded store compacts its files). Called at graceful shutdown. */
  close(): Promise<void>;
}

/** A module's collection: its indexes and schema version (DESIGN.md "Modules"). */
export interface CollectionSpec {
  name: string;
  indexes: ({ keys: IndexKeys } & IndexOptions)[];
  /** The module's schema version for this collection, for its migrations. */
  version?: number;
}

/** Create every declared index (idempotent; run at every start). */
export async function ensureCollections(store: Store, specs: readonly CollectionSpec[]): Promise<void> {
  for (const spec of specs) {
    const collection = store.collection(spec.name);
    for (const { keys, ...options } of spec.indexes) await collection.createIndex(keys, options);
  }
}

export class StorageError extends Error {
  override name = 'StorageError';
}

/** The caller asked for something outside the port: an operator not listed above, a value that cannot be stored, an update that cannot apply to the stored value, a closed store. */
export class StorageUsageError extends StorageError {
  override name = 'StorageUsageError';
}

/** A unique index refused a write (insert, update or upsert). */
export class DuplicateKeyError extends StorageError {
  override name = 'DuplicateKeyError';
  readonly collection: string;
  /** The index name when the adapter knows it (`_id_` for the primary key). */
  readonly index: string | undefined;
  /** The duplicated key as `{ path: value }` (MongoDB's keyValue) when known. */
  readonly key: unknown;

  constructor(info: { collection: string; index?: string; key?: unknown }, options?: { cause?: unknown }) {
    super(`duplicate key in ${info.collection}${info.index ? ` (index ${info.index})` : ''}`, options);
    this.collection = info.collection;
    this.index = info.index;
    this.key = info.key;
  }
}
