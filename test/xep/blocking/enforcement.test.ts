// XEP-0191 §3.3 and §6: stanzas between a user and the JIDs it blocks, in both directions.
import { expect } from 'chai';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { parseJid } from '../../../server/jid.ts';
import { x } from '../../../server/xml/element.ts';
import { User, condition, expectBlockedError } from './helpers.ts';

const PING = 'urn:xmpp:ping';

describe('blocking (XEP-0191): enforcement', () => {
  let t: TestServer;
  let alice: User;
  let alice2: User;
  let bob: User;
  let bob2: User;
  let carol: User;
  let dave: User;
  before(async () => {
    t = await startTestServer();
    for (const u of ['alice', 'bob', 'carol']) await t.addUser(u, 'pw');
    await t.addUser('dave', 'pw', 'example.test');
    alice = await User.login(t, 'alice', 'a1');
    alice2 = await User.login(t, 'alice', 'a2');
    bob = await User.login(t, 'bob', 'b1');
    bob2 = await User.login(t, 'bob', 'b2');
    carol = await User.login(t, 'carol', 'c1');
    dave = await User.login(t, 'dave', 'd1', 'example.test');
    for (const u of [alice, alice2, bob, bob2, carol, dave]) await u.available();
  });
  after(async () => {
    for (const u of [alice, alice2, bob, bob2, carol, dave]) u.close();
    await t.stop();
  });

  async function block(...jids: string[]): Promise<void> {
    expect((await alice.block(...jids)).attrs.type).to.equal('result');
  }
  async function unblockAll(): Promise<void> {
    expect((await alice.unblock()).attrs.type).to.equal('result');
  }

  describe('from a blocked JID to the user', () => {
    before(() => block('bob@localhost'));
    after(unblockAll);

    it('a message is answered with service-unavailable from the user and not delivered', async () => {
      bob.send(`<message to='alice@localhost' type='chat' id='m1'><body>hello?</body></message>`);
      const err = await bob.next((e) => e.name === 'message' && e.attrs.id === 'm1');
      expect(err.attrs).to.include({ type: 'error', from: 'alice@localhost', to: 'bob@localhost/b1' });
      expect(condition(err)).to.equal('service-unavailable');
      expect(err.getChildText('body')).to.equal('hello?');
      // To a full JID as well.
      bob.send(`<message to='alice@localhost/a1' id='m2'><body>there?</body></message>`);
      expect(condition(await bob.next((e) => e.attrs.id === 'm2'))).to.equal('service-unavailable');
      for (const u of [alice, alice2]) expect((await u.drain()).filter((e) => e.name === 'message')).to.deep.equal([]);
    });

    it('a message of type error gets no answer', async () => {
      bob.send(`<message to='alice@localhost/a1' type='error' id='m3'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`);
      expect((await bob.drain()).filter((e) => e.attrs.id === 'm3')).to.deep.equal([]);
      expect((await alice.drain()).filter((e) => e.attrs.id === 'm3')).to.deep.equal([]);
    });

    it('an IQ get or set is answered with service-unavailable; a result or error is dropped silently', async () => {
      const get = await bob.iq((id) => `<iq type='get' to='alice@localhost/a1' id='${id}'><query xmlns='jabber:iq:version'/></iq>`);
      expect(get.attrs).to.include({ type: 'error', from: 'alice@localhost/a1' });
      expect(condition(get)).to.equal('service-unavailable');
      // To the bare JID, which the server would otherwise answer itself (a ping).
      const ping = await bob.iq((id) => `<iq type='get' to='alice@localhost' id='${id}'><ping xmlns='${PING}'/></iq>`);
      expect(condition(ping)).to.equal('service-unavailable');
      const set = await bob.iq((id) => `<iq type='set' to='alice@localhost/a2' id='${id}'><query xmlns='urn:example'/></iq>`);
      expect(condition(set)).to.equal('service-unavailable');
      bob.send(`<iq type='result' to='alice@localhost/a1' id='r1'/>`);
      bob.send(`<iq type='error' to='alice@localhost/a1' id='r2'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`);
      expect((await bob.drain()).filter((e) => e.attrs.id === 'r1' || e.attrs.id === 'r2')).to.deep.equal([]);
      expect((await alice.drain()).filter((e) => e.name === 'iq')).to.deep.equal([]);
    });

    it('presence of any kind (directed, subscription, probe) is dropped without an answer', async () => {
      bob.send(`<presence to='alice@localhost/a1'/>`);
      bob.send(`<presence to='alice@localhost'><show>chat</show></presence>`);
      bob.send(`<presence to='alice@localhost' type='subscribe'/>`);
      bob.send(`<presence to='alice@localhost' type='probe'/>`);
      expect((await bob.drain()).filter((e) => e.name === 'presence')).to.deep.equal([]);
      for (const u of [alice, alice2]) expect((await u.drain()).filter((e) => e.name === 'presence')).to.deep.equal([]);
    });

    it('other senders still reach the user', async () => {
      carol.send(`<message to='alice@localhost/a1' id='m4'><body>hi</body></message>`);
      const m = await alice.next((e) => e.name === 'message' && e.attrs.id === 'm4');
      expect(m.attrs.from).to.equal('carol@localhost/c1');
    });
  });

  describe('from the user to a blocked JID', () => {
    before(() => block('bob@localhost'));
    after(unblockAll);

    it('a message gets not-acceptable with <blocked/>, from the blocked JID, and is not routed', async () => {
      alice.send(`<message to='bob@localhost' type='chat' id='o1'><body>Can you hear me now?</body></message>`);
      const err = await alice.next((e) => e.attrs.id === 'o1');
      expect(err.name).to.equal('message');
      expect(err.attrs).to.include({ from: 'bob@localhost', to: 'alice@localhost/a1' });
      expectBlockedError(err);
      expect(err.getChildText('body')).to.equal('Can you hear me now?');
      for (const u of [bob, bob2]) expect((await u.drain()).filter((e) => e.name === 'message')).to.deep.equal([]);
    });

    it('an IQ get and a directed presence get the same error', async () => {
      const iq = await alice.iq((id) => `<iq type='get' to='bob@localhost/b1' id='${id}'><ping xmlns='${PING}'/></iq>`);
      expectBlockedError(iq);
      expect(iq.attrs.from).to.equal('bob@localhost/b1');
      alice.send(`<presence to='bob@localhost' id='o2'/>`);
      expectBlockedError(await alice.next((e) => e.attrs.id === 'o2'));
      alice.send(`<presence to='bob@localhost/b2' type='subscribe' id='o3'/>`);
      expectBlockedError(await alice.next((e) => e.attrs.id === 'o3'));
      for (const u of [bob, bob2]) expect((await u.drain()).filter((e) => e.name === 'presence' || e.attrs.id?.startsWith('o'))).to.deep.equal([]);
    });

    it('an error or an IQ result to the blocked JID is dropped without an answer', async () => {
      alice.send(`<iq type='result' to='bob@localhost/b1' id='o4'/>`);
      alice.send(`<message type='error' to='bob@localhost/b1' id='o5'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`);
      expect((await alice.drain()).filter((e) => e.attrs.id === 'o4' || e.attrs.id === 'o5')).to.deep.equal([]);
      expect((await bob.drain()).filter((e) => e.attrs.id === 'o4' || e.attrs.id === 'o5')).to.deep.equal([]);
    });

    it('what the server sends on the user\'s behalf to the blocked JID is dropped silently', async () => {
      const session = t.server.sessions.get(parseJid(alice.jid))!;
      t.server.router.sendAs(session, x('message', { to: 'bob@localhost/b1', id: 'g1' }, x('body', null, 'generated')));
      t.server.router.sendAs(session, x('message', { to: 'carol@localhost/c1', id: 'g2' }, x('body', null, 'generated')));
      // The copy to carol shows the generated stanzas were processed.
      expect((await carol.next((e) => e.attrs.id === 'g2')).attrs.from).to.equal(alice.jid);
      expect((await alice.drain()).filter((e) => e.attrs.id === 'g1')).to.deep.equal([]);
      expect((await bob.drain()).filter((e) => e.attrs.id === 'g1')).to.deep.equal([]);
    });

    it('the user\'s stanzas to others, to itself and without to still go through', async () => {
      alice.send(`<message to='carol@localhost/c1' id='o6'><body>hi</body></message>`);
      await carol.next((e) => e.attrs.id === 'o6');
      alice.send(`<message to='alice@localhost/a2' id='o7'><body>note to self</body></message>`);
      await alice2.next((e) => e.attrs.id === 'o7');
    });
  });

  describe('JID matching (§6)', () => {
    afterEach(unblockAll);

    it('a bare JID covers every resource of the account', async () => {
      await block('bob@localhost');
      for (const b of [bob, bob2]) {
        b.send(`<message to='alice@localhost/a1' id='j1'><body>x</body></message>`);
        expect(condition(await b.next((e) => e.attrs.id === 'j1'))).to.equal('service-unavailable');
      }
    });

    it('a full JID covers only that resource', async () => {
      await block('bob@localhost/b1');
      bob.send(`<message to='alice@localhost/a1' id='j2'><body>x</body></message>`);
      expect(condition(await bob.next((e) => e.attrs.id === 'j2'))).to.equal('service-unavailable');
      bob2.send(`<message to='alice@localhost/a1' id='j3'><body>x</body></message>`);
      expect((await alice.next((e) => e.attrs.id === 'j3')).attrs.from).to.equal('bob@localhost/b2');
      // Outbound: to that resource blocked, to the bare JID and the other resource not.
      alice.send(`<message to='bob@localhost/b1' id='j4'><body>x</body></message>`);
      expectBlockedError(await alice.next((e) => e.attrs.id === 'j4'));
      alice.send(`<message to='bob@localhost/b2' id='j5'><body>x</body></message>`);
      await bob2.next((e) => e.attrs.id === 'j5');
    });

    it('a domain covers every account and resource of that domain, both ways, and nothing else', async () => {
      await block('example.test');
      dave.send(`<message to='alice@localhost' id='j6'><body>x</body></message>`);
      expect(condition(await dave.next((e) => e.attrs.id === 'j6'))).to.equal('service-unavailable');
      alice.send(`<message to='dave@example.test' id='j7'><body>x</body></message>`);
      expectBlockedError(await alice.next((e) => e.attrs.id === 'j7'));
      const toDomain = await alice.iq((id) => `<iq type='get' to='example.test' id='${id}'><ping xmlns='${PING}'/></iq>`);
      expectBlockedError(toDomain);
      carol.send(`<message to='alice@localhost/a1' id='j8'><body>x</body></message>`);
      await alice.next((e) => e.attrs.id === 'j8');
      const toOwnServer = await alice.iq((id) => `<iq type='get' to='localhost' id='${id}'><ping xmlns='${PING}'/></iq>`);
      expect(toOwnServer.attrs.type).to.equal('result');
    });

    it('the user\'s own resources are never blocked, even by its own domain', async () => {
      await block('localhost', 'alice@localhost');
      alice.send(`<message to='alice@localhost/a2' id='j9'><body>x</body></message>`);
      await alice2.next((e) => e.attrs.id === 'j9');
      alice2.send(`<message to='alice@localhost/a1' id='j10'><body>x</body></message>`);
      await alice.next((e) => e.attrs.id === 'j10');
      // ...while the domain block holds for everyone else there.
      carol.send(`<message to='alice@localhost/a1' id='j11'><body>x</body></message>`);
      expect(condition(await carol.next((e) => e.attrs.id === 'j11'))).to.equal('service-unavailable');
    });

    it('after unblocking, stanzas flow again (§3.4)', async () => {
      await block('bob@localhost');
      expect((await alice.unblock('bob@localhost')).attrs.type).to.equal('result');
      bob.send(`<message to='alice@localhost/a1' id='j12'><body>back</body></message>`);
      await alice.next((e) => e.attrs.id === 'j12');
      alice.send(`<message to='bob@localhost/b1' id='j13'><body>welcome</body></message>`);
      await bob.next((e) => e.attrs.id === 'j13');
    });

    it('unblock all lets every blocked JID through again (§3.5)', async () => {
      await block('bob@localhost', 'example.test');
      await unblockAll();
      bob.send(`<message to='alice@localhost/a1' id='j14'><body>x</body></message>`);
      await alice.next((e) => e.attrs.id === 'j14');
      dave.send(`<message to='alice@localhost/a1' id='j15'><body>x</body></message>`);
      await alice.next((e) => e.attrs.id === 'j15');
    });
  });

  describe('a user who is offline', () => {
    it('is protected from the stored blocklist: the filter reads it from storage', async () => {
      const eve = await (async () => {
        await t.addUser('eve', 'pw');
        return User.login(t, 'eve', 'e1');
      })();
      expect((await eve.block('bob@localhost')).attrs.type).to.equal('result');
      eve.close();
      await eve.raw.waitClosed();
      // Wait until the server has seen the session go.
      for (let i = 0; i < 100 && t.server.sessions.resources(parseJid('eve@localhost')).length > 0; i++) {
        await carol.drain();
      }
      expect(t.server.sessions.resources(parseJid('eve@localhost'))).to.have.length(0);
      const blocked = await bob.iq((id) => `<iq type='get' to='eve@localhost' id='${id}'><ping xmlns='${PING}'/></iq>`);
      expect(condition(blocked)).to.equal('service-unavailable');
      const allowed = await carol.iq((id) => `<iq type='get' to='eve@localhost' id='${id}'><ping xmlns='${PING}'/></iq>`);
      expect(allowed.attrs.type).to.equal('result');
    });
  });
});
