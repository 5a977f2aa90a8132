// A decorator on the storage port that times every collection operation, whichever adapter is
// underneath, and reports (collection, operation, seconds) to the metrics (docs/metrics.md).
// It changes nothing else: results, errors and their timing reach the caller as before.
import { performance } from 'node:perf_hooks';
import type {
  Collection, DeleteResult, Doc, Filter, FindOneAndUpdateOptions, FindOneOptions, FindOptions, IndexDescription,
  IndexKeys, IndexOptions, InsertManyResult, InsertOneResult, NewDoc, Store, Update, UpdateOptions, UpdateResult,
} from './port.ts';

export type StorageObserver = (collection: string, operation: string, seconds: number) => void;

export function timedStore(inner: Store, observe: StorageObserver): Store {
  return {
    get kind() {
      return inner.kind;
    },
    collection: <T extends Doc>(name: string) => new TimedCollection<T>(inner.collection<T>(name), observe),
    dropCollection: (name) => inner.dropCollection(name),
    close: () => inner.close(),
  };
}

class TimedCollection<T extends Doc> implements Collection<T> {
  constructor(
    private readonly inner: Collection<T>,
    private readonly observe: StorageObserver,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  insertOne(doc: NewDoc<T>): Promise<InsertOneResult> {
    return this.timed('insertOne', performance.now(), this.inner.insertOne(doc));
  }

  insertMany(docs: NewDoc<T>[]): Promise<InsertManyResult> {
    return this.timed('insertMany', performance.now(), this.inner.insertMany(docs));
  }

  findOne(filter: Filter<T>, options?: FindOneOptions): Promise<T | null> {
    return this.timed('findOne', performance.now(), this.inner.findOne(filter, options));
  }

  find(filter: Filter<T>, options?: FindOptions): Promise<T[]> {
    return this.timed('find', performance.now(), this.inner.find(filter, options));
  }

  updateOne(filter: Filter<T>, update: Update, options?: UpdateOptions): Promise<UpdateResult> {
    return this.timed('updateOne', performance.now(), this.inner.updateOne(filter, update, options));
  }

  updateMany(filter: Filter<T>, update: Update, options?: UpdateOptions): Promise<UpdateResult> {
    return this.timed('updateMany', performance.now(), this.inner.updateMany(filter, update, options));
  }

  findOneAndUpdate(filter: Filter<T>, update: Update, options?: FindOneAndUpdateOptions): Promise<T | null> {
    return this.timed('findOneAndUpdate', performance.now(), this.inner.findOneAndUpdate(filter, update, options));
  }

  deleteOne(filter: Filter<T>): Promise<DeleteResult> {
    return this.timed('deleteOne', performance.now(), this.inner.deleteOne(filter));
  }

  deleteMany(filter: Filter<T>): Promise<DeleteResult> {
    return this.timed('deleteMany', performance.now(), this.inner.deleteMany(filter));
  }

  countDocuments(filter?: Filter<T>): Promise<number> {
    return this.timed('countDocuments', performance.now(), this.inner.countDocuments(filter));
  }

  createIndex(keys: IndexKeys, options?: IndexOptions): Promise<string> {
    return this.timed('createIndex', performance.now(), this.inner.createIndex(keys, options));
  }

  indexes(): Promise<IndexDescription[]> {
    return this.timed('indexes', performance.now(), this.inner.indexes());
  }

  /** `started` is read before the inner call is made, so the figure includes its synchronous part. */
  private timed<R>(operation: string, started: number, pending: Promise<R>): Promise<R> {
    const done = () => this.observe(this.inner.name, operation, (performance.now() - started) / 1000);
    pending.then(done, done);
    return pending;
  }
}
