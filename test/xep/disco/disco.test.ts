import { expect } from 'chai';
import type { Element } from 'ltx';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { RawClient, NS } from '../../support/raw-client.ts';

const INFO = 'http://jabber.org/protocol/disco#info';
const ITEMS = 'http://jabber.org/protocol/disco#items';
const CAPS = 'http://jabber.org/protocol/caps';

function condition(el: Element): string | undefined {
  return el.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === NS.stanzas)?.name;
}

/** Set a subscription state directly through the server's roster store (which keeps online accounts' cached rosters in step). */
async function setSubscription(t: TestServer, owner: string, contact: string, subscription: 'none' | 'to' | 'from' | 'both' | null): Promise<void> {
  if (subscription === null) await t.server.rosters.remove(owner, contact);
  else await t.server.rosters.put(owner, { jid: contact, groups: [], subscription });
}

describe('disco (XEP-0030)', () => {
  let t: TestServer;
  let c: RawClient;
  let bob: RawClient;
  before(async () => {
    t = await startTestServer();
    await t.addUser('alice', 'pw');
    await t.addUser('bob', 'pw');
    c = await RawClient.connect(t.c2sPort);
    await c.login('alice', 'pw', 'disco');
    bob = await RawClient.connect(t.c2sPort);
    await bob.login('bob', 'pw', 'pc');
  });
  after(async () => {
    c.destroy();
    bob.destroy();
    await t.stop();
  });

  let seq = 0;
  async function ask(client: RawClient, xml: (id: string) => string): Promise<Element> {
    const id = `q${++seq}`;
    client.send(xml(id));
    return client.nextMatching((e) => e.attrs.id === id);
  }
  const infoTo = (to: string) => (id: string) => `<iq type='get' to='${to}' id='${id}'><query xmlns='${INFO}'/></iq>`;
  const itemsTo = (to: string) => (id: string) => `<iq type='get' to='${to}' id='${id}'><query xmlns='${ITEMS}'/></iq>`;

  it('disco#info on the server lists its identity and exactly the features it serves, sorted', async () => {
    const r = await ask(c, infoTo('localhost'));
    expect(r.attrs).to.include({ type: 'result', from: 'localhost', to: 'alice@localhost/disco' });
    const q = r.getChild('query', INFO)!;
    expect(q.attrs.node).to.equal(undefined);
    expect(q.getChildren('identity').map((i) => i.attrs)).to.deep.equal([{ category: 'server', type: 'im', name: 'Chorus' }]);
    expect(q.getChildren('feature').map((f) => f.attrs.var)).to.deep.equal(
      [CAPS, ITEMS, INFO, 'jabber:iq:last', 'jabber:iq:register', 'jabber:iq:version', 'urn:xmpp:blocking', 'urn:xmpp:ping', 'urn:xmpp:time', 'vcard-temp'].sort(),
    );
  });

  it('disco#items on the server is an empty list', async () => {
    const r = await ask(c, itemsTo('localhost'));
    expect(r.attrs.type).to.equal('result');
    expect(r.getChild('query', ITEMS)!.getChildElements()).to.deep.equal([]);
  });

  it('an unknown node is item-not-found', async () => {
    const r = await ask(c, (id) => `<iq type='get' to='localhost' id='${id}'><query xmlns='${INFO}' node='urn:nope'/></iq>`);
    expect(r.attrs.type).to.equal('error');
    expect(condition(r)).to.equal('item-not-found');
  });

  it('an account may ask about itself, with or without a to address', async () => {
    for (const xml of [(id: string) => `<iq type='get' id='${id}'><query xmlns='${INFO}'/></iq>`, infoTo('alice@localhost')]) {
      const own = await ask(c, xml);
      expect(own.attrs.type).to.equal('result');
      const q = own.getChild('query', INFO)!;
      expect(q.getChildren('identity').map((i) => i.attrs)).to.deep.equal([{ category: 'account', type: 'registered' }]);
      expect(q.getChildren('feature').map((f) => f.attrs.var)).to.include.members([INFO, ITEMS, 'jabber:iq:roster', 'jabber:iq:last']);
    }
  });

  it('disco#info set is not implemented', async () => {
    const r = await ask(c, (id) => `<iq type='set' to='localhost' id='${id}'><query xmlns='${INFO}'/></iq>`);
    expect(condition(r)).to.equal('feature-not-implemented');
  });

  describe('on an account\'s bare JID (XEP-0030 §8)', () => {
    afterEach(async () => {
      await setSubscription(t, 'alice@localhost', 'bob@localhost', null);
      await setSubscription(t, 'bob@localhost', 'alice@localhost', null);
    });

    it('without a subscription, disco#info is service-unavailable and disco#items an empty result', async () => {
      const info = await ask(bob, infoTo('alice@localhost'));
      expect(info.attrs).to.include({ type: 'error', from: 'alice@localhost', to: 'bob@localhost/pc' });
      expect(info.getChild('error')!.attrs.type).to.equal('cancel');
      expect(condition(info)).to.equal('service-unavailable');
      c.send(`<presence/>`);
      await c.nextMatching((e) => e.name === 'presence');
      const items = await ask(bob, itemsTo('alice@localhost'));
      expect(items.attrs).to.include({ type: 'result', from: 'alice@localhost' });
      expect(items.getChild('query', ITEMS)!.getChildElements()).to.deep.equal([]);
    });

    for (const sub of ['none', 'to'] as const) {
      it(`subscription '${sub}' (the contact does not see the account's presence) is not enough`, async () => {
        await setSubscription(t, 'alice@localhost', 'bob@localhost', sub);
        expect(condition(await ask(bob, infoTo('alice@localhost')))).to.equal('service-unavailable');
        const items = await ask(bob, itemsTo('alice@localhost'));
        expect(items.getChild('query', ITEMS)!.getChildElements()).to.deep.equal([]);
      });
    }

    it('the subscription that counts is in the account\'s roster, not the requester\'s', async () => {
      await setSubscription(t, 'bob@localhost', 'alice@localhost', 'both');
      expect(condition(await ask(bob, infoTo('alice@localhost')))).to.equal('service-unavailable');
    });

    for (const sub of ['from', 'both'] as const) {
      it(`subscription '${sub}' lets the contact see the account's identity and features`, async () => {
        await setSubscription(t, 'alice@localhost', 'bob@localhost', sub);
        const r = await ask(bob, infoTo('alice@localhost'));
        expect(r.attrs).to.include({ type: 'result', from: 'alice@localhost', to: 'bob@localhost/pc' });
        const q = r.getChild('query', INFO)!;
        expect(q.getChildren('identity').map((i) => i.attrs)).to.deep.equal([{ category: 'account', type: 'registered' }]);
        const features = q.getChildren('feature').map((f) => f.attrs.var);
        expect(features).to.include.members([INFO, ITEMS, 'jabber:iq:last']);
        expect(features).to.not.include(CAPS);
      });
    }

    it('disco#items lists the available resources to a contact with a subscription, and only the available ones', async () => {
      await setSubscription(t, 'alice@localhost', 'bob@localhost', 'from');
      const second = await RawClient.connect(t.c2sPort);
      try {
        await second.login('alice', 'pw', 'silent'); // bound, but never sends presence
        c.send(`<presence/>`);
        await c.nextMatching((e) => e.name === 'presence');
        const r = await ask(bob, itemsTo('alice@localhost'));
        expect(r.attrs).to.include({ type: 'result', from: 'alice@localhost' });
        const q = r.getChild('query', ITEMS)!;
        expect(q.getChildElements().map((i) => [i.name, i.attrs])).to.deep.equal([['item', { jid: 'alice@localhost/disco' }]]);
        c.send(`<presence type='unavailable'/>`);
        // A round trip on alice's stream: her unavailable presence is processed before bob asks again.
        expect((await ask(c, (id) => `<iq type='get' to='localhost' id='${id}'><ping xmlns='urn:xmpp:ping'/></iq>`)).attrs.type).to.equal('result');
        const after = await ask(bob, itemsTo('alice@localhost'));
        expect(after.getChild('query', ITEMS)!.getChildElements()).to.deep.equal([]);
      } finally {
        second.destroy();
      }
    });

    it('a node on an account is item-not-found for those allowed to ask', async () => {
      await setSubscription(t, 'alice@localhost', 'bob@localhost', 'both');
      const r = await ask(bob, (id) => `<iq type='get' to='alice@localhost' id='${id}'><query xmlns='${INFO}' node='urn:x'/></iq>`);
      expect(condition(r)).to.equal('item-not-found');
      const items = await ask(bob, (id) => `<iq type='get' to='alice@localhost' id='${id}'><query xmlns='${ITEMS}' node='urn:x'/></iq>`);
      expect(condition(items)).to.equal('item-not-found');
    });

    it('an account that does not exist is service-unavailable, like one the requester may not see', async () => {
      const r = await ask(bob, infoTo('nobody@localhost'));
      expect(r.attrs).to.include({ type: 'error', from: 'nobody@localhost' });
      expect(condition(r)).to.equal('service-unavailable');
    });
  });

  it('a disabled module takes its features out of disco', async () => {
    const t2 = await startTestServer({ config: { modules: { ping: false } } });
    try {
      await t2.addUser('alice', 'pw');
      const c2 = await RawClient.connect(t2.c2sPort);
      await c2.login('alice', 'pw');
      c2.send(`<iq type='get' to='localhost' id='d1'><query xmlns='${INFO}'/></iq>`);
      const r = await c2.nextMatching((e) => e.attrs.id === 'd1');
      expect(r.getChild('query', INFO)!.getChildren('feature').map((f) => f.attrs.var)).to.not.include('urn:xmpp:ping');
      c2.send(`<iq type='get' to='localhost' id='d2'><ping xmlns='urn:xmpp:ping'/></iq>`);
      expect(condition(await c2.nextMatching((e) => e.attrs.id === 'd2'))).to.equal('service-unavailable');
      c2.destroy();
    } finally {
      await t2.stop();
    }
  });
});
