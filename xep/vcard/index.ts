// XEP-0054 vcard-temp: each account stores one vCard on the server, which answers for it to
// anyone. XEP-0153 vCard-based avatars, kept in sync by the server: every presence an account
// broadcasts carries the hash of the photo in its stored vCard, and a vCard set that changes the
// photo re-broadcasts the presence of each available resource with the new hash.
import { z } from 'zod';
import { Band } from '../../server/hooks.ts';
import { StanzaError } from '../../server/errors.ts';
import { clone } from 'ltx';
import { x, type Element } from '../../server/xml/element.ts';
import { elementToString } from '../../server/xml/serialize.ts';
import { parseStored } from '../../server/xml/frame-parser.ts';
import { KeyedLock } from '../../server/keyed-lock.ts';
import type { Module, ModuleContext } from '../../server/module.ts';
import type { IqRequest } from '../../server/iq-table.ts';
import type { Jid } from '../../server/jid.ts';
import { VCardStore, vcardCollections } from './vcard-store.ts';
import { PhotoHashes } from './photo-hashes.ts';
import { NS_VCARD, photoHash, setUpdateElement } from './photo.ts';

const KiB = 1024;

export const vcardConfig = z.strictObject({
  maxBytes: z
    .number()
    .int()
    .min(1 * KiB)
    .default(64 * KiB)
    .describe('Largest vCard an account may store, in bytes of its XML (larger: <not-acceptable/>); has effect only below c2s.maxStanzaBytes'),
});
export type VCardConfig = z.infer<typeof vcardConfig>;

export const vcard: Module<VCardConfig> = {
  name: 'vcard',
  specs: ['XEP-0054 v1.3.0 (vcard-temp)', 'XEP-0153 v1.1.1 (vcard-temp:x:update), server-side'],
  config: vcardConfig,
  collections: vcardCollections,
  setup(ctx) {
    const store = new VCardStore(ctx.store);
    const hashes = new PhotoHashes((bare) => store.photoHash(bare));
    const serial = new KeyedLock();

    ctx.iq.handle('get', NS_VCARD, 'account', (req) => getVCard(req, store));
    ctx.iq.handle('set', NS_VCARD, 'account', (req) => {
      const parsed = parseSet(req, ctx.config.maxBytes);
      const account = req.account!;
      return serial.run(account.bareString, async () => {
        if (parsed.empty) await store.remove(account);
        else await store.put(account, parsed.xml, parsed.hash);
        const before = hashes.peek(account.bareString);
        if (ctx.sessions.resources(account).length > 0) hashes.set(account.bareString, parsed.hash);
        if (before !== parsed.hash) rebroadcast(ctx, account, parsed.hash);
        return null;
      });
    });
    // XEP-0054 §4 shows the feature on the server's own disco#info, where clients look for it;
    // the handlers above make it appear on accounts' disco#info too.
    ctx.disco.feature(NS_VCARD, 'host');

    // XEP-0153 §4.1: the server stamps the hash of the stored photo on every presence the client
    // broadcasts. Stamp band: after Guard filters, so a dropped presence costs nothing. The copies
    // of a broadcast the server makes (`generated`) are built from the stamped stanza.
    ctx.hooks.filter('stanza/outbound', Band.Stamp, ({ stanza, session, generated }) => {
      if (generated || stanza.kind !== 'presence' || stanza.to !== null || stanza.type !== 'available') return;
      const bare = session.jid.bareString;
      const hash = hashes.get(bare);
      if (typeof hash === 'string') return setUpdateElement(stanza.el, hash);
      return hash.then(
        (h) => setUpdateElement(stanza.el, h),
        (err: unknown) => ctx.log.warn({ err, account: bare }, 'avatar hash unavailable; presence sent as the client wrote it'),
      );
    });
    // Load the hash while the client is still between bind and its initial presence.
    ctx.hooks.observe('session/bound', Band.Stamp, ({ session }) => {
      const bare = session.jid.bareString;
      const hash = hashes.get(bare);
      if (typeof hash !== 'string') hash.catch((err: unknown) => ctx.log.warn({ err, account: bare }, 'could not load the avatar hash'));
    });
    ctx.hooks.observe('session/closed', Band.Notify, ({ session }) => {
      if (ctx.sessions.resources(session.jid).length === 0) hashes.drop(session.jid.bareString);
    });

    const unsubscribe = ctx.accounts.onRemoved(async (account) => {
      // Every host's instance hears every removal; the account's own host deletes.
      if (account.domain !== ctx.host.domain) return;
      await serial.run(account.bareString, () => store.remove(account));
      hashes.drop(account.bareString);
    });
    ctx.onStop(unsubscribe);
  },
};

/** XEP-0054 §3.1 and §3.3: anyone may read any account's vCard. */
async function getVCard(req: IqRequest, store: VCardStore): Promise<Element> {
  if (req.payload.name !== 'vCard') throw new StanzaError('bad-request', "the payload of vcard-temp is <vCard/>");
  const account = req.account!;
  const doc = await store.get(account);
  if (doc) return parseStored(doc.xml);
  // §3.1: to the account itself, no vCard may be an empty one.
  if (req.from.bare().equals(account)) return x('vCard', { xmlns: NS_VCARD });
  // §3.3 (v1.3.0): to anyone else, service-unavailable, the same answer as for an account that does
  // not exist (RFC 6121 §8.5.1), so the reply does not tell which accounts exist.
  throw new StanzaError('service-unavailable');
}

interface ParsedSet {
  xml: string;
  hash: string;
  /** No child elements: the account clears its vCard. */
  empty: boolean;
}

function parseSet(req: IqRequest, maxBytes: number): ParsedSet {
  // XEP-0054 §3.2: only the account itself, without 'to' or to its own bare JID.
  if (!req.from.bare().equals(req.account)) throw new StanzaError('forbidden', "only the account itself may set its vCard");
  const vcard = req.payload;
  if (vcard.name !== 'vCard') throw new StanzaError('bad-request', "the payload of vcard-temp is <vCard/>");
  const xml = elementToString(vcard);
  // A local limit (RFC 6120 §8.3.3.9: the request does not meet the server's criteria).
  if (Buffer.byteLength(xml) > maxBytes) throw new StanzaError('not-acceptable', `the vCard exceeds ${maxBytes} bytes`);
  return { xml, hash: photoHash(vcard), empty: vcard.getChildElements().length === 0 };
}

/**
 * XEP-0153 §4.1 ("if the client subsequently obtains an avatar image ... publish a new presence"),
 * done by the server for every client: each available resource's last presence goes out again
 * with the new hash, as if its client had sent it.
 */
function rebroadcast(ctx: ModuleContext<VCardConfig>, account: Jid, hash: string): void {
  for (const session of [...ctx.sessions.resources(account)]) {
    if (!session.available || !session.presence) continue;
    const presence = clone(session.presence);
    delete presence.attrs.from;
    delete presence.attrs.to;
    delete presence.attrs.id;
    setUpdateElement(presence, hash);
    ctx.router.sendAs(session, presence);
  }
}

