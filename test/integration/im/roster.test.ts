// RFC 6121 §2 roster management, exchange by exchange: get, set, pushes to interested
// resources only, remove, versioning (§2.6), and every error case of §2.3.3 and §2.5.3.
import { expect } from 'chai';
import type { Element } from 'ltx';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { RawClient, NS } from '../../support/raw-client.ts';

const ROSTER = 'jabber:iq:roster';

function condition(el: Element): string | undefined {
  return el.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === NS.stanzas && c.name !== 'text')?.name;
}

describe('roster (RFC 6121 §2)', function () {
  let t: TestServer;
  const open: RawClient[] = [];
  before(async () => {
    t = await startTestServer({ config: { roster: { maxItems: 3, maxNameLength: 20, maxGroupLength: 10 } } });
    await t.addUser('juliet', 'pw');
    await t.addUser('romeo', 'pw');
    await t.addUser('friar', 'pw');
  });
  after(() => t.stop());
  afterEach(() => {
    for (const c of open.splice(0)) c.destroy();
  });

  async function session(user: string, resource: string): Promise<RawClient> {
    const c = await RawClient.connect(t.c2sPort);
    open.push(c);
    await c.login(user, 'pw', resource);
    return c;
  }
  /** Pushes that arrive while waiting for a reply (the order of the two is not fixed) are kept. */
  const pushes = new Map<RawClient, Element[]>();
  async function iq(c: RawClient, xml: string, id: string): Promise<Element> {
    c.send(xml);
    return c.nextMatching((e) => {
      if (e.name === 'iq' && e.attrs.type === 'set') pushes.set(c, [...(pushes.get(c) ?? []), e]);
      return e.name === 'iq' && e.attrs.id === id;
    });
  }
  async function nextPush(c: RawClient, timeoutMs = 5000): Promise<Element> {
    const kept = pushes.get(c);
    if (kept && kept.length) return kept.shift()!;
    return c.nextMatching((e) => e.name === 'iq' && e.attrs.type === 'set', timeoutMs);
  }

  it('advertises roster versioning as a stream feature (§2.6.1)', async () => {
    const c = await RawClient.connect(t.c2sPort);
    open.push(c);
    await c.open();
    await c.startTls();
    await c.open();
    c.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${Buffer.from('\0juliet\0pw').toString('base64')}</auth>`);
    await c.next();
    const features = await c.open();
    expect(features.getChild('ver', 'urn:xmpp:features:rosterver')).to.not.equal(undefined);
  });

  it('an empty roster, then an added item is pushed to interested resources only, with its new version', async () => {
    const balcony = await session('juliet', 'balcony');
    const chamber = await session('juliet', 'chamber');
    const quiet = await session('juliet', 'quiet'); // never asks for the roster: not interested
    const empty = await iq(balcony, `<iq type='get' id='r1'><query xmlns='${ROSTER}'/></iq>`, 'r1');
    expect(empty.attrs).to.include({ type: 'result', to: 'juliet@localhost/balcony' });
    expect(empty.getChild('query', ROSTER)!.getChildElements()).to.deep.equal([]);
    await iq(chamber, `<iq type='get' id='r2'><query xmlns='${ROSTER}' ver=''/></iq>`, 'r2');

    const result = await iq(balcony, `<iq type='set' id='s1'><query xmlns='${ROSTER}'><item jid='Nurse@Example.com' name='Nurse'><group>Servants</group></item></query></iq>`, 's1');
    expect(result.attrs).to.include({ type: 'result', id: 's1' });
    for (const c of [balcony, chamber]) {
      const push = await nextPush(c);
      expect(push.attrs.from).to.equal(undefined);
      const query = push.getChild('query', ROSTER)!;
      expect(query.attrs.ver).to.match(/^\d+$/);
      expect(query.getChild('item')!.attrs).to.deep.equal({ jid: 'nurse@example.com', name: 'Nurse', subscription: 'none' });
      expect(query.getChild('item')!.getChildText('group')).to.equal('Servants');
      c.send(`<iq type='result' id='${push.attrs.id}'/>`);
    }
    try {
      const stray = await nextPush(quiet, 300);
      expect.fail(`a resource that never asked for the roster got ${stray.toString()}`);
    } catch (err) {
      expect((err as Error).message).to.match(/timed out/);
    }
    const full = await iq(quiet, `<iq type='get' id='r3'><query xmlns='${ROSTER}'/></iq>`, 'r3');
    expect(full.getChild('query', ROSTER)!.getChildren('item').map((i) => i.attrs.jid)).to.deep.equal(['nurse@example.com']);
  });

  it('versioning: the current ver gives an empty result, an old one the whole roster with the new ver (§2.6.3)', async () => {
    const c = await session('juliet', 'v');
    const first = await iq(c, `<iq type='get' id='v1'><query xmlns='${ROSTER}' ver=''/></iq>`, 'v1');
    const ver = first.getChild('query', ROSTER)!.attrs.ver!;
    const same = await iq(c, `<iq type='get' id='v2'><query xmlns='${ROSTER}' ver='${ver}'/></iq>`, 'v2');
    expect(same.attrs.type).to.equal('result');
    expect(same.children).to.deep.equal([]);
    await iq(c, `<iq type='set' id='v3'><query xmlns='${ROSTER}'><item jid='mercutio@example.com'/></query></iq>`, 'v3');
    const changed = await iq(c, `<iq type='get' id='v4'><query xmlns='${ROSTER}' ver='${ver}'/></iq>`, 'v4');
    const query = changed.getChild('query', ROSTER)!;
    expect(Number(query.attrs.ver)).to.be.greaterThan(Number(ver));
    expect(query.getChildren('item').map((i) => i.attrs.jid)).to.include('mercutio@example.com');
  });

  it('updating an item replaces its name and groups; client-sent subscription and ask are ignored (§2.1.2.5)', async () => {
    const c = await session('juliet', 'u');
    await iq(c, `<iq type='get' id='u0'><query xmlns='${ROSTER}'/></iq>`, 'u0');
    await iq(c, `<iq type='set' id='u1'><query xmlns='${ROSTER}'><item jid='benvolio@example.com' name='Ben' subscription='both' ask='subscribe'><group>A</group><group>B</group></item></query></iq>`, 'u1');
    const push = await nextPush(c);
    const item = push.getChild('query', ROSTER)!.getChild('item')!;
    expect(item.attrs).to.deep.equal({ jid: 'benvolio@example.com', name: 'Ben', subscription: 'none' });
    expect(item.getChildren('group').map((g) => g.getText())).to.deep.equal(['A', 'B']);
    await iq(c, `<iq type='set' id='u2'><query xmlns='${ROSTER}'><item jid='benvolio@example.com'/></query></iq>`, 'u2');
    const second = await nextPush(c);
    expect(second.getChild('query', ROSTER)!.getChild('item')!.attrs).to.deep.equal({ jid: 'benvolio@example.com', subscription: 'none' });
  });

  it('removing an item pushes subscription=remove; removing it again is item-not-found (§2.5)', async () => {
    const c = await session('friar', 'rm');
    await iq(c, `<iq type='get' id='m0'><query xmlns='${ROSTER}'/></iq>`, 'm0');
    await iq(c, `<iq type='set' id='m1'><query xmlns='${ROSTER}'><item jid='tybalt@example.com'/></query></iq>`, 'm1');
    await nextPush(c);
    const removed = await iq(c, `<iq type='set' id='m2'><query xmlns='${ROSTER}'><item jid='tybalt@example.com' subscription='remove'/></query></iq>`, 'm2');
    expect(removed.attrs.type).to.equal('result');
    const push = await nextPush(c);
    expect(push.getChild('query', ROSTER)!.getChild('item')!.attrs).to.deep.equal({ jid: 'tybalt@example.com', subscription: 'remove' });
    const again = await iq(c, `<iq type='set' id='m3'><query xmlns='${ROSTER}'><item jid='tybalt@example.com' subscription='remove'/></query></iq>`, 'm3');
    expect(condition(again)).to.equal('item-not-found');
  });

  const errors: [string, string, string][] = [
    ['two items', `<item jid='a@example.com'/><item jid='b@example.com'/>`, 'bad-request'],
    ['no item', ``, 'bad-request'],
    ['a duplicate group', `<item jid='a@example.com'><group>X</group><group>X</group></item>`, 'bad-request'],
    ['an empty group', `<item jid='a@example.com'><group></group></item>`, 'not-acceptable'],
    ['a group over the limit', `<item jid='a@example.com'><group>${'g'.repeat(11)}</group></item>`, 'not-acceptable'],
    ['a name over the limit', `<item jid='a@example.com' name='${'n'.repeat(21)}'/>`, 'not-acceptable'],
    ['an invalid jid', `<item jid='a@@example.com'/>`, 'jid-malformed'],
  ];
  for (const [what, payload, cond] of errors) {
    it(`a roster set with ${what} is refused with ${cond} (§2.3.3)`, async () => {
      const c = await session('romeo', 'err');
      const r = await iq(c, `<iq type='set' id='e1'><query xmlns='${ROSTER}'>${payload}</query></iq>`, 'e1');
      expect(r.attrs.type).to.equal('error');
      expect(condition(r)).to.equal(cond);
    });
  }

  it('the roster is full at the configured size: not-allowed', async () => {
    const c = await session('romeo', 'full');
    for (const n of [1, 2, 3]) await iq(c, `<iq type='set' id='f${n}'><query xmlns='${ROSTER}'><item jid='c${n}@example.com'/></query></iq>`, `f${n}`);
    const r = await iq(c, `<iq type='set' id='f4'><query xmlns='${ROSTER}'><item jid='c4@example.com'/></query></iq>`, 'f4');
    expect(condition(r)).to.equal('not-allowed');
    // Updating an existing item still works when full.
    const update = await iq(c, `<iq type='set' id='f5'><query xmlns='${ROSTER}'><item jid='c1@example.com' name='One'/></query></iq>`, 'f5');
    expect(update.attrs.type).to.equal('result');
  });

  it('another user cannot read or change a roster: forbidden (§2.1.5)', async () => {
    const c = await session('romeo', 'spy');
    const get = await iq(c, `<iq type='get' to='juliet@localhost' id='x1'><query xmlns='${ROSTER}'/></iq>`, 'x1');
    expect(condition(get)).to.equal('forbidden');
    const set = await iq(c, `<iq type='set' to='juliet@localhost' id='x2'><query xmlns='${ROSTER}'><item jid='a@example.com'/></query></iq>`, 'x2');
    expect(condition(set)).to.equal('forbidden');
  });

  it('the roster survives a restart, and deleting the account deletes it', async () => {
    const first = await startTestServer({ storage: 'disk' });
    try {
      await first.addUser('nurse', 'pw');
      const c = await RawClient.connect(first.c2sPort);
      await c.login('nurse', 'pw');
      c.send(`<iq type='set' id='p1'><query xmlns='${ROSTER}'><item jid='juliet@localhost' name='J'/></query></iq>`);
      await c.nextMatching((e) => e.attrs.id === 'p1');
      c.destroy();
    } finally {
      await first.stop({ keepData: true });
    }
    const second = await startTestServer({ storage: 'disk', dataDir: first.dataDir });
    try {
      const c = await RawClient.connect(second.c2sPort);
      await c.login('nurse', 'pw');
      c.send(`<iq type='get' id='p2'><query xmlns='${ROSTER}'/></iq>`);
      const r = await c.nextMatching((e) => e.attrs.id === 'p2');
      expect(r.getChild('query', ROSTER)!.getChild('item')!.attrs).to.include({ jid: 'juliet@localhost', name: 'J' });
      c.destroy();
      const { jid } = await import('../../../server/jid.ts');
      await second.server.accounts.remove(jid('nurse', 'localhost'));
      await second.addUser('nurse', 'pw');
      const d = await RawClient.connect(second.c2sPort);
      await d.login('nurse', 'pw');
      d.send(`<iq type='get' id='p3'><query xmlns='${ROSTER}'/></iq>`);
      const fresh = await d.nextMatching((e) => e.attrs.id === 'p3');
      expect(fresh.getChild('query', ROSTER)!.getChildElements()).to.deep.equal([]);
      d.destroy();
    } finally {
      await second.stop();
      const { rm } = await import('node:fs/promises');
      await rm(first.dataDir, { recursive: true, force: true });
    }
  });
});
