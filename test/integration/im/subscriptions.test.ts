// RFC 6121 §3 presence subscriptions between local users, exchange by exchange: request,
// approval, pre-approval, denial, cancellation, unsubscription, roster removal, and requests
// that arrive while the contact is offline.
import { expect } from 'chai';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import type { RawClient } from '../../support/raw-client.ts';
import { imLogin, rosterPush, presence, isPresence, isPush, rosterOf, errorCondition, type ImOptions } from '../../support/im-client.ts';

describe('presence subscriptions (RFC 6121 §3)', function () {
  let t: TestServer;
  const open: RawClient[] = [];
  let n = 0;
  before(async () => {
    t = await startTestServer({ config: { roster: { maxItems: 5, maxNameLength: 100, maxGroupLength: 100 } } });
  });
  after(() => t.stop());
  afterEach(() => {
    for (const c of open.splice(0)) c.destroy();
  });

  /** Two fresh accounts per test, so no test sees another's subscriptions. */
  async function pair(): Promise<[string, string]> {
    n++;
    const a = `juliet${n}`;
    const b = `romeo${n}`;
    await t.addUser(a, 'pw');
    await t.addUser(b, 'pw');
    return [a, b];
  }
  async function online(user: string, resource = 'r', opts: ImOptions = {}): Promise<RawClient> {
    const c = await imLogin(t.c2sPort, user, resource, opts);
    open.push(c);
    return c;
  }
  const bare = (u: string) => `${u}@localhost`;

  /** The §3.1 handshake: `a` asks, `b` approves; both online. Returns nothing, consumes the exchange. */
  async function subscribe(a: string, ca: RawClient, b: string, cb: RawClient): Promise<void> {
    ca.send(`<presence to='${bare(b)}' type='subscribe'/>`);
    await rosterPush(ca, bare(b));
    await presence(cb, 'subscribe', bare(a));
    cb.send(`<presence to='${bare(a)}' type='subscribed'/>`);
    await rosterPush(cb, bare(a));
    await rosterPush(ca, bare(b));
    await presence(ca, 'subscribed', bare(b));
  }

  it('request and approval: pushes, bare-JID stamping, and the contact\'s presence afterwards (§3.1)', async () => {
    const [j, r] = await pair();
    const cj = await online(j, 'balcony');
    const cr = await online(r, 'orchard', { status: 'in the orchard' });

    cj.send(`<presence to='${bare(r)}' type='subscribe' id='s1'><status>hi</status></presence>`);
    // §3.1.2: the user's server pushes the item with ask='subscribe' ...
    const pending = await rosterPush(cj, bare(r));
    expect(pending.attrs).to.deep.equal({ jid: bare(r), subscription: 'none', ask: 'subscribe' });
    // ... and the contact gets the request from the user's bare JID, with its payload (§3.1.3).
    const req = await presence(cr, 'subscribe', bare(j));
    expect(req.attrs).to.include({ to: bare(r), id: 's1' });
    expect(req.getChildText('status')).to.equal('hi');
    // §3.1.3: a mere request creates no roster item for the contact.
    await cr.none(isPush(bare(j)));

    cr.send(`<presence to='${bare(j)}' type='subscribed' id='s2'/>`);
    // §3.1.5: the contact's item becomes 'from'.
    expect((await rosterPush(cr, bare(j))).attrs).to.deep.equal({ jid: bare(j), subscription: 'from' });
    // §3.1.6: the user's item becomes 'to', the approval is delivered, then the contact's presence arrives.
    expect((await rosterPush(cj, bare(r))).attrs).to.deep.equal({ jid: bare(r), subscription: 'to' });
    const approval = await presence(cj, 'subscribed', bare(r));
    expect(approval.attrs).to.include({ to: bare(j), id: 's2' });
    const p = await presence(cj, 'available', `${bare(r)}/orchard`);
    expect(p.getChildText('status')).to.equal('in the orchard');
    // The contact, not subscribed to the user, gets no presence from the user.
    await cr.none(isPresence('available', `${bare(j)}/balcony`));

    expect(await rosterOf(cj)).to.deep.equal({ [bare(r)]: { jid: bare(r), subscription: 'to' } });
    expect(await rosterOf(cr)).to.deep.equal({ [bare(j)]: { jid: bare(j), subscription: 'from' } });
  });

  it('mutual subscription ends in "both" on each side, and each sees the other\'s presence changes', async () => {
    const [j, r] = await pair();
    const cj = await online(j);
    const cr = await online(r);
    await subscribe(j, cj, r, cr);
    await subscribe(r, cr, j, cj);
    expect((await rosterOf(cj))[bare(r)]!.subscription).to.equal('both');
    expect((await rosterOf(cr))[bare(j)]!.subscription).to.equal('both');
    cj.clear();
    cr.clear();
    cr.send(`<presence><show>away</show></presence>`);
    expect((await presence(cj, 'available', `${bare(r)}/r`)).getChildText('show')).to.equal('away');
    cj.send(`<presence><show>dnd</show></presence>`);
    expect((await presence(cr, 'available', `${bare(j)}/r`)).getChildText('show')).to.equal('dnd');
  });

  it('a request to an offline contact is kept and delivered at its next login, until answered (§3.1.3)', async () => {
    const [j, r] = await pair();
    const cj = await online(j);
    cj.send(`<presence to='${bare(r)}' type='subscribe'><status>remember me</status></presence>`);
    expect((await rosterPush(cj, bare(r))).attrs.ask).to.equal('subscribe');

    const first = await online(r, 'first');
    expect((await presence(first, 'subscribe', bare(j))).getChildText('status')).to.equal('remember me');
    first.destroy();
    // Not answered: delivered again next time.
    const second = await online(r, 'second');
    await presence(second, 'subscribe', bare(j));
    second.send(`<presence to='${bare(j)}' type='subscribed'/>`);
    await rosterPush(second, bare(j));
    expect((await rosterPush(cj, bare(r))).attrs).to.deep.equal({ jid: bare(r), subscription: 'to' });
    second.destroy();
    // Answered: not delivered any more.
    const third = await online(r, 'third');
    await third.none(isPresence('subscribe'));
  });

  it('a resource that has not asked for the roster gets no subscription request (§3.1.3)', async () => {
    const [j, r] = await pair();
    const quiet = await online(r, 'quiet', { roster: false });
    const cj = await online(j);
    cj.send(`<presence to='${bare(r)}' type='subscribe'/>`);
    await rosterPush(cj, bare(r));
    await quiet.none(isPresence('subscribe'));
  });

  it('pre-approval: noted with approved="true", not routed, and the later request completes at once (§3.4)', async () => {
    const [j, r] = await pair();
    const cj = await online(j);
    const cr = await online(r);
    cr.send(`<presence to='${bare(j)}' type='subscribed'/>`);
    expect((await rosterPush(cr, bare(j))).attrs).to.deep.equal({ jid: bare(j), subscription: 'none', approved: 'true' });
    await cj.none(isPresence('subscribed'));

    cj.send(`<presence to='${bare(r)}' type='subscribe'/>`);
    await rosterPush(cj, bare(r));
    await presence(cj, 'subscribed', bare(r));
    expect((await rosterPush(cj, bare(r))).attrs).to.deep.equal({ jid: bare(r), subscription: 'to' });
    expect((await rosterPush(cr, bare(j))).attrs).to.deep.equal({ jid: bare(j), subscription: 'from' });
    await presence(cj, 'available', `${bare(r)}/r`);
    // The contact never saw a request.
    await cr.none(isPresence('subscribe'));
  });

  it('the server advertises pre-approval as a stream feature (§3.4)', async () => {
    const [j] = await pair();
    const { RawClient, NS } = await import('../../support/raw-client.ts');
    const c = await RawClient.connect(t.c2sPort);
    open.push(c);
    await c.open();
    await c.startTls();
    await c.open();
    c.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${Buffer.from(`\0${j}\0pw`).toString('base64')}</auth>`);
    await c.next();
    const features = await c.open();
    expect(features.getChild('sub', 'urn:xmpp:features:pre-approval')).to.not.equal(undefined);
  });

  it('denial: unsubscribed to a pending request clears "ask" on the requester\'s side (§3.1.5, §3.2.3)', async () => {
    const [j, r] = await pair();
    const cj = await online(j);
    const cr = await online(r);
    cj.send(`<presence to='${bare(r)}' type='subscribe'/>`);
    await rosterPush(cj, bare(r));
    await presence(cr, 'subscribe', bare(j));
    cr.send(`<presence to='${bare(j)}' type='unsubscribed'/>`);
    await presence(cj, 'unsubscribed', bare(r));
    expect((await rosterPush(cj, bare(r))).attrs).to.deep.equal({ jid: bare(r), subscription: 'none' });
    // The denied request is gone: the next login does not show it again.
    const again = await online(r, 'again');
    await again.none(isPresence('subscribe'));
  });

  it('cancellation: the contact revokes the user\'s subscription and the user gets unavailable presence (§3.2)', async () => {
    const [j, r] = await pair();
    const cj = await online(j);
    const cr = await online(r);
    await subscribe(j, cj, r, cr);
    await presence(cj, 'available', `${bare(r)}/r`);
    cr.send(`<presence to='${bare(j)}' type='unsubscribed'/>`);
    expect((await rosterPush(cr, bare(j))).attrs.subscription).to.equal('none');
    // §3.2.2: the contact's server sends unavailable presence from each available resource.
    await presence(cj, 'unavailable', `${bare(r)}/r`);
    await presence(cj, 'unsubscribed', bare(r));
    expect((await rosterPush(cj, bare(r))).attrs.subscription).to.equal('none');
    // No presence flows any more.
    cr.send(`<presence><show>chat</show></presence>`);
    await cj.none(isPresence('available', `${bare(r)}/r`));
  });

  it('unsubscription: the user stops the subscription; both sides are pushed and presence stops (§3.3)', async () => {
    const [j, r] = await pair();
    const cj = await online(j);
    const cr = await online(r);
    await subscribe(j, cj, r, cr);
    await presence(cj, 'available', `${bare(r)}/r`);
    cj.send(`<presence to='${bare(r)}' type='unsubscribe'/>`);
    expect((await rosterPush(cj, bare(r))).attrs.subscription).to.equal('none');
    await presence(cr, 'unsubscribe', bare(j));
    expect((await rosterPush(cr, bare(j))).attrs.subscription).to.equal('none');
    // §3.3.3: the contact's server sends the user unavailable presence of the contact.
    await presence(cj, 'unavailable', `${bare(r)}/r`);
    cr.send(`<presence><show>xa</show></presence>`);
    await cj.none(isPresence('available', `${bare(r)}/r`));
  });

  it('a request for an existing subscription is answered by the contact\'s server without bothering the contact (§3.1.3, §3.1.6)', async () => {
    const [j, r] = await pair();
    const cj = await online(j);
    const cr = await online(r);
    await subscribe(j, cj, r, cr);
    cr.clear();
    cj.clear();
    cj.send(`<presence to='${bare(r)}' type='subscribe'/>`);
    await cr.none(isPresence('subscribe'));
    // The auto-reply confirms what the user's server already knows: no state change, nothing delivered.
    await cj.none((e) => isPush(bare(r))(e) || isPresence('subscribed')(e));
    expect((await rosterOf(cj))[bare(r)]).to.deep.equal({ jid: bare(r), subscription: 'to' });
  });

  it('removing a roster item cancels the subscription both ways (§2.5.2)', async () => {
    const [j, r] = await pair();
    const cj = await online(j);
    const cr = await online(r);
    await subscribe(j, cj, r, cr);
    await subscribe(r, cr, j, cj);
    cj.send(`<iq type='set' id='rm'><query xmlns='jabber:iq:roster'><item jid='${bare(r)}' subscription='remove'/></query></iq>`);
    expect((await cj.take((e) => e.attrs.id === 'rm')).attrs.type).to.equal('result');
    expect((await rosterPush(cj, bare(r))).attrs.subscription).to.equal('remove');
    await presence(cr, 'unsubscribe', bare(j));
    await presence(cr, 'unsubscribed', bare(j));
    await presence(cr, 'unavailable', `${bare(j)}/r`);
    // The contact's 'both' goes through 'to' (unsubscribe, §3.3.3) to 'none' (unsubscribed, §3.2.3).
    expect((await rosterPush(cr, bare(j))).attrs.subscription).to.equal('to');
    expect((await rosterPush(cr, bare(j))).attrs.subscription).to.equal('none');
    expect((await rosterOf(cr))[bare(j)]!.subscription).to.equal('none');
  });

  it('a subscription request without a "to" is bad-request; one over the roster limit is not-allowed', async () => {
    const [j] = await pair();
    const cj = await online(j);
    cj.send(`<presence type='subscribe' id='nto'/>`);
    const err = await cj.take((e) => e.attrs.id === 'nto');
    expect(err.attrs.type).to.equal('error');
    expect(errorCondition(err)).to.equal('bad-request');
    for (let i = 0; i < 5; i++) {
      cj.send(`<presence to='nobody${i}@localhost' type='subscribe'/>`);
      await rosterPush(cj, `nobody${i}@localhost`);
    }
    cj.send(`<presence to='nobody9@localhost' type='subscribe' id='over'/>`);
    const over = await cj.take((e) => e.attrs.id === 'over');
    expect(over.attrs.type).to.equal('error');
    expect(errorCondition(over)).to.equal('not-allowed');
  });
});
