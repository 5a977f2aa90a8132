// Parse at the edge: a jabber:iq:private <query/> becomes the namespace it is about and the
// elements to store, after the checks of XEP-0049 §2.3 and the configured limits.
import { StanzaError } from '../../server/errors.ts';
import type { Element } from '../../server/xml/element.ts';
import { elementToString } from '../../server/xml/serialize.ts';
import { isXmlWhitespace } from '../../server/xml/xml-rules.ts';

export const NS_PRIVATE = 'jabber:iq:private';

export interface PrivateLimits {
  maxBytes: number;
  refuseReservedNamespaces: boolean;
}

export interface PrivateGet {
  ns: string;
  /** The element asked for, answered empty when nothing is stored (what clients expect). */
  name: string;
}

export interface PrivateSet {
  ns: string;
  /** The elements, serialised; empty when the set stores a single empty element (nothing to keep). */
  xml: string[];
  bytes: number;
}

/** A get names exactly one element, whose namespace selects what to return. */
export function parseGet(query: Element, limits: PrivateLimits): PrivateGet {
  const children = query.getChildElements();
  const first = children[0];
  // XEP-0049 §2.3: "At least one child element with a proper namespace MUST be included;
  // otherwise the server MUST respond with a 'Not Acceptable' error".
  if (first === undefined) throw new StanzaError('not-acceptable', 'the query names no namespace to retrieve');
  // XEP-0049 §2.3: "A client MUST NOT query for more than [one] namespace in a single IQ get request."
  if (children.length > 1) throw new StanzaError('bad-request', 'a get asks for exactly one element');
  return { ns: ownNamespace(first, limits), name: first.name };
}

/** A set carries one or more elements, all of one namespace (XEP-0049 §2.3). */
export function parseSet(query: Element, limits: PrivateLimits): PrivateSet {
  const children = query.getChildElements();
  const first = children[0];
  if (first === undefined) throw new StanzaError('not-acceptable', 'the query holds nothing to store');
  const ns = ownNamespace(first, limits);
  for (const child of children.slice(1)) {
    // XEP-0049 §2.3: "an IQ set or result MAY contain multiple elements qualified by the same namespace".
    if (namespaceOf(child) !== ns) throw new StanzaError('bad-request', 'the elements of one set share one namespace');
  }
  // A single empty element is what clients write to clear their data (e.g. <storage
  // xmlns='storage:bookmarks'/>): nothing is kept, and a get answers the same empty element.
  if (children.length === 1 && isEmpty(first)) return { ns, xml: [], bytes: 0 };
  const xml = children.map(elementToString);
  let bytes = 0;
  for (const s of xml) bytes += Buffer.byteLength(s);
  if (bytes > limits.maxBytes) {
    throw new StanzaError('not-acceptable', `at most ${limits.maxBytes} bytes of XML may be stored under one namespace`);
  }
  return { ns, xml, bytes };
}

/**
 * XEP-0049 §2.1: the stored fragment's root "is scoped by its own namespace": neither no
 * namespace nor jabber:iq:private itself. §2.3 and §3: a reserved namespace ('jabber:*',
 * 'http://jabber.org/*', 'vcard-temp') MAY be refused with not-acceptable.
 */
function ownNamespace(el: Element, limits: PrivateLimits): string {
  const ns = namespaceOf(el);
  if (ns === '' || ns === NS_PRIVATE) throw new StanzaError('not-acceptable', 'the element needs a namespace of its own');
  if (limits.refuseReservedNamespaces && isReserved(ns)) throw new StanzaError('not-acceptable', `${ns} is a reserved namespace`);
  return ns;
}

/** The parser sets xmlns where an element's namespace differs from its parent's (docs/architecture.md). */
function namespaceOf(child: Element): string {
  return child.attrs.xmlns ?? NS_PRIVATE;
}

export function isReserved(ns: string): boolean {
  return ns.startsWith('jabber:') || ns.startsWith('http://jabber.org/') || ns === 'vcard-temp';
}

function isEmpty(el: Element): boolean {
  return el.children.every((c) => typeof c === 'string' && isXmlWhitespace(c)) && Object.keys(el.attrs).every((name) => name === 'xmlns');
}
