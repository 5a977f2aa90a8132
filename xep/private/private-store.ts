// Private XML on the storage port: one document per (account, namespace) holding the stored
// elements as serialised XML, so any namespace and any attribute name can be kept as is.
import type { Collection, CollectionSpec, Store } from '../../server/storage/port.ts';

interface PrivateDoc {
  _id: string;
  account: string;
  ns: string;
  /** Each stored element, serialised (it carries its own xmlns). */
  xml: string[];
  /** UTF-8 bytes of `xml`, for operators looking at sizes. */
  bytes: number;
  updatedAt: Date;
}

export const COLLECTION = 'private_xml';

export const privateCollections: CollectionSpec[] = [
  { name: COLLECTION, indexes: [{ keys: { account: 1 }, name: 'by_account' }], version: 1 },
];

export class PrivateStore {
  private readonly docs: Collection<PrivateDoc>;

  constructor(store: Store) {
    this.docs = store.collection<PrivateDoc>(COLLECTION);
  }

  /** The serialised elements stored under a namespace, or null when there are none. */
  async get(account: string, ns: string): Promise<string[] | null> {
    const doc = await this.docs.findOne({ _id: key(account, ns) }, { projection: { xml: 1 } });
    return doc ? doc.xml : null;
  }

  async has(account: string, ns: string): Promise<boolean> {
    return (await this.docs.countDocuments({ _id: key(account, ns) })) > 0;
  }

  /** How many namespaces an account stores. */
  async count(account: string): Promise<number> {
    return this.docs.countDocuments({ account });
  }

  async put(account: string, ns: string, xml: string[], bytes: number): Promise<void> {
    await this.docs.updateOne({ _id: key(account, ns) }, { $set: { account, ns, xml, bytes, updatedAt: new Date() } }, { upsert: true });
  }

  async remove(account: string, ns: string): Promise<void> {
    await this.docs.deleteOne({ _id: key(account, ns) });
  }

  /** Everything of an account (account removal). */
  async removeAll(account: string): Promise<void> {
    await this.docs.deleteMany({ account });
  }
}

/** A bare JID holds no space, so the key splits unambiguously even though namespaces may. */
function key(account: string, ns: string): string {
  return `${account} ${ns}`;
}
