// IQs on a client stream that has not authenticated yet (IqTarget 'unauthenticated').
// RFC 6120 §4.9.3.12 forbids processing stanzas before authentication; an extension a module
// registers for this target (XEP-0077 §3.1.1 in-band registration) is the one exception. What no
// handler takes is left to the session, which ends the stream with <not-authorized/>.
import { StanzaError } from '../errors.ts';
import { JidError, tryParseJid } from '../jid.ts';
import { x, type Element } from '../xml/element.ts';
import type { Host } from '../host.ts';
import type { UnauthenticatedStream } from '../iq-table.ts';
import type { Logger } from '../log.ts';

/**
 * Hand an IQ get/set addressed to the server (no 'to', or the stream's domain) to the handler
 * registered for it, and write the reply with `send`. Returns false, having done nothing, when
 * the IQ is not such a request or no handler is registered for its (type, namespace).
 */
export function answerUnauthenticatedIq(
  host: Host,
  el: Element,
  stream: UnauthenticatedStream,
  send: (reply: Element) => void,
  log: Logger,
): false | void | Promise<void> {
  const type = el.attrs.type;
  if (type !== 'get' && type !== 'set') return false;
  const children = el.getChildElements();
  if (!el.attrs.id || children.length !== 1) return false;
  const to = el.attrs.to;
  // Before authentication nothing is routed: only the server itself can be asked.
  if (to !== undefined && !tryParseJid(to)?.equals(host.jid)) return false;
  const payload = children[0]!;
  const handler = host.iq.find(type, payload.attrs.xmlns ?? '', 'unauthenticated');
  if (!handler) return false;

  const from = to === undefined ? undefined : host.domain;
  const failed = (err: unknown): void => {
    let error: StanzaError;
    if (err instanceof StanzaError) error = err;
    else if (err instanceof JidError) error = new StanzaError('jid-malformed');
    else {
      log.error({ err, host: host.domain }, 'unauthenticated IQ handler failed');
      error = new StanzaError('internal-server-error');
    }
    send(errorReply(el, from, error));
  };
  let result: ReturnType<typeof handler>;
  try {
    result = handler({ stanza: el, type, payload, stream });
  } catch (err) {
    return failed(err);
  }
  if (result && typeof (result as Promise<unknown>).then === 'function') {
    return (result as Promise<Element | null | void>).then((child) => send(resultReply(el, from, child ?? null)), failed);
  }
  send(resultReply(el, from, (result as Element | null | void) ?? null));
}

/** The client has no address yet: replies carry no 'to' (RFC 6120 §8.1.1.1), and 'from' only if the request had a 'to'. */
function resultReply(request: Element, from: string | undefined, child: Element | null): Element {
  return x('iq', { type: 'result', id: request.attrs.id, from }, child);
}

/** RFC 6120 §8.3.1: the payload of the request is kept, then the error. */
function errorReply(request: Element, from: string | undefined, error: StanzaError): Element {
  const reply = x('iq', { type: 'error', id: request.attrs.id, from });
  for (const child of request.children) if (typeof child !== 'string') reply.cnode(child);
  reply.cnode(error.toElement());
  return reply;
}
