// Registration attempts per client address, in fixed windows: a bot on one address cannot create
// accounts in bulk. IPv6 addresses count by their /64, as for SASL throttling (one host commonly
// holds a whole /64). Memory is bounded: expired windows are pruned as time passes, and past
// `maxKeys` addresses the oldest window is forgotten.
import { ipKey } from '../../server/sasl/auth-throttle.ts';

interface Window {
  start: number;
  count: number;
}

export class AddressLimiter {
  /** Insertion order is the order of window starts, so expired windows are always at the head. */
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly attempts: number,
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Count one attempt from `address`; false (and nothing counted) when its window is already used up. */
  take(address: string): boolean {
    const now = this.now();
    this.prune(now);
    const key = ipKey(address);
    let w = this.windows.get(key);
    if (!w) {
      if (this.windows.size >= this.maxKeys) {
        const oldest = this.windows.keys().next();
        if (!oldest.done) this.windows.delete(oldest.value);
      }
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    if (w.count >= this.attempts) return false;
    w.count++;
    return true;
  }

  get size(): number {
    return this.windows.size;
  }

  private prune(now: number): void {
    for (const [key, w] of this.windows) {
      if (now - w.start < this.windowMs) break;
      this.windows.delete(key);
    }
  }
}
