// XEP-0012 Last Activity, answered by the server: its own uptime, and for an account's bare JID
// how long ago the account's last resource went away (with the status it left). Queries to a full
// JID belong to the client; the server only keeps them from requesters who may not see the
// account's presence (XEP-0012 §4).
import { z } from 'zod';
import { StanzaError } from '../../server/errors.ts';
import { Band } from '../../server/hooks.ts';
import { errorReply } from '../../server/stanza.ts';
import { x, type Element } from '../../server/xml/element.ts';
import type { Module } from '../../server/module.ts';
import type { IqRequest } from '../../server/iq-table.ts';
import type { Jid } from '../../server/jid.ts';
import { LastStore, lastCollections, type LastLogout } from './last-store.ts';

export const NS_LAST = 'jabber:iq:last';

const configSchema = z.strictObject({
  maxStatusLength: z
    .number().int().min(0).default(1024)
    .describe('Characters kept of the status of an account\'s last unavailable presence (longer is cut; 0 keeps none)'),
});
type LastConfig = z.infer<typeof configSchema>;

export const last: Module<LastConfig> = {
  name: 'last',
  specs: ['XEP-0012 v2.0 (jabber:iq:last): server uptime and accounts\' last logout'],
  config: configSchema,
  collections: lastCollections,
  setup(ctx) {
    const store = new LastStore(ctx.store);
    const startedAt = performance.now();
    // The status of the session's last unavailable presence, while it has not sent available since.
    const statusSlot = ctx.sessions.slot<string>('last/status');
    // Logouts being written, by bare JID: a query or a removal waits for them.
    const pending = new Map<string, Promise<void>>();

    const record = (account: string, logout: LastLogout) => {
      const write: Promise<void> = (pending.get(account) ?? Promise.resolve())
        .then(() => store.put(account, logout))
        .catch((err: unknown) => ctx.log.error({ err, account }, 'could not record the last logout'))
        .finally(() => {
          if (pending.get(account) === write) pending.delete(account);
        });
      pending.set(account, write);
    };

    // XEP-0012 §5: to the server, how long it has been running.
    ctx.iq.handle('get', NS_LAST, 'host', () =>
      x('query', { xmlns: NS_LAST, seconds: String(Math.floor((performance.now() - startedAt) / 1000)) }),
    );

    // XEP-0012 §3: to an account's bare JID, answered by its server on its behalf (RFC 6121 §8.5.2.1.3).
    ctx.iq.handle('get', NS_LAST, 'account', async (req: IqRequest): Promise<Element> => {
      const account = req.account!;
      // XEP-0012 §3 and §8: only to those allowed to see the account's presence; others get forbidden.
      if (!(await ctx.roster.mayReceivePresence(account, req.from))) throw new StanzaError('forbidden');
      // XEP-0012 §3: with a connected or available resource, seconds is 0 and the query is empty.
      if (ctx.sessions.resources(account).length > 0) return x('query', { xmlns: NS_LAST, seconds: '0' });
      const key = account.toString();
      await pending.get(key);
      const logout = await store.get(key);
      // The XEP does not say what to answer when no logout was ever recorded; claiming any number
      // of seconds would be false, so the requested information is reported as not found.
      if (!logout) throw new StanzaError('item-not-found', 'no logout of this account is recorded');
      const seconds = Math.max(0, Math.floor((Date.now() - logout.at.getTime()) / 1000));
      return x('query', { xmlns: NS_LAST, seconds: String(seconds) }, logout.status ?? null);
    });

    // Keep the status a client gives when it goes unavailable (RFC 6121 §4.5.1). Notify band: only
    // presence that survived every Guard filter counts.
    ctx.hooks.observe('stanza/outbound', Band.Notify, ({ stanza, session }) => {
      if (stanza.kind !== 'presence' || stanza.to !== null) return;
      if (stanza.type === 'unavailable') {
        const status = statusOf(stanza.el, ctx.config.maxStatusLength);
        if (status === null) statusSlot.delete(session);
        else statusSlot.set(session, status);
      } else if (stanza.type === 'available') {
        statusSlot.delete(session);
      }
    });

    // The account logs out when its last resource goes (XEP-0012 §3: "since the user last logged out").
    ctx.hooks.observe('session/closed', Band.Archive, ({ session }) => {
      const account = session.jid.bare();
      if (ctx.sessions.resources(account).length > 0) return;
      const status = statusSlot.get(session);
      statusSlot.delete(session);
      record(account.toString(), status === undefined ? { at: new Date() } : { at: new Date(), status });
    });

    // XEP-0012 §4: a full-JID query goes to the client, but never from someone who may not see the
    // account's presence: the server answers forbidden itself (also when that resource is offline,
    // so the answer does not tell whether it is).
    ctx.hooks.filter('stanza/inbound', Band.Guard, ({ stanza }) => {
      if (stanza.kind !== 'iq' || stanza.type !== 'get') return;
      const to = stanza.to!;
      if (to.resource === '' || !stanza.el.getChild('query', NS_LAST)) return;
      const allowed = ctx.roster.mayReceivePresence(to.bare(), stanza.from);
      const decide = (ok: boolean): 'drop' | undefined => {
        if (ok) return undefined;
        ctx.router.route(errorReply(stanza, new StanzaError('forbidden')));
        return 'drop';
      };
      return allowed === true ? undefined : allowed.then(decide);
    });

    const unsubscribe = ctx.accounts.onRemoved(async (account: Jid) => {
      const key = account.toString();
      // The removal closes the account's sessions first; their logout is written, then deleted.
      await pending.get(key);
      await store.remove(key);
    });
    ctx.onStop(async () => {
      unsubscribe();
      // Sessions closed at shutdown record their logout; let those writes finish before storage closes.
      await Promise.all(pending.values());
    });
  },
};

/**
 * The text of the presence's <status/> (RFC 6121 §4.7.2.2): the one in the stanza's own language
 * when there are several, cut to `max` characters; null when there is none.
 */
function statusOf(presence: Element, max: number): string | null {
  if (max === 0) return null;
  const lang = presence.attrs['xml:lang'];
  let chosen: Element | undefined;
  for (const child of presence.getChildElements()) {
    if (child.name !== 'status' || child.attrs.xmlns !== undefined) continue;
    const childLang = child.attrs['xml:lang'];
    if (childLang === undefined || childLang === lang) {
      chosen = child;
      break;
    }
    chosen ??= child;
  }
  const text = chosen?.getText() ?? '';
  if (text === '') return null;
  if (text.length <= max) return text;
  return Array.from(text).slice(0, max).join('');
}

