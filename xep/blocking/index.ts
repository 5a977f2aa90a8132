// XEP-0191 Blocking Command: a user's blocklist (retrieve, block, unblock, unblock all, pushes)
// and its enforcement on the stanzas between the user and the JIDs it blocks.
import { z } from 'zod';
import { Band } from '../../server/hooks.ts';
import type { Module } from '../../server/module.ts';
import { BlocklistStore, blocklistCollections } from './blocklist-store.ts';
import { Blocklists } from './blocklists.ts';
import { BlockPresence } from './presence.ts';
import { BlockingCommands, NS_BLOCKING } from './commands.ts';
import { inboundFilter, outboundFilter } from './enforcement.ts';

const configSchema = z.strictObject({
  maxItems: z.number().int().min(1).default(1000)
    .describe('Most JIDs one blocklist may hold; a block that would exceed it gets <not-allowed/>'),
  maxTrackedPresence: z.number().int().min(0).default(1000)
    .describe('Per online resource and account, most directed-presence targets and available senders remembered, so that a block can send the unavailable presence XEP-0191 §3.3 asks for'),
});
export type BlockingConfig = z.output<typeof configSchema>;

export const blocking: Module<BlockingConfig> = {
  name: 'blocking',
  specs: ['XEP-0191 v1.3 (urn:xmpp:blocking)'],
  config: configSchema,
  collections: blocklistCollections,
  setup(ctx) {
    const store = new BlocklistStore(ctx.store);
    const blocklists = new Blocklists(store, ctx.log);
    const presence = new BlockPresence(ctx, blocklists, ctx.config.maxTrackedPresence);
    const commands = new BlockingCommands(ctx, blocklists, store, presence, ctx.config.maxItems, ctx.log);

    // XEP-0191 §3.2-§3.5: IQs without 'to', handled by the server for the account.
    ctx.iq.handle('get', NS_BLOCKING, 'account', (req) => commands.blocklist(req));
    ctx.iq.handle('set', NS_BLOCKING, 'account', (req) => commands.set(req));
    // XEP-0191 §3.1: clients ask the server's own JID whether it supports blocking.
    ctx.disco.feature(NS_BLOCKING, 'host');

    // Guard: the blocklist is loaded before anything else can act for the new resource.
    ctx.hooks.observe('session/bound', Band.Guard, ({ session }) => void blocklists.accountOnline(session.jid));
    ctx.hooks.observe('session/closed', Band.Notify, ({ session }) => {
      if (ctx.sessions.resources(session.jid).length === 0) blocklists.accountOffline(session.jid);
    });
    ctx.hooks.filter('stanza/inbound', Band.Guard, inboundFilter(ctx, blocklists, presence));
    ctx.hooks.filter('stanza/outbound', Band.Guard, outboundFilter(blocklists, presence));

    // Each host runs its own instance; the one of the account's host deletes its list.
    ctx.onStop(ctx.accounts.onRemoved((account) => (account.domain === ctx.host.domain ? blocklists.remove(account) : undefined)));
  },
};
