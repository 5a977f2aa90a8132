// RFC 6120 §10 routing and RFC 6121 §8.5 delivery rules, exchange by exchange, over raw
// sessions: bare and full JIDs, priorities, stanza types, unknown users and domains.
import { expect } from 'chai';
import type { Element } from 'ltx';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { RawClient, NS } from '../../support/raw-client.ts';

function errorCondition(el: Element): string | undefined {
  return el.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === NS.stanzas && c.name !== 'text')?.name;
}

describe('routing and delivery (RFC 6120 §10, RFC 6121 §8.5)', function () {
  let t: TestServer;
  const open: RawClient[] = [];
  before(async () => {
    t = await startTestServer();
    await t.addUser('alice', 'pw');
    await t.addUser('bob', 'pw');
  });
  after(() => t.stop());
  afterEach(() => {
    for (const c of open.splice(0)) c.destroy();
  });

  /** A logged-in session; with `priority` set it also sends initial presence. */
  async function session(user: string, resource: string, priority?: number): Promise<RawClient> {
    const c = await RawClient.connect(t.c2sPort);
    open.push(c);
    await c.login(user, 'pw', resource);
    if (priority !== undefined) {
      c.send(`<presence><priority>${priority}</priority></presence>`);
      await c.nextMatching((e) => e.name === 'presence' && e.attrs.from === `${user}@localhost/${resource}`);
    }
    return c;
  }

  /** Nothing (matching) arrives within a short while. */
  async function expectNothing(c: RawClient, match: (e: Element) => boolean = () => true, ms = 300): Promise<void> {
    try {
      const el = await c.nextMatching(match, ms);
      expect.fail(`expected nothing, got ${el.toString()}`);
    } catch (err) {
      if ((err as Error).message.startsWith('expected nothing')) throw err;
    }
  }

  const isMessage = (e: Element) => e.name === 'message';

  it('a chat message to a bare JID goes to the highest non-negative priority resource (§8.5.2.1.1)', async () => {
    const high = await session('bob', 'high', 5);
    const low = await session('bob', 'low', 1);
    const a = await session('alice', 'a');
    a.send(`<message to='bob@localhost' type='chat' id='c1'><body>hi</body></message>`);
    const got = await high.nextMatching(isMessage);
    expect(got.attrs).to.include({ from: 'alice@localhost/a', to: 'bob@localhost', id: 'c1' });
    await expectNothing(low, isMessage);
  });

  it('resources sharing the highest priority all receive it', async () => {
    const one = await session('bob', 'one', 2);
    const two = await session('bob', 'two', 2);
    const a = await session('alice', 'a');
    a.send(`<message to='bob@localhost' id='n1'><body>both</body></message>`);
    expect((await one.nextMatching(isMessage)).attrs.id).to.equal('n1');
    expect((await two.nextMatching(isMessage)).attrs.id).to.equal('n1');
  });

  it('a headline goes to every non-negative resource, never to negative ones (§8.5.2.1.1)', async () => {
    const p1 = await session('bob', 'p1', 3);
    const p0 = await session('bob', 'p0', 0);
    const neg = await session('bob', 'neg', -1);
    const a = await session('alice', 'a');
    a.send(`<message to='bob@localhost' type='headline' id='h1'><body>news</body></message>`);
    expect((await p1.nextMatching(isMessage)).attrs.id).to.equal('h1');
    expect((await p0.nextMatching(isMessage)).attrs.id).to.equal('h1');
    await expectNothing(neg, isMessage);
  });

  it('with only negative-priority resources a chat message is not delivered but stored, and comes when the priority turns non-negative (§8.5.2.2.1)', async () => {
    const neg = await session('bob', 'neg', -5);
    const a = await session('alice', 'a');
    a.send(`<message to='bob@localhost' type='chat' id='c2'><body>x</body></message>`);
    await expectNothing(neg, isMessage);
    await expectNothing(a, isMessage);
    neg.send(`<presence><priority>0</priority></presence>`);
    const m = await neg.nextMatching(isMessage);
    expect(m.attrs).to.include({ type: 'chat', id: 'c2', from: 'alice@localhost/a', to: 'bob@localhost' });
    expect(m.getChild('delay', 'urn:xmpp:delay')!.attrs.from).to.equal('localhost');
  });

  it('a groupchat message to a bare JID is refused with service-unavailable', async () => {
    await session('bob', 'b', 1);
    const a = await session('alice', 'a');
    a.send(`<message to='bob@localhost' type='groupchat' id='g1'><body>x</body></message>`);
    const err = await a.nextMatching(isMessage);
    expect(err.attrs.type).to.equal('error');
    expect(errorCondition(err)).to.equal('service-unavailable');
  });

  it('a message to a full JID goes to that resource only, even with a lower priority (§8.5.3.1)', async () => {
    const high = await session('bob', 'high', 9);
    const low = await session('bob', 'low', 1);
    const a = await session('alice', 'a');
    a.send(`<message to='bob@localhost/low' type='chat' id='f1'><body>x</body></message>`);
    expect((await low.nextMatching(isMessage)).attrs.id).to.equal('f1');
    await expectNothing(high, isMessage);
  });

  it('a chat message to a gone resource falls back to the bare JID; normal is bounced (§8.5.3.2.1)', async () => {
    const other = await session('bob', 'other', 1);
    const a = await session('alice', 'a');
    a.send(`<message to='bob@localhost/gone' type='chat' id='f2'><body>x</body></message>`);
    expect((await other.nextMatching(isMessage)).attrs.id).to.equal('f2');
    a.send(`<message to='bob@localhost/gone' id='f3'><body>x</body></message>`);
    const err = await a.nextMatching(isMessage);
    expect(err.attrs).to.include({ type: 'error', id: 'f3' });
    expect(errorCondition(err)).to.equal('service-unavailable');
  });

  it('an IQ to a gone resource gets service-unavailable (§8.5.3.2.3); to a present one it is delivered', async () => {
    const b = await session('bob', 'here');
    const a = await session('alice', 'a');
    a.send(`<iq type='get' to='bob@localhost/gone' id='q1'><query xmlns='jabber:iq:version'/></iq>`);
    const err = await a.nextMatching((e) => e.attrs.id === 'q1');
    expect(err.attrs).to.include({ type: 'error', from: 'bob@localhost/gone' });
    expect(errorCondition(err)).to.equal('service-unavailable');
    a.send(`<iq type='get' to='bob@localhost/here' id='q2'><query xmlns='jabber:iq:version'/></iq>`);
    const delivered = await b.nextMatching((e) => e.attrs.id === 'q2');
    expect(delivered.attrs).to.include({ from: 'alice@localhost/a', type: 'get' });
    b.send(`<iq type='result' to='alice@localhost/a' id='q2'/>`);
    expect((await a.nextMatching((e) => e.attrs.id === 'q2')).attrs).to.include({ type: 'result', from: 'bob@localhost/here' });
  });

  it('stanzas to a user that does not exist: message and IQ bounce, presence is ignored (§8.5.1)', async () => {
    const a = await session('alice', 'a');
    a.send(`<message to='nobody@localhost' id='u1'><body>x</body></message>`);
    expect(errorCondition(await a.nextMatching((e) => e.attrs.id === 'u1'))).to.equal('service-unavailable');
    a.send(`<iq type='get' to='nobody@localhost' id='u2'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
    expect(errorCondition(await a.nextMatching((e) => e.attrs.id === 'u2'))).to.equal('service-unavailable');
    a.send(`<presence to='nobody@localhost' id='u3'/>`);
    await expectNothing(a, (e) => e.attrs.id === 'u3');
  });

  it('an error message is never answered with an error', async () => {
    const a = await session('alice', 'a');
    a.send(`<message to='nobody@localhost' type='error' id='e1'><error type='cancel'><item-not-found xmlns='${NS.stanzas}'/></error></message>`);
    await expectNothing(a, (e) => e.attrs.id === 'e1');
  });

  it('a message without to goes to the sender\'s own bare JID (RFC 6120 §10.3.1)', async () => {
    const a = await session('alice', 'a', 1);
    a.send(`<message id='self1' type='chat'><body>note to self</body></message>`);
    const got = await a.nextMatching(isMessage);
    expect(got.attrs).to.include({ id: 'self1', from: 'alice@localhost/a', to: 'alice@localhost' });
  });

  it('an IQ to a domain this server does not serve gets remote-server-not-found (RFC 6120 §10.4)', async () => {
    const a = await session('alice', 'a');
    a.send(`<iq type='get' to='elsewhere.example' id='r1'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const err = await a.nextMatching((e) => e.attrs.id === 'r1');
    expect(err.attrs).to.include({ type: 'error', from: 'elsewhere.example' });
    expect(errorCondition(err)).to.equal('remote-server-not-found');
  });

  it('an IQ with a namespace nobody handles gets service-unavailable; a known one lacking the type, feature-not-implemented', async () => {
    const a = await session('alice', 'a');
    a.send(`<iq type='get' to='localhost' id='i1'><query xmlns='urn:example:unknown'/></iq>`);
    const err = await a.nextMatching((e) => e.attrs.id === 'i1');
    expect(err.attrs).to.include({ type: 'error', from: 'localhost', to: 'alice@localhost/a' });
    expect(errorCondition(err)).to.equal('service-unavailable');
    expect(err.getChild('query', 'urn:example:unknown')).to.not.equal(undefined);
    a.send(`<iq type='set' to='localhost' id='i2'><ping xmlns='urn:xmpp:ping'/></iq>`);
    expect(errorCondition(await a.nextMatching((e) => e.attrs.id === 'i2'))).to.equal('feature-not-implemented');
  });

  it('malformed IQs and addresses get the error the RFC names', async () => {
    const a = await session('alice', 'a');
    a.send(`<iq type='get' to='localhost' id='m1'><ping xmlns='urn:xmpp:ping'/><ping xmlns='urn:xmpp:ping'/></iq>`);
    expect(errorCondition(await a.nextMatching((e) => e.attrs.id === 'm1'))).to.equal('bad-request');
    a.send(`<iq type='fetch' to='localhost' id='m2'><ping xmlns='urn:xmpp:ping'/></iq>`);
    expect(errorCondition(await a.nextMatching((e) => e.attrs.id === 'm2'))).to.equal('bad-request');
    a.send(`<message to='bad@@localhost' id='m3'><body>x</body></message>`);
    expect(errorCondition(await a.nextMatching((e) => e.attrs.id === 'm3'))).to.equal('jid-malformed');
    a.send(`<presence type='unknown-type' id='m4'/>`);
    expect(errorCondition(await a.nextMatching((e) => e.attrs.id === 'm4'))).to.equal('bad-request');
  });

  it('a client cannot spoof from: the server stamps its full JID (RFC 6120 §8.1.2.1)', async () => {
    const b = await session('bob', 'b', 1);
    const a = await session('alice', 'a');
    a.send(`<message from='alice@localhost' to='bob@localhost' id='s1'><body>x</body></message>`);
    expect((await b.nextMatching(isMessage)).attrs.from).to.equal('alice@localhost/a');
  });

  it('namespace prefixes are resolved at the edge: a prefixed stanza arrives in plain form (RFC 6120 §4.8.5)', async () => {
    const b = await session('bob', 'b', 1);
    const a = await session('alice', 'a');
    a.send(`<cl:message xmlns:cl='jabber:client' to='bob@localhost' id='px' type='chat'><cl:body>hi</cl:body><r:request xmlns:r='urn:xmpp:receipts'/></cl:message>`);
    const got = await b.nextMatching(isMessage);
    expect(got.attrs).to.include({ id: 'px', from: 'alice@localhost/a' });
    expect(got.getChildText('body')).to.equal('hi');
    expect(got.getChild('request', 'urn:xmpp:receipts')).to.not.equal(undefined);
    expect(b.received).to.contain('<request xmlns="urn:xmpp:receipts"/>');
    expect(b.received).to.not.contain('cl:');
  });

  it('presence: initial presence reaches all own available resources; unavailable on disconnect reaches the others (RFC 6121 §4)', async () => {
    const one = await session('bob', 'one', 1);
    const two = await session('bob', 'two', 1);
    expect((await one.nextMatching((e) => e.name === 'presence' && e.attrs.from === 'bob@localhost/two')).attrs.type).to.equal(undefined);
    two.destroy(); // a TCP reset, no </stream:stream>
    const gone = await one.nextMatching((e) => e.name === 'presence' && e.attrs.from === 'bob@localhost/two');
    expect(gone.attrs.type).to.equal('unavailable');
  });
});
