import { expect } from 'chai';
import type { Element } from 'ltx';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { RawClient, NS } from '../../support/raw-client.ts';

const PRIVATE = 'jabber:iq:private';
const BOOKMARKS = 'storage:bookmarks';

function condition(el: Element): string | undefined {
  return el.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === NS.stanzas)?.name;
}

let ids = 0;
/** Send an IQ whose <query xmlns='jabber:iq:private'> holds `inner`; resolve with the reply. */
async function privateIq(c: RawClient, type: 'get' | 'set', inner: string, to?: string): Promise<Element> {
  const id = `p${++ids}`;
  c.send(`<iq type='${type}' id='${id}'${to ? ` to='${to}'` : ''}><query xmlns='${PRIVATE}'>${inner}</query></iq>`);
  return c.nextMatching((e) => e.name === 'iq' && e.attrs.id === id);
}

/** The children of a result's <query/>, serialised one by one. */
function stored(r: Element): string[] {
  expect(r.attrs.type, r.toString()).to.equal('result');
  const payload = r.getChildElements();
  expect(payload.map((e) => [e.name, e.attrs.xmlns])).to.deep.equal([['query', PRIVATE]]);
  return payload[0]!.getChildElements().map((e) => e.toString());
}

function expectEmptyResult(r: Element): void {
  expect(r.attrs.type, r.toString()).to.equal('result');
  expect(r.children).to.deep.equal([]);
}

describe('private (XEP-0049)', () => {
  let t: TestServer;
  let alice: RawClient;
  let bob: RawClient;
  before(async () => {
    t = await startTestServer();
    await t.addUser('alice', 'pw');
    await t.addUser('bob', 'pw');
    alice = await RawClient.connect(t.c2sPort);
    await alice.login('alice', 'pw', 'home');
    bob = await RawClient.connect(t.c2sPort);
    await bob.login('bob', 'pw', 'desk');
  });
  after(async () => {
    alice.destroy();
    bob.destroy();
    await t.stop();
  });

  describe('storing and retrieving (§2.3)', () => {
    it('stores a fragment and returns it to a get in its namespace (the XEP\'s examples)', async () => {
      const set = await privateIq(alice, 'set', `<exodus xmlns='exodus:prefs'><defaultnick>Hamlet</defaultnick></exodus>`);
      expect(set.attrs).to.deep.equal({ type: 'result', id: set.attrs.id, to: 'alice@localhost/home' });
      expectEmptyResult(set);
      const get = await privateIq(alice, 'get', `<exodus xmlns='exodus:prefs'/>`);
      expect(get.attrs).to.deep.equal({ type: 'result', id: get.attrs.id, to: 'alice@localhost/home' });
      expect(stored(get)).to.deep.equal([`<exodus xmlns="exodus:prefs"><defaultnick>Hamlet</defaultnick></exodus>`]);
    });

    it('answers a namespace with nothing stored with the empty element asked for', async () => {
      expect(stored(await privateIq(alice, 'get', `<prefs xmlns='urn:example:nothing'/>`))).to.deep.equal([`<prefs xmlns="urn:example:nothing"/>`]);
    });

    it('keeps XEP-0048 bookmarks (storage:bookmarks) exactly, also when addressed to the own bare JID', async () => {
      const bookmarks =
        `<storage xmlns="${BOOKMARKS}">` +
        `<conference name="Council of Oberon" autojoin="true" jid="council@conference.localhost"><nick>Puck</nick><password>l0v3 &amp; &lt;mischief&gt;</password></conference>` +
        `<conference name="Théâtre ✓" jid="theatre@conference.localhost"/>` +
        `<url name="Complete Works" url="https://example.org/?a=1&amp;b=2"/>` +
        `</storage>`;
      // Converse and Gajim first read the bookmarks: nothing yet.
      expect(stored(await privateIq(alice, 'get', `<storage xmlns='${BOOKMARKS}'/>`))).to.deep.equal([`<storage xmlns="${BOOKMARKS}"/>`]);
      expectEmptyResult(await privateIq(alice, 'set', bookmarks, 'alice@localhost'));
      const get = await privateIq(alice, 'get', `<storage xmlns='${BOOKMARKS}'/>`, 'alice@localhost');
      expect(get.attrs).to.include({ type: 'result', from: 'alice@localhost', to: 'alice@localhost/home' });
      expect(stored(get)).to.deep.equal([bookmarks]);
      const conference = get.getChild('query', PRIVATE)!.getChild('storage', BOOKMARKS)!.getChildren('conference')[0]!;
      expect(conference.attrs).to.include({ jid: 'council@conference.localhost', autojoin: 'true' });
      expect(conference.getChildText('password')).to.equal('l0v3 & <mischief>');
    });

    it('a new set replaces what a namespace held', async () => {
      await privateIq(alice, 'set', `<note xmlns='urn:example:notes'>first</note>`);
      await privateIq(alice, 'set', `<note xmlns='urn:example:notes'>second</note>`);
      expect(stored(await privateIq(alice, 'get', `<note xmlns='urn:example:notes'/>`))).to.deep.equal([`<note xmlns="urn:example:notes">second</note>`]);
    });

    it('stores several elements of one namespace together and returns them all', async () => {
      expectEmptyResult(await privateIq(alice, 'set', `<a xmlns='urn:example:multi'>1</a><b xmlns='urn:example:multi' x='y'/>`));
      expect(stored(await privateIq(alice, 'get', `<a xmlns='urn:example:multi'/>`))).to.deep.equal([
        `<a xmlns="urn:example:multi">1</a>`,
        `<b xmlns="urn:example:multi" x="y"/>`,
      ]);
    });

    it('keeps the namespaces of prefixed elements and attributes', async () => {
      await privateIq(alice, 'set', `<p:prefs xmlns:p='urn:example:prefixed' xmlns:q='urn:example:attr'><p:item q:flag='on'>x</p:item><other xmlns='urn:example:inner'/></p:prefs>`);
      const [el] = (await privateIq(alice, 'get', `<prefs xmlns='urn:example:prefixed'/>`)).getChild('query', PRIVATE)!.getChildElements();
      expect(el!.getNS()).to.equal('urn:example:prefixed');
      const item = el!.getChild('item')!;
      expect(item.getNS()).to.equal('urn:example:prefixed');
      expect(item.getText()).to.equal('x');
      expect(item.attrs['q:flag']).to.equal('on');
      expect(item.findNS('q')).to.equal('urn:example:attr');
      expect(el!.getChild('other')!.getNS()).to.equal('urn:example:inner');
    });

    it('a single empty element clears a namespace; a get then answers it empty', async () => {
      await privateIq(alice, 'set', `<roster xmlns='urn:example:clear'><item/></roster>`);
      expectEmptyResult(await privateIq(alice, 'set', `<roster xmlns='urn:example:clear'>  </roster>`));
      expect(stored(await privateIq(alice, 'get', `<roster xmlns='urn:example:clear'/>`))).to.deep.equal([`<roster xmlns="urn:example:clear"/>`]);
    });

    it('each account has its own storage', async () => {
      await privateIq(alice, 'set', `<secret xmlns='urn:example:own'>alice's</secret>`);
      await privateIq(bob, 'set', `<secret xmlns='urn:example:own'>bob's</secret>`);
      expect(stored(await privateIq(alice, 'get', `<secret xmlns='urn:example:own'/>`))).to.deep.equal([`<secret xmlns="urn:example:own">alice's</secret>`]);
      expect(stored(await privateIq(bob, 'get', `<secret xmlns='urn:example:own'/>`))).to.deep.equal([`<secret xmlns="urn:example:own">bob's</secret>`]);
    });
  });

  describe('refusals', () => {
    it('another user\'s data is forbidden, for get and set (§2.3, §3, §4)', async () => {
      await privateIq(bob, 'set', `<exodus xmlns='exodus:prefs'><defaultnick>Bob</defaultnick></exodus>`);
      const get = await privateIq(alice, 'get', `<exodus xmlns='exodus:prefs'/>`, 'bob@localhost');
      expect(get.attrs).to.include({ type: 'error', from: 'bob@localhost', to: 'alice@localhost/home' });
      expect(condition(get)).to.equal('forbidden');
      expect(get.getChild('error')!.attrs.type).to.equal('auth');
      const set = await privateIq(alice, 'set', `<exodus xmlns='exodus:prefs'><defaultnick>Macbeth</defaultnick></exodus>`, 'bob@localhost');
      expect(condition(set)).to.equal('forbidden');
      expect(stored(await privateIq(bob, 'get', `<exodus xmlns='exodus:prefs'/>`))).to.deep.equal([`<exodus xmlns="exodus:prefs"><defaultnick>Bob</defaultnick></exodus>`]);
    });

    it('the server JID itself stores nothing: service-unavailable', async () => {
      const r = await privateIq(alice, 'get', `<exodus xmlns='exodus:prefs'/>`, 'localhost');
      expect(condition(r)).to.equal('service-unavailable');
    });

    it('a query without a child is not-acceptable, for get and set (§2.3 MUST)', async () => {
      for (const type of ['get', 'set'] as const) {
        const r = await privateIq(alice, type, '');
        expect(r.attrs.type).to.equal('error');
        expect(condition(r), type).to.equal('not-acceptable');
        expect(r.getChild('error')!.attrs.type).to.equal('modify');
      }
    });

    it('a child in no namespace, or in jabber:iq:private itself, is not-acceptable (§2.1, §2.3)', async () => {
      for (const type of ['get', 'set'] as const) {
        expect(condition(await privateIq(alice, type, `<prefs xmlns=''/>`)), `${type} no namespace`).to.equal('not-acceptable');
        expect(condition(await privateIq(alice, type, `<prefs/>`)), `${type} jabber:iq:private`).to.equal('not-acceptable');
      }
    });

    it('a get naming more than one element is bad-request (§2.3 MUST NOT)', async () => {
      expect(condition(await privateIq(alice, 'get', `<a xmlns='urn:example:one'/><b xmlns='urn:example:two'/>`))).to.equal('bad-request');
      expect(condition(await privateIq(alice, 'get', `<a xmlns='urn:example:one'/><a xmlns='urn:example:one'/>`))).to.equal('bad-request');
    });

    it('a set mixing namespaces is bad-request and stores nothing (§2.3)', async () => {
      expect(condition(await privateIq(alice, 'set', `<a xmlns='urn:example:mix1'>1</a><b xmlns='urn:example:mix2'>2</b>`))).to.equal('bad-request');
      expect(stored(await privateIq(alice, 'get', `<a xmlns='urn:example:mix1'/>`))).to.deep.equal([`<a xmlns="urn:example:mix1"/>`]);
    });

    it('reserved namespaces are not-acceptable (§2.3, §3)', async () => {
      for (const ns of ['vcard-temp', 'jabber:iq:roster', 'jabber:x:data', 'http://jabber.org/protocol/disco#info']) {
        for (const type of ['get', 'set'] as const) {
          const r = await privateIq(alice, type, `<x xmlns='${ns}'/>`);
          expect(condition(r), `${type} ${ns}`).to.equal('not-acceptable');
        }
      }
    });
  });
});

describe('private (XEP-0049) with reserved namespaces allowed', () => {
  it('stores vCard-like data in vcard-temp when refuseReservedNamespaces is false', async () => {
    const t = await startTestServer({ config: { modules: { private: { refuseReservedNamespaces: false } } } });
    try {
      await t.addUser('alice', 'pw');
      const c = await RawClient.connect(t.c2sPort);
      await c.login('alice', 'pw');
      expectEmptyResult(await privateIq(c, 'set', `<vCard xmlns='vcard-temp'><FN>Hamlet</FN></vCard>`));
      expect(stored(await privateIq(c, 'get', `<vCard xmlns='vcard-temp'/>`))).to.deep.equal([`<vCard xmlns="vcard-temp"><FN>Hamlet</FN></vCard>`]);
      // A child without a namespace of its own stays refused: it is no fragment at all.
      expect(condition(await privateIq(c, 'set', `<prefs/>`))).to.equal('not-acceptable');
      c.destroy();
    } finally {
      await t.stop();
    }
  });
});
