// A stanza as the router sees it: the element plus its addresses, parsed once at the edge.
import { Element, x } from './xml/element.ts';
import type { Jid } from './jid.ts';
import type { StanzaError } from './errors.ts';

export type StanzaKind = 'message' | 'presence' | 'iq';

export interface Stanza {
  readonly el: Element;
  readonly kind: StanzaKind;
  /** The 'type' attribute with the RFC defaults applied: 'normal' for messages, 'available' for presence. */
  readonly type: string;
  readonly from: Jid;
  /** Null when the stanza had no 'to' (RFC 6120 §10.3). */
  readonly to: Jid | null;
}

export const NS_CLIENT = 'jabber:client';
export const NS_SERVER = 'jabber:server';

export const MESSAGE_TYPES = new Set(['normal', 'chat', 'groupchat', 'headline', 'error']);
export const PRESENCE_TYPES = new Set(['available', 'unavailable', 'subscribe', 'subscribed', 'unsubscribe', 'unsubscribed', 'probe', 'error']);
export const IQ_TYPES = new Set(['get', 'set', 'result', 'error']);

export function isStanzaName(name: string): name is StanzaKind {
  return name === 'message' || name === 'presence' || name === 'iq';
}

export function stanzaType(kind: StanzaKind, el: Element): string {
  const t = el.attrs.type;
  if (t) return t;
  return kind === 'message' ? 'normal' : kind === 'presence' ? 'available' : '';
}

/**
 * The error reply to a stanza (RFC 6120 §8.3.1): addresses swapped, type 'error', the same id,
 * the original payload kept so the sender can tell what failed, then the <error/> element.
 */
export function errorReply(s: Stanza, error: StanzaError, by?: string): Element {
  const reply = new Element(s.kind, { from: s.to?.toString(), to: s.from.toString(), type: 'error', id: s.el.attrs.id });
  if (s.el.attrs['xml:lang']) reply.attrs['xml:lang'] = s.el.attrs['xml:lang'];
  if (s.kind !== 'iq' || s.el.attrs.type === 'get' || s.el.attrs.type === 'set') {
    for (const child of s.el.children) if (typeof child !== 'string') reply.cnode(child);
  }
  reply.cnode(error.toElement(by));
  return reply;
}

/** The result reply to an IQ get/set (RFC 6120 §8.2.3). `from` is omitted when the request had no 'to'. */
export function iqResult(s: Stanza, payload?: Element | null): Element {
  return x('iq', { type: 'result', id: s.el.attrs.id, from: s.to?.toString(), to: s.from.toString() }, payload ?? null);
}
