// The module's own storage on the port: one document per account holding its vCard as XML text
// (attribute and element names may contain characters a field name may not, so no field tree)
// and the avatar hash derived from it, so a login needs no XML parsing to learn the hash.
import type { Collection, CollectionSpec, Store } from '../../server/storage/port.ts';
import type { Jid } from '../../server/jid.ts';

export const VCARD_COLLECTION = 'vcards';

export const vcardCollections: CollectionSpec[] = [{ name: VCARD_COLLECTION, indexes: [], version: 1 }];

export interface VCardDoc {
  /** The account's bare JID. */
  _id: string;
  domain: string;
  /** The <vCard xmlns='vcard-temp'/> element as the account last set it, serialised. */
  xml: string;
  /** XEP-0153: lower-case hex SHA-1 of the decoded PHOTO/BINVAL; '' when there is no photo. */
  photoHash: string;
  updatedAt: Date;
}

export class VCardStore {
  private readonly docs: Collection<VCardDoc>;

  constructor(store: Store) {
    this.docs = store.collection<VCardDoc>(VCARD_COLLECTION);
  }

  get(account: Jid): Promise<VCardDoc | null> {
    return this.docs.findOne({ _id: account.bareString });
  }

  /** The stored avatar hash of an account (by bare JID), '' when it has no photo or no vCard. */
  async photoHash(bare: string): Promise<string> {
    const doc = await this.docs.findOne({ _id: bare }, { projection: { photoHash: 1 } });
    return doc?.photoHash ?? '';
  }

  async put(account: Jid, xml: string, photoHash: string): Promise<void> {
    await this.docs.updateOne(
      { _id: account.bareString },
      { $set: { domain: account.domain, xml, photoHash, updatedAt: new Date() } },
      { upsert: true },
    );
  }

  async remove(account: Jid): Promise<void> {
    await this.docs.deleteOne({ _id: account.bareString });
  }
}
