import { expect } from 'chai';
import type { Element } from 'ltx';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { RawClient, NS } from '../../support/raw-client.ts';

const INFO = 'http://jabber.org/protocol/disco#info';
const ITEMS = 'http://jabber.org/protocol/disco#items';

function condition(el: Element): string | undefined {
  return el.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === NS.stanzas)?.name;
}

describe('disco (XEP-0030)', () => {
  let t: TestServer;
  let c: RawClient;
  before(async () => {
    t = await startTestServer();
    await t.addUser('alice', 'pw');
    await t.addUser('bob', 'pw');
    c = await RawClient.connect(t.c2sPort);
    await c.login('alice', 'pw', 'disco');
  });
  after(async () => {
    c.destroy();
    await t.stop();
  });

  async function ask(xml: string, id: string): Promise<Element> {
    c.send(xml);
    return c.nextMatching((e) => e.attrs.id === id);
  }

  it('disco#info on the server lists its identity and exactly the features it serves, sorted', async () => {
    const r = await ask(`<iq type='get' to='localhost' id='i1'><query xmlns='${INFO}'/></iq>`, 'i1');
    expect(r.attrs).to.include({ type: 'result', from: 'localhost', to: 'alice@localhost/disco' });
    const q = r.getChild('query', INFO)!;
    expect(q.getChildren('identity').map((i) => i.attrs)).to.deep.equal([{ category: 'server', type: 'im', name: 'Chorus' }]);
    expect(q.getChildren('feature').map((f) => f.attrs.var)).to.deep.equal([ITEMS, INFO, 'urn:xmpp:blocking', 'urn:xmpp:ping'].sort());
  });

  it('disco#items on the server is an empty list', async () => {
    const r = await ask(`<iq type='get' to='localhost' id='i2'><query xmlns='${ITEMS}'/></iq>`, 'i2');
    expect(r.attrs.type).to.equal('result');
    expect(r.getChild('query', ITEMS)!.getChildElements()).to.deep.equal([]);
  });

  it('an unknown node is item-not-found', async () => {
    const r = await ask(`<iq type='get' to='localhost' id='i3'><query xmlns='${INFO}' node='urn:nope'/></iq>`, 'i3');
    expect(r.attrs.type).to.equal('error');
    expect(condition(r)).to.equal('item-not-found');
  });

  it('an account may ask about itself; others get service-unavailable', async () => {
    const own = await ask(`<iq type='get' id='i4'><query xmlns='${INFO}'/></iq>`, 'i4');
    expect(own.attrs.type).to.equal('result');
    expect(own.attrs.from).to.equal(undefined);
    expect(own.getChild('query', INFO)!.getChild('identity')!.attrs).to.include({ category: 'account', type: 'registered' });
    const other = await ask(`<iq type='get' to='bob@localhost' id='i5'><query xmlns='${INFO}'/></iq>`, 'i5');
    expect(other.attrs).to.include({ type: 'error', from: 'bob@localhost' });
    expect(condition(other)).to.equal('service-unavailable');
  });

  it('disco#info set is not implemented', async () => {
    const r = await ask(`<iq type='set' to='localhost' id='i6'><query xmlns='${INFO}'/></iq>`, 'i6');
    expect(condition(r)).to.equal('feature-not-implemented');
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
