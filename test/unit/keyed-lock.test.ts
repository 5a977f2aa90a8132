import { expect } from 'chai';
import { setImmediate as tick } from 'node:timers/promises';
import { KeyedLock } from '../../server/keyed-lock.ts';

describe('KeyedLock', () => {
  it('runs one account\'s work one at a time, in order, even when each step waits for I/O', async () => {
    const locks = new KeyedLock();
    const log: string[] = [];
    const job = (name: string) => async () => {
      log.push(`${name} start`);
      await tick();
      await tick();
      log.push(`${name} end`);
      return name;
    };
    const results = await Promise.all([locks.run('a@x', job('1')), locks.run('a@x', job('2')), locks.run('a@x', job('3'))]);
    expect(results).to.deep.equal(['1', '2', '3']);
    expect(log).to.deep.equal(['1 start', '1 end', '2 start', '2 end', '3 start', '3 end']);
    expect(locks.size).to.equal(0);
  });

  it('lets different accounts run side by side', async () => {
    const locks = new KeyedLock();
    const log: string[] = [];
    const job = (name: string) => async () => {
      log.push(`${name} start`);
      await tick();
      log.push(`${name} end`);
    };
    await Promise.all([locks.run('a@x', job('a')), locks.run('b@x', job('b'))]);
    expect(log).to.deep.equal(['a start', 'b start', 'a end', 'b end']);
  });

  it('a failing job rejects its caller only, and the next one still runs', async () => {
    const locks = new KeyedLock();
    const failed = locks.run('a@x', async () => {
      await tick();
      throw new Error('boom');
    });
    const next = locks.run('a@x', async () => 'ok');
    let error: unknown;
    try {
      await failed;
    } catch (err) {
      error = err;
    }
    expect((error as Error).message).to.equal('boom');
    expect(await next).to.equal('ok');
    expect(locks.size).to.equal(0);
  });
});
