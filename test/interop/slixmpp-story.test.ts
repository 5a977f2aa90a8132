// The whole IM story with two different clients: Alice on slixmpp (python3-slixmpp, STARTTLS,
// driven step by step through test/interop/clients/slixmpp_story.py) and Bob on @xmpp/client over
// WebSocket. They become contacts (RFC 6121), Alice gets messages sent while she was offline
// (XEP-0160, XEP-0203), both publish vCards and Alice an avatar (XEP-0054, XEP-0153), and Alice
// blocks and unblocks Bob (XEP-0191). Every step is checked on both sides.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { xml } from '@xmpp/client';
import type { Element } from 'ltx';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import type { Connected } from '../support/xmpp-client.ts';
import { debianVersion, missingPackages, pythonHas, skipIfMissing, stopAllPrograms, type ClientEvent } from './programs.ts';
import { PythonPeer } from './python-client.ts';
import { isPresence, isPush, pushedItem, roundTrip, take, webImUser } from './web-user.ts';

const missing = missingPackages([{ pkg: 'python3-slixmpp', present: () => pythonHas('slixmpp') }]);
const version = debianVersion('python3-slixmpp');

const NS_VCARD = 'vcard-temp';
const NS_UPDATE = 'vcard-temp:x:update';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
// A 1×1 PNG: Alice's avatar.
const PHOTO_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const PHOTO = Buffer.from(PHOTO_BASE64, 'base64');
const PHOTO_SHA1 = createHash('sha1').update(PHOTO).digest('hex');

/** The XEP-0153 <photo/> hashes of a presence (one per <x/>; the server sends exactly one). */
function photoHashes(p: Element): string[] {
  return p.getChildren('x', NS_UPDATE).map((x) => x.getChildText('photo') ?? '<no photo element>');
}

/** The defined condition of an error stanza (RFC 6120 §8.3.3). */
function errorOf(e: Element): { type: string; condition: string | undefined } {
  const error = e.getChild('error')!;
  return { type: error.attrs.type as string, condition: error.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS)?.name };
}

/** Matches only stanzas `user` received after its inbox held `mark` of them. */
const since =
  (user: Connected, mark: number, match: (e: Element) => boolean) =>
  (e: Element): boolean =>
    user.inbox.indexOf(e) >= mark && match(e);

const itemOf = (jid: string) => (e: ClientEvent) => (e.items as Record<string, { subscription: string }>)[jid];

describe(`interop: slixmpp ${missing ? `(skipped: ${missing})` : version} and @xmpp/client: contacts, offline messages, vCards and avatars, blocking`, function () {
  this.timeout(120_000);
  let t: TestServer;
  const clients: Connected[] = [];

  before(async function () {
    skipIfMissing(this, missing);
    t = await startTestServer();
  });

  afterEach(async () => {
    await stopAllPrograms();
    await Promise.all(clients.splice(0).map((c) => c.stop()));
  });

  after(async () => {
    await t?.stop();
  });

  /** Poll the server's offline store (XEP-0160) until Alice has `n` messages kept. */
  async function offlineCount(owner: string, n: number): Promise<void> {
    const docs = t.server.store.collection<{ _id: string; owner: string }>('offline');
    for (let i = 0; i < 100; i++) {
      if ((await docs.countDocuments({ owner })) === n) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await docs.countDocuments({ owner }), `offline messages kept for ${owner}`).to.equal(n);
  }

  it('Alice (slixmpp) and Bob (WebSocket) become contacts, she gets his messages sent while she was offline, they exchange vCards and her avatar, she blocks him and unblocks him', async () => {
    await t.addUser('alice', 'wonderland');
    await t.addUser('bob', 'builder');
    const alice = 'alice@localhost';
    const bob = 'bob@localhost';
    const b = await webImUser(t, 'bob', 'builder', { status: 'at the desk' });
    clients.push(b);
    const a = PythonPeer.start(
      'slixmpp_story.py',
      ['--jid', `${alice}/slixmpp`, '--password', 'wonderland', '--port', String(t.c2sPort), '--auto-authorize', 'yes', '--auto-subscribe', 'no'],
      100,
    );
    await a.take('online');

    // ---- 1. Contacts (RFC 6121 §3.1): she adds and asks him, he approves and asks back, her
    // auto_authorize approves. 'both' on each side.
    expect(await a.command('add', { jid: bob, name: 'Bob', groups: ['Friends'] })).to.include({ type: 'result' });
    await a.command('subscribe', { jid: bob });
    expect((await take(b, isPresence('subscribe', alice))).attrs.to).to.equal(bob);
    await b.xmpp.send(xml('presence', { to: alice, type: 'subscribed' }));
    expect(pushedItem(await take(b, isPush(alice)))).to.deep.equal({ jid: alice, subscription: 'from' });
    expect(await a.take('subscription-authorized')).to.include({ from: bob });
    await a.take('roster-push', (e) => itemOf(bob)(e)?.subscription === 'to');
    expect(await a.take('got-online')).to.include({ from: `${bob}/web`, status: 'at the desk' });
    await b.xmpp.send(xml('presence', { to: alice, type: 'subscribe' }));
    expect(await a.take('subscription-request')).to.include({ from: bob });
    await take(b, isPresence('subscribed', alice));
    expect(pushedItem(await take(b, isPush(alice)))).to.deep.include({ subscription: 'from', ask: 'subscribe' });
    expect(pushedItem(await take(b, isPush(alice)))).to.deep.equal({ jid: alice, subscription: 'both' });
    await take(b, isPresence('available', `${alice}/slixmpp`));
    await a.take('roster-push', (e) => itemOf(bob)(e)?.subscription === 'both');
    expect(await t.server.rosters.get(alice, bob)).to.deep.include({ subscription: 'both' });
    expect(await t.server.rosters.get(bob, alice)).to.deep.include({ subscription: 'both' });
    const view = (await a.command('roster')).roster as Record<string, Record<string, unknown>>;
    expect(view[bob]).to.deep.include({ subscription: 'both', pending_out: false, pending_in: false });

    // ---- 2. Offline messages (XEP-0160): she goes offline, he sends two; at her next login she
    // gets both, in order, stamped with XEP-0203 <delay/> (read by slixmpp's xep_0203).
    expect(await a.command('disconnect')).to.include({ server_closed_stream: true });
    await take(b, isPresence('unavailable', `${alice}/slixmpp`));
    const before = new Date();
    await b.xmpp.send(xml('message', { to: alice, type: 'chat', id: 'off-1' }, xml('body', {}, 'Are you there?')));
    await b.xmpp.send(xml('message', { to: alice, type: 'chat', id: 'off-2' }, xml('body', {}, 'Call me when you are back.')));
    await offlineCount(alice, 2);
    const after = new Date();
    await roundTrip(b);
    expect(b.inbox.filter((e) => e.name === 'message' && e.attrs.type === 'error'), 'no bounce: the messages were kept').to.deep.equal([]);

    const relogin = b.inbox.length;
    await a.command('connect');
    const first = await a.take('message');
    const second = await a.take('message');
    expect([first, second].map((m) => [m.id, m.body, m.from, m.type])).to.deep.equal([
      ['off-1', 'Are you there?', `${bob}/web`, 'chat'],
      ['off-2', 'Call me when you are back.', `${bob}/web`, 'chat'],
    ]);
    const stamps = [first, second].map((m) => {
      const delay = m.delay as { from: string; stamp: string; text: string } | null;
      expect(delay, a.transcript()).to.deep.include({ from: 'localhost', text: 'Offline Storage' });
      return new Date(delay!.stamp).getTime();
    });
    // Stamped when stored (XEP-0203 §3: UTC, at the time of the delay); second-precision bounds.
    for (const s of stamps) expect(s).to.be.within(Math.floor(before.getTime() / 1000) * 1000, after.getTime());
    expect(stamps[0]).to.be.at.most(stamps[1]!);
    await offlineCount(alice, 0);
    await take(b, since(b, relogin, isPresence('available', `${alice}/slixmpp`)));

    // ---- 3. Her vCard (XEP-0054 via slixmpp's xep_0054) and avatar (XEP-0153 via xep_0153's
    // set_avatar: it fetches her vCard, adds PHOTO and publishes it again). Bob fetches it, and
    // his copy of her presence carries the SHA-1 of the photo.
    await a.command('publish-vcard', { fn: 'Alice Liddell', nickname: 'alice', email: 'alice@example.org' });
    const avatar = b.inbox.length;
    await a.command('set-avatar', { data: PHOTO_BASE64, type: 'image/png' });
    const stamped = await take(b, (e) => since(b, avatar, isPresence('available', `${alice}/slixmpp`))(e) && photoHashes(e).includes(PHOTO_SHA1));
    expect(photoHashes(stamped)).to.deep.equal([PHOTO_SHA1]);
    // slixmpp's xep_0153 computed the same hash for its own presence, and reads it in the copy of
    // her presence the server sends back to her (vcard_avatar_update).
    expect(await a.command('own-hash')).to.include({ hash: PHOTO_SHA1 });
    expect(await a.take('avatar-update', (e) => e.photo === PHOTO_SHA1)).to.include({ from: `${alice}/slixmpp` });
    // Bob gets her presence once from the server (re-sent because the vCard set changed the hash)
    // and again each time set_avatar resends her last presence (slixmpp sends it twice); every
    // copy carries one <x/> with the new hash.
    await a.command('ping');
    await roundTrip(b);
    const withAvatar = b.inbox.slice(avatar).filter(isPresence('available', `${alice}/slixmpp`));
    expect(withAvatar.filter((p) => p.attrs.id === undefined), 'the server\'s own copy').to.have.length(1);
    expect(withAvatar.map(photoHashes)).to.deep.equal(withAvatar.map(() => [PHOTO_SHA1]));

    const hers = await b.xmpp.iqCaller.request(xml('iq', { type: 'get', to: alice }, xml('vCard', { xmlns: NS_VCARD })));
    expect(hers.attrs.from).to.equal(alice);
    const card = hers.getChild('vCard', NS_VCARD)!;
    expect(card.getChildText('FN')).to.equal('Alice Liddell');
    expect(card.getChildText('NICKNAME')).to.equal('alice');
    expect(card.getChild('EMAIL')!.getChildText('USERID')).to.equal('alice@example.org');
    expect(card.getChild('EMAIL')!.getChild('INTERNET')).to.not.equal(undefined);
    const photo = card.getChild('PHOTO')!;
    expect(photo.getChildText('TYPE')).to.equal('image/png');
    expect(Buffer.from(photo.getChildText('BINVAL')!.replace(/\s+/g, ''), 'base64').equals(PHOTO)).to.equal(true);

    // ---- 4. His vCard, set from @xmpp/client; she fetches it with xep_0054's get_vcard.
    const set = await b.xmpp.iqCaller.request(
      xml(
        'iq',
        { type: 'set' },
        xml(
          'vCard',
          { xmlns: NS_VCARD },
          xml('FN', {}, 'Bob the Builder'),
          xml('NICKNAME', {}, 'bob'),
          xml('EMAIL', {}, xml('INTERNET'), xml('USERID', {}, 'bob@example.org')),
          xml('ORG', {}, xml('ORGNAME', {}, 'Builders Ltd')),
          xml('TEL', {}, xml('VOICE'), xml('NUMBER', {}, '+44 20 7946 0000')),
        ),
      ),
    );
    expect(set.attrs.type).to.equal('result');
    const his = await a.command('get-vcard', { jid: bob });
    expect(his.from).to.equal(bob);
    expect(his.vcard).to.deep.equal({
      fn: 'Bob the Builder',
      nicknames: ['bob'],
      emails: ['bob@example.org'],
      orgs: ['Builders Ltd'],
      tels: ['+44 20 7946 0000'],
      photos: [],
    });

    // ---- 5. Blocking (XEP-0191) with slixmpp's xep_0191.
    expect(await a.command('get-blocked')).to.deep.include({ items: [] }); // §3.2; she now gets pushes
    expect(await a.command('block', { jid: bob })).to.include({ type: 'result' });
    expect(await a.take('blocked')).to.deep.include({ items: [bob] });
    expect(await a.command('get-blocked')).to.deep.include({ items: [bob] });
    // §3.3: he had her presence, so he is sent unavailable presence; she is sent his (XEP-0016 §2.10).
    const cut = await take(b, isPresence('unavailable', `${alice}/slixmpp`));
    expect(cut.attrs.to).to.equal(bob);
    expect(await a.take('got-offline')).to.include({ from: `${bob}/web` });

    // §3.3: his message is not delivered; he gets service-unavailable from the address he used.
    await b.xmpp.send(xml('message', { to: alice, type: 'chat', id: 'blocked-in' }, xml('body', {}, 'Hello?')));
    const bounce = await take(b, (e) => e.name === 'message' && e.attrs.id === 'blocked-in');
    expect(bounce.attrs).to.include({ type: 'error', from: alice });
    expect(errorOf(bounce).condition).to.equal('service-unavailable');

    // Her presence changes no longer reach him.
    await a.command('presence', { show: 'away', status: 'busy' });
    await a.command('ping'); // the server has handled her presence
    await roundTrip(b); // and whatever it sent him has arrived
    const cutAt = b.inbox.indexOf(cut);
    expect(b.inbox.slice(cutAt + 1).filter((e) => e.name === 'presence' && e.attrs.from?.startsWith(alice))).to.deep.equal([]);

    // §3.3: her message to him comes back as not-acceptable with <blocked/>, and is not delivered.
    const out = await a.command('message', { to: bob, body: 'You will not see this.' });
    const refused = await a.take('message-error', (e) => e.id === out.id);
    expect(refused).to.include({ from: bob, condition: 'not-acceptable', error_type: 'cancel', blocked: true });
    await roundTrip(b);
    expect(b.inbox.filter((e) => e.name === 'message' && e.attrs.type !== 'error')).to.have.length(0);
    expect(a.all('message').filter((m) => m.body === 'Hello?')).to.deep.equal([]);

    // §3.4: unblocked, he gets her current presence (with her avatar hash) and she gets his again
    // (the server probes him for her).
    const unblocked = b.inbox.length;
    expect(await a.command('unblock', { jid: bob })).to.include({ type: 'result' });
    expect(await a.take('unblocked')).to.deep.include({ items: [bob] });
    expect(await a.command('get-blocked')).to.deep.include({ items: [] });
    const back = await take(b, since(b, unblocked, isPresence('available', `${alice}/slixmpp`)));
    expect([back.getChildText('show'), back.getChildText('status')]).to.deep.equal(['away', 'busy']);
    expect(photoHashes(back)).to.deep.equal([PHOTO_SHA1]);
    expect(await a.take('got-online')).to.include({ from: `${bob}/web`, status: 'at the desk' });

    // Messages flow again, both ways, delivered live (no <delay/>).
    const hello = await a.command('message', { to: bob, body: 'Sorry, I am back.' });
    const got = await take(b, (e) => e.name === 'message' && e.attrs.id === hello.id);
    expect([got.attrs.type, got.attrs.from, got.getChildText('body')]).to.deep.equal(['chat', `${alice}/slixmpp`, 'Sorry, I am back.']);
    await b.xmpp.send(xml('message', { to: alice, type: 'chat', id: 'welcome' }, xml('body', {}, 'Welcome back.')));
    expect(await a.take('message', (m) => m.id === 'welcome')).to.deep.include({ from: `${bob}/web`, body: 'Welcome back.', delay: null });
    expect(a.all('message-error')).to.have.length(1);

    const r = await a.finish();
    expect(r.code, a.transcript()).to.equal(0);
    await take(b, isPresence('unavailable', `${alice}/slixmpp`));
  });
});
