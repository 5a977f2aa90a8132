// Who is online where. An interface, so a clustered registry can replace the in-process one.
import type { Jid } from './jid.ts';
import type { Element } from './xml/element.ts';
import type { StreamError } from './errors.ts';

/** What routing needs to know of a bound client session. */
export interface BoundSession {
  /** The full JID (RFC 6120 §7). */
  readonly jid: Jid;
  /** RFC 6121 §4.2: the resource has sent initial presence and not yet gone unavailable. */
  readonly available: boolean;
  /** RFC 6121 §4.7.2.3: the priority of its last available presence (0 when none). */
  readonly priority: number;
  /** Its last available presence as broadcast, for answering probes (RFC 6121 §4.3.2). */
  readonly presence: Element | null;
  /** Write a stanza to this session's stream. */
  send(stanza: Element): void;
  /** End the session with a stream error. */
  close(error?: StreamError): void;
}

export interface SessionRegistry {
  /** Add a bound session; returns the session it replaces (same full JID), if any. */
  add(session: BoundSession): BoundSession | undefined;
  remove(session: BoundSession): void;
  /** The session bound to exactly this full JID. */
  get(full: Jid): BoundSession | undefined;
  /** Every bound session of an account (empty when none). */
  resources(bare: Jid): readonly BoundSession[];
  /** Every bound session of a host (for shutdown and administration). */
  all(): IterableIterator<BoundSession>;
  readonly size: number;
}

const NONE: readonly BoundSession[] = Object.freeze([]);

export class LocalSessionRegistry implements SessionRegistry {
  // bare JID string -> resources. Arrays, not maps: accounts rarely have more than a few resources
  // and routing iterates them on every bare-JID stanza.
  private readonly byBare = new Map<string, BoundSession[]>();
  private count = 0;

  add(session: BoundSession): BoundSession | undefined {
    const key = session.jid.bareString;
    const list = this.byBare.get(key);
    if (!list) {
      this.byBare.set(key, [session]);
      this.count++;
      return undefined;
    }
    const i = list.findIndex((s) => s.jid.resource === session.jid.resource);
    if (i >= 0) {
      const old = list[i]!;
      list[i] = session;
      return old;
    }
    list.push(session);
    this.count++;
    return undefined;
  }

  remove(session: BoundSession): void {
    const key = session.jid.bareString;
    const list = this.byBare.get(key);
    if (!list) return;
    const i = list.indexOf(session);
    if (i < 0) return;
    list.splice(i, 1);
    this.count--;
    if (list.length === 0) this.byBare.delete(key);
  }

  get(full: Jid): BoundSession | undefined {
    const list = this.byBare.get(full.bareString);
    if (!list) return undefined;
    for (const s of list) if (s.jid.resource === full.resource) return s;
    return undefined;
  }

  resources(bare: Jid): readonly BoundSession[] {
    return this.byBare.get(bare.bareString) ?? NONE;
  }

  *all(): IterableIterator<BoundSession> {
    for (const list of this.byBare.values()) yield* list;
  }

  get size(): number {
    return this.count;
  }
}
