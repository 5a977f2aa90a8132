// RFC 6121 §4: presence. Broadcast of a local client's presence to its own resources and to the
// contacts subscribed to it, probes at initial presence, answers to probes, directed presence
// and its clean-up, and the unavailable presence the server sends for a session that ends.
// Rosters of online accounts are cached (RosterStore.retain), so broadcasting reads no storage.
import { StanzaError } from '../errors.ts';
import { x, cloneElement, type Element } from '../xml/element.ts';
import { parseStored } from '../xml/frame-parser.ts';
import { parseJid, type Jid } from '../jid.ts';
import { stanzaType, type Stanza } from '../stanza.ts';
import { Subscriptions, type PresenceSender } from './subscriptions.ts';
import { hasFrom, hasTo, isSubscriptionType } from './subscription-state.ts';
import type { RosterItem, RosterStore } from './roster-store.ts';
import type { PendingRequests } from './pending-requests.ts';
import type { OfflineMessages } from './offline.ts';
import type { Roster } from './roster.ts';
import type { BoundSession, SessionRegistry } from '../sessions.ts';
import type { Router } from '../router.ts';
import type { Logger } from '../log.ts';

/** A bound session as the presence logic updates it. */
export interface PresenceState extends BoundSession {
  setPresence(presence: Element | null, priority: number): void;
}

type Items = Map<string, RosterItem>;

const sendsTo = (item: RosterItem | undefined) => item !== undefined && hasFrom(item.subscription);

export class PresenceBroker implements PresenceSender {
  private router!: Router;
  readonly subscriptions: Subscriptions;
  /** RFC 6121 §4.6: whom each session sent directed presence to (full or bare JIDs as addressed). */
  private readonly directed = new WeakMap<BoundSession, Set<string>>();

  constructor(
    private readonly sessions: SessionRegistry,
    private readonly rosters: RosterStore,
    pending: PendingRequests,
    roster: Roster,
    private readonly offline: OfflineMessages,
    maxRosterItems: number,
    private readonly log: Logger,
  ) {
    this.subscriptions = new Subscriptions(rosters, pending, roster, sessions, this, maxRosterItems);
    roster.attach(this.subscriptions);
  }

  attach(router: Router): void {
    this.router = router;
    this.subscriptions.attach(router);
  }

  // ---- presence a local client sends

  /** RFC 6121 §4.2.2 (initial), §4.4.2 (subsequent) and §4.5.2 (unavailable) presence without 'to'. */
  outbound(s: Stanza, origin: BoundSession): void | Promise<void> {
    const session = origin as PresenceState;
    if (s.type === 'available') {
      const priority = parsePriority(s.el);
      if (priority === null) {
        return this.router.bounce(s, new StanzaError('bad-request', 'priority must be an integer from -128 to 127'), origin);
      }
      const wasAvailable = session.available;
      const oldPriority = session.priority;
      session.setPresence(s.el, priority);
      // The user's own available resources, including the one that sent it (§4.2.2, §4.4.2).
      for (const r of [...this.sessions.resources(session.jid)]) if (r.available) r.send(s.el);
      return then(this.rosters.map(session.jid.bareString), (items) => {
        this.toContacts(session, s.el, items);
        const comesOnline = !wasAvailable || oldPriority < 0;
        if (!wasAvailable) this.initial(session, items);
        // XEP-0160 §4: stored messages go out once the account has a resource with non-negative priority.
        if (comesOnline && priority >= 0) return this.afterInitial(session, !wasAvailable);
        return undefined;
      });
    }
    if (s.type === 'unavailable') return this.goneUnavailable(session, s.el);
    // Subscription requests need a 'to' (RFC 6121 §3.1.1); probes come only from servers (§4.3).
    return this.router.bounce(s, new StanzaError('bad-request', `presence of type '${s.type}' needs a 'to' address`), origin);
  }

  /**
   * Presence with a 'to' that a local account sends (its client's, or the server's on its behalf).
   * Subscription stanzas are handled here (RFC 6121 §3); returns null when the stanza is to be
   * routed as usual, after noting directed presence (§4.6).
   */
  addressed(s: Stanza, origin: BoundSession): null | void | Promise<void> {
    if (isSubscriptionType(s.type)) return this.subscriptions.outbound(s, s.type, origin);
    if (s.type === 'available' || s.type === 'unavailable') this.trackDirected(s, origin);
    return null;
  }

  /** RFC 6121 §4.5.3.1: a session ended without unavailable presence; the server sends it for the client. */
  sessionEnded(session: BoundSession): void {
    if (!session.available && !this.directed.get(session)?.size) return;
    this.settle(this.goneUnavailable(session as PresenceState, x('presence', { from: session.jid.toString(), type: 'unavailable' })));
  }

  // ---- presence for a local account (RFC 6121 §8.5.2.1.2, §8.5.2.2.2)

  inbound(s: Stanza, resources: readonly BoundSession[]): void | Promise<void> {
    if (isSubscriptionType(s.type)) return this.subscriptions.inbound(s, s.type);
    if (s.type === 'probe') return this.answerProbe(s);
    if (s.type === 'available' || s.type === 'unavailable') {
      for (const r of [...resources]) if (r.available) r.send(s.el);
    }
    // A presence error to a bare JID has nobody to go to.
  }

  // ---- PresenceSender: used when a subscription starts or ends (RFC 6121 §3.1.5, §3.2.2, §3.3.3)

  sendCurrentPresence(owner: Jid, contact: Jid): void {
    for (const r of [...this.sessions.resources(owner)]) {
      if (r.available && r.presence) this.sendCopy(r, r.presence, contact.toString());
    }
  }

  sendUnavailable(owner: Jid, contact: Jid): void {
    for (const r of [...this.sessions.resources(owner)]) {
      if (r.available) this.sendCopy(r, x('presence', { from: r.jid.toString(), type: 'unavailable' }), contact.toString());
    }
  }

  // ---- internals

  /** §4.2.2: probes to the contacts the account is subscribed to, and the other resources' presence to the new one. */
  private initial(session: BoundSession, items: Items): void {
    const owner = session.jid.bare();
    for (const item of items.values()) {
      if (!hasTo(item.subscription)) continue;
      const probe = x('presence', { from: owner.toString(), to: item.jid, type: 'probe' });
      this.send(probe, session, owner, item.jid);
    }
    for (const r of this.sessions.resources(session.jid)) {
      if (r !== session && r.available && r.presence) session.send(r.presence);
    }
  }

  /** Subscription requests still waiting (§3.1.3) at initial presence, then stored messages (XEP-0160). */
  private async afterInitial(session: BoundSession, initial: boolean): Promise<void> {
    if (initial) {
      for (const p of await this.subscriptions.pendingRequests(session.jid.bare())) session.send(parseStored(p.stanza));
    }
    await this.offline.flush(session);
  }

  /** §4.5.2: unavailable to the account's other resources, its subscribers and everyone it sent directed presence to. */
  private goneUnavailable(session: PresenceState, el: Element): void | Promise<void> {
    const wasAvailable = session.available;
    session.setPresence(null, 0);
    const directed = this.directed.get(session);
    this.directed.delete(session);
    if (wasAvailable) {
      for (const r of [...this.sessions.resources(session.jid)]) if (r !== session && r.available) r.send(el);
    }
    return then(this.rosters.map(session.jid.bareString), (items) => {
      if (wasAvailable) this.toContacts(session, el, items);
      if (directed) {
        for (const to of directed) {
          if (!wasAvailable || !sendsTo(items.get(parseJid(to).bareString))) this.sendCopy(session, el, to);
        }
      }
    });
  }

  private toContacts(session: BoundSession, el: Element, items: Items): void {
    for (const item of items.values()) if (sendsTo(item)) this.sendCopy(session, el, item.jid);
  }

  /** §4.6.3: directed presence to someone who is not a subscriber is remembered for the unavailable broadcast. */
  private trackDirected(s: Stanza, origin: BoundSession): void {
    const to = s.to!;
    if (to.bareString === origin.jid.bareString) return;
    if (s.type === 'unavailable') {
      this.directed.get(origin)?.delete(to.toString());
      return;
    }
    if (sendsTo(this.rosters.cached(origin.jid.bareString)?.get(to.bareString))) return;
    let set = this.directed.get(origin);
    if (!set) this.directed.set(origin, (set = new Set()));
    set.add(to.toString());
  }

  /**
   * §4.3.2: a probe is answered with the last presence of each available resource when the
   * prober is subscribed, unavailable when there is none; an unsubscribed prober learns nothing.
   */
  private answerProbe(s: Stanza): void | Promise<void> {
    const owner = s.to!.bare();
    return then(this.rosters.map(owner.bareString), (items) => {
      const prober = s.from.toString();
      if (!sendsTo(items.get(s.from.bareString))) {
        this.routeAs(x('presence', { from: owner.toString(), to: s.from.bareString, type: 'unsubscribed' }), owner, s.from.bare());
        return;
      }
      let answered = false;
      for (const r of [...this.sessions.resources(owner)]) {
        if (!r.available || !r.presence) continue;
        this.sendCopy(r, r.presence, prober);
        answered = true;
      }
      if (!answered) this.routeAs(x('presence', { from: owner.toString(), to: prober, type: 'unavailable' }), owner, s.from);
    });
  }

  /** A copy of `el` from `session` to `to`, sent on the account's behalf (through 'stanza/outbound'). */
  private sendCopy(session: BoundSession, el: Element, to: string): void {
    const copy = cloneElement(el);
    copy.attrs.from = session.jid.toString();
    copy.attrs.to = to;
    this.send(copy, session, session.jid, to);
  }

  private send(el: Element, session: BoundSession, from: Jid, to: string): void {
    let toJid: Jid;
    try {
      toJid = parseJid(to);
    } catch {
      return;
    }
    const s: Stanza = { el, kind: 'presence', type: stanzaType('presence', el), from, to: toJid };
    this.settle(this.router.outbound(s, session, true));
  }

  /** Server-generated presence from the account's bare JID (no session sends it). */
  private routeAs(el: Element, from: Jid, to: Jid): void {
    this.settle(this.router.route({ el, kind: 'presence', type: stanzaType('presence', el), from, to }));
  }

  private settle(result: void | Promise<void>): void {
    if (result) result.catch((err: unknown) => this.log.error({ err }, 'presence routing failed'));
  }
}

/** Run `fn` on a value that may still be on its way, staying synchronous when it is not. */
function then<T, R>(value: T | Promise<T>, fn: (v: T) => R): R | Promise<Awaited<R>> {
  if (value instanceof Promise) return value.then(fn) as Promise<Awaited<R>>;
  return fn(value);
}

/** RFC 6121 §4.7.2.3: an integer from -128 to +127; absent means 0. Null when invalid. */
export function parsePriority(presence: Element): number | null {
  const text = presence.getChildText('priority');
  if (text === null) return 0;
  const trimmed = text.trim();
  if (!/^[+-]?\d{1,3}$/.test(trimmed)) return null;
  const n = Number(trimmed);
  return n >= -128 && n <= 127 ? n : null;
}
