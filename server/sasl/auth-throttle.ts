// Throttling of failed authentication: it slows a password guesser without letting the guesser lock
// the account's owner out. The stream layer calls admit() before an exchange and check() once the
// mechanism names the account, and answers a refused attempt with
// <failure><temporary-auth-failure/></failure> (RFC 6120 §6.5.10), without running a mechanism.
//
// The rules, by who is slowed:
// - An address (IPv4, IPv6 by /64) gets `freeFailures` failures for nothing; each failure after
//   that makes it wait, doubling from `baseDelayMs` up to `maxDelayMs`. A refused attempt checked no
//   password, so it is not a failure and does not lengthen the wait. An address is forgotten after
//   `forgetAfterMs` without a failure.
// - Parallel connections must not outrun the count: exchanges still waiting for their outcome are
//   counted as if they had failed. For an address with recent failures that means at most its
//   remaining free failures at once, and past them one exchange at a time. An address with no
//   failure may start any number of exchanges at once (many clients behind one NAT, a load test:
//   traffic without failures is never slowed), but at most `freeFailures` of them for the same
//   account, so a burst from a fresh address tries no more passwords on one account than a
//   sequence would. An exchange whose outcome never comes (the client left or aborted) holds its
//   place for `holdMs`, as long as its unauthenticated stream can live.
// - A block (IPv4 /24, IPv6 /48) waits as a whole, by the failures of all its addresses, but only
//   once `distinctAddresses` of its addresses have failed: rotating addresses inside a block then
//   buys little, and one guesser never slows its neighbours (the owner may be in the same /24).
//   The price: while many addresses of a block guess, its clean addresses wait with them.
// - An account never refuses on its own count, since anyone could then lock anyone out. Once it
//   has `hotAfterFailures` failures without a pause of `coolDownMs`, addresses that failed within
//   `coolDownMs` may no longer try it: a guesser spread over many addresses gets about one guess
//   per address per cool-down, while an address with no recent failure always has its password
//   checked: however hard the account is attacked, the owner's right password from a clean
//   address succeeds.
// A success clears the account's count but never the address's: a guesser who owns one account
// must not reset its address by logging in between guesses.
//
// Memory is bounded: each table keeps its records in the order of their last failure (or
// admission), so the forgotten ones are always at the head and pruning as time passes stops at the
// first live one; past `maxKeys` a table forgets its oldest record.

import { plainAddress } from '../net/address-block.ts';

export interface AuthThrottleOptions {
  perAddress: {
    freeFailures: number;
    baseDelayMs: number;
    maxDelayMs: number;
    forgetAfterMs: number;
  };
  perBlock: { distinctAddresses: number };
  perAccount: { hotAfterFailures: number; coolDownMs: number };
  /** How long an admitted exchange without an outcome holds its place: the longest an unauthenticated stream lives. */
  holdMs: number;
  now?: () => number;
  /** Keys kept per table (addresses, blocks, accounts, exchanges in flight); past it the oldest is forgotten. Default 100 000. */
  maxKeys?: number;
}

export interface ThrottleVerdict {
  allowed: boolean;
  retryAfterMs?: number;
}

interface Failures {
  /** When the last failure was recorded: the table's order and the record's age. */
  last: number;
  failures: number;
}

interface Backoff extends Failures {
  /** Attempts are refused before this time. */
  until: number;
}

interface Block extends Backoff {
  /** Addresses of this block that the address table remembers. */
  addresses: number;
}

/** Records forgotten `ttlMs` after their last failure; the Map's order is the order of last failures. */
class RecentTable<R extends Failures> {
  private readonly records = new Map<string, R>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxKeys: number,
    private readonly onForget: (key: string, record: R) => void = () => {},
  ) {}

  get size(): number {
    return this.records.size;
  }

  get(key: string, now: number): R | undefined {
    const r = this.records.get(key);
    return r && now - r.last < this.ttlMs ? r : undefined;
  }

  /** The key's record whatever its age. */
  peek(key: string): R | undefined {
    return this.records.get(key);
  }

  /** The key's record (made by `create` when there is none), moved to the end as the most recent. */
  touch(key: string, now: number, create: () => R): { record: R; created: boolean } {
    let record = this.get(key, now);
    const created = record === undefined;
    if (record) this.records.delete(key);
    else {
      this.forget(key);
      if (this.records.size >= this.maxKeys) {
        const oldest = this.records.keys().next();
        if (!oldest.done) this.forget(oldest.value);
      }
      record = create();
    }
    record.last = now;
    this.records.set(key, record);
    return { record, created };
  }

  forget(key: string): void {
    const r = this.records.get(key);
    if (!r) return;
    this.records.delete(key);
    this.onForget(key, r);
  }

  prune(now: number): void {
    for (const [key, r] of this.records) {
      if (now - r.last < this.ttlMs) break;
      this.forget(key);
    }
  }
}

/** Exchanges admitted and not yet decided, per key; let go `holdMs` after the latest admission. */
class InFlight {
  /** Every entry's deadline is its latest admission plus the same hold, so the Map's order is theirs. */
  private readonly entries = new Map<string, { count: number; until: number }>();

  constructor(private readonly holdMs: number, private readonly maxKeys: number) {}

  get size(): number {
    return this.entries.size;
  }

  count(key: string, now: number): number {
    const e = this.entries.get(key);
    return e && e.until > now ? e.count : 0;
  }

  add(key: string, now: number): void {
    const count = this.count(key, now) + 1;
    this.entries.delete(key);
    if (this.entries.size >= this.maxKeys) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { count, until: now + this.holdMs });
  }

  release(key: string): void {
    const e = this.entries.get(key);
    if (e && --e.count <= 0) this.entries.delete(key);
  }

  prune(now: number): void {
    for (const [key, e] of this.entries) {
      if (e.until > now) break;
      this.entries.delete(key);
    }
  }
}

export class AuthThrottle {
  private readonly addresses: RecentTable<Backoff>;
  private readonly blocks: RecentTable<Block>;
  private readonly accounts: RecentTable<Failures>;
  private readonly addressesInFlight: InFlight;
  private readonly blocksInFlight: InFlight;
  /** Per address and account: what bounds a clean address's burst on one account. */
  private readonly pairsInFlight: InFlight;
  private readonly now: () => number;

  constructor(private readonly opts: AuthThrottleOptions) {
    const { freeFailures, baseDelayMs, maxDelayMs, forgetAfterMs } = opts.perAddress;
    if (!(Number.isInteger(freeFailures) && freeFailures >= 0)) throw new RangeError('freeFailures must be an integer >= 0');
    if (!(baseDelayMs > 0 && maxDelayMs >= baseDelayMs)) throw new RangeError('delays need 0 < baseDelayMs <= maxDelayMs');
    // A record forgotten while its wait runs would set the guesser free early.
    if (!(forgetAfterMs >= maxDelayMs)) throw new RangeError('forgetAfterMs must be at least maxDelayMs');
    if (!(opts.perBlock.distinctAddresses >= 2)) throw new RangeError('distinctAddresses must be at least 2');
    if (!(opts.perAccount.hotAfterFailures >= 1 && opts.perAccount.coolDownMs > 0)) throw new RangeError('perAccount needs hotAfterFailures >= 1 and coolDownMs > 0');
    if (!(opts.holdMs > 0)) throw new RangeError('holdMs must be > 0');
    const maxKeys = opts.maxKeys ?? 100_000;
    this.blocks = new RecentTable<Block>(forgetAfterMs, maxKeys);
    this.addresses = new RecentTable<Backoff>(forgetAfterMs, maxKeys, (key) => {
      // A block outlives its addresses (its last failure is at least as recent as theirs), unless the cap evicted it.
      const block = this.blocks.peek(blockOf(key));
      if (block && block.addresses > 0) block.addresses--;
    });
    this.accounts = new RecentTable<Failures>(opts.perAccount.coolDownMs, maxKeys);
    this.addressesInFlight = new InFlight(opts.holdMs, maxKeys);
    this.blocksInFlight = new InFlight(opts.holdMs, maxKeys);
    this.pairsInFlight = new InFlight(opts.holdMs, maxKeys);
    this.now = opts.now ?? Date.now;
  }

  /**
   * Whether an exchange from this address may start now. When it may, it is counted in flight
   * until its outcome (recordFailure, recordSuccess, or a refusal by check()) or `holdMs`.
   */
  admit(ip: string): ThrottleVerdict {
    const now = this.now();
    this.prune(now);
    const key = ipKey(ip);
    const blockId = blockOf(key);
    const address = this.addresses.get(key, now);
    const block = this.blocks.get(blockId, now);
    const waiting = this.waitingUntil(address, block);
    if (waiting > now) return { allowed: false, retryAfterMs: waiting - now };
    const { freeFailures } = this.opts.perAddress;
    // Exchanges in flight count as failures: past the free ones, one at a time. A clean address is
    // bounded per account instead (check()).
    const busy = (inFlight: number, failures: number) => inFlight > 0 && failures + inFlight >= freeFailures;
    const hot = block !== undefined && block.addresses >= this.opts.perBlock.distinctAddresses;
    if ((address && busy(this.addressesInFlight.count(key, now), address.failures)) || (hot && busy(this.blocksInFlight.count(blockId, now), block.failures))) {
      return { allowed: false, retryAfterMs: this.opts.holdMs };
    }
    this.addressesInFlight.add(key, now);
    this.blocksInFlight.add(blockId, now);
    return { allowed: true };
  }

  /**
   * Whether the admitted exchange may go on once the mechanism has named the account. A refusal ends
   * the exchange: no password was checked, so it counts nothing.
   */
  check(ip: string, account: string): ThrottleVerdict {
    const now = this.now();
    this.prune(now);
    const key = ipKey(ip);
    const address = this.addresses.get(key, now);
    let until = this.waitingUntil(address, this.blocks.get(blockOf(key), now));
    const acct = this.accounts.get(account, now);
    const { hotAfterFailures, coolDownMs } = this.opts.perAccount;
    // Only an address with failures of its own is held back: the owner's clean address never is.
    if (address && acct && acct.failures >= hotAfterFailures && now - address.last < coolDownMs) {
      until = Math.max(until, Math.min(address.last, acct.last) + coolDownMs);
    }
    if (until <= now) {
      const pair = pairKey(key, account);
      if (address || this.pairsInFlight.count(pair, now) < this.opts.perAddress.freeFailures) {
        this.pairsInFlight.add(pair, now);
        return { allowed: true };
      }
      until = now + this.opts.holdMs;
    }
    this.release(key);
    return { allowed: false, retryAfterMs: until - now };
  }

  /** A password (or a protocol step standing in for one) was checked and was wrong. */
  recordFailure(ip: string, account?: string): void {
    const now = this.now();
    this.prune(now);
    const key = ipKey(ip);
    this.release(key, account);
    // The block first, so that the address's creation below can count itself in it.
    const { record: block } = this.blocks.touch(blockOf(key), now, () => ({ last: now, failures: 0, until: 0, addresses: 0 }));
    const { record: address, created } = this.addresses.touch(key, now, () => ({ last: now, failures: 0, until: 0 }));
    if (created) block.addresses++;
    address.until = now + this.delay(++address.failures);
    block.failures++;
    if (block.addresses >= this.opts.perBlock.distinctAddresses) block.until = now + this.delay(block.failures);
    if (account !== undefined) this.accounts.touch(account, now, () => ({ last: now, failures: 0 })).record.failures++;
  }

  /** Clears the account's count only; see the header for why the address keeps its own. */
  recordSuccess(ip: string, account: string): void {
    this.release(ipKey(ip), account);
    this.accounts.forget(account);
  }

  /** Records kept, for metrics and tests. */
  get size(): { addresses: number; blocks: number; accounts: number; inFlight: number } {
    return { addresses: this.addresses.size, blocks: this.blocks.size, accounts: this.accounts.size, inFlight: this.addressesInFlight.size + this.blocksInFlight.size + this.pairsInFlight.size };
  }

  private waitingUntil(address: Backoff | undefined, block: Backoff | undefined): number {
    return Math.max(address?.until ?? 0, block?.until ?? 0);
  }

  /** The exchange's outcome came: it no longer holds a place (nor its account's, once check() named it). */
  private release(key: string, account?: string): void {
    this.addressesInFlight.release(key);
    this.blocksInFlight.release(blockOf(key));
    if (account !== undefined) this.pairsInFlight.release(pairKey(key, account));
  }

  /** The wait the n-th failure sets: none for the free ones, then base, 2·base, 4·base, ... up to the maximum. */
  private delay(failures: number): number {
    const { freeFailures, baseDelayMs, maxDelayMs } = this.opts.perAddress;
    const over = failures - freeFailures;
    if (over <= 0) return 0;
    return Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(over - 1, 52));
  }

  private prune(now: number): void {
    // Addresses first: forgetting one decrements its block, which is forgotten no earlier.
    this.addresses.prune(now);
    this.blocks.prune(now);
    this.accounts.prune(now);
    this.addressesInFlight.prune(now);
    this.blocksInFlight.prune(now);
    this.pairsInFlight.prune(now);
  }
}

function pairKey(addressKey: string, account: string): string {
  return `${addressKey} ${account}`;
}

/**
 * The key an address is counted under: IPv4 (also IPv4-mapped IPv6) as is, IPv6 by its /64 prefix,
 * since one host commonly holds a whole /64 and could otherwise rotate addresses freely.
 */
export function ipKey(ip: string): string {
  const addr = plainAddress(ip.replace(/%.*$/, '').toLowerCase());
  if (!addr.includes(':')) return addr;
  const groups = ipv6Groups(addr);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : addr;
}

/**
 * The block an address belongs to: IPv4 by /24, IPv6 by /48 (a typical site's allocation).
 * Something that is not an address is a block of its own.
 */
export function blockKey(ip: string): string {
  return blockOf(ipKey(ip));
}

/** The block of an address key from ipKey(). */
function blockOf(key: string): string {
  const v4 = /^(\d+\.\d+\.\d+)\.\d+$/.exec(key);
  if (v4) return `${v4[1]}.0/24`;
  const v6 = /^([0-9a-f]+:[0-9a-f]+:[0-9a-f]+):[0-9a-f]+::\/64$/.exec(key);
  if (v6) return `${v6[1]}::/48`;
  return key;
}

/** The eight groups of an IPv6 address, without leading zeros; undefined when it is not one. */
function ipv6Groups(addr: string): string[] | undefined {
  const [head = '', tail] = addr.split('::', 2) as [string, string | undefined];
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? headParts : [...headParts, ...Array<string>(Math.max(0, 8 - headParts.length - tailParts.length)).fill('0'), ...tailParts];
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16).toString(16));
}
