// XEP-0160 offline messages (RFC 6121 §8.5.2.2.1): stored with a XEP-0203 delay stamp,
// delivered in order at the next available presence with non-negative priority, kept across
// restarts, bounded per account, and deleted with the account.
import { expect } from 'chai';
import type { Element } from 'ltx';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import type { RawClient } from '../../support/raw-client.ts';
import { imLogin, errorCondition, type ImOptions } from '../../support/im-client.ts';
import { jid } from '../../../server/jid.ts';

const isMessage = (e: Element) => e.name === 'message';

describe('offline messages (XEP-0160)', function () {
  let t: TestServer;
  const open: RawClient[] = [];
  let n = 0;
  before(async () => {
    t = await startTestServer({ config: { offline: { maxMessages: 3 } } });
  });
  after(() => t.stop());
  afterEach(() => {
    for (const c of open.splice(0)) c.destroy();
  });

  async function online(server: TestServer, user: string, resource = 'r', opts: ImOptions = {}): Promise<RawClient> {
    const c = await imLogin(server.c2sPort, user, resource, opts);
    open.push(c);
    return c;
  }
  async function users(server: TestServer): Promise<[string, string]> {
    n++;
    await server.addUser(`sender${n}`, 'pw');
    await server.addUser(`rcpt${n}`, 'pw');
    return [`sender${n}`, `rcpt${n}`];
  }
  const bare = (u: string) => `${u}@localhost`;

  it('stores messages for an offline account and delivers them in order with a delay stamp at its next login', async () => {
    const [s, r] = await users(t);
    const cs = await online(t, s);
    const before = Date.now();
    cs.send(`<message to='${bare(r)}' type='chat' id='o1'><body>first</body></message>`);
    cs.send(`<message to='${bare(r)}/gone' type='chat' id='o2'><body>second</body></message>`);
    cs.send(`<message to='${bare(r)}' id='o3'><subject>s</subject><body>third</body></message>`);
    // Stored, so the sender gets no error.
    await cs.none(isMessage);

    const cr = await online(t, r);
    const got = [await cr.take(isMessage), await cr.take(isMessage), await cr.take(isMessage)];
    expect(got.map((m) => m.attrs.id)).to.deep.equal(['o1', 'o2', 'o3']);
    expect(got.map((m) => m.getChildText('body'))).to.deep.equal(['first', 'second', 'third']);
    expect(got[0]!.attrs).to.include({ from: `${bare(s)}/r`, to: bare(r), type: 'chat' });
    expect(got[1]!.attrs.to).to.equal(`${bare(r)}/gone`);
    for (const m of got) {
      const delay = m.getChild('delay', 'urn:xmpp:delay')!;
      expect(delay.attrs.from).to.equal('localhost');
      const stamp = Date.parse(delay.attrs.stamp!);
      expect(stamp).to.be.within(before - 1000, Date.now());
      expect(delay.attrs.stamp).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    }
    // Delivered once: a second login gets nothing.
    const again = await online(t, r, 'again');
    await again.none(isMessage);
  });

  it('waits for non-negative priority, and is not delivered to a session that never sends presence', async () => {
    const [s, r] = await users(t);
    const cs = await online(t, s);
    cs.send(`<message to='${bare(r)}' type='chat' id='w1'><body>wait</body></message>`);
    const silent = await online(t, r, 'silent', { presence: false });
    await silent.none(isMessage);
    const neg = await online(t, r, 'neg', { priority: -1 });
    await neg.none(isMessage);
    neg.send(`<presence><priority>1</priority></presence>`);
    expect((await neg.take(isMessage)).attrs.id).to.equal('w1');
    await silent.none(isMessage);
  });

  it('beyond the per-account limit the sender gets service-unavailable', async () => {
    const [s, r] = await users(t);
    const cs = await online(t, s);
    for (let i = 1; i <= 3; i++) cs.send(`<message to='${bare(r)}' type='chat' id='l${i}'><body>${i}</body></message>`);
    cs.send(`<message to='${bare(r)}' type='chat' id='l4'><body>4</body></message>`);
    const err = await cs.take(isMessage);
    expect(err.attrs).to.include({ type: 'error', id: 'l4', from: bare(r) });
    expect(errorCondition(err)).to.equal('service-unavailable');
    const cr = await online(t, r);
    for (let i = 1; i <= 3; i++) expect((await cr.take(isMessage)).attrs.id).to.equal(`l${i}`);
    await cr.none(isMessage);
  });

  it('honours the no-store hint with service-unavailable, drops a bare chat state, and ignores headline and error (§8.5.2.2.1)', async () => {
    const [s, r] = await users(t);
    const cs = await online(t, s);
    cs.send(`<message to='${bare(r)}' type='chat' id='h1'><body>x</body><no-store xmlns='urn:xmpp:hints'/></message>`);
    const err = await cs.take(isMessage);
    expect(err.attrs).to.include({ type: 'error', id: 'h1' });
    expect(errorCondition(err)).to.equal('service-unavailable');
    cs.send(`<message to='${bare(r)}' type='chat' id='h2'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`);
    cs.send(`<message to='${bare(r)}' type='headline' id='h3'><body>news</body></message>`);
    cs.send(`<message to='${bare(r)}' type='error' id='h4'><body>e</body></message>`);
    await cs.none(isMessage);
    const cr = await online(t, r);
    await cr.none(isMessage);
  });

  it('keeps stored messages across a restart, and removes them with the account', async () => {
    const disk = await startTestServer({ storage: 'disk' });
    try {
      await disk.addUser('kept-s', 'pw');
      await disk.addUser('kept-r', 'pw');
      await disk.addUser('gone-r', 'pw');
      const cs = await online(disk, 'kept-s');
      cs.send(`<message to='kept-r@localhost' type='chat' id='k1'><body>survives</body></message>`);
      cs.send(`<message to='gone-r@localhost' type='chat' id='k2'><body>deleted</body></message>`);
      await cs.none(isMessage);
      cs.destroy();
      await disk.stop({ keepData: true });

      const again = await startTestServer({ storage: 'disk', dataDir: disk.dataDir });
      try {
        const cr = await online(again, 'kept-r');
        const m = await cr.take(isMessage);
        expect(m.attrs.id).to.equal('k1');
        expect(m.getChildText('body')).to.equal('survives');
        const docs = again.server.store.collection<{ _id: string; owner: string }>('offline');
        expect(await docs.countDocuments({ owner: 'gone-r@localhost' })).to.equal(1);
        await again.server.accounts.remove(jid('gone-r', 'localhost'));
        expect(await docs.countDocuments({ owner: 'gone-r@localhost' })).to.equal(0);
      } finally {
        await again.stop();
      }
    } catch (err) {
      await disk.stop().catch(() => {});
      throw err;
    }
  });
});
