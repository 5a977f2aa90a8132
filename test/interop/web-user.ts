// The other side of every interop test: a user logged in with @xmpp/client over WebSocket, as
// the web client would be.
import { setTimeout as delay } from 'node:timers/promises';
import { xml } from '@xmpp/client';
import type { Element } from 'ltx';
import type { TestServer } from '../support/test-server.ts';
import { connectClient, type Connected } from '../support/xmpp-client.ts';

/**
 * Log in over WebSocket (RFC 7395) and send initial presence, so that messages to the bare JID
 * are delivered to this resource (RFC 6121 §8.5.2.1.1: only available resources with a
 * non-negative priority get them).
 */
export async function webUser(t: TestServer, username: string, password: string, resource = 'web'): Promise<Connected> {
  const user = await connectClient({ service: `ws://127.0.0.1:${t.httpPort}/xmpp-websocket`, username, password, resource });
  try {
    await user.xmpp.send(xml('presence'));
    await user.waitFor((e) => e.name === 'presence' && e.attrs.from === user.jid);
  } catch (err) {
    await user.stop();
    throw err;
  }
  return user;
}

/**
 * Wait for a stanza the web user receives from a third-party peer. If the peer ends without it
 * arriving, fail soon with what the peer printed rather than at the time limit.
 */
export async function receivedFrom<R extends { transcript: string }>(
  user: Connected,
  match: (el: Element) => boolean,
  peer: Promise<R>,
  timeoutMs = 20_000,
): Promise<Element> {
  const received = user.waitFor(match, timeoutMs);
  // A peer that sends and exits at once may be gone before its stanza is delivered: a moment's grace.
  const gone = peer.then((r) => delay(3000).then(() => r));
  const first = await Promise.race([received.then((el) => ({ el })), gone.then((r) => ({ r }))]);
  if ('el' in first) return first.el;
  received.catch(() => {}); // still pending; nobody waits for it any more
  throw new Error(`the peer ended and ${user.jid} received nothing matching\n${first.r.transcript}`);
}

export const NS_ROSTER = 'jabber:iq:roster';

/**
 * Log in over WebSocket as an IM client does: acknowledge roster pushes (RFC 6121 §2.1.6), fetch
 * the roster (so the server delivers subscription requests to this resource, §3.1.3), then send
 * initial presence with the given show and status.
 */
export async function webImUser(
  t: TestServer,
  username: string,
  password: string,
  opts: { resource?: string; show?: string; status?: string } = {},
): Promise<Connected> {
  const user = await connectClient({ service: `ws://127.0.0.1:${t.httpPort}/xmpp-websocket`, username, password, resource: opts.resource ?? 'web' });
  try {
    user.xmpp.iqCallee.set(NS_ROSTER, 'query', () => true);
    await user.xmpp.iqCaller.request(xml('iq', { type: 'get' }, xml('query', { xmlns: NS_ROSTER })));
    await user.xmpp.send(presenceOf(opts.show, opts.status));
    await user.waitFor((e) => e.name === 'presence' && e.attrs.from === user.jid);
  } catch (err) {
    await user.stop();
    throw err;
  }
  return user;
}

/** A presence stanza with optional show and status (and 'to', for subscription stanzas). */
export function presenceOf(show?: string, status?: string, attrs: Record<string, string> = {}): Element {
  return xml('presence', attrs, ...(show ? [xml('show', {}, show)] : []), ...(status ? [xml('status', {}, status)] : []));
}

const taken = new WeakMap<Connected, WeakSet<Element>>();

/**
 * The first stanza matching `match` that no earlier take() returned for this user, waiting for it
 * if needed: for stanzas that arrive more than once in a test (presence, roster pushes).
 */
export async function take(user: Connected, match: (el: Element) => boolean, timeoutMs = 10_000): Promise<Element> {
  let seen = taken.get(user);
  if (!seen) taken.set(user, (seen = new WeakSet()));
  const set = seen;
  const el = await user.waitFor((e) => !set.has(e) && match(e), timeoutMs).catch((err: Error) => {
    throw new Error(`${user.jid}: ${err.message}; received:\n${user.inbox.map((e) => e.toString()).join('\n')}`);
  });
  set.add(el);
  return el;
}

export const isPresence =
  (type: string, from: string) =>
  (e: Element): boolean =>
    e.name === 'presence' && (e.attrs.type ?? 'available') === type && e.attrs.from === from;

/** A roster push (RFC 6121 §2.1.6) about `jid`. */
export const isPush =
  (jid: string) =>
  (e: Element): boolean =>
    e.name === 'iq' && e.attrs.type === 'set' && e.getChild('query', NS_ROSTER)?.getChild('item')?.attrs.jid === jid;

export function pushedItem(push: Element): Record<string, string> {
  return { ...push.getChild('query', NS_ROSTER)!.getChild('item')!.attrs } as Record<string, string>;
}

/** A round trip to the server (XEP-0199): whatever it sent this user before has arrived when this resolves. */
export async function roundTrip(user: Connected): Promise<void> {
  await user.xmpp.iqCaller.request(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
}
