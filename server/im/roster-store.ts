// Roster items on the storage port: one document per (owner, contact), and a per-owner version
// counter for roster versioning (RFC 6121 §2.6).
import type { Collection, CollectionSpec, Store } from '../storage/port.ts';

export type Subscription = 'none' | 'to' | 'from' | 'both';

export interface RosterItem {
  /** The contact's JID (normalised). */
  jid: string;
  name?: string;
  groups: string[];
  subscription: Subscription;
  /** RFC 6121 §2.1.2.2: a subscription request to the contact is pending. */
  ask?: boolean;
  /** RFC 6121 §3.4: the contact's subscription is pre-approved. */
  approved?: boolean;
}

interface RosterDoc extends RosterItem {
  _id: string;
  owner: string;
}

interface VersionDoc {
  _id: string;
  ver: number;
}

export const rosterCollections: CollectionSpec[] = [
  { name: 'roster', indexes: [{ keys: { owner: 1 }, name: 'by_owner' }], version: 1 },
  { name: 'roster_versions', indexes: [], version: 1 },
];

export class RosterStore {
  private readonly items: Collection<RosterDoc>;
  private readonly versions: Collection<VersionDoc>;

  constructor(store: Store) {
    this.items = store.collection<RosterDoc>('roster');
    this.versions = store.collection<VersionDoc>('roster_versions');
  }

  async list(owner: string): Promise<RosterItem[]> {
    const docs = await this.items.find({ owner }, { sort: { jid: 1 } });
    return docs.map(toItem);
  }

  async get(owner: string, contact: string): Promise<RosterItem | null> {
    const doc = await this.items.findOne({ _id: key(owner, contact) });
    return doc ? toItem(doc) : null;
  }

  async count(owner: string): Promise<number> {
    return this.items.countDocuments({ owner });
  }

  async version(owner: string): Promise<number> {
    return (await this.versions.findOne({ _id: owner }))?.ver ?? 0;
  }

  /** Store an item and return the roster's new version. */
  async put(owner: string, item: RosterItem): Promise<number> {
    const set: Record<string, unknown> = { owner, jid: item.jid, groups: item.groups, subscription: item.subscription };
    const unset: Record<string, ''> = {};
    for (const field of ['name', 'ask', 'approved'] as const) {
      if (item[field] === undefined || item[field] === false) unset[field] = '';
      else set[field] = item[field];
    }
    await this.items.updateOne({ _id: key(owner, item.jid) }, { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}) }, { upsert: true });
    return this.bump(owner);
  }

  /** Remove an item; the roster's new version, or null when there was no such item. */
  async remove(owner: string, contact: string): Promise<number | null> {
    const { deletedCount } = await this.items.deleteOne({ _id: key(owner, contact) });
    return deletedCount === 0 ? null : this.bump(owner);
  }

  /** Everything of an account (account removal). */
  async removeAll(owner: string): Promise<void> {
    await this.items.deleteMany({ owner });
    await this.versions.deleteOne({ _id: owner });
  }

  private async bump(owner: string): Promise<number> {
    const doc = await this.versions.findOneAndUpdate({ _id: owner }, { $inc: { ver: 1 } }, { upsert: true, returnDocument: 'after' });
    return doc!.ver;
  }
}

/** The owner is a bare JID, which holds no space, so the key splits unambiguously. */
function key(owner: string, contact: string): string {
  return `${owner} ${contact}`;
}

function toItem(doc: RosterDoc): RosterItem {
  const item: RosterItem = { jid: doc.jid, groups: doc.groups ?? [], subscription: doc.subscription };
  if (doc.name !== undefined) item.name = doc.name;
  if (doc.ask) item.ask = true;
  if (doc.approved) item.approved = true;
  return item;
}
