import { expect } from 'chai';
import { SerialQueue, type QueueOwner } from '../../../server/stream/serial-queue.ts';

function owner(full: () => void = () => {}, drained: () => void = () => {}, failed: (e: unknown) => void = () => {}): QueueOwner {
  return { queueFull: full, queueDrained: drained, taskFailed: failed };
}

describe('SerialQueue', () => {
  it('runs synchronous tasks at once', () => {
    const log: number[] = [];
    const q = new SerialQueue(4, owner());
    q.push(() => void log.push(1));
    q.push(() => void log.push(2));
    expect(log).to.deep.equal([1, 2]);
    expect(q.length).to.equal(0);
  });

  it('keeps order across a task that waits', async () => {
    const log: string[] = [];
    const q = new SerialQueue(10, owner());
    let release!: () => void;
    q.push(() => new Promise<void>((r) => (release = () => (log.push('slow'), r()))));
    q.push(() => void log.push('after-1'));
    q.push(() => void log.push('after-2'));
    expect(log).to.deep.equal([]);
    release();
    await new Promise((r) => setImmediate(r));
    expect(log).to.deep.equal(['slow', 'after-1', 'after-2']);
  });

  it('signals back-pressure when full and again when drained', async () => {
    const events: string[] = [];
    const q = new SerialQueue(2, owner(() => events.push('full'), () => events.push('drained')));
    let release!: () => void;
    q.push(() => new Promise<void>((r) => (release = r)));
    q.push(() => {});
    q.push(() => {});
    expect(events).to.deep.equal(['full']);
    release();
    await new Promise((r) => setImmediate(r));
    expect(events).to.deep.equal(['full', 'drained']);
  });

  it('reports a failing task and goes on with the next', async () => {
    const errors: unknown[] = [];
    const log: string[] = [];
    const q = new SerialQueue(4, owner(() => {}, () => {}, (e) => errors.push(e)));
    q.push(async () => {
      throw new Error('async failure');
    });
    q.push(() => void log.push('next'));
    await new Promise((r) => setImmediate(r));
    expect((errors[0] as Error).message).to.equal('async failure');
    expect(log).to.deep.equal(['next']);
  });

  it('clear() forgets queued work', async () => {
    const log: string[] = [];
    const q = new SerialQueue(4, owner());
    let release!: () => void;
    q.push(() => new Promise<void>((r) => (release = r)));
    q.push(() => void log.push('queued'));
    q.clear();
    release();
    await new Promise((r) => setImmediate(r));
    expect(log).to.deep.equal([]);
  });
});
