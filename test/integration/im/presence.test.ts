// RFC 6121 §4 presence between local users with several resources: broadcast to subscribers,
// probes at login, answers to probes, directed presence and its clean-up, unavailable presence
// when a session ends cleanly or by a TCP reset, priorities, and presence errors.
import { expect } from 'chai';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import type { RawClient } from '../../support/raw-client.ts';
import { imLogin, presence, isPresence, errorCondition, type ImOptions } from '../../support/im-client.ts';

describe('presence (RFC 6121 §4)', function () {
  let t: TestServer;
  const open: RawClient[] = [];
  let n = 0;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.stop());
  afterEach(() => {
    for (const c of open.splice(0)) c.destroy();
  });

  const bare = (u: string) => `${u}@localhost`;
  async function online(user: string, resource = 'r', opts: ImOptions = {}): Promise<RawClient> {
    const c = await imLogin(t.c2sPort, user, resource, opts);
    open.push(c);
    return c;
  }
  /** Fresh accounts; `subscriptions` are [subscriber, contact] pairs made effective in the store. */
  async function users(count: number, subscriptions: [number, number][] = []): Promise<string[]> {
    n++;
    const names = Array.from({ length: count }, (_, i) => `p${n}u${i}`);
    for (const u of names) await t.addUser(u, 'pw');
    for (const [subscriber, contact] of subscriptions) await subscribe(names[subscriber]!, names[contact]!);
    return names;
  }
  /** `a` subscribed to `b`'s presence, set in both rosters as the §3.1 handshake would leave them. */
  async function subscribe(a: string, b: string): Promise<void> {
    const r = t.server.rosters;
    const merge = async (owner: string, contact: string, add: 'to' | 'from') => {
      const cur = (await r.get(bare(owner), bare(contact)))?.subscription ?? 'none';
      const next = cur === 'none' ? add : cur === add ? add : 'both';
      await r.put(bare(owner), { jid: bare(contact), groups: [], subscription: next });
    };
    await merge(a, b, 'to');
    await merge(b, a, 'from');
  }

  it('initial presence goes to subscribers and own resources only, and probes bring back the contacts\' presence (§4.2)', async () => {
    // u1 is subscribed to u0 (u0 broadcasts to u1); u0 is subscribed to u2 (u0 probes u2); u3 has nothing.
    const [u0, u1, u2, u3] = await users(4, [[1, 0], [0, 2]]);
    const c1 = await online(u1!);
    const c2 = await online(u2!, 'desk', { status: 'at my desk', priority: 5 });
    const c3 = await online(u3!);
    const other = await online(u0!, 'phone');
    const c0 = await online(u0!, 'laptop', { status: 'hello' });
    // The subscriber sees it with the payload.
    expect((await presence(c1, 'available', `${bare(u0!)}/laptop`)).getChildText('status')).to.equal('hello');
    // The account's other resource sees it (§4.2.2).
    await presence(other, 'available', `${bare(u0!)}/laptop`);
    // The probe to u2 was answered with u2's last presence, full JID and payload (§4.3.2).
    const answer = await presence(c0, 'available', `${bare(u2!)}/desk`);
    expect(answer.getChildText('status')).to.equal('at my desk');
    expect(answer.getChildText('priority')).to.equal('5');
    // The new resource is told about the account's other available resource.
    await presence(c0, 'available', `${bare(u0!)}/phone`);
    // Not a subscriber: nothing.
    await c2.none(isPresence('available', `${bare(u0!)}/laptop`));
    await c3.none(isPresence('available', `${bare(u0!)}/laptop`));
  });

  it('a probe for a contact with no available resource is answered with unavailable (§4.3.2)', async () => {
    const [u0, u1] = await users(2, [[0, 1]]);
    const c0 = await online(u0!);
    const p = await presence(c0, 'unavailable', bare(u1!));
    expect(p.attrs.to).to.equal(bare(u0!));
  });

  it('subsequent presence reaches every subscriber and every resource of each (§4.4)', async () => {
    const [u0, u1] = await users(2, [[1, 0]]);
    const a = await online(u1!, 'a');
    const b = await online(u1!, 'b');
    const c0 = await online(u0!);
    await presence(a, 'available', `${bare(u0!)}/r`);
    await presence(b, 'available', `${bare(u0!)}/r`);
    c0.send(`<presence><show>away</show><status>lunch</status></presence>`);
    for (const c of [a, b]) {
      const p = await presence(c, 'available', `${bare(u0!)}/r`);
      expect(p.getChildText('show')).to.equal('away');
      expect(p.getChildText('status')).to.equal('lunch');
    }
  });

  it('unavailable presence reaches subscribers when the client says so, ends its stream, or its TCP connection is reset (§4.5)', async () => {
    const [u0, u1] = await users(2, [[1, 0]]);
    const watcher = await online(u1!);

    const said = await online(u0!, 'said');
    await presence(watcher, 'available', `${bare(u0!)}/said`);
    said.send(`<presence type='unavailable'><status>bye</status></presence>`);
    expect((await presence(watcher, 'unavailable', `${bare(u0!)}/said`)).getChildText('status')).to.equal('bye');

    const closed = await online(u0!, 'closed');
    await presence(watcher, 'available', `${bare(u0!)}/closed`);
    closed.send('</stream:stream>');
    await presence(watcher, 'unavailable', `${bare(u0!)}/closed`);

    const reset = await online(u0!, 'reset');
    await presence(watcher, 'available', `${bare(u0!)}/reset`);
    reset.tlsSocket!.destroy();
    await presence(watcher, 'unavailable', `${bare(u0!)}/reset`);
  });

  it('after reconnecting, the contact is seen again through the probe (§4.3)', async () => {
    const [u0, u1] = await users(2, [[0, 1], [1, 0]]);
    const c1 = await online(u1!, 'home', { status: 'home' });
    let c0 = await online(u0!);
    await presence(c0, 'available', `${bare(u1!)}/home`);
    c0.tlsSocket!.destroy();
    await presence(c1, 'unavailable', `${bare(u0!)}/r`);
    c0 = await online(u0!);
    expect((await presence(c0, 'available', `${bare(u1!)}/home`)).getChildText('status')).to.equal('home');
    await presence(c1, 'available', `${bare(u0!)}/r`);
  });

  it('directed presence is delivered, remembered, and followed by unavailable when the session ends (§4.6)', async () => {
    const [u0, u1, u2] = await users(3);
    const c1 = await online(u1!);
    const c2 = await online(u2!);
    const c0 = await online(u0!);
    c0.send(`<presence to='${bare(u1!)}'><status>just for you</status></presence>`);
    c0.send(`<presence to='${bare(u2!)}/r'/>`);
    expect((await presence(c1, 'available', `${bare(u0!)}/r`)).getChildText('status')).to.equal('just for you');
    await presence(c2, 'available', `${bare(u0!)}/r`);
    // A directed unavailable ends the directed presence for that one entity (§4.6.3).
    c0.send(`<presence to='${bare(u2!)}/r' type='unavailable'/>`);
    await presence(c2, 'unavailable', `${bare(u0!)}/r`);
    // Subsequent broadcast presence is not sent to directed recipients (§4.6.4 is about unavailable only).
    c0.send(`<presence><show>dnd</show></presence>`);
    await c1.none(isPresence('available', `${bare(u0!)}/r`));
    c0.tlsSocket!.destroy();
    await presence(c1, 'unavailable', `${bare(u0!)}/r`);
    await c2.none(isPresence('unavailable', `${bare(u0!)}/r`));
  });

  it('a probe from someone not subscribed reveals nothing (§4.3.2)', async () => {
    const [u0, u1] = await users(2);
    await online(u1!, 'r', { status: 'secret' });
    const c0 = await online(u0!);
    c0.send(`<presence to='${bare(u1!)}' type='probe'/>`);
    await c0.none(isPresence('available', `${bare(u1!)}/r`));
  });

  it('a negative priority resource gets presence but no messages to the bare JID (§4.7.2.3, §8.5.2.1.1)', async () => {
    const [u0, u1] = await users(2, [[0, 1]]);
    const neg = await online(u0!, 'neg', { priority: -1 });
    const pos = await online(u0!, 'pos', { priority: 1 });
    const c1 = await online(u1!);
    await presence(neg, 'available', `${bare(u1!)}/r`);
    await presence(pos, 'available', `${bare(u1!)}/r`);
    c1.send(`<message to='${bare(u0!)}' type='chat' id='m'><body>hi</body></message>`);
    await pos.take((e) => e.name === 'message' && e.attrs.id === 'm');
    await neg.none((e) => e.name === 'message');
  });

  it('presence errors: an invalid priority and an unknown type are bad-request; a subscription type without "to" too (§4.7.2.3, RFC 6120 §8.3)', async () => {
    const [u0] = await users(1);
    const c0 = await online(u0!);
    c0.send(`<presence id='p1'><priority>200</priority></presence>`);
    let err = await c0.take((e) => e.attrs.id === 'p1');
    expect(err.attrs.type).to.equal('error');
    expect(errorCondition(err)).to.equal('bad-request');
    c0.send(`<presence id='p2' type='dance'/>`);
    err = await c0.take((e) => e.attrs.id === 'p2');
    expect(errorCondition(err)).to.equal('bad-request');
    c0.send(`<presence id='p3' type='unsubscribed'/>`);
    err = await c0.take((e) => e.attrs.id === 'p3');
    expect(errorCondition(err)).to.equal('bad-request');
  });

  it('presence to an account that does not exist is ignored (§8.5.1)', async () => {
    const [u0] = await users(1);
    const c0 = await online(u0!);
    c0.send(`<presence to='nobody-here@localhost' type='subscribe' id='x1'/>`);
    c0.send(`<presence to='nobody-here@localhost' id='x2'/>`);
    await c0.none((e) => e.attrs.id === 'x1' || e.attrs.id === 'x2');
  });
});
