// Blocklists on the storage port: one document per account, its blocked JIDs in the order they
// were added (the order a blocklist get returns them in).
import type { Collection, CollectionSpec, Store } from '../../server/storage/port.ts';

interface BlocklistDoc {
  /** The owner's bare JID. */
  _id: string;
  /** Normalised JIDs, without duplicates. */
  items: string[];
}

export const BLOCKLIST_COLLECTION = 'blocklists';

export const blocklistCollections: CollectionSpec[] = [{ name: BLOCKLIST_COLLECTION, indexes: [], version: 1 }];

export class BlocklistStore {
  private readonly docs: Collection<BlocklistDoc>;

  constructor(store: Store) {
    this.docs = store.collection<BlocklistDoc>(BLOCKLIST_COLLECTION);
  }

  async load(owner: string): Promise<string[]> {
    const doc = await this.docs.findOne({ _id: owner });
    return doc?.items ?? [];
  }

  async add(owner: string, jids: readonly string[]): Promise<void> {
    await this.docs.updateOne({ _id: owner }, { $addToSet: { items: { $each: [...jids] } } }, { upsert: true });
  }

  async remove(owner: string, jids: readonly string[]): Promise<void> {
    await this.docs.updateOne({ _id: owner }, { $pull: { items: { $in: [...jids] } } });
  }

  /** Unblock all, and account removal. */
  async clear(owner: string): Promise<void> {
    await this.docs.deleteOne({ _id: owner });
  }
}
