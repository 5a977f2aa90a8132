// One account's writes run one at a time: a set checks the namespace count and then writes,
// and with a store that does I/O between the two (MongoDB), two resources of one account could
// otherwise both take the last free namespace.

/** Serialises async work per key; an idle key holds no entry. */
export class AccountLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(account: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(account) ?? Promise.resolve();
    const result = previous.then(fn, fn);
    const tail = result.catch(() => undefined);
    this.tails.set(account, tail);
    try {
      return await result;
    } finally {
      if (this.tails.get(account) === tail) this.tails.delete(account);
    }
  }

  /** Keys with work queued or running (for tests and diagnostics). */
  get size(): number {
    return this.tails.size;
  }
}
