// RFC 6121 §8.5: delivery to a local account's bare or full JID. Each branch cites the
// section it implements; docs/routing.md has the same rules as a table.
import { StanzaError } from '../errors.ts';
import type { Stanza } from '../stanza.ts';
import type { Host } from '../host.ts';
import type { BoundSession, SessionRegistry } from '../sessions.ts';
import type { Accounts } from '../accounts.ts';
import type { Router } from '../router.ts';
import type { PresenceBroker } from './presence.ts';

/** Presence the server handles for the account rather than a resource (RFC 6121 §3, §4.3). */
const ACCOUNT_PRESENCE_TYPES = new Set(['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed', 'probe']);

export class LocalDelivery {
  private router!: Router;
  private presence!: PresenceBroker;

  constructor(
    private readonly sessions: SessionRegistry,
    private readonly accounts: Accounts,
  ) {}

  /** The router and delivery refer to each other (bounces go back through the router). */
  attach(router: Router, presence: PresenceBroker): void {
    this.router = router;
    this.presence = presence;
  }

  deliver(host: Host, s: Stanza, origin: BoundSession | null): void | Promise<void> {
    const go = host.hooks.run('stanza/inbound', { stanza: s });
    if (go === true) return this.applyRules(host, s, origin);
    if (go === false) return;
    return go.then((ok) => (ok ? this.applyRules(host, s, origin) : undefined));
  }

  private applyRules(host: Host, s: Stanza, origin: BoundSession | null): void | Promise<void> {
    const to = s.to!;
    if (to.resource !== '') return this.toFullJid(host, s, origin);
    return this.toBareJid(host, s, origin);
  }

  /** RFC 6121 §8.5.3 */
  private toFullJid(host: Host, s: Stanza, origin: BoundSession | null): void | Promise<void> {
    const session = this.sessions.get(s.to!);
    if (session !== undefined) {
      // §8.5.3.1: the resource matches. Subscription stanzas and probes are about the account, not the resource (§3, §4.3).
      if (s.kind === 'presence' && ACCOUNT_PRESENCE_TYPES.has(s.type)) return this.toBareJid(host, s, origin);
      if (s.kind === 'message') return this.deliverMessage(host, s, [session]);
      session.send(s.el);
      return;
    }
    // §8.5.3.2: no resource matches.
    switch (s.kind) {
      case 'message':
        // §8.5.3.2.1: chat goes as if to the bare JID; normal, groupchat and headline get an error; error is ignored.
        if (s.type === 'chat') return this.toBareJid(host, s, origin);
        return this.router.bounce(s, new StanzaError('service-unavailable'), origin);
      case 'presence':
        // §8.5.3.2.2: subscription stanzas (and probes, answered for the account) as if to the bare JID; everything else is ignored.
        if (ACCOUNT_PRESENCE_TYPES.has(s.type)) return this.toBareJid(host, s, origin);
        return;
      case 'iq':
        // §8.5.3.2.3
        return this.router.bounce(s, new StanzaError('service-unavailable'), origin);
    }
  }

  /** RFC 6121 §8.5.2, after §8.5.1 (no such user) is ruled out. */
  private toBareJid(host: Host, s: Stanza, origin: BoundSession | null): void | Promise<void> {
    const resources = this.sessions.resources(s.to!);
    if (resources.length > 0) return this.toExistingAccount(host, s, origin, resources);
    // Nobody online: only now is it worth asking storage whether the account exists at all.
    const account = s.to!.bare();
    return this.accounts.exists(account).then((exists) =>
      exists ? this.toExistingAccount(host, s, origin, resources) : this.noSuchUser(s, origin),
    );
  }

  /** RFC 6121 §8.5.1 */
  private noSuchUser(s: Stanza, origin: BoundSession | null): void | Promise<void> {
    // Presence of any type to a non-existent account is silently ignored; IQs and messages get an error.
    if (s.kind === 'presence') return;
    if (s.kind === 'iq' && s.type !== 'get' && s.type !== 'set') return;
    return this.router.bounce(s, new StanzaError('service-unavailable'), origin);
  }

  private toExistingAccount(host: Host, s: Stanza, origin: BoundSession | null, resources: readonly BoundSession[]): void | Promise<void> {
    switch (s.kind) {
      case 'message':
        return this.messageToBareJid(host, s, origin, resources);
      case 'presence':
        // §8.5.2.1.2 / §8.5.2.2.2: subscription stanzas and probes are handled for the account, the rest goes to available resources.
        return this.presence.inbound(s, resources);
      case 'iq':
        // §8.5.2.1.3 / §8.5.2.2.3: the server answers on behalf of the account.
        return this.router.dispatchIq(host, s, 'account', s.to!.bare(), origin);
    }
  }

  /** RFC 6121 §8.5.2.1.1 and §8.5.2.2.1 */
  private messageToBareJid(host: Host, s: Stanza, origin: BoundSession | null, resources: readonly BoundSession[]): void | Promise<void> {
    switch (s.type) {
      case 'error':
        return;
      case 'groupchat':
        return this.router.bounce(s, new StanzaError('service-unavailable'), origin);
      case 'headline':
        // To every non-negative resource; with none, silently ignored.
        return this.deliverMessage(host, s, nonNegative(resources));
      default: {
        // normal and chat: the "most available" resources, i.e. those sharing the highest
        // non-negative priority; with none, offline storage or <service-unavailable/>.
        const targets = mostAvailable(resources);
        if (targets.length > 0) return this.deliverMessage(host, s, targets);
        return this.offline(host, s, origin);
      }
    }
  }

  private deliverMessage(host: Host, s: Stanza, recipients: readonly BoundSession[]): void | Promise<void> {
    const go = host.hooks.run('message/inbound', { stanza: s, recipients });
    if (go === true) return sendAll(s, recipients);
    if (go === false) return;
    return go.then((ok) => (ok ? sendAll(s, recipients) : undefined));
  }

  private offline(host: Host, s: Stanza, origin: BoundSession | null): void | Promise<void> {
    const unclaimed = host.hooks.run('message/offline', { stanza: s });
    if (unclaimed === false) return;
    if (unclaimed === true) return this.router.bounce(s, new StanzaError('service-unavailable'), origin);
    return unclaimed.then((u) => (u ? this.router.bounce(s, new StanzaError('service-unavailable'), origin) : undefined));
  }
}

function sendAll(s: Stanza, recipients: readonly BoundSession[]): void {
  for (const r of recipients) r.send(s.el);
}

function nonNegative(resources: readonly BoundSession[]): BoundSession[] {
  return resources.filter((r) => r.available && r.priority >= 0);
}

function mostAvailable(resources: readonly BoundSession[]): BoundSession[] {
  let best = -1;
  let out: BoundSession[] = [];
  for (const r of resources) {
    if (!r.available || r.priority < 0) continue;
    if (r.priority > best) {
      best = r.priority;
      out = [r];
    } else if (r.priority === best) {
      out.push(r);
    }
  }
  return out;
}
