// Blocklists of online accounts, kept in memory so that the stanza filters do no storage round
// trip: loaded when an account's first resource binds, dropped when its last one closes. Loads
// and changes of one account run one after another (a keyed queue), so a change never races a
// load, and two resources blocking at once both land.
import { KeyedLock } from '../../server/keyed-lock.ts';
import type { Jid } from '../../server/jid.ts';
import type { Logger } from '../../server/log.ts';
import type { BlocklistStore } from './blocklist-store.ts';

/** What the module keeps for an account while it has a bound resource. */
export interface OnlineAccount {
  /** Blocked JIDs (normalised strings); null until loaded, or when loading failed. */
  items: Set<string> | null;
  /** Settles (never rejects) when the load has finished. */
  ready: Promise<void>;
  /**
   * Senders (full JIDs) whose available presence reached the account and who have not gone
   * unavailable since: on a block, the account's resources are told these went offline.
   */
  seen: Map<string, Jid>;
}

export class Blocklists {
  private readonly online = new Map<string, OnlineAccount>();
  private readonly locks = new KeyedLock();

  constructor(
    private readonly store: BlocklistStore,
    private readonly log: Logger,
  ) {}

  /** The account of a newly bound resource: load its blocklist unless already held. */
  accountOnline(account: Jid): OnlineAccount {
    const key = account.bareString;
    let entry = this.online.get(key);
    if (entry) return entry;
    const created: OnlineAccount = { items: null, ready: Promise.resolve(), seen: new Map() };
    created.ready = this.locks.run(key, async () => {
      created.items = new Set(await this.store.load(key));
    }).catch((err: unknown) => {
      this.log.error({ err, account: key }, 'loading a blocklist failed; it is read from storage per stanza');
    });
    entry = created;
    this.online.set(key, entry);
    return entry;
  }

  /** The account's last resource closed. */
  accountOffline(account: Jid): void {
    this.online.delete(account.bareString);
  }

  /** The in-memory state of an online account. */
  get(account: Jid): OnlineAccount | undefined {
    return this.online.get(account.bareString);
  }

  /**
   * The blocklist of any account: synchronously for an online account whose list is loaded,
   * otherwise once loaded or read from storage (an offline recipient).
   */
  items(account: Jid): ReadonlySet<string> | Promise<ReadonlySet<string>> {
    const entry = this.online.get(account.bareString);
    if (entry?.items) return entry.items;
    if (entry) return entry.ready.then(() => entry.items ?? this.read(account.bareString));
    return this.read(account.bareString);
  }

  /**
   * Run `fn` with the account's current blocklist, after every earlier load or change of that
   * account. `fn` changes storage first, then the Set it was given (the cached one when online).
   */
  change<T>(account: Jid, fn: (items: Set<string>) => Promise<T>): Promise<T> {
    const key = account.bareString;
    return this.locks.run(key, async () => {
      const cached = this.online.get(key)?.items;
      return fn(cached ?? new Set(await this.store.load(key)));
    });
  }

  /** Account removal: forget and delete, after anything still running for it. */
  remove(account: Jid): Promise<void> {
    const key = account.bareString;
    this.online.delete(key);
    return this.locks.run(key, () => this.store.clear(key));
  }

  private async read(owner: string): Promise<ReadonlySet<string>> {
    return new Set(await this.store.load(owner));
  }

}
