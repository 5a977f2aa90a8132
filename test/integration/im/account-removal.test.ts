// Removing an account deletes every piece of its data in the core and in every module (issue 4),
// and its contacts are told the subscriptions ended. The account gets data of every kind over the
// protocol first; afterwards no collection may hold a document of the account.
import { expect } from 'chai';
import type { Element } from 'ltx';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import type { RawClient } from '../../support/raw-client.ts';
import { imLogin, presence, rosterPush, rosterOf, type ImOptions } from '../../support/im-client.ts';
import { accountCollections } from '../../../server/accounts.ts';
import { rosterCollections } from '../../../server/im/roster-store.ts';
import { pendingCollections } from '../../../server/im/pending-requests.ts';
import { offlineCollections } from '../../../server/im/offline.ts';
import { modules } from '../../../xep/index.ts';
import { jid } from '../../../server/jid.ts';

const VICTIM = 'victim@localhost';

describe('account removal (every module)', function () {
  let t: TestServer;
  const open: RawClient[] = [];
  before(async () => {
    t = await startTestServer();
    for (const u of ['victim', 'friend', 'admirer', 'pest']) await t.addUser(u, 'pw');
  });
  after(() => t.stop());
  afterEach(() => {
    for (const c of open.splice(0)) c.destroy();
  });
  async function online(user: string, resource = 'r', opts: ImOptions = {}): Promise<RawClient> {
    const c = await imLogin(t.c2sPort, user, resource, opts);
    open.push(c);
    return c;
  }
  async function iq(c: RawClient, body: string, id: string): Promise<Element> {
    c.send(`<iq type='set' id='${id}'>${body}</iq>`);
    const r = await c.take((e) => e.name === 'iq' && e.attrs.id === id);
    expect(r.attrs.type, r.toString()).to.equal('result');
    return r;
  }

  it('leaves no document of the account in any collection, and its contacts\' rosters show the end of the subscription', async () => {
    // A logout, for last activity.
    const first = await online('victim', 'first');
    first.send('</stream:stream>');
    await first.waitClosed();

    // An offline message and an inbound subscription request, kept for the account.
    const admirer = await online('admirer');
    admirer.send(`<message to='${VICTIM}' type='chat'><body>for later</body></message>`);
    admirer.send(`<presence to='${VICTIM}' type='subscribe'/>`);
    await rosterPush(admirer, VICTIM);

    // Roster, a mutual subscription, vCard, private XML and a blocklist, set without going available
    // (so the offline message and the request stay stored).
    const friend = await online('friend');
    const v = await online('victim', 'main', { presence: false });
    v.send(`<presence to='friend@localhost' type='subscribe'/>`);
    await presence(friend, 'subscribe', VICTIM);
    friend.send(`<presence to='${VICTIM}' type='subscribed'/>`);
    await rosterPush(v, 'friend@localhost');
    await rosterPush(v, 'friend@localhost');
    await rosterPush(friend, VICTIM);
    friend.send(`<presence to='${VICTIM}' type='subscribe'/>`);
    v.send(`<presence to='friend@localhost' type='subscribed'/>`);
    await rosterPush(friend, VICTIM);
    await rosterPush(friend, VICTIM);
    expect((await rosterOf(friend))[VICTIM]!.subscription).to.equal('both');
    await iq(v, `<vCard xmlns='vcard-temp'><FN>Victim</FN></vCard>`, 'vc');
    await iq(v, `<query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'><theme>dark</theme></prefs></query>`, 'pv');
    await iq(v, `<block xmlns='urn:xmpp:blocking'><item jid='pest@localhost'/></block>`, 'bl');

    const names = [
      ...accountCollections,
      ...rosterCollections,
      ...pendingCollections,
      ...offlineCollections,
      ...modules.flatMap((m) => m.collections ?? []),
    ].map((c) => c.name);
    const mine = async () => {
      const found: string[] = [];
      for (const name of names) {
        for (const doc of await t.server.store.collection(name).find({})) {
          const d = doc as unknown as Record<string, unknown>;
          // Another account's documents may name the account (its roster item for it); those stay.
          if (typeof d.owner === 'string' && d.owner !== VICTIM) continue;
          if (JSON.stringify(d).includes(VICTIM)) found.push(name);
        }
      }
      return [...new Set(found)].sort();
    };
    // Every kind of data is there before the removal ...
    expect(await mine()).to.include.members(['accounts', 'roster', 'roster_versions', 'roster_pending', 'offline', 'vcards', 'blocklists', 'private_xml', 'last_activity']);

    await t.server.accounts.remove(jid('victim', 'localhost'));
    await v.waitClosed();
    // ... and none after it.
    expect(await mine()).to.deep.equal([]);
    // The contact was told both subscriptions ended (RFC 6121 §2.5.2).
    await presence(friend, 'unsubscribe', VICTIM);
    await presence(friend, 'unsubscribed', VICTIM);
    expect((await rosterOf(friend))[VICTIM]!.subscription).to.equal('none');
  });
});
