// XEP-0191 §3.2-§3.5: blocklist retrieval, block, unblock and unblock-all, with the pushes to the
// user's resources that have asked for the blocklist.
import { StanzaError } from '../../server/errors.ts';
import { parseJid, JidError, type Jid } from '../../server/jid.ts';
import { x, type Element } from '../../server/xml/element.ts';
import type { IqRequest } from '../../server/iq-table.ts';
import type { ModuleContext } from '../../server/module.ts';
import type { BoundSession } from '../../server/sessions.ts';
import type { Logger } from '../../server/log.ts';
import type { Blocklists } from './blocklists.ts';
import type { BlocklistStore } from './blocklist-store.ts';
import type { BlockPresence } from './presence.ts';
import { isBlocked } from './matching.ts';

export const NS_BLOCKING = 'urn:xmpp:blocking';

export class BlockingCommands {
  /** XEP-0191 §3.3: pushes go to the resources that have requested the blocklist. */
  private readonly interested = new WeakSet<BoundSession>();
  private pushCounter = 0;

  constructor(
    private readonly ctx: ModuleContext<unknown>,
    private readonly blocklists: Blocklists,
    private readonly store: BlocklistStore,
    private readonly presence: BlockPresence,
    private readonly maxItems: number,
    private readonly log: Logger,
  ) {}

  /** XEP-0191 §3.2 */
  async blocklist(req: IqRequest): Promise<Element> {
    const owner = ownerOf(req);
    if (req.payload.name !== 'blocklist') throw new StanzaError('bad-request', 'a get carries <blocklist/>');
    if (req.session) this.interested.add(req.session);
    const items = await this.blocklists.items(owner);
    return x('blocklist', { xmlns: NS_BLOCKING }, [...items].map((jid) => x('item', { jid })));
  }

  /** XEP-0191 §3.3 (block) or §3.4/§3.5 (unblock), by the payload's name. */
  set(req: IqRequest): Promise<null> {
    const owner = ownerOf(req);
    if (req.payload.name === 'block') return this.block(owner, req.payload);
    if (req.payload.name === 'unblock') return this.unblock(owner, req.payload);
    throw new StanzaError('bad-request', 'a set carries <block/> or <unblock/>');
  }

  private async block(owner: Jid, payload: Element): Promise<null> {
    const jids = parseItems(payload);
    // XEP-0191 §3.3: a block without any item is bad-request.
    if (jids.length === 0) throw new StanzaError('bad-request', 'a block needs at least one item');
    const added = await this.blocklists.change(owner, async (items) => {
      const fresh = jids.filter((j) => !items.has(j.toString()));
      if (items.size + fresh.length > this.maxItems) {
        throw new StanzaError('not-allowed', `a blocklist holds at most ${this.maxItems} JIDs`);
      }
      if (fresh.length > 0) await this.store.add(owner.toString(), fresh.map(String));
      for (const j of fresh) items.add(j.toString());
      return fresh;
    });
    this.push(owner, 'block', jids);
    if (added.length > 0) await this.effects(() => this.presence.blocked(owner, added), owner);
    return null;
  }

  private async unblock(owner: Jid, payload: Element): Promise<null> {
    const jids = parseItems(payload);
    const { removed, remaining } = await this.blocklists.change(owner, async (items) => {
      // XEP-0191 §3.5: an empty unblock unblocks everything.
      const gone = jids.length === 0 ? [...items] : jids.map(String).filter((j) => items.has(j));
      if (jids.length === 0) {
        if (gone.length > 0) await this.store.clear(owner.toString());
      } else if (gone.length > 0) {
        await this.store.remove(owner.toString(), gone);
      }
      for (const j of gone) items.delete(j);
      return { removed: gone, remaining: new Set(items) };
    });
    this.push(owner, 'unblock', jids);
    // A JID still covered by another item (a domain, its bare JID) stays blocked: no presence for it.
    const unblocked = removed.map((j) => parseJid(j)).filter((j) => !isBlocked(remaining, j));
    if (unblocked.length > 0) await this.effects(() => this.presence.unblocked(owner, unblocked), owner);
    return null;
  }

  /** The presence side effects must not turn a block or unblock that was stored into an error. */
  private async effects(fn: () => Promise<void>, owner: Jid): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.log.error({ err, account: owner.toString() }, 'presence after a blocklist change failed');
    }
  }

  /** XEP-0191 §3.3, §3.4, §3.5: the change, to every resource that has requested the blocklist. */
  private push(owner: Jid, name: 'block' | 'unblock', jids: readonly Jid[]): void {
    for (const session of this.ctx.sessions.resources(owner)) {
      if (!this.interested.has(session)) continue;
      session.send(
        x('iq', { type: 'set', id: `blocking-push-${(++this.pushCounter).toString(36)}`, to: session.jid.toString() },
          x(name, { xmlns: NS_BLOCKING }, jids.map((j) => x('item', { jid: j.toString() })))),
      );
    }
  }
}

/** Only the account itself manages its blocklist (the IQ has no 'to', or its own bare JID). */
function ownerOf(req: IqRequest): Jid {
  const account = req.account;
  if (!account || !req.from.bare().equals(account)) throw new StanzaError('service-unavailable');
  return account;
}

/** The items' JIDs, normalised and without duplicates. */
function parseItems(payload: Element): Jid[] {
  const out = new Map<string, Jid>();
  for (const item of payload.getChildren('item', NS_BLOCKING)) {
    const attr = item.attrs.jid;
    if (attr === undefined) throw new StanzaError('bad-request', "an item needs a 'jid'");
    let jid: Jid;
    try {
      jid = parseJid(attr);
    } catch (err) {
      if (err instanceof JidError) throw new StanzaError('jid-malformed', `'${attr.slice(0, 100)}' is not a valid JID`);
      throw err;
    }
    out.set(jid.toString(), jid);
  }
  return [...out.values()];
}
