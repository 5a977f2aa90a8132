// RFC 6120 §7: resource binding. A second session with the same full JID replaces the
// first, which is closed with <conflict/> (§7.7.2.2, the "override" policy).
import { randomToken } from '../random.ts';
import { StanzaError, StreamError } from '../errors.ts';
import { x, type Element } from '../xml/element.ts';
import { JidError, normalizeResource } from '../jid.ts';
import type { ClientSession } from './client-session.ts';
import type { C2sServices } from './c2s-services.ts';

export const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
export const NS_SESSION = 'urn:ietf:params:xml:ns:xmpp-session';

export function bindResource(session: ClientSession, iq: Element, bind: Element, services: C2sServices): void {
  const id = iq.attrs.id;
  const fail = (error: StanzaError) =>
    session.send(x('iq', { type: 'error', id }, bind, error.toElement()));
  if (iq.attrs.type !== 'set' || !id) return fail(new StanzaError('bad-request', 'binding is an IQ set with an id'));

  const requested = bind.getChildText('resource');
  let resource: string;
  if (requested === null || requested === '') {
    resource = generatedResource();
  } else {
    try {
      resource = normalizeResource(requested);
    } catch (err) {
      if (err instanceof JidError) return fail(new StanzaError('bad-request', 'the resourcepart is not valid'));
      throw err;
    }
  }
  const full = session.user!.withResource(resource);
  session.bound(full);
  const replaced = services.sessions.add(session);
  replaced?.close(new StreamError('conflict', 'replaced by a new session with the same resource'));
  session.send(x('iq', { type: 'result', id }, x('bind', { xmlns: NS_BIND }, x('jid', null, full.toString()))));
  // Stream management (XEP-0198, a later issue) binds no resource when it resumes a session; it
  // logs 'session resumed' with the old and the new session id, at info like this line.
  services.log.info({ session: session.id, jid: full.toString(), address: session.stream.remoteAddress }, 'resource bound');
  session.host!.hooks.run('session/bound', { session });
}

function generatedResource(): string {
  return `chorus.${randomToken(9)}`;
}
