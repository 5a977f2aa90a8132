// Throttling of failed authentication, per client address and per account, to slow password guessing.
// The stream layer calls check() before starting an exchange and answers a refused attempt with
// <failure><temporary-auth-failure/></failure> (RFC 6120 §6.5.10), without running any mechanism.
// Memory is bounded: expired windows are pruned as time passes and each table has a key cap.

export interface ThrottleWindow {
  /** Failures allowed inside one window; the next attempt is refused until the window ends. */
  attempts: number;
  windowMs: number;
}

export interface AuthThrottleOptions {
  perIp: ThrottleWindow;
  perAccount: ThrottleWindow;
  now?: () => number;
  /** Keys tracked per table (addresses, accounts); past it the oldest window is forgotten. Default 100 000. */
  maxKeys?: number;
}

export interface ThrottleVerdict {
  allowed: boolean;
  retryAfterMs?: number;
}

interface Window {
  start: number;
  failures: number;
}

/** Fixed windows keyed by one dimension. The Map's insertion order is the order of window starts. */
class FailureTable {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly limit: ThrottleWindow, private readonly maxKeys: number) {}

  get size(): number {
    return this.windows.size;
  }

  /** Milliseconds until the key may try again; 0 when it may now. */
  retryAfter(key: string, now: number): number {
    const w = this.live(key, now);
    if (!w || w.failures < this.limit.attempts) return 0;
    return w.start + this.limit.windowMs - now;
  }

  fail(key: string, now: number): void {
    this.prune(now);
    const w = this.live(key, now);
    if (w) {
      w.failures++;
      return;
    }
    // A new window goes to the end of the Map so the order of starts is kept.
    this.windows.delete(key);
    if (this.windows.size >= this.maxKeys) {
      const oldest = this.windows.keys().next();
      if (!oldest.done) this.windows.delete(oldest.value);
    }
    this.windows.set(key, { start: now, failures: 1 });
  }

  clear(key: string): void {
    this.windows.delete(key);
  }

  /** Drops expired windows from the head; they are ordered by start, so it stops at the first live one. */
  prune(now: number): void {
    for (const [key, w] of this.windows) {
      if (now - w.start < this.limit.windowMs) break;
      this.windows.delete(key);
    }
  }

  private live(key: string, now: number): Window | undefined {
    const w = this.windows.get(key);
    return w && now - w.start < this.limit.windowMs ? w : undefined;
  }
}

export class AuthThrottle {
  private readonly byIp: FailureTable;
  private readonly byAccount: FailureTable;
  private readonly now: () => number;

  constructor(opts: AuthThrottleOptions) {
    for (const w of [opts.perIp, opts.perAccount]) {
      if (!(w.attempts >= 1 && w.windowMs > 0)) throw new RangeError('throttle windows need attempts >= 1 and windowMs > 0');
    }
    const maxKeys = opts.maxKeys ?? 100_000;
    this.byIp = new FailureTable(opts.perIp, maxKeys);
    this.byAccount = new FailureTable(opts.perAccount, maxKeys);
    this.now = opts.now ?? Date.now;
  }

  /** Whether an attempt from this address (for this account, when known) may proceed now. */
  check(ip: string, account?: string): ThrottleVerdict {
    const now = this.now();
    const wait = Math.max(this.byIp.retryAfter(ipKey(ip), now), account === undefined ? 0 : this.byAccount.retryAfter(account, now));
    return wait > 0 ? { allowed: false, retryAfterMs: wait } : { allowed: true };
  }

  recordFailure(ip: string, account?: string): void {
    const now = this.now();
    this.byIp.fail(ipKey(ip), now);
    if (account !== undefined) this.byAccount.fail(account, now);
    else this.byAccount.prune(now);
  }

  /**
   * Clears the account's window only: clearing the address too would let a guesser who owns one
   * account reset its address window by logging in between guesses.
   */
  recordSuccess(_ip: string, account: string): void {
    this.byAccount.clear(account);
  }

  /** Tracked keys, for metrics and tests. */
  get size(): { ips: number; accounts: number } {
    return { ips: this.byIp.size, accounts: this.byAccount.size };
  }
}

/**
 * The key an address is counted under: IPv4 (also IPv4-mapped IPv6) as is, IPv6 by its /64 prefix,
 * since one host commonly holds a whole /64 and could otherwise rotate addresses freely.
 */
export function ipKey(ip: string): string {
  const addr = ip.replace(/%.*$/, '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (mapped) return mapped[1]!;
  if (!addr.includes(':')) return addr;
  const [head = '', tail] = addr.split('::', 2) as [string, string | undefined];
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? headParts : [...headParts, ...Array<string>(Math.max(0, 8 - headParts.length - tailParts.length)).fill('0'), ...tailParts];
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return addr;
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}
