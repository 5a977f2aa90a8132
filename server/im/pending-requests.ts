// Inbound subscription requests the account has not answered yet (RFC 6121 §3.1.3): the
// "pending in" half of the subscription state, kept apart from the roster because the RFC
// forbids creating a roster item for a mere request. Stored with the request as received,
// so it can be delivered again when the account next comes online.
import type { Collection, CollectionSpec, Store } from '../storage/port.ts';

interface PendingDoc {
  _id: string;
  owner: string;
  contact: string;
  /** The request as it arrived, serialised (status text and all). */
  stanza: string;
}

export const pendingCollections: CollectionSpec[] = [{ name: 'roster_pending', indexes: [{ keys: { owner: 1 }, name: 'by_owner' }], version: 1 }];

export class PendingRequests {
  private readonly docs: Collection<PendingDoc>;

  constructor(store: Store) {
    this.docs = store.collection<PendingDoc>('roster_pending');
  }

  async has(owner: string, contact: string): Promise<boolean> {
    return (await this.docs.findOne({ _id: `${owner} ${contact}` })) !== null;
  }

  async add(owner: string, contact: string, stanza: string): Promise<void> {
    await this.docs.updateOne({ _id: `${owner} ${contact}` }, { $set: { owner, contact, stanza } }, { upsert: true });
  }

  /** True when there was a request to remove. */
  async remove(owner: string, contact: string): Promise<boolean> {
    return (await this.docs.deleteOne({ _id: `${owner} ${contact}` })).deletedCount > 0;
  }

  async list(owner: string): Promise<{ contact: string; stanza: string }[]> {
    const docs = await this.docs.find({ owner }, { sort: { contact: 1 } });
    return docs.map((d) => ({ contact: d.contact, stanza: d.stanza }));
  }

  async removeAll(owner: string): Promise<void> {
    await this.docs.deleteMany({ owner });
  }
}
