// XEP-0191 §3.3: what happens to stanzas between a user and a JID it blocks. Both filters run in
// the Guard band: a blocked stanza must be stopped before anything archives, copies or delivers it.
import { StanzaError } from '../../server/errors.ts';
import { errorReply, type Stanza } from '../../server/stanza.ts';
import { x } from '../../server/xml/element.ts';
import type { FilterResult, HookEvents } from '../../server/hooks.ts';
import type { ModuleContext } from '../../server/module.ts';
import type { BoundSession } from '../../server/sessions.ts';
import type { Blocklists } from './blocklists.ts';
import type { BlockPresence } from './presence.ts';
import { isBlocked } from './matching.ts';

export const NS_BLOCKING_ERRORS = 'urn:xmpp:blocking:errors';

/** XEP-0191 §3.3: stanzas from a blocked JID to the user. */
export function inboundFilter(ctx: ModuleContext<unknown>, blocklists: Blocklists, presence: BlockPresence) {
  const decide = (s: Stanza, items: ReadonlySet<string>): FilterResult => {
    if (!isBlocked(items, s.from)) {
      if (s.kind === 'presence') presence.noteInbound(s);
      return;
    }
    switch (s.kind) {
      case 'presence':
        // Notifications, subscriptions and probes alike: no response, no error.
        return 'drop';
      case 'message':
        // SHOULD return an error, which SHOULD be service-unavailable (never in reply to an error: RFC 6120 §8.3.1).
        if (s.type !== 'error') ctx.router.route(errorReply(s, new StanzaError('service-unavailable')));
        return 'drop';
      case 'iq':
        // get and set MUST get an error, which SHOULD be service-unavailable; other types are dropped silently.
        if (s.type === 'get' || s.type === 'set') ctx.router.route(errorReply(s, new StanzaError('service-unavailable')));
        return 'drop';
    }
  };
  return ({ stanza: s }: HookEvents['stanza/inbound']): FilterResult => {
    const owner = s.to!;
    // XEP-0191 §5 (note): one of a user's resources is never blocked from another.
    if (s.from.local === owner.local && s.from.domain === owner.domain) return;
    const items = blocklists.items(owner);
    if (items instanceof Set) return decide(s, items);
    return (items as Promise<ReadonlySet<string>>).then((loaded) => decide(s, loaded));
  };
}

/** XEP-0191 §3.3: stanzas from the user to a blocked JID. */
export function outboundFilter(blocklists: Blocklists, presence: BlockPresence) {
  const decide = (s: Stanza, session: BoundSession, generated: boolean, items: ReadonlySet<string>): FilterResult => {
    if (!isBlocked(items, s.to!)) {
      if (s.kind === 'presence' && !generated) presence.noteOutbound(s, session);
      return;
    }
    // What the server sends on the user's behalf (presence broadcast copies, probes) is dropped quietly.
    if (generated) return 'drop';
    // RFC 6120 §8.3.1 and §8.2.3: no error in answer to an error or to an IQ result; just not routed.
    if (s.type === 'error' || (s.kind === 'iq' && s.type === 'result')) return 'drop';
    session.send(errorReply(s, blockedError()));
    return 'drop';
  };
  return ({ stanza: s, session, generated }: HookEvents['stanza/outbound']): FilterResult => {
    const to = s.to;
    if (to === null) {
      if (s.kind === 'presence' && !generated) presence.noteOutbound(s, session);
      return;
    }
    if (to.local === s.from.local && to.domain === s.from.domain) return;
    if (presence.isExempt(s.el)) return;
    const items = blocklists.items(s.from);
    if (items instanceof Set) return decide(s, session, generated, items);
    return (items as Promise<ReadonlySet<string>>).then((loaded) => decide(s, session, generated, loaded));
  };
}

/** XEP-0191 §3.3: not-acceptable with <blocked/>; the type is 'cancel' as in the XEP's example. */
function blockedError(): StanzaError {
  return new StanzaError('not-acceptable', undefined, 'cancel', x('blocked', { xmlns: NS_BLOCKING_ERRORS }));
}
