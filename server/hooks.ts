// Typed hooks with named bands (DESIGN.md "Hooks"). Filters may alter or drop; observers
// always run and cannot stop the chain. Handlers may be sync or async: the chain stays
// synchronous until a handler actually returns a promise, so the common case costs no
// microtask per stanza.

import type { Stanza } from './stanza.ts';
import type { BoundSession } from './sessions.ts';
import type { Element } from './xml/element.ts';

/**
 * Hook names and payloads; the core's own are below. Modules add theirs by declaration merging:
 * `declare module '../../server/hooks.ts' { interface HookEvents { 'mam/archived': {...} } }`.
 * docs/hooks.md lists every hook with its bands.
 */
export interface HookEvents {
  /**
   * A stanza a local account sends, stamped, on the sender's host, before routing: what its client
   * sent (`generated` false) or what the server sends on its behalf, such as presence broadcast to
   * each contact (`generated` true). Guard filters may drop it.
   */
  'stanza/outbound': { stanza: Stanza; session: BoundSession; generated: boolean };
  /**
   * A stanza for a local account (bare or full JID), on the recipient's host, before the RFC 6121
   * §8.5 delivery rules. Guard filters may drop it; a filter that drops answers the sender itself if needed.
   */
  'stanza/inbound': { stanza: Stanza };
  /** A message for a local account, on the recipient's host, before delivery to `recipients` (possibly none). */
  'message/inbound': { stanza: Stanza; recipients: readonly BoundSession[] };
  /** A message RFC 6121 §8.5.2.2.1 lets the server store: a filter that stores it returns 'drop'; unclaimed, it bounces. */
  'message/offline': { stanza: Stanza };
  /** A resource was bound (RFC 6120 §7). */
  'session/bound': { session: BoundSession };
  /** A bound session ended, cleanly or not; its unavailable presence has been broadcast. */
  'session/closed': { session: BoundSession };
  /** Stream features offered to an authenticated client stream before binding; observers append. */
  'c2s/features': { secure: boolean; features: Element[] };
  /**
   * Stream features offered to a client stream before authentication, after the SASL mechanisms
   * (not while STARTTLS is still mandatory: RFC 6120 §5.3.1); synchronous observers append.
   */
  'c2s/unauthenticated-features': { secure: boolean; features: Element[] };
}

/** Bands in the order they run. */
export const Band = {
  /** deny or drop (blocking, privacy, rate limits) */
  Guard: 0,
  /** add ids, delays, stamps */
  Stamp: 1,
  /** persist (archives, offline storage) */
  Archive: 2,
  /** copy to other parties (carbons) */
  Copy: 3,
  /** deliver to the recipient */
  Deliver: 4,
  /** tell someone afterwards (push, metrics) */
  Notify: 5,
} as const;
export type Band = (typeof Band)[keyof typeof Band];

export type HookName = keyof HookEvents;
/** A filter returns 'drop' to stop the chain (the stanza is not processed further). */
export type FilterResult = void | 'drop' | Promise<void | 'drop'>;
export type Filter<K extends HookName> = (payload: HookEvents[K]) => FilterResult;
export type Observer<K extends HookName> = (payload: HookEvents[K]) => void | Promise<void>;

interface Entry {
  band: Band;
  seq: number;
  filter: boolean;
  fn: (payload: never) => FilterResult;
  owner: string;
}

export class Hooks {
  private readonly chains = new Map<HookName, Entry[]>();
  private seq = 0;

  constructor(private readonly onObserverError: (hook: string, owner: string, err: unknown) => void = () => {}) {}

  /** Register a filter. Returns the function that removes it. */
  filter<K extends HookName>(name: K, band: Band, fn: Filter<K>, owner = 'core'): () => void {
    return this.add(name, { band, seq: this.seq++, filter: true, fn: fn as Entry['fn'], owner });
  }

  /** Register an observer. Returns the function that removes it. */
  observe<K extends HookName>(name: K, band: Band, fn: Observer<K>, owner = 'core'): () => void {
    return this.add(name, { band, seq: this.seq++, filter: false, fn: fn as Entry['fn'], owner });
  }

  has(name: HookName): boolean {
    return (this.chains.get(name)?.length ?? 0) > 0;
  }

  /**
   * Run the chain. Resolves to false when a filter dropped the payload. Observer failures
   * are reported and never stop the chain; filter failures propagate to the caller, who
   * turns them into a stanza error.
   */
  run<K extends HookName>(name: K, payload: HookEvents[K]): boolean | Promise<boolean> {
    const chain = this.chains.get(name);
    if (!chain) return true;
    return this.runFrom(chain, 0, payload, name);
  }

  private runFrom(chain: Entry[], start: number, payload: unknown, name: string): boolean | Promise<boolean> {
    for (let i = start; i < chain.length; i++) {
      const e = chain[i]!;
      let result: FilterResult;
      if (e.filter) {
        result = e.fn(payload as never);
      } else {
        try {
          result = e.fn(payload as never);
        } catch (err) {
          this.onObserverError(name, e.owner, err);
          continue;
        }
      }
      if (result === 'drop' && e.filter) return false;
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        return this.awaitAndContinue(chain, i, result as Promise<void | 'drop'>, payload, name);
      }
    }
    return true;
  }

  private async awaitAndContinue(chain: Entry[], i: number, pending: Promise<void | 'drop'>, payload: unknown, name: string): Promise<boolean> {
    const e = chain[i]!;
    try {
      if ((await pending) === 'drop' && e.filter) return false;
    } catch (err) {
      if (e.filter) throw err;
      this.onObserverError(name, e.owner, err);
    }
    return this.runFrom(chain, i + 1, payload, name);
  }

  private add(name: HookName, entry: Entry): () => void {
    // Copy on write: a chain being run keeps its own array.
    const next = [...(this.chains.get(name) ?? []), entry].sort((a, b) => a.band - b.band || a.seq - b.seq);
    this.chains.set(name, next);
    return () => {
      const list = this.chains.get(name)?.filter((x) => x !== entry) ?? [];
      if (list.length) this.chains.set(name, list);
      else this.chains.delete(name);
    };
  }
}
