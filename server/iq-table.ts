// IQ dispatch is a keyed table, not a hook (DESIGN.md "Hooks"): the key is derived from the
// stanza (type, payload namespace, what it is addressed to), and the server's disco
// features are read from the same table, so disco never claims what is not there.
import type { Element } from './xml/element.ts';
import type { Jid } from './jid.ts';
import type { BoundSession } from './sessions.ts';
import type { StreamError } from './errors.ts';

/**
 * What an IQ is addressed to:
 * - 'host': the server itself (`to` is the domain, RFC 6120 §10.5.1);
 * - 'account': an account on this host, handled by the server on its behalf
 *   (`to` is a local bare JID, or absent: RFC 6120 §10.3.3, RFC 6121 §8.5.2.1.3);
 * - 'unauthenticated': the server, from a client stream that has not authenticated yet (no
 *   'to', or the stream's domain). RFC 6120 §4.9.3.12 forbids processing stanzas before
 *   authentication; extensions such as XEP-0077 in-band registration are the exception, and only
 *   a handler registered for this target answers. Everything else still ends the stream.
 */
export type IqTarget = 'host' | 'account' | 'unauthenticated';
/** The targets of IQs from authenticated senders, which the router dispatches. */
export type RoutedIqTarget = Exclude<IqTarget, 'unauthenticated'>;

export interface IqRequest {
  readonly stanza: Element;
  readonly type: 'get' | 'set';
  /** The one child element of the IQ (RFC 6120 §8.2.3). */
  readonly payload: Element;
  readonly from: Jid;
  /** The address as the sender wrote it; null when the IQ had no 'to'. */
  readonly to: Jid | null;
  /** The account an 'account' IQ is about (the bare `to`, or the sender's bare JID when there was no 'to'). */
  readonly account: Jid | null;
  /** The sender's own session when it came from a local client. */
  readonly session: BoundSession | null;
}

/** Returns the child of the result IQ (or nothing for an empty result); throws StanzaError for an error reply. */
export type IqHandler = (req: IqRequest) => Element | null | void | Promise<Element | null | void>;

/** The client stream an 'unauthenticated' IQ arrived on. */
export interface UnauthenticatedStream {
  /** The client's IP address, for per-address limits. */
  readonly remoteAddress: string;
  /** TLS protects the stream (or a trusted TLS-terminating proxy does). */
  readonly secure: boolean;
  /** End the stream now, with a stream error when given; the reply to the request is then not sent. */
  close(error?: StreamError): void;
}

/** An IQ get/set from a client that has not authenticated: it has no address, only its stream. */
export interface UnauthenticatedIqRequest {
  readonly stanza: Element;
  readonly type: 'get' | 'set';
  /** The one child element of the IQ (RFC 6120 §8.2.3). */
  readonly payload: Element;
  readonly stream: UnauthenticatedStream;
}

/** Like IqHandler: the return value is the result's child, a thrown StanzaError the error reply. */
export type UnauthenticatedIqHandler = (req: UnauthenticatedIqRequest) => Element | null | void | Promise<Element | null | void>;

/** The handler type of a target. */
export type IqHandlerFor<T extends IqTarget> = T extends 'unauthenticated' ? UnauthenticatedIqHandler : IqHandler;

interface Route {
  handler: IqHandler | UnauthenticatedIqHandler;
  owner: string;
  /** Whether the namespace is advertised as a disco feature of the target. */
  feature: boolean;
}

export class IqRouteConflictError extends Error {}

export class IqTable {
  private readonly routes = new Map<string, Route>();
  #revision = 0;

  /** Register a handler. Two owners claiming one key is a start-up error, never a silent override. */
  handle<T extends IqTarget>(type: 'get' | 'set', ns: string, target: T, handler: IqHandlerFor<T>, owner: string, opts: { feature?: boolean } = {}): () => void {
    const key = keyOf(type, ns, target);
    const existing = this.routes.get(key);
    if (existing) {
      throw new IqRouteConflictError(`IQ ${type} ${ns} to ${target} is claimed by both '${existing.owner}' and '${owner}'`);
    }
    const route: Route = { handler, owner, feature: opts.feature ?? true };
    this.routes.set(key, route);
    this.#revision++;
    return () => {
      if (this.routes.get(key) === route) {
        this.routes.delete(key);
        this.#revision++;
      }
    };
  }

  /** Counts registrations and removals, so readers can cache what they derive from the table. */
  get revision(): number {
    return this.#revision;
  }

  find<T extends IqTarget>(type: string, ns: string, target: T): IqHandlerFor<T> | undefined {
    // The key includes the target, and handle() only stores a handler of the target's type.
    return this.routes.get(keyOf(type, ns, target))?.handler as IqHandlerFor<T> | undefined;
  }

  /** Namespaces with a handler for the target, for disco#info. */
  features(target: IqTarget): Set<string> {
    const out = new Set<string>();
    const suffix = `\u0000${target}`;
    for (const [key, route] of this.routes) {
      if (route.feature && key.endsWith(suffix)) out.add(key.slice(key.indexOf('\u0000') + 1, -suffix.length));
    }
    return out;
  }
}

function keyOf(type: string, ns: string, target: IqTarget): string {
  return `${type}\u0000${ns}\u0000${target}`;
}
