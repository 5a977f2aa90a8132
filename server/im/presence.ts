// RFC 6121 §4: presence a local client sends without a 'to' (broadcast), and the
// unavailable presence the server sends for a session that ends.
import { StanzaError } from '../errors.ts';
import { x, type Element } from '../xml/element.ts';
import type { Stanza } from '../stanza.ts';
import type { BoundSession, SessionRegistry } from '../sessions.ts';
import type { Router } from '../router.ts';

/** A bound session as the presence logic updates it. */
export interface PresenceState extends BoundSession {
  setPresence(presence: Element | null, priority: number): void;
}

export class PresenceBroker {
  private router!: Router;

  constructor(private readonly sessions: SessionRegistry) {}

  attach(router: Router): void {
    this.router = router;
  }

  /** RFC 6121 §4.2.2 (initial), §4.4.2 (subsequent) and §4.5.2 (unavailable) outbound presence. */
  outbound(s: Stanza, origin: BoundSession): void | Promise<void> {
    const session = origin as PresenceState;
    if (s.type === 'available') {
      const priority = parsePriority(s.el);
      if (priority === null) {
        return this.router.bounce(s, new StanzaError('bad-request', 'priority must be an integer from -128 to 127'), origin);
      }
      session.setPresence(s.el, priority);
      // The user's own available resources, including the one that sent it (§4.2.2, §4.4.2).
      for (const r of [...this.sessions.resources(session.jid)]) if (r.available) r.send(s.el);
      return;
    }
    if (s.type === 'unavailable') {
      const wasAvailable = session.available;
      session.setPresence(null, 0);
      if (wasAvailable) this.broadcastToOwnResources(session, s.el);
      return;
    }
    // Subscription requests need a 'to' (RFC 6121 §3.1.1); probes come only from servers (§4.3).
    return this.router.bounce(s, new StanzaError('bad-request', `presence of type '${s.type}' needs a 'to' address`), origin);
  }

  /** RFC 6121 §4.5.3.1: a session ended without unavailable presence; the server sends it for the client. */
  sessionEnded(session: BoundSession): void {
    if (!session.available) return;
    (session as PresenceState).setPresence(null, 0);
    this.broadcastToOwnResources(session, x('presence', { from: session.jid.toString(), type: 'unavailable' }));
  }

  private broadcastToOwnResources(session: BoundSession, el: Element): void {
    for (const r of [...this.sessions.resources(session.jid)]) if (r !== session && r.available) r.send(el);
  }
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
