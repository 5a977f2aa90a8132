// Helpers for RFC 6121 tests on top of RawClient: log in as an IM client does (roster get,
// initial presence) and pick roster pushes and presence out of what arrives, in any order.
import type { Element } from 'ltx';
import { RawClient, NS } from './raw-client.ts';

export const NS_ROSTER = 'jabber:iq:roster';

export interface ImOptions {
  /** Ask for the roster first (the resource then gets pushes and subscription requests); default true. */
  roster?: boolean;
  /** Send initial presence; default true. */
  presence?: boolean;
  priority?: number;
  status?: string;
}

/** Log in, fetch the roster and send initial presence, consuming the server's answers to both. */
export async function imLogin(port: number, user: string, resource: string, opts: ImOptions = {}): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.login(user, 'pw', resource);
  if (opts.roster !== false) {
    c.send(`<iq type='get' id='roster-1'><query xmlns='${NS_ROSTER}'/></iq>`);
    await c.take((e) => e.name === 'iq' && e.attrs.id === 'roster-1');
  }
  if (opts.presence !== false) {
    const priority = opts.priority === undefined ? '' : `<priority>${opts.priority}</priority>`;
    const status = opts.status === undefined ? '' : `<status>${opts.status}</status>`;
    c.send(`<presence>${priority}${status}</presence>`);
    // The server echoes initial presence to the resource itself (RFC 6121 §4.2.2).
    await c.take((e) => e.name === 'presence' && e.attrs.from === `${user}@localhost/${resource}` && e.attrs.type === undefined);
  }
  return c;
}

/** The next roster push about `jid`; returns its item. */
export async function rosterPush(c: RawClient, jid: string, timeoutMs = 5000): Promise<Element> {
  const iq = await c.take(
    (e) => e.name === 'iq' && e.attrs.type === 'set' && e.getChild('query', NS_ROSTER)?.getChild('item')?.attrs.jid === jid,
    timeoutMs,
  );
  return iq.getChild('query', NS_ROSTER)!.getChild('item')!;
}

/** The next presence of `type` ('available' for none) from `from` (bare or full, exactly). */
export function presence(c: RawClient, type: string, from: string, timeoutMs = 5000): Promise<Element> {
  return c.take((e) => e.name === 'presence' && (e.attrs.type ?? 'available') === type && e.attrs.from === from, timeoutMs);
}

export function isPresence(type: string, from?: string): (e: Element) => boolean {
  return (e) => e.name === 'presence' && (e.attrs.type ?? 'available') === type && (from === undefined || e.attrs.from === from);
}

export function isPush(jid?: string): (e: Element) => boolean {
  return (e) => e.name === 'iq' && e.attrs.type === 'set' && (jid === undefined || e.getChild('query', NS_ROSTER)?.getChild('item')?.attrs.jid === jid);
}

/** The roster as the server returns it, as jid -> item attributes. */
export async function rosterOf(c: RawClient): Promise<Record<string, Record<string, string>>> {
  const id = `r-${Math.random().toString(36).slice(2)}`;
  c.send(`<iq type='get' id='${id}'><query xmlns='${NS_ROSTER}'/></iq>`);
  const r = await c.take((e) => e.name === 'iq' && e.attrs.id === id);
  const out: Record<string, Record<string, string>> = {};
  for (const item of r.getChild('query', NS_ROSTER)!.getChildren('item')) out[item.attrs.jid!] = { ...item.attrs } as Record<string, string>;
  return out;
}

export function errorCondition(el: Element): string | undefined {
  return el.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === NS.stanzas && c.name !== 'text')?.name;
}
