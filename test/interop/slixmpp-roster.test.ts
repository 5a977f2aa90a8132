// slixmpp (Debian python3-slixmpp) manages a roster and presence subscriptions against Chorus
// (RFC 6121 §2-4) through its own roster API, with an @xmpp/client user on WebSocket as the
// contact. Driven step by step through test/interop/clients/slixmpp_roster.py.
import { expect } from 'chai';
import { xml } from '@xmpp/client';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import type { Connected } from '../support/xmpp-client.ts';
import { debianVersion, missingPackages, pythonHas, skipIfMissing, stopAllPrograms } from './programs.ts';
import { PythonPeer } from './python-client.ts';
import { isPresence, isPush, presenceOf, pushedItem, roundTrip, take, webImUser } from './web-user.ts';

const missing = missingPackages([{ pkg: 'python3-slixmpp', present: () => pythonHas('slixmpp') }]);
const version = debianVersion('python3-slixmpp');

describe(`interop: slixmpp ${missing ? `(skipped: ${missing})` : version} roster, subscriptions and presence`, function () {
  this.timeout(60_000);
  let t: TestServer;
  const clients: Connected[] = [];
  let n = 0;

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

  /** Fresh accounts per test: no test sees another's roster. */
  async function accounts(): Promise<{ alice: string; bob: string }> {
    n++;
    await t.addUser(`alice${n}`, 'wonderland');
    await t.addUser(`bob${n}`, 'builder');
    return { alice: `alice${n}@localhost`, bob: `bob${n}@localhost` };
  }

  async function bobOnWeb(bob: string, opts: { show?: string; status?: string } = {}): Promise<Connected> {
    const c = await webImUser(t, bob.split('@')[0]!, 'builder', opts);
    clients.push(c);
    return c;
  }

  function slixmpp(alice: string, args: string[] = []): PythonPeer {
    return PythonPeer.start('slixmpp_roster.py', ['--jid', `${alice}/slixmpp`, '--password', 'wonderland', '--port', String(t.c2sPort), ...args]);
  }

  /** The item as the server stores it (what any client of the account gets from a roster get). */
  async function stored(owner: string, contact: string) {
    return t.server.rosters.get(owner, contact);
  }

  it('adds a contact, subscribes, auto-approves the request back: "both" on each side, then presence changes, unavailable and the probe at reconnection', async () => {
    const { alice, bob } = await accounts();
    const b = await bobOnWeb(bob, { status: 'at the desk' });
    const a = slixmpp(alice, ['--auto-authorize', 'yes', '--auto-subscribe', 'yes']);
    await a.take('online');
    // slixmpp asks with ver='' (RFC 6121 §2.6.2) and gets the (empty) roster and its version.
    expect(a.all('roster')[0], a.transcript()).to.deep.include({ ver: '0', items_in_result: 0, roster: {} });

    // RFC 6121 §2.3: slixmpp's update_roster is a roster set; the server pushes the new item.
    expect(await a.command('add', { jid: bob, name: 'Bob', groups: ['Friends'] })).to.include({ type: 'result' });
    const added = await a.take('roster-push', (e) => (e.items as Record<string, unknown>)[bob] !== undefined);
    expect((added.items as Record<string, unknown>)[bob]).to.deep.equal({ subscription: 'none', ask: null, name: 'Bob', groups: ['Friends'] });

    // §3.1.2: RosterItem.subscribe(); the item is pushed with ask='subscribe' and Bob gets the
    // request from Alice's bare JID.
    await a.command('subscribe', { jid: bob });
    const asking = await a.take('roster-push', (e) => (e.items as Record<string, { ask: string | null }>)[bob]?.ask === 'subscribe');
    expect((asking.items as Record<string, unknown>)[bob]).to.deep.include({ subscription: 'none', ask: 'subscribe' });
    const request = await take(b, isPresence('subscribe', alice));
    expect(request.attrs.to).to.equal(bob);

    // §3.1.5: Bob approves; slixmpp reports the approval, the 'to' push, and Bob's presence (with his status).
    await b.xmpp.send(xml('presence', { to: alice, type: 'subscribed' }));
    expect(pushedItem(await take(b, isPush(alice)))).to.deep.equal({ jid: alice, subscription: 'from' });
    expect(await a.take('subscription-authorized')).to.include({ from: bob });
    const to = await a.take('roster-push', (e) => (e.items as Record<string, { subscription: string }>)[bob]?.subscription === 'to');
    expect((to.items as Record<string, unknown>)[bob]).to.deep.include({ ask: null, name: 'Bob', groups: ['Friends'] });
    expect(await a.take('got-online')).to.include({ from: `${bob}/web`, status: 'at the desk', show: null });

    // Bob asks back; slixmpp's auto_authorize approves (RosterItem.authorize()) and, with
    // auto_subscribe, asks again for a subscription it already has, which the server answers
    // for Bob (§3.1.3) without bothering him.
    await b.xmpp.send(xml('presence', { to: alice, type: 'subscribe' }, xml('status', {}, 'and you?')));
    expect(await a.take('subscription-request')).to.include({ from: bob, status: 'and you?' });
    expect(await take(b, isPresence('subscribed', alice))).to.be.an('object');
    expect(pushedItem(await take(b, isPush(alice)))).to.deep.include({ subscription: 'from', ask: 'subscribe' });
    expect(pushedItem(await take(b, isPush(alice)))).to.deep.equal({ jid: alice, subscription: 'both' });
    await take(b, isPresence('available', `${alice}/slixmpp`));
    const both = await a.take('roster-push', (e) => (e.items as Record<string, { subscription: string }>)[bob]?.subscription === 'both');
    expect((both.items as Record<string, unknown>)[bob]).to.deep.equal({ subscription: 'both', ask: null, name: 'Bob', groups: ['Friends'] });

    // Both ends: 'both' in the server's roster, no request pending, and in slixmpp's own roster.
    expect(await stored(alice, bob)).to.deep.equal({ jid: bob, name: 'Bob', groups: ['Friends'], subscription: 'both' });
    expect(await stored(bob, alice)).to.deep.equal({ jid: alice, groups: [], subscription: 'both' });
    const view = (await a.command('roster')).roster as Record<string, Record<string, unknown>>;
    expect(view[bob]).to.deep.include({ subscription: 'both', pending_out: false, name: 'Bob', groups: ['Friends'] });
    expect(view[bob]!.resources).to.deep.equal({ web: { show: null, status: 'at the desk' } });
    // What slixmpp sent: its request, then authorize()'s approval and auto_subscribe's second
    // request for a subscription it already had; the server answered that one for Bob, and
    // dropped the answer as Alice was already subscribed (§3.1.6): no second approval reached
    // her, no second request reached Bob.
    expect(a.all('sent').map((e) => `${e.type as string} ${e.to as string}`)).to.deep.equal([`subscribe ${bob}`, `subscribed ${bob}`, `subscribe ${bob}`]);
    expect(a.all('subscription-authorized')).to.have.length(1);
    expect(b.inbox.filter(isPresence('subscribe', alice))).to.have.length(1);

    // §4.4: Bob's new presence reaches slixmpp's presence tracking.
    await b.xmpp.send(presenceOf('away', 'Building a shed'));
    expect(await a.take('changed-status', (e) => e.show === 'away')).to.include({ from: `${bob}/web`, status: 'Building a shed', type: 'available' });

    // §4.5.3.1: slixmpp closes its stream without unavailable presence; the server sends it for her.
    expect(await a.command('disconnect')).to.include({ server_closed_stream: true });
    const gone = await take(b, isPresence('unavailable', `${alice}/slixmpp`));
    expect(gone.attrs.to).to.equal(bob);

    // While she is away Bob changes again; at her next initial presence the server probes Bob
    // (§4.2.2) and answers with his current presence (§4.3.2).
    await b.xmpp.send(presenceOf('dnd', 'Do not disturb'));
    await a.command('connect');
    // §2.6.3: she asks with the version of the last push, which is current: an empty result, and
    // slixmpp keeps the items it has.
    const again = a.all('roster')[1]!;
    expect(again).to.include({ ver: '4', items_in_result: 0 });
    expect(again.roster, a.transcript()).to.deep.include({ [bob]: { subscription: 'both', pending_out: false, pending_in: false, name: 'Bob', groups: ['Friends'], resources: {} } });
    expect(await a.take('got-online', (e) => e.show === 'dnd')).to.include({ from: `${bob}/web`, status: 'Do not disturb' });
    await take(b, isPresence('available', `${alice}/slixmpp`));

    const r = await a.finish();
    expect(r.code, a.transcript()).to.equal(0);
    expect(a.all('closed')).to.deep.equal([{ event: 'closed', server_closed_stream: true }]);
    await take(b, isPresence('unavailable', `${alice}/slixmpp`));
    // One unavailable per session, though authorize() had also sent Bob directed presence (§4.6.3:
    // he is a subscriber, so the broadcast covers him).
    await roundTrip(b);
    expect(b.inbox.filter(isPresence('unavailable', `${alice}/slixmpp`))).to.have.length(2);
  });

  it('receives a subscription request sent while it was offline at its next login, and approves it with RosterItem.authorize()', async () => {
    const { alice, bob } = await accounts();
    const b = await bobOnWeb(bob);
    // §3.1.3: Alice has no available resource; the server keeps the request for her.
    await b.xmpp.send(xml('presence', { to: alice, type: 'subscribe', id: 'offline-sub' }, xml('status', {}, 'Let me see you')));
    expect(pushedItem(await take(b, isPush(alice)))).to.deep.equal({ jid: alice, subscription: 'none', ask: 'subscribe' });
    // A mere request creates no roster item for her.
    expect(await stored(alice, bob)).to.equal(null);

    const a = slixmpp(alice, ['--auto-authorize', 'manual']);
    await a.take('online');
    expect(a.all('roster')[0]).to.deep.include({ roster: {} });
    // Delivered at her initial presence, as it was sent: from Bob's bare JID, with his status.
    expect(await a.take('subscription-request')).to.deep.equal({ event: 'subscription-request', from: bob, status: 'Let me see you' });
    expect(await a.take('presence', (e) => e.type === 'subscribe')).to.include({ from: bob, to: alice });

    await a.command('authorize', { jid: bob });
    expect(await take(b, isPresence('subscribed', alice))).to.be.an('object');
    expect(pushedItem(await take(b, isPush(alice)))).to.deep.equal({ jid: alice, subscription: 'to' });
    await take(b, isPresence('available', `${alice}/slixmpp`));
    const from = await a.take('roster-push', (e) => (e.items as Record<string, unknown>)[bob] !== undefined);
    expect((from.items as Record<string, unknown>)[bob]).to.deep.include({ subscription: 'from', ask: null });
    expect(await stored(alice, bob)).to.deep.equal({ jid: bob, groups: [], subscription: 'from' });
    expect(await stored(bob, alice)).to.deep.equal({ jid: alice, groups: [], subscription: 'to' });
    // No second delivery of the answered request; authorize() sent one approval.
    expect(a.all('subscription-request')).to.have.length(1);
    expect(a.all('sent').map((e) => `${e.type as string} ${e.to as string}`)).to.deep.equal([`subscribed ${bob}`]);

    // With 'from' only, she sends presence to Bob but gets none of his: he is no contact of hers yet.
    await b.xmpp.send(presenceOf('chat', 'Thanks!'));
    await take(b, (e) => isPresence('available', `${bob}/web`)(e) && e.getChildText('show') === 'chat'); // processed
    await a.command('ping'); // a round trip: anything the server sent Alice before has arrived
    expect(a.all('got-online').concat(a.all('changed-status'))).to.deep.equal([]);
    await a.command('presence', { show: 'away', status: 'brb' });
    const away = await take(b, (e) => isPresence('available', `${alice}/slixmpp`)(e) && e.getChildText('show') === 'away');
    expect(away.getChildText('status')).to.equal('brb');

    const r = await a.finish();
    expect(r.code, a.transcript()).to.equal(0);
    await take(b, isPresence('unavailable', `${alice}/slixmpp`));
  });

  it('denies a request with auto_authorize off: Bob is told "unsubscribed" and his pending request ends', async () => {
    const { alice, bob } = await accounts();
    const b = await bobOnWeb(bob);
    const a = slixmpp(alice, ['--auto-authorize', 'no']);
    await a.take('online');

    await b.xmpp.send(xml('presence', { to: alice, type: 'subscribe' }));
    expect(pushedItem(await take(b, isPush(alice)))).to.deep.include({ ask: 'subscribe' });
    expect(await a.take('subscription-request')).to.include({ from: bob });
    // §3.2: slixmpp's unauthorize() answers 'unsubscribed'; Bob's pending request is cancelled.
    expect(await take(b, isPresence('unsubscribed', alice))).to.be.an('object');
    expect(a.all('sent').map((e) => `${e.type as string} ${e.to as string}`)).to.deep.equal([`unsubscribed ${bob}`]);
    expect(pushedItem(await take(b, isPush(alice)))).to.deep.equal({ jid: alice, subscription: 'none' });
    expect(await stored(bob, alice)).to.deep.equal({ jid: alice, groups: [], subscription: 'none' });
    expect(await stored(alice, bob)).to.equal(null);

    const r = await a.finish();
    expect(r.code, a.transcript()).to.equal(0);
  });
});
