// aioxmpp (Debian python3-aioxmpp) manages a roster and presence subscriptions against Chorus
// (RFC 6121 §2-4) through aioxmpp.RosterClient and PresenceClient, with an @xmpp/client user on
// WebSocket as the contact. aioxmpp parses every stanza into strict models and logs what does
// not fit, so the runs also check that Chorus's roster pushes and presence are well-formed for
// it. Driven step by step through test/interop/clients/aioxmpp_roster.py.
import { expect } from 'chai';
import { xml } from '@xmpp/client';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import type { Connected } from '../support/xmpp-client.ts';
import { debianVersion, missingPackages, pythonHas, skipIfMissing, stopAllPrograms } from './programs.ts';
import { PythonPeer } from './python-client.ts';
import { isPresence, isPush, presenceOf, pushedItem, roundTrip, take, webImUser } from './web-user.ts';

const missing = missingPackages([{ pkg: 'python3-aioxmpp', present: () => pythonHas('aioxmpp') }]);
const version = debianVersion('python3-aioxmpp');

describe(`interop: aioxmpp ${missing ? `(skipped: ${missing})` : version} roster, subscriptions and presence`, function () {
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

  async function accounts(): Promise<{ carol: string; bob: string }> {
    n++;
    await t.addUser(`carol${n}`, 'strict models');
    await t.addUser(`bob${n}`, 'builder');
    return { carol: `carol${n}@localhost`, bob: `bob${n}@localhost` };
  }

  async function bobOnWeb(bob: string, opts: { show?: string; status?: string } = {}): Promise<Connected> {
    const c = await webImUser(t, bob.split('@')[0]!, 'builder', opts);
    clients.push(c);
    return c;
  }

  function aioxmpp(carol: string, args: string[] = []): PythonPeer {
    return PythonPeer.start('aioxmpp_roster.py', ['--jid', `${carol}/aioxmpp`, '--password', 'strict models', '--port', String(t.c2sPort), ...args]);
  }

  async function stored(owner: string, contact: string) {
    return t.server.rosters.get(owner, contact);
  }

  /** Nothing Chorus sent made aioxmpp's strict parser (or anything else in it) log a warning. */
  function noWarnings(p: PythonPeer): void {
    expect(p.all('log'), p.transcript()).to.deep.equal([]);
  }

  it('approves a contact\'s request from on_subscribe and asks back: "both" on each side, then presence changes, unavailable and the probe at reconnection', async () => {
    const { carol, bob } = await accounts();
    const c = aioxmpp(carol, ['--auto-approve', '--show', 'chat', '--status', 'strictly available']);
    await c.take('online');
    expect(c.one('roster')).to.deep.include({ roster: {} });
    const b = await bobOnWeb(bob, { status: 'on the web' });

    // Bob adds Carol and asks for her presence.
    await b.xmpp.iqCaller.request(xml('iq', { type: 'set' }, xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: carol, name: 'Carol' }))));
    await b.xmpp.send(xml('presence', { to: carol, type: 'subscribe' }));
    // aioxmpp's on_subscribe: the request from Bob's bare JID, approved (RosterClient.approve) and
    // answered with a request of its own (RosterClient.subscribe).
    expect(await c.take('subscribe')).to.include({ from: bob, to: carol, type: 'subscribe' });
    const entry = await c.take('entry', (e) => e.jid === bob);
    expect(entry).to.include({ change: 'added', subscription: 'from' });
    expect(await take(b, isPresence('subscribed', carol))).to.be.an('object');
    // Her presence follows the approval (§3.1.5), as she set it: show 'chat' and her status.
    const hers = await take(b, isPresence('available', `${carol}/aioxmpp`));
    expect(hers.getChildText('show')).to.equal('chat');
    expect(hers.getChildText('status')).to.equal('strictly available');
    expect(await take(b, isPresence('subscribe', carol))).to.be.an('object');
    expect(await c.take('entry', (e) => e.jid === bob && e.ask === 'subscribe')).to.include({ subscription: 'from' });

    // Bob approves; aioxmpp sees on_subscribed, the entry become 'both' and Bob come online.
    await b.xmpp.send(xml('presence', { to: carol, type: 'subscribed' }));
    expect(await c.take('subscribed')).to.include({ from: bob });
    expect(await c.take('entry', (e) => e.jid === bob && e.subscription === 'both')).to.include({ ask: null, approved: false });
    expect(await c.take('available')).to.include({ from: `${bob}/web`, status: 'on the web', show: null });

    expect(await stored(carol, bob)).to.deep.equal({ jid: bob, groups: [], subscription: 'both' });
    expect(await stored(bob, carol)).to.deep.equal({ jid: carol, name: 'Carol', groups: [], subscription: 'both' });
    const view = (await c.command('roster')).roster as Record<string, Record<string, unknown>>;
    expect(view[bob]).to.deep.include({ subscription: 'both', ask: null });
    expect(Object.keys(view[bob]!.resources as object)).to.deep.equal(['web']);

    // §4.4: Bob's new presence, through PresenceClient.on_changed.
    await b.xmpp.send(presenceOf('xa', 'Gone fishing'));
    expect(await c.take('changed', (e) => e.show === 'xa')).to.include({ from: `${bob}/web`, status: 'Gone fishing' });

    // Carol goes unavailable: PresenceManagedClient stops the client, and the unavailable presence
    // it queues is not written before its stream closes (its debug log shows no such stanza), so
    // Bob's copy is the one the server sends for an ended session (§4.5.3.1).
    await c.command('disconnect');
    const gone = await take(b, isPresence('unavailable', `${carol}/aioxmpp`));
    expect(gone.attrs.to).to.equal(bob);

    // She comes back: the server probes Bob for her (§4.2.2) and hands her his current presence.
    await b.xmpp.send(presenceOf('dnd', 'In a meeting'));
    await take(b, (e) => isPresence('available', `${bob}/web`)(e) && e.getChildText('show') === 'dnd');
    await c.command('connect', { status: 'back' });
    // The roster again, with versioning (§2.6): aioxmpp sent no 'ver' the first time, so got none
    // back; now it holds the version of the last push and gets the unchanged roster as an empty result.
    expect(c.all('roster').map((e) => e.ver)).to.deep.equal([null, '3']);
    expect((c.all('roster')[1]!.roster as Record<string, unknown>)[bob]).to.deep.include({ subscription: 'both', ask: null });
    // aioxmpp kept Bob's resource across the reconnection, so the probe's answer is a change.
    const probed = await c.take('changed', (e) => e.show === 'dnd');
    expect(probed).to.include({ from: `${bob}/web`, status: 'In a meeting' });
    const back = await take(b, (e) => isPresence('available', `${carol}/aioxmpp`)(e) && e.getChildText('status') === 'back');
    expect(back.attrs.to).to.equal(bob);

    const r = await c.finish();
    expect(r.code, c.transcript()).to.equal(0);
    expect(c.one('closed')).to.be.an('object');
    await take(b, isPresence('unavailable', `${carol}/aioxmpp`));
    await roundTrip(b);
    expect(b.inbox.filter(isPresence('unavailable', `${carol}/aioxmpp`))).to.have.length(2);
    noWarnings(c);
  });

  it('gets a request sent while it was offline at login, approves it, then names the contact and subscribes back', async () => {
    const { carol, bob } = await accounts();
    const b = await bobOnWeb(bob);
    await b.xmpp.send(xml('presence', { to: carol, type: 'subscribe' }, xml('status', {}, 'Carol, it is Bob')));
    expect(pushedItem(await take(b, isPush(carol)))).to.deep.equal({ jid: carol, subscription: 'none', ask: 'subscribe' });

    const c = aioxmpp(carol);
    await c.take('online');
    expect(c.one('roster')).to.deep.include({ roster: {} });
    expect(await c.take('subscribe')).to.include({ from: bob, to: carol, status: 'Carol, it is Bob' });

    await c.command('approve', { jid: bob });
    expect(await take(b, isPresence('subscribed', carol))).to.be.an('object');
    expect(pushedItem(await take(b, isPush(carol)))).to.deep.equal({ jid: carol, subscription: 'to' });
    await take(b, isPresence('available', `${carol}/aioxmpp`));
    expect(await c.take('entry', (e) => e.jid === bob)).to.include({ change: 'added', subscription: 'from', name: null });

    // RosterClient.set_entry on the item the approval created keeps its subscription (§2.1.2.5).
    await c.command('add', { jid: bob, name: 'Bob', groups: ['Work'] });
    await c.command('subscribe', { jid: bob });
    expect(await take(b, isPresence('subscribe', carol))).to.be.an('object');
    await b.xmpp.send(xml('presence', { to: carol, type: 'subscribed' }));
    expect(await c.take('entry', (e) => e.jid === bob && e.subscription === 'both')).to.include({ name: 'Bob', ask: null });
    expect(await c.take('available')).to.include({ from: `${bob}/web` });
    expect(await stored(carol, bob)).to.deep.equal({ jid: bob, name: 'Bob', groups: ['Work'], subscription: 'both' });
    expect(await stored(bob, carol)).to.deep.equal({ jid: carol, groups: [], subscription: 'both' });
    // Answered, so not delivered again.
    expect(c.all('subscribe')).to.have.length(1);

    const r = await c.finish();
    expect(r.code, c.transcript()).to.equal(0);
    noWarnings(c);
  });
});
