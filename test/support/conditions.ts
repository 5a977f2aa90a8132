// Waiting in tests for a condition that input changes, without sleeping: whoever changes the
// state calls wake(), and each waiter checks its condition again.
export class Conditions {
  private waiters: (() => void)[] = [];

  /** `received` describes what arrived so far, for the timeout message. */
  constructor(private readonly received: () => string) {}

  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; received so far: ${this.received()}`)), timeoutMs);
      const check = () => {
        if (done()) {
          clearTimeout(timer);
          resolve();
        } else {
          this.waiters.push(check);
        }
      };
      this.waiters.push(check);
    });
  }
}
