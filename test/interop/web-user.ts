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
