import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import type { Element } from 'ltx';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { RawClient, NS } from '../../support/raw-client.ts';
import { jid } from '../../../server/jid.ts';

const LAST = 'jabber:iq:last';
const INFO = 'http://jabber.org/protocol/disco#info';

function condition(el: Element): string | undefined {
  return el.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === NS.stanzas)?.name;
}

/** Set a subscription state directly through the server's roster store (which keeps online accounts' cached rosters in step). */
async function setSubscription(t: TestServer, owner: string, contact: string, subscription: 'none' | 'to' | 'from' | 'both' | null): Promise<void> {
  if (subscription === null) await t.server.rosters.remove(owner, contact);
  else await t.server.rosters.put(owner, { jid: contact, groups: [], subscription });
}

function lastDocs(t: TestServer) {
  return t.server.store.collection<{ _id: string; at: Date; status?: string }>('last_activity');
}

let seq = 0;
/** Send a last-activity query (to `to`, or without 'to' when null) and return the reply. */
async function askLast(client: RawClient, to: string | null, type = 'get'): Promise<Element> {
  const id = `l${++seq}`;
  client.send(`<iq type='${type}'${to === null ? '' : ` to='${to}'`} id='${id}'><query xmlns='${LAST}'/></iq>`);
  return client.nextMatching((e) => e.name === 'iq' && e.attrs.id === id);
}

/** Everything the client receives until the reply to a ping of the server: what reached it before. */
async function receivedBeforePing(client: RawClient): Promise<Element[]> {
  const id = `p${++seq}`;
  client.send(`<iq type='get' to='localhost' id='${id}'><ping xmlns='urn:xmpp:ping'/></iq>`);
  const seen: Element[] = [];
  for (;;) {
    const el = await client.next();
    if (el.attrs.id === id) return seen;
    seen.push(el);
  }
}

/** Close the stream (after an unavailable presence with this status, if given) and wait until the server has closed too. */
async function logout(client: RawClient, status?: string): Promise<void> {
  if (status !== undefined) client.send(`<presence type='unavailable'><status>${status}</status></presence>`);
  client.send('</stream:stream>');
  await client.waitClosed();
}

/** The <query/> of a result, checked element by element. */
function lastQuery(r: Element, from: string, to: string): Element {
  expect(r.attrs).to.include({ type: 'result', from, to });
  const children = r.getChildElements();
  expect(children.map((c) => [c.name, c.attrs.xmlns])).to.deep.equal([['query', LAST]]);
  const q = children[0]!;
  expect(q.getChildElements()).to.deep.equal([]);
  expect(q.attrs.seconds).to.match(/^\d+$/);
  return q;
}

describe('last activity (XEP-0012)', () => {
  let t: TestServer;
  let startedAt: number;
  let bob: RawClient;
  const clients: RawClient[] = [];
  async function login(user: string, resource: string, server = t): Promise<RawClient> {
    const c = await RawClient.connect(server.c2sPort);
    clients.push(c);
    await c.login(user, 'pw', resource);
    return c;
  }

  before(async () => {
    startedAt = Date.now();
    t = await startTestServer();
    for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) await t.addUser(u, 'pw');
    bob = await login('bob', 'pc');
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await t.stop();
  });

  describe('to the server (§5)', () => {
    it('is the server\'s uptime in seconds, with no text', async () => {
      const r = await askLast(bob, 'localhost');
      const q = lastQuery(r, 'localhost', 'bob@localhost/pc');
      expect(q.getText()).to.equal('');
      expect(Number(q.attrs.seconds)).to.be.at.most(Math.ceil((Date.now() - startedAt) / 1000));
    });

    it('is advertised in disco#info of the server and of accounts (§6)', async () => {
      bob.send(`<iq type='get' to='localhost' id='d1'><query xmlns='${INFO}'/></iq>`);
      const host = await bob.nextMatching((e) => e.attrs.id === 'd1');
      expect(host.getChild('query', INFO)!.getChildren('feature').map((f) => f.attrs.var)).to.include(LAST);
      bob.send(`<iq type='get' id='d2'><query xmlns='${INFO}'/></iq>`);
      const own = await bob.nextMatching((e) => e.attrs.id === 'd2');
      expect(own.getChild('query', INFO)!.getChildren('feature').map((f) => f.attrs.var)).to.include(LAST);
    });

    it('set is not implemented', async () => {
      expect(condition(await askLast(bob, 'localhost', 'set'))).to.equal('feature-not-implemented');
    });
  });

  describe('to an account\'s bare JID (§3)', () => {
    afterEach(async () => {
      for (const owner of ['alice', 'carol', 'dave']) await setSubscription(t, `${owner}@localhost`, 'bob@localhost', null);
    });

    it('is forbidden (auth) without a subscription, whether the account is online or not', async () => {
      const r = await askLast(bob, 'alice@localhost');
      expect(r.attrs).to.include({ type: 'error', from: 'alice@localhost', to: 'bob@localhost/pc' });
      expect(r.getChild('error')!.attrs.type).to.equal('auth');
      expect(condition(r)).to.equal('forbidden');
      const alice = await login('alice', 'online');
      expect(condition(await askLast(bob, 'alice@localhost'))).to.equal('forbidden');
      await logout(alice);
    });

    for (const sub of ['none', 'to'] as const) {
      it(`is forbidden with subscription '${sub}'`, async () => {
        await setSubscription(t, 'alice@localhost', 'bob@localhost', sub);
        expect(condition(await askLast(bob, 'alice@localhost'))).to.equal('forbidden');
      });
    }

    it('counts the account\'s roster, not the requester\'s', async () => {
      await setSubscription(t, 'bob@localhost', 'alice@localhost', 'both');
      try {
        expect(condition(await askLast(bob, 'alice@localhost'))).to.equal('forbidden');
      } finally {
        await setSubscription(t, 'bob@localhost', 'alice@localhost', null);
      }
    });

    it('is seconds 0 and an empty query while the account has a connected resource', async () => {
      await setSubscription(t, 'alice@localhost', 'bob@localhost', 'from');
      const alice = await login('alice', 'home'); // connected, no presence sent
      const q = lastQuery(await askLast(bob, 'alice@localhost'), 'alice@localhost', 'bob@localhost/pc');
      expect(q.attrs.seconds).to.equal('0');
      expect(q.getText()).to.equal('');
      // The account asking about itself, without 'to': the reply has no 'from' either.
      const own = await askLast(alice, null);
      expect(own.attrs).to.include({ type: 'result', to: 'alice@localhost/home' });
      expect(own.attrs.from).to.equal(undefined);
      expect(own.getChild('query', LAST)!.attrs.seconds).to.equal('0');
      await logout(alice);
    });

    it('is the time since the last logout and the status of the last unavailable presence', async () => {
      await setSubscription(t, 'alice@localhost', 'bob@localhost', 'both');
      const alice = await login('alice', 'balcony');
      alice.send('<presence/>');
      await alice.nextMatching((e) => e.name === 'presence');
      await logout(alice, 'Heading Home');
      const q = lastQuery(await askLast(bob, 'alice@localhost'), 'alice@localhost', 'bob@localhost/pc');
      expect(Number(q.attrs.seconds)).to.be.within(0, 2);
      expect(q.getText()).to.equal('Heading Home');
      const doc = await lastDocs(t).findOne({ _id: 'alice@localhost' });
      expect(doc!.status).to.equal('Heading Home');
      expect(doc!.at).to.be.an.instanceOf(Date);
    });

    it('counts the seconds from the stored logout time', async () => {
      await setSubscription(t, 'carol@localhost', 'bob@localhost', 'from');
      await lastDocs(t).updateOne({ _id: 'carol@localhost' }, { $set: { at: new Date(Date.now() - 903_000), status: 'Heading Home' } }, { upsert: true });
      const q = lastQuery(await askLast(bob, 'carol@localhost'), 'carol@localhost', 'bob@localhost/pc');
      expect(Number(q.attrs.seconds)).to.be.within(903, 904);
      expect(q.getText()).to.equal('Heading Home');
      await lastDocs(t).deleteOne({ _id: 'carol@localhost' });
    });

    it('is item-not-found for an account that never logged out', async () => {
      await setSubscription(t, 'dave@localhost', 'bob@localhost', 'from');
      const r = await askLast(bob, 'dave@localhost');
      expect(r.attrs).to.include({ type: 'error', from: 'dave@localhost' });
      expect(condition(r)).to.equal('item-not-found');
    });

    it('is service-unavailable for an account that does not exist (RFC 6121 §8.5.1)', async () => {
      expect(condition(await askLast(bob, 'nobody@localhost'))).to.equal('service-unavailable');
    });

    it('records the logout when the last resource goes, with that resource\'s last unavailable status', async () => {
      await setSubscription(t, 'carol@localhost', 'bob@localhost', 'from');
      const first = await login('carol', 'one');
      const second = await login('carol', 'two');
      await logout(first, 'first one gone');
      // Another resource is connected: still online, and nothing recorded.
      expect(lastQuery(await askLast(bob, 'carol@localhost'), 'carol@localhost', 'bob@localhost/pc').attrs.seconds).to.equal('0');
      expect(await lastDocs(t).findOne({ _id: 'carol@localhost' })).to.equal(null);
      // An unavailable status followed by available presence no longer counts; the last one does.
      second.send(`<presence type='unavailable'><status>stale</status></presence>`);
      second.send('<presence/>');
      await second.nextMatching((e) => e.name === 'presence' && e.attrs.type === undefined);
      await logout(second, 'really gone');
      const q = lastQuery(await askLast(bob, 'carol@localhost'), 'carol@localhost', 'bob@localhost/pc');
      expect(q.getText()).to.equal('really gone');

      // A resource that goes without unavailable presence of its own leaves no status, even after an earlier one.
      const third = await login('carol', 'three');
      third.send(`<presence type='unavailable'><status>earlier</status></presence>`);
      third.send('<presence/>');
      await third.nextMatching((e) => e.name === 'presence' && e.attrs.type === undefined);
      await logout(third);
      const after = lastQuery(await askLast(bob, 'carol@localhost'), 'carol@localhost', 'bob@localhost/pc');
      expect(after.getText()).to.equal('');
      const doc = await lastDocs(t).findOne({ _id: 'carol@localhost' });
      expect(doc).to.not.equal(null);
      expect(doc).to.not.have.property('status');
    });

    it('picks the status in the presence\'s own language when there are several', async () => {
      await setSubscription(t, 'carol@localhost', 'bob@localhost', 'from');
      const carol = await login('carol', 'lang');
      carol.send(`<presence type='unavailable' xml:lang='de'><status xml:lang='en'>Gone home</status><status>Nach Hause</status></presence>`);
      await logout(carol);
      expect(lastQuery(await askLast(bob, 'carol@localhost'), 'carol@localhost', 'bob@localhost/pc').getText()).to.equal('Nach Hause');
    });
  });

  describe('to a full JID (§4)', () => {
    let alice: RawClient;
    before(async () => {
      alice = await login('alice', 'desk');
    });
    afterEach(async () => {
      await setSubscription(t, 'alice@localhost', 'bob@localhost', null);
    });

    it('is forbidden, from the server, for a requester without a subscription; the client never sees it', async () => {
      const r = await askLast(bob, 'alice@localhost/desk');
      expect(r.attrs).to.include({ type: 'error', from: 'alice@localhost/desk', to: 'bob@localhost/pc' });
      expect(r.getChild('error')!.attrs.type).to.equal('auth');
      expect(condition(r)).to.equal('forbidden');
      expect((await receivedBeforePing(alice)).filter((e) => e.name === 'iq')).to.deep.equal([]);
    });

    it('goes to the client for a contact with a subscription, and the client\'s answer comes back', async () => {
      await setSubscription(t, 'alice@localhost', 'bob@localhost', 'from');
      bob.send(`<iq type='get' to='alice@localhost/desk' id='full1'><query xmlns='${LAST}'/></iq>`);
      const got = await alice.nextMatching((e) => e.name === 'iq' && e.attrs.id === 'full1');
      expect(got.attrs).to.include({ type: 'get', from: 'bob@localhost/pc', to: 'alice@localhost/desk' });
      expect(got.getChild('query', LAST)).to.not.equal(undefined);
      alice.send(`<iq type='result' to='bob@localhost/pc' id='full1'><query xmlns='${LAST}' seconds='123'/></iq>`);
      const r = await bob.nextMatching((e) => e.attrs.id === 'full1');
      expect(r.attrs).to.include({ type: 'result', from: 'alice@localhost/desk' });
      expect(r.getChild('query', LAST)!.attrs.seconds).to.equal('123');
    });

    it('goes to the client when the account asks one of its own resources', async () => {
      const other = await login('alice', 'laptop');
      other.send(`<iq type='get' to='alice@localhost/desk' id='self1'><query xmlns='${LAST}'/></iq>`);
      const got = await alice.nextMatching((e) => e.name === 'iq' && e.attrs.id === 'self1');
      expect(got.attrs).to.include({ type: 'get', from: 'alice@localhost/laptop' });
      alice.send(`<iq type='error' to='alice@localhost/laptop' id='self1'><error type='cancel'><service-unavailable xmlns='${NS.stanzas}'/></error></iq>`);
      expect(condition(await other.nextMatching((e) => e.attrs.id === 'self1'))).to.equal('service-unavailable');
      await logout(other);
    });

    it('for a resource that is not online: forbidden without a subscription, service-unavailable with one', async () => {
      expect(condition(await askLast(bob, 'alice@localhost/gone'))).to.equal('forbidden');
      await setSubscription(t, 'alice@localhost', 'bob@localhost', 'both');
      // RFC 6121 §8.5.3.2.3
      expect(condition(await askLast(bob, 'alice@localhost/gone'))).to.equal('service-unavailable');
    });

    it('leaves other IQs to full JIDs alone', async () => {
      bob.send(`<iq type='get' to='alice@localhost/desk' id='v1'><query xmlns='jabber:iq:version'/></iq>`);
      const got = await alice.nextMatching((e) => e.name === 'iq' && e.attrs.id === 'v1');
      expect(got.attrs.from).to.equal('bob@localhost/pc');
    });
  });

  describe('account removal', () => {
    it('deletes the account\'s record', async () => {
      await setSubscription(t, 'erin@localhost', 'bob@localhost', 'from');
      const erin = await login('erin', 'x');
      await logout(erin, 'bye');
      expect(lastQuery(await askLast(bob, 'erin@localhost'), 'erin@localhost', 'bob@localhost/pc').getText()).to.equal('bye');
      expect(await lastDocs(t).findOne({ _id: 'erin@localhost' })).to.not.equal(null);
      expect(await t.server.accounts.remove(jid('erin', 'localhost'))).to.equal(true);
      expect(await lastDocs(t).findOne({ _id: 'erin@localhost' })).to.equal(null);
    });

    it('deletes the record that closing its online sessions writes', async () => {
      const frank = await login('frank', 'x');
      frank.send(`<presence type='unavailable'><status>removed</status></presence>`);
      await receivedBeforePing(frank);
      expect(await t.server.accounts.remove(jid('frank', 'localhost'))).to.equal(true);
      // The removal closed the session (RFC 6120 §4.9.3.12), which recorded a logout before the deletion.
      expect(await frank.streamError()).to.equal('not-authorized');
      expect(await lastDocs(t).findOne({ _id: 'frank@localhost' })).to.equal(null);
    });
  });
});

describe('last activity: limits and persistence', () => {
  it('cuts the status to maxStatusLength characters (code points)', async () => {
    const t = await startTestServer({ config: { modules: { last: { maxStatusLength: 3 } } } });
    const clients: RawClient[] = [];
    try {
      await t.addUser('alice', 'pw');
      await t.addUser('bob', 'pw');
      await setSubscription(t, 'alice@localhost', 'bob@localhost', 'from');
      const alice = await RawClient.connect(t.c2sPort);
      const bob = await RawClient.connect(t.c2sPort);
      clients.push(alice, bob);
      await alice.login('alice', 'pw', 'a');
      await bob.login('bob', 'pw', 'b');
      await logout(alice, '\u{1F600}\u{1F601}\u{1F602}\u{1F603}');
      const q = lastQuery(await askLast(bob, 'alice@localhost'), 'alice@localhost', 'bob@localhost/b');
      expect(q.getText()).to.equal('\u{1F600}\u{1F601}\u{1F602}');
    } finally {
      for (const c of clients) c.destroy();
      await t.stop();
    }
  });

  it('survives a restart, and sessions ended by the shutdown are recorded', async () => {
    const first = await startTestServer({ storage: 'disk' });
    const dataDir = first.dataDir;
    try {
      await first.addUser('alice', 'pw');
      await first.addUser('bob', 'pw');
      await first.addUser('erin', 'pw');
      const alice = await RawClient.connect(first.c2sPort);
      await alice.login('alice', 'pw', 'a');
      await logout(alice, 'see you after the restart');
      const erin = await RawClient.connect(first.c2sPort);
      await erin.login('erin', 'pw', 'e'); // still online when the server stops
      await first.stop({ keepData: true });
      erin.destroy();

      const second = await startTestServer({ storage: 'disk', dataDir });
      try {
        await setSubscription(second, 'alice@localhost', 'bob@localhost', 'from');
        await setSubscription(second, 'erin@localhost', 'bob@localhost', 'both');
        const bob = await RawClient.connect(second.c2sPort);
        try {
          await bob.login('bob', 'pw', 'b');
          const a = lastQuery(await askLast(bob, 'alice@localhost'), 'alice@localhost', 'bob@localhost/b');
          expect(a.getText()).to.equal('see you after the restart');
          const e = lastQuery(await askLast(bob, 'erin@localhost'), 'erin@localhost', 'bob@localhost/b');
          expect(e.getText()).to.equal('');
          expect(Number(e.attrs.seconds)).to.be.within(0, 5);
        } finally {
          bob.destroy();
        }
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
