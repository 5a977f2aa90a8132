// RFC 6121 §2: roster get, set and remove, roster pushes to interested resources, and roster
// versioning (§2.6). Subscription state changes (§3) build on the same store.
import { StanzaError } from '../errors.ts';
import { x, type Element } from '../xml/element.ts';
import { parseJid, JidError } from '../jid.ts';
import type { IqRequest } from '../iq-table.ts';
import type { BoundSession, SessionRegistry } from '../sessions.ts';
import type { RosterItem, RosterStore } from './roster-store.ts';
import type { Subscriptions } from './subscriptions.ts';

export const NS_ROSTER = 'jabber:iq:roster';
export const NS_ROSTER_VER = 'urn:xmpp:features:rosterver';
/** RFC 6121 §3.4: the server supports subscription pre-approval. */
export const NS_PRE_APPROVAL = 'urn:xmpp:features:pre-approval';

export interface RosterLimits {
  maxItems: number;
  maxNameLength: number;
  maxGroupLength: number;
}

export class Roster {
  /** RFC 6121 §2.1.6: resources that asked for the roster receive pushes. */
  private readonly interested = new WeakSet<BoundSession>();
  private pushCounter = 0;
  private subscriptions!: Subscriptions;

  constructor(
    private readonly store: RosterStore,
    private readonly sessions: SessionRegistry,
    private readonly limits: RosterLimits,
  ) {}

  /** Removing an item ends its subscriptions (RFC 6121 §2.5.2); the two refer to each other. */
  attach(subscriptions: Subscriptions): void {
    this.subscriptions = subscriptions;
  }

  /** RFC 6121 §2.1.6: whether the resource asked for the roster (and so gets pushes and subscription requests). */
  isInterested(session: BoundSession): boolean {
    return this.interested.has(session);
  }

  /** RFC 6121 §2.2 roster get; with 'ver', §2.6.3: an unchanged roster is an empty result. */
  async get(req: IqRequest): Promise<Element | null> {
    const owner = this.ownerOf(req);
    if (req.session) this.interested.add(req.session);
    const requested = req.payload.attrs.ver;
    if (requested === undefined) {
      return itemsQuery(await this.store.list(owner), undefined);
    }
    const ver = await this.store.version(owner);
    if (requested === String(ver)) return null;
    return itemsQuery(await this.store.list(owner), String(ver));
  }

  /** RFC 6121 §2.3 (add or update) and §2.5 (remove) roster set. */
  async set(req: IqRequest): Promise<null> {
    const owner = this.ownerOf(req);
    const items = req.payload.getChildren('item');
    // §2.3.3: exactly one item per roster set.
    if (items.length !== 1 || req.payload.getChildElements().length !== 1) {
      throw new StanzaError('bad-request', 'a roster set carries exactly one item');
    }
    const el = items[0]!;
    let contact: string;
    try {
      contact = parseJid(el.attrs.jid ?? '').toString();
    } catch (err) {
      if (err instanceof JidError) throw new StanzaError('jid-malformed', 'the item has no valid jid');
      throw err;
    }
    if (el.attrs.subscription === 'remove') {
      const account = req.account!;
      return this.subscriptions.withLock(account, async () => {
        const item = await this.store.get(owner, contact);
        const ver = await this.store.remove(owner, contact);
        // §2.5.3: removing what is not there.
        if (ver === null) throw new StanzaError('item-not-found');
        this.push(owner, x('item', { jid: contact, subscription: 'remove' }), ver);
        await this.subscriptions.removed(account, item, parseJid(contact));
        return null;
      });
    }
    const name = el.attrs.name;
    if (name !== undefined && name.length > this.limits.maxNameLength) throw new StanzaError('not-acceptable', 'the name is too long');
    const groups: string[] = [];
    for (const g of el.getChildren('group')) {
      const group = g.getText();
      // §2.3.3: an empty group, an over-long one, or the same group twice.
      if (group === '') throw new StanzaError('not-acceptable', 'a group name is empty');
      if (group.length > this.limits.maxGroupLength) throw new StanzaError('not-acceptable', 'a group name is too long');
      if (groups.includes(group)) throw new StanzaError('bad-request', 'a group is listed twice');
      groups.push(group);
    }
    // Under the subscription lock: the item's subscription fields may be changing concurrently.
    return this.subscriptions.withLock(req.account!, async () => {
      const existing = await this.store.get(owner, contact);
      if (!existing && (await this.store.count(owner)) >= this.limits.maxItems) {
        throw new StanzaError('not-allowed', `the roster holds at most ${this.limits.maxItems} items`);
      }
      // §2.1.2.5: subscription (other than remove), ask and approved from a client are ignored.
      const item: RosterItem = {
        jid: contact,
        groups,
        subscription: existing?.subscription ?? 'none',
        ...(name !== undefined && name !== '' ? { name } : {}),
        ...(existing?.ask ? { ask: true } : {}),
        ...(existing?.approved ? { approved: true } : {}),
      };
      const ver = await this.store.put(owner, item);
      this.push(owner, itemElement(item), ver);
      return null;
    });
  }

  /** RFC 6121 §2.1.6: a roster push to every interested resource of the owner. */
  push(owner: string, item: Element, ver: number): void {
    const bare = parseJid(owner);
    for (const session of this.sessions.resources(bare)) {
      if (!this.interested.has(session)) continue;
      session.send(
        x('iq', { type: 'set', id: `push-${(++this.pushCounter).toString(36)}`, to: session.jid.toString() },
          x('query', { xmlns: NS_ROSTER, ver: String(ver) }, item)),
      );
    }
  }

  /** RFC 6121 §2.1.5: only the account itself manages its roster. */
  private ownerOf(req: IqRequest): string {
    const account = req.account;
    if (!account || !req.from.bare().equals(account)) throw new StanzaError('forbidden');
    return account.toString();
  }
}

function itemsQuery(items: RosterItem[], ver: string | undefined): Element {
  return x('query', { xmlns: NS_ROSTER, ver }, items.map(itemElement));
}

export function itemElement(item: RosterItem): Element {
  return x(
    'item',
    { jid: item.jid, name: item.name, subscription: item.subscription, ask: item.ask ? 'subscribe' : undefined, approved: item.approved ? 'true' : undefined },
    item.groups.map((g) => x('group', null, g)),
  );
}
