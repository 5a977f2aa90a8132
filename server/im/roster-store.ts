// Roster items on the storage port: one document per (owner, contact), and a per-owner version
// counter for roster versioning (RFC 6121 §2.6). The rosters of online accounts are cached in
// memory (retain/release), so presence broadcast and routing never wait for storage; every write
// goes through this class, which keeps the cache in step.
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

/** The cached roster of an online account. */
interface CachedRoster {
  refs: number;
  items: Map<string, RosterItem> | null;
  loading: Promise<Map<string, RosterItem>> | null;
}

export class RosterStore {
  private readonly items: Collection<RosterDoc>;
  private readonly versions: Collection<VersionDoc>;
  private readonly cache = new Map<string, CachedRoster>();

  constructor(store: Store) {
    this.items = store.collection<RosterDoc>('roster');
    this.versions = store.collection<VersionDoc>('roster_versions');
  }

  /** Keep `owner`'s roster in memory until as many release() calls (one per bound session). */
  retain(owner: string): void {
    const entry = this.cache.get(owner);
    if (entry) {
      entry.refs++;
      return;
    }
    const fresh: CachedRoster = { refs: 1, items: null, loading: null };
    fresh.loading = this.load(owner).then(
      (items) => {
        fresh.items = items;
        fresh.loading = null;
        return items;
      },
      (err) => {
        // A failed load is retried by the next reader rather than cached.
        if (this.cache.get(owner) === fresh) this.cache.delete(owner);
        throw err;
      },
    );
    fresh.loading.catch(() => {});
    this.cache.set(owner, fresh);
  }

  release(owner: string): void {
    const entry = this.cache.get(owner);
    if (entry && --entry.refs <= 0) this.cache.delete(owner);
  }

  /** The roster as a map from contact JID to item: synchronous when cached. */
  map(owner: string): Map<string, RosterItem> | Promise<Map<string, RosterItem>> {
    const entry = this.cache.get(owner);
    return entry?.items ?? entry?.loading ?? this.load(owner);
  }

  /** The cached roster, or undefined when `owner` has no bound session. */
  cached(owner: string): Map<string, RosterItem> | undefined {
    return this.cache.get(owner)?.items ?? undefined;
  }

  async list(owner: string): Promise<RosterItem[]> {
    const items = [...(await this.map(owner)).values()];
    return items.sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
  }

  async get(owner: string, contact: string): Promise<RosterItem | null> {
    return (await this.map(owner)).get(contact) ?? null;
  }

  async count(owner: string): Promise<number> {
    return (await this.map(owner)).size;
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
    await this.updateCache(owner, (items) => items.set(item.jid, { ...item, groups: [...item.groups] }));
    return this.bump(owner);
  }

  /** Remove an item; the roster's new version, or null when there was no such item. */
  async remove(owner: string, contact: string): Promise<number | null> {
    const { deletedCount } = await this.items.deleteOne({ _id: key(owner, contact) });
    await this.updateCache(owner, (items) => items.delete(contact));
    return deletedCount === 0 ? null : this.bump(owner);
  }

  /** Everything of an account (account removal). */
  async removeAll(owner: string): Promise<void> {
    await this.items.deleteMany({ owner });
    await this.versions.deleteOne({ _id: owner });
    await this.updateCache(owner, (items) => items.clear());
  }

  private async load(owner: string): Promise<Map<string, RosterItem>> {
    const docs = await this.items.find({ owner });
    return new Map(docs.map((d) => [d.jid, toItem(d)]));
  }

  /** Apply a write to the cached copy, after any load in flight (which may predate the write). */
  private async updateCache(owner: string, change: (items: Map<string, RosterItem>) => void): Promise<void> {
    const entry = this.cache.get(owner);
    if (!entry) return;
    const items = entry.items ?? (await entry.loading!.catch(() => null));
    if (items) change(items);
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
