// One task at a time per key: read-modify-write sequences on one account's data (subscription
// state, a module's per-account document) must not interleave, even when storage does I/O in
// between. A failed task does not stop the next; a key without waiters holds no entry.
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key);
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const tail = before ? before.then(() => done) : done;
    this.tails.set(key, tail);
    if (before) await before;
    try {
      return await task();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Keys with work queued or running (tests and diagnostics). */
  get size(): number {
    return this.tails.size;
  }
}
