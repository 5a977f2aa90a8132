// Offline messages (XEP-0160): RFC 6121 §8.5.2.2.1 lets the server store a message for an
// account with no available resource. Stored with a XEP-0203 <delay/> stamp, delivered in
// order at the account's next available presence with non-negative priority, then deleted.
import { parseStored } from '../xml/frame-parser.ts';
import { elementToString } from '../xml/serialize.ts';
import { cloneElement, type Element } from '../xml/element.ts';
import type { Collection, CollectionSpec, Store } from '../storage/port.ts';
import type { Stanza } from '../stanza.ts';
import type { BoundSession } from '../sessions.ts';

export const NS_DELAY = 'urn:xmpp:delay';
const NS_HINTS = 'urn:xmpp:hints';
const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';

interface OfflineDoc {
  _id: string;
  owner: string;
  /** Arrival order: milliseconds × 1000 plus a counter, so two messages in one millisecond keep their order. */
  seq: number;
  stanza: string;
}

export const offlineCollections: CollectionSpec[] = [{ name: 'offline', indexes: [{ keys: { owner: 1, seq: 1 }, name: 'by_owner_seq' }], version: 1 }];

export type OfflineVerdict = 'stored' | 'full' | 'discarded' | 'refused';

export class OfflineMessages {
  private readonly docs: Collection<OfflineDoc>;
  private counter = 0;
  private lastMs = 0;

  constructor(
    store: Store,
    private readonly maxMessages: number,
  ) {
    this.docs = store.collection<OfflineDoc>('offline');
  }

  /**
   * Store a message for its (bare) recipient. 'discarded' is a message not worth storing nor
   * bouncing; 'refused' one the sender asked not to store; 'full' the per-account limit.
   */
  async store(s: Stanza, host: string): Promise<OfflineVerdict> {
    if (this.maxMessages === 0) return 'refused';
    const el = s.el;
    // XEP-0334 §4: the sender asked that the message not be stored.
    if (el.getChild('no-store', NS_HINTS) || el.getChild('no-permanent-store', NS_HINTS)) return 'refused';
    // COMPAT(every client): a bare chat state (XEP-0085) to someone offline carries nothing
    // to keep, and bouncing each one would show users errors for typing notifications.
    if (isOnlyChatState(el)) return 'discarded';
    const owner = s.to!.bare().toString();
    if ((await this.docs.countDocuments({ owner })) >= this.maxMessages) return 'full';
    const copy = cloneElement(el);
    // XEP-0160 §4 / XEP-0203: when and by whom the message was delayed.
    copy.c('delay', { xmlns: NS_DELAY, from: host, stamp: new Date().toISOString() }).t('Offline Storage');
    const seq = this.nextSeq();
    await this.docs.insertOne({ _id: `${owner} ${seq}`, owner, seq, stanza: elementToString(copy) });
    return 'stored';
  }

  /** Deliver every stored message to `session`, oldest first, then delete them. */
  async flush(session: BoundSession): Promise<number> {
    const owner = session.jid.bareString;
    const docs = await this.docs.find({ owner }, { sort: { seq: 1 } });
    if (docs.length === 0) return 0;
    for (const d of docs) session.send(parseStored(d.stanza));
    await this.docs.deleteMany({ owner, seq: { $lte: docs[docs.length - 1]!.seq } });
    return docs.length;
  }

  async count(owner: string): Promise<number> {
    return this.docs.countDocuments({ owner });
  }

  async removeAll(owner: string): Promise<void> {
    await this.docs.deleteMany({ owner });
  }

  private nextSeq(): number {
    const now = Date.now();
    if (now !== this.lastMs) {
      this.lastMs = now;
      this.counter = 0;
    }
    return now * 1000 + Math.min(this.counter++, 999);
  }
}

function isOnlyChatState(el: Element): boolean {
  const children = el.getChildElements();
  return children.length > 0 && children.every((c) => c.attrs.xmlns === NS_CHATSTATES);
}
