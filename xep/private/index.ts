// XEP-0049 Private XML Storage (jabber:iq:private): an account keeps arbitrary namespaced XML on
// the server (client preferences, XEP-0048 bookmarks in storage:bookmarks) and only that account
// reads or writes it. Private XML is read when a client starts and written rarely, so each
// request goes to storage (a get is one indexed read) instead of a per-session cache.
import { z } from 'zod';
import { StanzaError } from '../../server/errors.ts';
import { x, type Element } from '../../server/xml/element.ts';
import { parseStored } from '../../server/xml/frame-parser.ts';
import type { Module } from '../../server/module.ts';
import type { IqRequest } from '../../server/iq-table.ts';
import { PrivateStore, privateCollections } from './private-store.ts';
import { NS_PRIVATE, parseGet, parseSet, type PrivateLimits } from './request.ts';
import { KeyedLock } from '../../server/keyed-lock.ts';

export { NS_PRIVATE };

const configSchema = z.strictObject({
  maxBytes: z
    .number()
    .int()
    .min(1)
    .default(131072)
    .describe('Most UTF-8 bytes of XML one account may store under one namespace (more: <not-acceptable/>)'),
  maxNamespaces: z
    .number()
    .int()
    .min(1)
    .default(32)
    .describe('Most namespaces one account may store (another one: <not-allowed/>)'),
  refuseReservedNamespaces: z
    .boolean()
    .default(true)
    .describe("Refuse 'jabber:*', 'http://jabber.org/*' and 'vcard-temp' with <not-acceptable/> (optional in XEP-0049 §2.3)"),
});

export type PrivateConfig = z.output<typeof configSchema>;

export const privateStorage: Module<PrivateConfig> = {
  name: 'private',
  specs: ['XEP-0049 v1.2 (jabber:iq:private), which also stores XEP-0048 bookmarks (storage:bookmarks)'],
  config: configSchema,
  collections: privateCollections,
  setup(ctx) {
    const store = new PrivateStore(ctx.store);
    const limits: PrivateLimits = { maxBytes: ctx.config.maxBytes, refuseReservedNamespaces: ctx.config.refuseReservedNamespaces };
    const maxNamespaces = ctx.config.maxNamespaces;
    const locks = new KeyedLock();

    ctx.iq.handle('get', NS_PRIVATE, 'account', async (req) => {
      const account = ownerOf(req);
      const { ns, name } = parseGet(req.payload, limits);
      const stored = await store.get(account, ns);
      const query = x('query', { xmlns: NS_PRIVATE });
      if (stored === null) query.cnode(x(name, { xmlns: ns }));
      else for (const xml of stored) query.cnode(parseStored(xml, NS_PRIVATE));
      return query;
    });

    ctx.iq.handle('set', NS_PRIVATE, 'account', async (req) => {
      const account = ownerOf(req);
      const { ns, xml, bytes } = parseSet(req.payload, limits);
      // One account's sets run one at a time, so two resources cannot both take the last free namespace.
      await locks.run(account, async () => {
        if (xml.length === 0) return store.remove(account, ns);
        if (!(await store.has(account, ns)) && (await store.count(account)) >= maxNamespaces) {
          throw new StanzaError('not-allowed', `an account may store at most ${maxNamespaces} namespaces`);
        }
        return store.put(account, ns, xml, bytes);
      });
      return null;
    });

    ctx.onStop(
      ctx.accounts.onRemoved(async (account) => {
        if (account.domain === ctx.host.domain) await store.removeAll(account.toString());
      }),
    );
  },
};

/**
 * XEP-0049 §2.3 and §3: data of another user is "Forbidden" (preferred over the historical
 * "Service Unavailable"); §4: only the user's own resources may touch it.
 */
function ownerOf(req: IqRequest): string {
  const account = req.account;
  if (account === null || !req.from.bare().equals(account)) throw new StanzaError('forbidden');
  return account.toString();
}

