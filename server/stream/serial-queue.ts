// One session's stanzas are processed in order even when a handler waits (DESIGN.md
// "Streams and sessions"). Synchronous tasks run at once; a task that returns a promise
// holds back the following ones until it settles. A full queue is back-pressure: the
// owner stops reading the socket until the queue drains.

export type Task = () => void | Promise<void>;

/** Who a queue reports to (an object rather than closures: one queue per session, many sessions). */
export interface QueueOwner {
  /** The queue is full: stop reading input. */
  queueFull(): void;
  /** The queue has room again: read input again. */
  queueDrained(): void;
  taskFailed(err: unknown): void;
}

export class SerialQueue {
  private readonly pending: Task[] = [];
  private busy = false;
  private paused = false;

  constructor(
    private readonly limit: number,
    private readonly owner: QueueOwner,
  ) {}

  get length(): number {
    return this.pending.length;
  }

  push(task: Task): void {
    if (this.busy) {
      this.pending.push(task);
      if (!this.paused && this.pending.length >= this.limit) {
        this.paused = true;
        this.owner.queueFull();
      }
      return;
    }
    this.run(task);
  }

  /** Forget queued work (the stream is closing or restarting). */
  clear(): void {
    this.pending.length = 0;
  }

  private run(task: Task): void {
    let result: void | Promise<void>;
    try {
      result = task();
    } catch (err) {
      this.owner.taskFailed(err);
      return;
    }
    if (result && typeof (result as Promise<void>).then === 'function') {
      this.busy = true;
      (result as Promise<void>).then(
        () => this.settled(),
        (err) => {
          this.owner.taskFailed(err);
          this.settled();
        },
      );
    }
  }

  private settled(): void {
    this.busy = false;
    this.next();
  }

  private next(): void {
    while (!this.busy && this.pending.length > 0) {
      this.run(this.pending.shift()!);
    }
    if (this.paused && this.pending.length < this.limit / 2) {
      this.paused = false;
      this.owner.queueDrained();
    }
  }
}
