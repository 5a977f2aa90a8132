// RFC 6121 §3: carries out the subscription state machine (subscription-state.ts) for a local
// account: stores the new state, pushes the roster change, routes or delivers the stanza, and
// sends presence when a subscription starts or ends. Domain-agnostic: the contact may be local
// or remote; everything to the contact goes through the router.
import { x, cloneElement, type Element } from '../xml/element.ts';
import { elementToString } from '../xml/serialize.ts';
import { StanzaError } from '../errors.ts';
import { KeyedLock } from '../keyed-lock.ts';
import { hasFrom, hasTo, inbound, outbound, type SubscriptionState, type SubscriptionType } from './subscription-state.ts';
import { itemElement, type Roster } from './roster.ts';
import type { RosterItem, RosterStore } from './roster-store.ts';
import type { PendingRequests } from './pending-requests.ts';
import { errorReply, type Stanza } from '../stanza.ts';
import type { Jid } from '../jid.ts';
import type { BoundSession, SessionRegistry } from '../sessions.ts';
import type { Router } from '../router.ts';

/** What the subscription logic needs from presence: sending the account's presence to one contact. */
export interface PresenceSender {
  sendCurrentPresence(owner: Jid, contact: Jid): void;
  sendUnavailable(owner: Jid, contact: Jid): void;
}

export class Subscriptions {
  private router!: Router;
  private readonly locks = new KeyedLock();

  constructor(
    private readonly rosters: RosterStore,
    private readonly pending: PendingRequests,
    private readonly roster: Roster,
    private readonly sessions: SessionRegistry,
    private readonly presence: PresenceSender,
    private readonly maxItems: number,
  ) {}

  attach(router: Router): void {
    this.router = router;
  }

  /** A subscription stanza a local client sends (RFC 6121 §3.1.2, §3.1.5, §3.2.2, §3.3.2). */
  async outbound(s: Stanza, type: SubscriptionType, origin: BoundSession): Promise<void> {
    const owner = s.from.bare();
    const contact = s.to!.bare();
    // The state changes under the account's lock; what goes to the contact leaves after it is
    // released, since the contact's answer may come straight back for the same lock.
    const outcome = await this.locks.run(owner.bareString, async () => {
      const [item, pendingIn] = await this.load(owner, contact);
      const outcome = outbound(stateOf(item, pendingIn), type);
      if (outcome.next && !item && (await this.rosters.count(owner.bareString)) >= this.maxItems) {
        origin.send(errorReply(s, new StanzaError('not-allowed', `the roster holds at most ${this.maxItems} items`)));
        return null;
      }
      if (outcome.next) await this.save(owner, contact, item, pendingIn, outcome.next);
      return outcome;
    });
    if (!outcome) return;
    if (outcome.pass) {
      // §3.1.2 and friends: subscription stanzas are stamped with the account's bare JID.
      const el = cloneElement(s.el);
      el.attrs.from = owner.toString();
      el.attrs.to = contact.toString();
      await this.router.route({ ...s, el, from: owner, to: contact });
    }
    if (outcome.presence === 'available') this.presence.sendCurrentPresence(owner, contact);
    if (outcome.presence === 'unavailable') this.presence.sendUnavailable(owner, contact);
  }

  /** A subscription stanza for an existing local account (RFC 6121 §3.1.3, §3.1.6, §3.2.3, §3.3.3). */
  async inbound(s: Stanza, type: SubscriptionType): Promise<void> {
    const owner = s.to!.bare();
    const contact = s.from.bare();
    const delivered = bareFrom(s, contact);
    const outcome = await this.locks.run(owner.bareString, async () => {
      const [item, pendingIn] = await this.load(owner, contact);
      const outcome = inbound(stateOf(item, pendingIn), type);
      // The request is kept as received (its status text and all) for delivery at the next login.
      const keep = type === 'subscribe' && outcome.pass;
      if (keep) await this.pending.add(owner.bareString, contact.toString(), elementToString(delivered));
      if (outcome.next) await this.save(owner, contact, item, pendingIn || keep, outcome.next);
      return outcome;
    });
    if (outcome.pass) this.deliver(owner, delivered, type);
    if (outcome.autoReply) {
      await this.router.route({
        el: x('presence', { from: owner.toString(), to: contact.toString(), type: 'subscribed' }),
        kind: 'presence',
        type: 'subscribed',
        from: owner,
        to: contact,
      });
    }
    if (outcome.presence === 'available') this.presence.sendCurrentPresence(owner, contact);
    if (outcome.presence === 'unavailable') this.presence.sendUnavailable(owner, contact);
  }

  /**
   * RFC 6121 §2.5.2: removing a roster item cancels the subscriptions both ways: unsubscribe
   * when the account had (or asked for) the contact's presence, unsubscribed when the contact
   * had (or asked for) the account's.
   */
  async removed(owner: Jid, item: RosterItem | null, contact: Jid): Promise<void> {
    const hadPendingIn = await this.pending.remove(owner.bareString, contact.toString());
    if (!item) return;
    const send = (type: 'unsubscribe' | 'unsubscribed') =>
      this.router.route({ el: x('presence', { from: owner.toString(), to: contact.toString(), type }), kind: 'presence', type, from: owner, to: contact });
    if (hasFrom(item.subscription)) this.presence.sendUnavailable(owner, contact);
    if (hasTo(item.subscription) || item.ask) await send('unsubscribe');
    if (hasFrom(item.subscription) || hadPendingIn) await send('unsubscribed');
  }

  /** Requests still waiting for an answer, delivered when the account comes online (§3.1.3). */
  pendingRequests(owner: Jid): Promise<{ contact: string; stanza: string }[]> {
    return this.pending.list(owner.bareString);
  }

  /** The lock of an account's subscription state, for roster changes made outside this class. */
  withLock<T>(owner: Jid, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(owner.bareString, fn);
  }

  private async load(owner: Jid, contact: Jid): Promise<[RosterItem | null, boolean]> {
    return Promise.all([this.rosters.get(owner.bareString, contact.toString()), this.pending.has(owner.bareString, contact.toString())]);
  }

  private async save(owner: Jid, contact: Jid, item: RosterItem | null, pendingIn: boolean, next: SubscriptionState): Promise<void> {
    if (pendingIn && !next.pendingIn) await this.pending.remove(owner.bareString, contact.toString());
    const before = stateOf(item, pendingIn);
    const itemChanges = before.subscription !== next.subscription || before.ask !== next.ask || before.approved !== next.approved;
    if (!itemChanges) return;
    // RFC 6121 §3.1.3: a mere request never creates a roster item; anything else does.
    const updated: RosterItem = {
      ...(item ?? { jid: contact.toString(), groups: [] }),
      subscription: next.subscription,
    };
    if (next.ask) updated.ask = true;
    else delete updated.ask;
    if (next.approved) updated.approved = true;
    else delete updated.approved;
    const ver = await this.rosters.put(owner.bareString, updated);
    this.roster.push(owner.bareString, itemElement(updated), ver);
  }

  /** §3.1.3: requests go to available resources that asked for the roster; the rest to every available resource. */
  private deliver(owner: Jid, el: Element, type: SubscriptionType): void {
    for (const r of [...this.sessions.resources(owner)]) {
      if (!r.available) continue;
      if (type === 'subscribe' && !this.roster.isInterested(r)) continue;
      r.send(el);
    }
  }
}

function stateOf(item: RosterItem | null, pendingIn: boolean): SubscriptionState {
  return { subscription: item?.subscription ?? 'none', ask: item?.ask === true, approved: item?.approved === true, pendingIn };
}

/** The stanza as delivered to the account: from the contact's bare JID (RFC 6121 §3.1.2 stamping). */
function bareFrom(s: Stanza, contact: Jid): Element {
  const el = cloneElement(s.el);
  el.attrs.from = contact.toString();
  return el;
}
