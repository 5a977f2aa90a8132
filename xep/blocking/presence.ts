// Presence when a JID is blocked or unblocked (XEP-0191 §3.3, §3.4), and what that needs to know:
// which JIDs a resource sent directed presence to (RFC 6121 §4.6) and which senders' available
// presence reached an account. The core tracks neither yet; when the RFC 6121 presence work
// exposes them (directed presence, subscriptions), this file should read them from there.
import { clone } from 'ltx';
import { x, type Element } from '../../server/xml/element.ts';
import type { Jid } from '../../server/jid.ts';
import type { ModuleContext, SessionSlot } from '../../server/module.ts';
import type { BoundSession } from '../../server/sessions.ts';
import type { Stanza } from '../../server/stanza.ts';
import type { Blocklists } from './blocklists.ts';
import { anyCovers } from './matching.ts';

export class BlockPresence {
  /** Presence this module sends on the user's behalf to a JID it has just blocked: its own filter lets it pass. */
  private readonly exempt = new WeakSet<Element>();
  /** Per resource: targets of its directed available presence not yet followed by unavailable. */
  private readonly directed: SessionSlot<Map<string, Jid>>;

  constructor(
    private readonly ctx: ModuleContext<unknown>,
    private readonly blocklists: Blocklists,
    /** Most entries each of the maps above holds (per resource, per account). */
    private readonly limit: number,
  ) {
    this.directed = ctx.sessions.slot('directed-presence');
  }

  isExempt(el: Element): boolean {
    return this.exempt.has(el);
  }

  /** A presence the user's client sent (and that was not blocked). */
  noteOutbound(s: Stanza, session: BoundSession): void {
    if (s.to === null) {
      // RFC 6121 §4.6.1: broadcast unavailable presence ends the resource's directed presence too.
      if (s.type === 'unavailable') this.directed.get(session)?.clear();
      return;
    }
    const key = s.to.toString();
    if (s.type === 'available') {
      let targets = this.directed.get(session);
      if (!targets) this.directed.set(session, (targets = new Map()));
      if (targets.size < this.limit || targets.has(key)) targets.set(key, s.to);
    } else if (s.type === 'unavailable') {
      this.directed.get(session)?.delete(key);
    }
  }

  /** A presence for an online account, from someone else (and not blocked). */
  noteInbound(s: Stanza): void {
    const seen = this.blocklists.get(s.to!)?.seen;
    if (!seen) return;
    const key = s.from.toString();
    if (s.type === 'available') {
      if (seen.size < this.limit || seen.has(key)) seen.set(key, s.from);
    } else if (s.type === 'unavailable') {
      seen.delete(key);
    }
  }

  /** XEP-0191 §3.3: after `items` were added to `account`'s blocklist. */
  async blocked(account: Jid, items: readonly Jid[]): Promise<void> {
    const resources = [...this.ctx.sessions.resources(account)];
    // The blocked JIDs that may have the user's presence get unavailable presence from it: first
    // those its resources sent directed presence to...
    const told = new Set<string>();
    for (const session of resources) {
      const targets = this.directed.get(session);
      if (!targets) continue;
      for (const [key, target] of targets) {
        if (!anyCovers(items, target)) continue;
        targets.delete(key);
        told.add(`${session.jid.toString()} ${key}`);
        this.sendUnavailable(session, target);
      }
    }
    // ...and the user's own resources are told that the blocked senders they saw went offline
    // (XEP-0016 §2.10, which XEP-0191 §5 defers to: "SHOULD send unavailable presence to the user").
    const seen = this.blocklists.get(account)?.seen;
    if (seen) {
      for (const [key, sender] of seen) {
        if (!anyCovers(items, sender)) continue;
        seen.delete(key);
        for (const r of this.ctx.sessions.resources(account)) {
          if (r.available) r.send(x('presence', { from: key, to: r.jid.toString(), type: 'unavailable' }));
        }
      }
    }
    // ...then those subscribed to the user's presence (RFC 6121 §4.4: subscription 'from' or 'both').
    const subscribed = await this.withSubscription(account, items, 'from');
    for (const item of subscribed) {
      for (const session of this.ctx.sessions.resources(account)) {
        if (!session.available || told.has(`${session.jid.toString()} ${item.toString()}`)) continue;
        this.sendUnavailable(session, item);
      }
    }
  }

  /** XEP-0191 §3.4, §3.5: after `items` were removed from `account`'s blocklist. */
  async unblocked(account: Jid, items: readonly Jid[]): Promise<void> {
    if (items.length === 0) return;
    // The user's current presence to the JIDs allowed to receive it (subscription 'from' or 'both').
    for (const item of await this.withSubscription(account, items, 'from')) {
      for (const session of this.ctx.sessions.resources(account)) {
        if (!session.available || !session.presence) continue;
        const presence = clone(session.presence);
        presence.attrs.to = item.toString();
        delete presence.attrs.id;
        this.ctx.router.sendAs(session, presence);
      }
    }
    // And a probe to the JIDs whose presence the user is subscribed to (RFC 6121 §4.3.1: from the
    // bare JID), so its resources learn their current presence again.
    if (this.ctx.sessions.resources(account).length === 0) return;
    for (const item of await this.withSubscription(account, items, 'to')) {
      this.ctx.router.route(x('presence', { type: 'probe', from: account.bareString, to: item.bareString }));
    }
  }

  private sendUnavailable(session: BoundSession, to: Jid): void {
    const el = x('presence', { type: 'unavailable', to: to.toString() });
    this.exempt.add(el);
    this.ctx.router.sendAs(session, el);
  }

  /**
   * The items whose roster entry has the given direction of subscription. Until the RFC 6121
   * subscription work lands, no roster item carries a subscription a client could have set.
   */
  private async withSubscription(account: Jid, items: readonly Jid[], direction: 'from' | 'to'): Promise<Jid[]> {
    const found = await Promise.all(items.map((item) => this.ctx.roster.item(account, item)));
    return items.filter((_, i) => {
      const sub = found[i]?.subscription;
      return sub === 'both' || sub === direction;
    });
  }
}
