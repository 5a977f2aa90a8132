// XEP-0191 §3.3/§3.4: presence when a JID is blocked or unblocked. Who may have the user's
// presence comes from directed presence (RFC 6121 §4.6) and, for subscriptions, from the roster;
// the subscription states are set directly through the server's roster store.
import { expect } from 'chai';
import type { Element } from 'ltx';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import type { RosterStore, Subscription } from '../../../server/im/roster-store.ts';
import { Band } from '../../../server/hooks.ts';
import { User } from './helpers.ts';

const isPresence = (e: Element) => e.name === 'presence';

describe('blocking (XEP-0191): presence on block and unblock', () => {
  let t: TestServer;
  let alice: User;
  let alice2: User;
  let bob: User;
  let carol: User;
  let roster: RosterStore;
  before(async () => {
    t = await startTestServer();
    for (const u of ['alice', 'bob', 'carol']) await t.addUser(u, 'pw');
    roster = t.server.rosters;
  });
  beforeEach(async () => {
    alice = await User.login(t, 'alice', 'a1');
    alice2 = await User.login(t, 'alice', 'a2');
    bob = await User.login(t, 'bob', 'b1');
    carol = await User.login(t, 'carol', 'c1');
    await alice.available();
    await alice2.available();
    await alice.next((e) => isPresence(e) && e.attrs.from === alice2.jid);
    // RFC 6121 §4.2.2: the second resource is told the first one's presence.
    await alice2.next((e) => isPresence(e) && e.attrs.from === alice.jid);
    await bob.available();
    await carol.available();
  });
  afterEach(async () => {
    for (const u of [alice, alice2, bob, carol]) u.close();
    await roster.removeAll('alice@localhost');
    // The next test logs in again: wait until these sessions are gone, and the blocklist is empty.
    const admin = await User.login(t, 'alice', 'cleanup');
    await admin.unblock();
    admin.close();
  });

  async function subscription(contact: string, sub: Subscription): Promise<void> {
    await roster.put('alice@localhost', { jid: contact, groups: [], subscription: sub });
  }

  it('on block, a JID that got directed presence gets unavailable from that resource, and the user\'s resources get unavailable from it', async () => {
    alice.send(`<presence to='bob@localhost'><status>hi bob</status></presence>`);
    expect((await bob.next((e) => isPresence(e) && e.attrs.from === alice.jid)).getChildText('status')).to.equal('hi bob');
    bob.send(`<presence to='alice@localhost'/>`);
    for (const a of [alice, alice2]) await a.next((e) => isPresence(e) && e.attrs.from === bob.jid);

    expect((await alice.block('bob@localhost')).attrs.type).to.equal('result');
    const gone = await bob.next((e) => isPresence(e) && e.attrs.type === 'unavailable');
    expect(gone.attrs).to.deep.equal({ type: 'unavailable', to: 'bob@localhost', from: alice.jid });
    for (const a of [alice, alice2]) {
      const off = await a.next((e) => isPresence(e) && e.attrs.type === 'unavailable');
      expect(off.attrs).to.deep.equal({ from: bob.jid, to: a.jid, type: 'unavailable' });
    }
    // alice2 sent bob nothing, so nothing comes from it; nothing more for anyone.
    expect((await bob.drain()).filter(isPresence)).to.deep.equal([]);
    for (const a of [alice, alice2]) expect((await a.drain()).filter(isPresence)).to.deep.equal([]);
  });

  it('on block, nothing goes to a JID that never had the user\'s presence, nor one whose directed presence was ended', async () => {
    alice.send(`<presence to='bob@localhost'/>`);
    await bob.next((e) => isPresence(e) && e.attrs.from === alice.jid);
    alice.send(`<presence to='bob@localhost' type='unavailable'/>`);
    await bob.next((e) => isPresence(e) && e.attrs.from === alice.jid && e.attrs.type === 'unavailable');
    expect((await alice.block('bob@localhost', 'carol@localhost')).attrs.type).to.equal('result');
    expect((await bob.drain()).filter(isPresence)).to.deep.equal([]);
    expect((await carol.drain()).filter(isPresence)).to.deep.equal([]);
    expect((await alice.drain()).filter(isPresence)).to.deep.equal([]);
  });

  it('on block, a JID subscribed to the user\'s presence gets unavailable from each available resource', async () => {
    await subscription('bob@localhost', 'from');
    expect((await alice.block('bob@localhost')).attrs.type).to.equal('result');
    const froms: string[] = [];
    for (let i = 0; i < 2; i++) {
      const p = await bob.next((e) => isPresence(e) && e.attrs.type === 'unavailable');
      expect(p.attrs.to).to.equal('bob@localhost');
      froms.push(p.attrs.from as string);
    }
    expect(froms.sort()).to.deep.equal([alice.jid, alice2.jid].sort());
    expect((await bob.drain()).filter(isPresence)).to.deep.equal([]);
  });

  it('on unblock, a subscribed JID gets the user\'s current presence, and a JID the user is subscribed to is probed', async () => {
    const probes: string[] = [];
    const host = t.server.hosts.get('localhost')!;
    const stop = host.hooks.observe('stanza/inbound', Band.Notify, ({ stanza }) => {
      if (stanza.kind === 'presence' && stanza.type === 'probe') probes.push(`${stanza.from.toString()} -> ${stanza.to!.toString()}`);
    });
    try {
      alice.send(`<presence><show>away</show><status>out</status></presence>`);
      await alice.next((e) => isPresence(e) && e.attrs.from === alice.jid && e.getChildText('show') === 'away');
      await subscription('bob@localhost', 'both');
      await subscription('carol@localhost', 'to');
      expect((await alice.block('bob@localhost', 'carol@localhost')).attrs.type).to.equal('result');
      await bob.next((e) => isPresence(e) && e.attrs.type === 'unavailable');
      await bob.next((e) => isPresence(e) && e.attrs.type === 'unavailable');

      expect((await alice.unblock('bob@localhost', 'carol@localhost')).attrs.type).to.equal('result');
      const back = [await bob.next(isPresence), await bob.next(isPresence)];
      const fromA1 = back.find((p) => p.attrs.from === alice.jid)!;
      expect(fromA1.attrs).to.include({ to: 'bob@localhost' });
      expect(fromA1.attrs.type).to.equal(undefined);
      expect(fromA1.getChildText('show')).to.equal('away');
      expect(fromA1.getChildText('status')).to.equal('out');
      expect(back.map((p) => p.attrs.from).sort()).to.deep.equal([alice.jid, alice2.jid].sort());
      // carol has no subscription to alice: no presence; alice is subscribed to both: both probed, from the bare JID.
      expect((await carol.drain()).filter(isPresence)).to.deep.equal([]);
      await alice.drain();
      expect(probes.sort()).to.deep.equal(['alice@localhost -> bob@localhost', 'alice@localhost -> carol@localhost']);
    } finally {
      stop();
    }
  });

  it('unblocking a JID still covered by another item sends nothing', async () => {
    await subscription('bob@localhost', 'both');
    expect((await alice.block('bob@localhost', 'localhost')).attrs.type).to.equal('result');
    await bob.next((e) => isPresence(e) && e.attrs.type === 'unavailable');
    await bob.next((e) => isPresence(e) && e.attrs.type === 'unavailable');
    expect((await alice.unblock('bob@localhost')).attrs.type).to.equal('result');
    expect((await bob.drain()).filter(isPresence)).to.deep.equal([]);
  });
});
