// XEP-0191 §3.1-§3.5: discovery, blocklist retrieval, block, unblock, unblock all, pushes, errors.
import { expect } from 'chai';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { BLOCKING, User, condition, isPush, pushItems } from './helpers.ts';

const INFO = 'http://jabber.org/protocol/disco#info';

describe('blocking (XEP-0191): commands', () => {
  let t: TestServer;
  let a1: User;
  let a2: User;
  let a3: User;
  before(async () => {
    t = await startTestServer();
    for (const u of ['alice', 'bob', 'carol']) await t.addUser(u, 'pw');
    a1 = await User.login(t, 'alice', 'a1');
    a2 = await User.login(t, 'alice', 'a2');
    a3 = await User.login(t, 'alice', 'a3');
  });
  after(async () => {
    for (const u of [a1, a2, a3]) u.close();
    await t.stop();
  });

  it('the server advertises urn:xmpp:blocking in disco#info (§3.1)', async () => {
    const host = await a1.iq((id) => `<iq type='get' to='localhost' id='${id}'><query xmlns='${INFO}'/></iq>`);
    expect(host.getChild('query', INFO)!.getChildren('feature').map((f) => f.attrs.var)).to.include(BLOCKING);
    const account = await a1.iq((id) => `<iq type='get' id='${id}'><query xmlns='${INFO}'/></iq>`);
    expect(account.getChild('query', INFO)!.getChildren('feature').map((f) => f.attrs.var)).to.include(BLOCKING);
  });

  it('an empty blocklist is an empty <blocklist/> (§3.2)', async () => {
    const r = await a1.iq((id) => `<iq type='get' id='${id}'><blocklist xmlns='${BLOCKING}'/></iq>`);
    expect(r.attrs).to.deep.equal({ type: 'result', id: r.attrs.id, to: 'alice@localhost/a1' });
    const list = r.getChild('blocklist', BLOCKING)!;
    expect(list.children).to.deep.equal([]);
    expect(await a2.blocklist()).to.deep.equal([]);
  });

  it('block: result, then a push to every resource that requested the blocklist and none to the others (§3.3)', async () => {
    const r = await a1.block('bob@localhost');
    expect(r.attrs.type, r.toString()).to.equal('result');
    expect(r.children).to.deep.equal([]);
    for (const u of [a1, a2]) {
      const push = await u.next(isPush('block'));
      expect(push.attrs.to).to.equal(u.jid);
      expect(push.attrs.id).to.be.a('string').and.not.equal('');
      expect(pushItems(push, 'block')).to.deep.equal(['bob@localhost']);
    }
    // a3 never asked for the blocklist.
    expect((await a3.drain()).filter(isPush('block'))).to.deep.equal([]);
    expect(await a2.blocklist()).to.deep.equal(['bob@localhost']);
  });

  it('block with several items: normalised, without duplicates, in order; blocking again changes nothing', async () => {
    const r = await a2.block('Carol@LocalHost', 'carol@localhost', 'example.test', 'bob@localhost');
    expect(r.attrs.type, r.toString()).to.equal('result');
    for (const u of [a1, a2]) {
      expect(pushItems(await u.next(isPush('block')), 'block')).to.deep.equal(['carol@localhost', 'example.test', 'bob@localhost']);
    }
    expect(await a1.blocklist()).to.deep.equal(['bob@localhost', 'carol@localhost', 'example.test']);
  });

  it('a block without items is bad-request (§3.3)', async () => {
    const r = await a1.iq((id) => `<iq type='set' id='${id}'><block xmlns='${BLOCKING}'/></iq>`);
    expect(r.attrs.type).to.equal('error');
    expect(condition(r)).to.equal('bad-request');
  });

  it('an invalid JID is jid-malformed, an item without jid bad-request; nothing of such a block is kept', async () => {
    const malformed = await a1.block('dave@localhost', 'a@b@c/');
    expect(condition(malformed), malformed.toString()).to.equal('jid-malformed');
    const empty = await a1.block('dave@localhost', '');
    expect(condition(empty)).to.equal('jid-malformed');
    const missing = await a1.iq((id) => `<iq type='set' id='${id}'><block xmlns='${BLOCKING}'><item jid='dave@localhost'/><item/></block></iq>`);
    expect(condition(missing)).to.equal('bad-request');
    const unblock = await a1.unblock('a@b@c/');
    expect(condition(unblock)).to.equal('jid-malformed');
    expect(await a1.blocklist()).to.deep.equal(['bob@localhost', 'carol@localhost', 'example.test']);
    // No push went out for the failed commands.
    expect((await a2.drain()).filter((e) => isPush('block')(e) || isPush('unblock')(e))).to.deep.equal([]);
  });

  it('unblock: result, then a push with the items; unblocking what is not blocked is no error (§3.4)', async () => {
    const r = await a1.unblock('carol@localhost', 'nobody@localhost');
    expect(r.attrs.type, r.toString()).to.equal('result');
    for (const u of [a1, a2]) {
      expect(pushItems(await u.next(isPush('unblock')), 'unblock')).to.deep.equal(['carol@localhost', 'nobody@localhost']);
    }
    expect(await a1.blocklist()).to.deep.equal(['bob@localhost', 'example.test']);
  });

  it('an empty unblock unblocks everything and pushes an empty <unblock/> (§3.5)', async () => {
    const r = await a2.iq((id) => `<iq type='set' id='${id}'><unblock xmlns='${BLOCKING}'/></iq>`);
    expect(r.attrs.type, r.toString()).to.equal('result');
    for (const u of [a1, a2]) {
      const push = await u.next(isPush('unblock'));
      expect(push.getChild('unblock', BLOCKING)!.children).to.deep.equal([]);
    }
    expect(await a1.blocklist()).to.deep.equal([]);
  });

  it('the IQs may carry the account\'s own bare JID as to', async () => {
    const r = await a1.iq((id) => `<iq type='set' to='alice@localhost' id='${id}'><block xmlns='${BLOCKING}'><item jid='carol@localhost'/></block></iq>`);
    expect(r.attrs.type, r.toString()).to.equal('result');
    await a1.next(isPush('block'));
    await a2.next(isPush('block'));
    expect(await a1.blocklist()).to.deep.equal(['carol@localhost']);
    await a1.unblock();
    await a1.next(isPush('unblock'));
    await a2.next(isPush('unblock'));
  });

  it('nobody manages another account\'s blocklist', async () => {
    const bob = await User.login(t, 'bob', 'b1');
    try {
      const get = await bob.iq((id) => `<iq type='get' to='alice@localhost' id='${id}'><blocklist xmlns='${BLOCKING}'/></iq>`);
      expect(condition(get)).to.equal('service-unavailable');
      const set = await bob.iq((id) => `<iq type='set' to='alice@localhost' id='${id}'><unblock xmlns='${BLOCKING}'/></iq>`);
      expect(condition(set)).to.equal('service-unavailable');
    } finally {
      bob.close();
    }
  });

  it('a get or set with the wrong element is bad-request', async () => {
    const get = await a1.iq((id) => `<iq type='get' id='${id}'><block xmlns='${BLOCKING}'/></iq>`);
    expect(condition(get)).to.equal('bad-request');
    const set = await a1.iq((id) => `<iq type='set' id='${id}'><blocklist xmlns='${BLOCKING}'/></iq>`);
    expect(condition(set)).to.equal('bad-request');
  });

  it('two resources blocking at the same time both land', async () => {
    a1.send(`<iq type='set' id='c1'><block xmlns='${BLOCKING}'><item jid='bob@localhost'/></block></iq>`);
    a2.send(`<iq type='set' id='c2'><block xmlns='${BLOCKING}'><item jid='carol@localhost'/></block></iq>`);
    await a1.next((e) => e.attrs.id === 'c1');
    await a2.next((e) => e.attrs.id === 'c2');
    expect((await a1.blocklist()).sort()).to.deep.equal(['bob@localhost', 'carol@localhost']);
    await a1.unblock();
  });
});

describe('blocking (XEP-0191): limits', () => {
  it('a block beyond maxItems is not-allowed and changes nothing', async () => {
    const t = await startTestServer({ config: { modules: { blocking: { maxItems: 2 } } } });
    try {
      await t.addUser('alice', 'pw');
      const a = await User.login(t, 'alice', 'a');
      expect((await a.block('b@localhost', 'c@localhost')).attrs.type).to.equal('result');
      const over = await a.block('c@localhost', 'd@localhost');
      expect(condition(over), over.toString()).to.equal('not-allowed');
      // Items already there do not count twice.
      expect((await a.block('b@localhost')).attrs.type).to.equal('result');
      expect(await a.blocklist()).to.deep.equal(['b@localhost', 'c@localhost']);
      a.close();
    } finally {
      await t.stop();
    }
  });

  it('a disabled module is gone from disco and its IQs are service-unavailable', async () => {
    const t = await startTestServer({ config: { modules: { blocking: false } } });
    try {
      await t.addUser('alice', 'pw');
      const a = await User.login(t, 'alice', 'a');
      const info = await a.iq((id) => `<iq type='get' to='localhost' id='${id}'><query xmlns='${INFO}'/></iq>`);
      expect(info.getChild('query', INFO)!.getChildren('feature').map((f) => f.attrs.var)).to.not.include(BLOCKING);
      expect(condition(await a.block('b@localhost'))).to.equal('service-unavailable');
      a.close();
    } finally {
      await t.stop();
    }
  });
});
