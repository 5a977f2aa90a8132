// When each account last logged out, and the status of its last unavailable presence: one
// document per bare JID on the storage port, so it survives restarts.
import type { Collection, CollectionSpec, Store } from '../../server/storage/port.ts';

export interface LastLogout {
  at: Date;
  /** The <status/> of the last unavailable presence; absent when it had none. */
  status?: string;
}

interface LastDoc extends LastLogout {
  _id: string; // bare JID
}

export const lastCollections: CollectionSpec[] = [{ name: 'last_activity', indexes: [], version: 1 }];

export class LastStore {
  private readonly docs: Collection<LastDoc>;

  constructor(store: Store) {
    this.docs = store.collection<LastDoc>('last_activity');
  }

  async get(account: string): Promise<LastLogout | null> {
    const doc = await this.docs.findOne({ _id: account });
    if (!doc) return null;
    return doc.status === undefined ? { at: doc.at } : { at: doc.at, status: doc.status };
  }

  async put(account: string, last: LastLogout): Promise<void> {
    const update = last.status === undefined
      ? { $set: { at: last.at }, $unset: { status: '' } }
      : { $set: { at: last.at, status: last.status } };
    await this.docs.updateOne({ _id: account }, update, { upsert: true });
  }

  async remove(account: string): Promise<void> {
    await this.docs.deleteOne({ _id: account });
  }
}
