import { expect } from 'chai';
import { Band, Hooks } from '../../../server/hooks.ts';

declare module '../../../server/hooks.ts' {
  interface HookEvents {
    'test/event': { log: string[] };
  }
}

describe('Hooks', () => {
  it('runs handlers by band, then by registration order', () => {
    const hooks = new Hooks();
    hooks.observe('test/event', Band.Notify, (p) => void p.log.push('notify'));
    hooks.filter('test/event', Band.Guard, (p) => void p.log.push('guard'));
    hooks.observe('test/event', Band.Archive, (p) => void p.log.push('archive-1'));
    hooks.observe('test/event', Band.Archive, (p) => void p.log.push('archive-2'));
    const payload = { log: [] as string[] };
    expect(hooks.run('test/event', payload)).to.equal(true);
    expect(payload.log).to.deep.equal(['guard', 'archive-1', 'archive-2', 'notify']);
  });

  it('stops the chain when a filter drops, and stays synchronous when no handler waits', () => {
    const hooks = new Hooks();
    hooks.filter('test/event', Band.Guard, () => 'drop');
    hooks.observe('test/event', Band.Notify, (p) => void p.log.push('never'));
    const payload = { log: [] as string[] };
    expect(hooks.run('test/event', payload)).to.equal(false);
    expect(payload.log).to.deep.equal([]);
  });

  it('waits for async filters and continues the chain in order', async () => {
    const hooks = new Hooks();
    hooks.filter('test/event', Band.Guard, async (p) => {
      await new Promise((r) => setTimeout(r, 5));
      p.log.push('guard');
    });
    hooks.observe('test/event', Band.Deliver, (p) => void p.log.push('deliver'));
    const payload = { log: [] as string[] };
    const result = hooks.run('test/event', payload);
    expect(result).to.be.instanceOf(Promise);
    expect(await result).to.equal(true);
    expect(payload.log).to.deep.equal(['guard', 'deliver']);
  });

  it('an async filter can drop', async () => {
    const hooks = new Hooks();
    hooks.filter('test/event', Band.Guard, async () => 'drop' as const);
    hooks.observe('test/event', Band.Deliver, (p) => void p.log.push('deliver'));
    const payload = { log: [] as string[] };
    expect(await hooks.run('test/event', payload)).to.equal(false);
    expect(payload.log).to.deep.equal([]);
  });

  it('an observer that throws is reported and does not stop the chain; an observer cannot drop', () => {
    const reported: string[] = [];
    const hooks = new Hooks((hook, owner) => reported.push(`${hook}:${owner}`));
    hooks.observe('test/event', Band.Archive, () => {
      throw new Error('boom');
    }, 'mam');
    hooks.observe('test/event', Band.Copy, (() => 'drop') as never, 'carbons');
    hooks.observe('test/event', Band.Deliver, (p) => void p.log.push('deliver'));
    const payload = { log: [] as string[] };
    expect(hooks.run('test/event', payload)).to.equal(true);
    expect(payload.log).to.deep.equal(['deliver']);
    expect(reported).to.deep.equal(['test/event:mam']);
  });

  it('a filter that throws propagates to the caller', () => {
    const hooks = new Hooks();
    hooks.filter('test/event', Band.Guard, () => {
      throw new Error('bad');
    });
    expect(() => hooks.run('test/event', { log: [] })).to.throw('bad');
  });

  it('unregistering removes exactly that handler', () => {
    const hooks = new Hooks();
    const off = hooks.observe('test/event', Band.Notify, (p) => void p.log.push('a'));
    hooks.observe('test/event', Band.Notify, (p) => void p.log.push('b'));
    off();
    const payload = { log: [] as string[] };
    hooks.run('test/event', payload);
    expect(payload.log).to.deep.equal(['b']);
    expect(hooks.has('test/event')).to.equal(true);
  });
});
