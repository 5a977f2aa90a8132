// The storage contract on MongoDB, when CHORUS_TEST_MONGODB_URI names a server (each test in a
// fresh random database, dropped afterwards), and the adapter's server-less helpers.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { MongoClient, MongoServerError } from 'mongodb';
import { DuplicateKeyError, StorageUsageError, type Store } from '../../server/storage/port.ts';
import { databaseFromUri, mapMongoError, openMongoStore } from '../../server/storage/mongodb.ts';
import { storeContract, type Thing } from './contract.ts';

const uri = process.env['CHORUS_TEST_MONGODB_URI'];
const clientOptions = { serverSelectionTimeoutMS: 5000 };

function freshDatabase(): string {
  return `chorus_test_${randomBytes(6).toString('hex')}`;
}

async function dropDatabase(database: string): Promise<void> {
  const client = new MongoClient(uri!, clientOptions);
  try {
    await client.db(database).dropDatabase();
  } finally {
    await client.close();
  }
}

describe('storage contract: mongodb', () => {
  if (!uri) {
    it.skip('runs only when CHORUS_TEST_MONGODB_URI is set (no MongoDB server on this machine)');
    return;
  }
  storeContract({
    open: async () => {
      const database = freshDatabase();
      return {
        store: await openMongoStore({ uri, database, clientOptions }),
        reopen: () => openMongoStore({ uri, database, clientOptions }),
        dispose: () => dropDatabase(database),
      };
    },
    persistent: true,
    ttlExpiry: { skip: "MongoDB's TTL monitor deletes expired documents only every 60 s; see CHORUS_TEST_MONGODB_TTL below" },
  });
});

describe('mongodb TTL expiry, waited for', function () {
  // The TTL monitor runs every 60 s, so a real expiry takes up to about two minutes.
  this.timeout(150_000);
  if (!uri || process.env['CHORUS_TEST_MONGODB_TTL'] !== '1') {
    it.skip('an expired document is deleted by the TTL monitor (skipped: needs CHORUS_TEST_MONGODB_URI and CHORUS_TEST_MONGODB_TTL=1; takes up to 2 minutes)');
    return;
  }
  let store: Store;
  const database = freshDatabase();
  before(async () => {
    store = await openMongoStore({ uri, database, clientOptions });
  });
  after(async () => {
    await store.close();
    await dropDatabase(database);
  });

  it('an expired document is deleted by the TTL monitor within 130 s', async () => {
    const things = store.collection<Thing>('things');
    await things.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
    await things.insertMany([{ _id: 'old', expiresAt: new Date(Date.now() - 1000) }, { _id: 'later', expiresAt: new Date(Date.now() + 3_600_000) }]);
    const deadline = Date.now() + 130_000;
    while ((await things.countDocuments({ _id: 'old' })) > 0) {
      if (Date.now() > deadline) expect.fail('the expired document was still there after 130 s');
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    expect(await things.countDocuments({ _id: 'later' })).to.equal(1);
  });
});

describe('mongodb adapter without a server', () => {
  it('takes the database from the URI path, when there is one', () => {
    expect(databaseFromUri('mongodb://localhost:27017/chat')).to.equal('chat');
    expect(databaseFromUri('mongodb://user:p%40ss@h1:27017,h2:27018/prod_db?replicaSet=rs0')).to.equal('prod_db');
    expect(databaseFromUri('mongodb+srv://cluster.example.net/my%2Ddb?retryWrites=true')).to.equal('my-db');
    expect(databaseFromUri('mongodb://localhost:27017')).to.equal(undefined);
    expect(databaseFromUri('mongodb://localhost:27017/')).to.equal(undefined);
    expect(databaseFromUri('mongodb://localhost/?tls=true')).to.equal(undefined);
  });

  it('maps a duplicate key error (code 11000) to DuplicateKeyError with the index and key', () => {
    const error = new MongoServerError({
      message: 'E11000 duplicate key error collection: chorus.accounts index: by_jid dup key: { jid: "a@x" }',
      code: 11000,
      keyValue: { jid: 'a@x' },
    });
    const mapped = mapMongoError(error, 'accounts');
    expect(mapped).to.be.instanceOf(DuplicateKeyError);
    const duplicate = mapped as DuplicateKeyError;
    expect(duplicate.collection).to.equal('accounts');
    expect(duplicate.index).to.equal('by_jid');
    expect(duplicate.key).to.deep.equal({ jid: 'a@x' });
    expect(duplicate.cause).to.equal(error);
  });

  it('maps a bulk write duplicate (insertMany) from its first write error', () => {
    const writeError = { code: 11000, errmsg: 'E11000 duplicate key error collection: chorus.things index: _id_ dup key: { _id: "b" }', err: { keyValue: { _id: 'b' } } };
    const mapped = mapMongoError(new MongoServerError({ message: 'bulk failed', writeErrors: [writeError] }), 'things');
    expect(mapped).to.be.instanceOf(DuplicateKeyError);
    expect((mapped as DuplicateKeyError).index).to.equal('_id_');
    expect((mapped as DuplicateKeyError).key).to.deep.equal({ _id: 'b' });
  });

  it('maps refused updates to StorageUsageError and leaves other errors alone', () => {
    for (const code of [2, 14, 28, 85, 86]) {
      expect(mapMongoError(new MongoServerError({ message: 'refused', code }), 'things')).to.be.instanceOf(StorageUsageError);
    }
    const unauthorized = new MongoServerError({ message: 'not allowed', code: 13 });
    expect(mapMongoError(unauthorized, 'things')).to.equal(unauthorized);
    const other = new Error('network');
    expect(mapMongoError(other, 'things')).to.equal(other);
  });
});
