// Accounts: one document per bare JID holding SCRAM material only (never a password or a
// plain hash). Every account operation goes through the storage port.
import type { Store, CollectionSpec, Collection } from './storage/port.ts';
import { DuplicateKeyError } from './storage/port.ts';
import { deriveCredentials, type ScramCredentials } from './sasl/credentials.ts';
import type { Jid } from './jid.ts';

export interface AccountDoc {
  _id: string; // bare JID
  domain: string;
  local: string;
  scram: ScramCredentials;
  createdAt: Date;
  [key: string]: unknown;
}

export const accountCollections: CollectionSpec[] = [
  { name: 'accounts', indexes: [{ keys: { domain: 1, local: 1 }, name: 'by_domain' }], version: 1 },
];

export class AccountExistsError extends Error {}
export class NoSuchAccountError extends Error {}

export type AccountRemovedListener = (account: Jid) => void | Promise<void>;

export class Accounts {
  private readonly docs: Collection<AccountDoc>;
  private readonly removedListeners: AccountRemovedListener[] = [];

  constructor(store: Store, private readonly opts: { scramIterations: number }) {
    this.docs = store.collection<AccountDoc>('accounts');
  }

  async create(account: Jid, password: string): Promise<void> {
    const scram = await deriveCredentials(password, { iterations: this.opts.scramIterations });
    try {
      await this.docs.insertOne({ _id: account.bareString, domain: account.domain, local: account.local, scram, createdAt: new Date() });
    } catch (err) {
      if (err instanceof DuplicateKeyError) throw new AccountExistsError(`${account.bareString} already exists`);
      throw err;
    }
  }

  async setPassword(account: Jid, password: string): Promise<void> {
    const scram = await deriveCredentials(password, { iterations: this.opts.scramIterations });
    const { matchedCount } = await this.docs.updateOne({ _id: account.bareString }, { $set: { scram } });
    if (matchedCount === 0) throw new NoSuchAccountError(`${account.bareString} does not exist`);
  }

  /** Remove the account, then let every module delete what it kept for it. */
  async remove(account: Jid): Promise<boolean> {
    const { deletedCount } = await this.docs.deleteOne({ _id: account.bareString });
    if (deletedCount === 0) return false;
    for (const listener of this.removedListeners) await listener(account.bare());
    return true;
  }

  /** Register what runs when an account is removed; returns the function that unregisters it. */
  onRemoved(listener: AccountRemovedListener): () => void {
    this.removedListeners.push(listener);
    return () => {
      const i = this.removedListeners.indexOf(listener);
      if (i >= 0) this.removedListeners.splice(i, 1);
    };
  }

  async exists(account: Jid): Promise<boolean> {
    return (await this.docs.countDocuments({ _id: account.bareString })) > 0;
  }

  async credentials(account: Jid): Promise<ScramCredentials | null> {
    const doc = await this.docs.findOne({ _id: account.bareString }, { projection: { scram: 1 } });
    return doc ? doc.scram : null;
  }

  /** Localparts of a host's accounts, sorted. */
  async list(domain: string): Promise<string[]> {
    const docs = await this.docs.find({ domain }, { sort: { local: 1 }, projection: { local: 1 } });
    return docs.map((d) => d.local);
  }
}
