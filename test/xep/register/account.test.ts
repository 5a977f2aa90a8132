// XEP-0077 for an authenticated account: what it is told about itself, changing its password
// (§3.3) and cancelling its registration (§3.2).
import { expect } from 'chai';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { RawClient } from '../../support/raw-client.ts';
import { jid } from '../../../server/jid.ts';
import { NS_DATA, NS_REGISTER, iq, stanzaError, tryLogin } from './support.ts';

const changeIq = (id: string, inner: string, to = '') => `<iq type='set' id='${id}'${to ? ` to='${to}'` : ''}><query xmlns='${NS_REGISTER}'>${inner}</query></iq>`;

describe('register: an authenticated account', () => {
  let t: TestServer;
  const clients: RawClient[] = [];

  before(async () => {
    t = await startTestServer();
    await t.addUser('bob', 'builder-password');
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });
  after(() => t.stop());

  async function session(user: string, password: string, resource = 'r'): Promise<RawClient> {
    const c = await RawClient.connect(t.c2sPort);
    clients.push(c);
    await c.login(user, password, resource);
    return c;
  }

  describe('IQ get (§3.1)', () => {
    it('says the account is registered and gives its username, never its password', async () => {
      await t.addUser('getter', 'getter-password');
      const c = await session('getter', 'getter-password');
      for (const to of ['', " to='localhost'", " to='getter@localhost'"]) {
        const r = await iq(c, `<iq type='get' id='q1'${to}><query xmlns='${NS_REGISTER}'/></iq>`, 'q1');
        expect(r.attrs.type, to).to.equal('result');
        const q = r.getChild('query', NS_REGISTER)!;
        expect(q.getChildElements().map((e) => e.name)).to.deep.equal(['registered', 'instructions', 'username', 'password']);
        expect(q.getChildText('username')).to.equal('getter');
        expect(q.getChildText('password')).to.equal('');
      }
    });

    it("service-unavailable about another account", async () => {
      await t.addUser('nosy', 'nosy-password');
      const c = await session('nosy', 'nosy-password');
      const r = await iq(c, `<iq type='get' id='q2' to='bob@localhost'><query xmlns='${NS_REGISTER}'/></iq>`, 'q2');
      expect(r.attrs).to.include({ type: 'error', from: 'bob@localhost' });
      expect(stanzaError(r).condition).to.equal('service-unavailable');
      const set = await iq(c, changeIq('q3', '<username>bob</username><password>stolen-password</password>', 'bob@localhost'), 'q3');
      expect(stanzaError(set).condition).to.equal('service-unavailable');
      expect(await tryLogin(t.c2sPort, clients, 'bob', 'builder-password')).to.equal('success');
    });
  });

  describe('password change (§3.3)', () => {
    it('changes the password: the new one logs in, the old one no longer does', async () => {
      await t.addUser('changer', 'old-password');
      const c = await session('changer', 'old-password');
      const r = await iq(c, changeIq('p1', '<username>changer</username><password>new-password</password>', 'localhost'), 'p1');
      expect(r.attrs).to.deep.equal({ type: 'result', id: 'p1', from: 'localhost', to: 'changer@localhost/r' });
      expect(await tryLogin(t.c2sPort, clients, 'changer', 'new-password')).to.equal('success');
      expect(await tryLogin(t.c2sPort, clients, 'changer', 'old-password')).to.match(/not-authorized/);
      // The session that changed it stays up.
      expect((await iq(c, `<iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>`, 'p2')).attrs.type).to.equal('result');
    });

    it('accepts it without a username, with the bare JID as username, and as a data form', async () => {
      await t.addUser('variant', 'password-0');
      const c = await session('variant', 'password-0');
      expect((await iq(c, changeIq('v1', '<password>password-1</password>'), 'v1')).attrs.type).to.equal('result');
      expect((await iq(c, changeIq('v2', '<username>variant@localhost</username><password>password-2</password>'), 'v2')).attrs.type).to.equal('result');
      const form =
        `<x xmlns='${NS_DATA}' type='submit'><field var='FORM_TYPE' type='hidden'><value>jabber:iq:register:changepassword</value></field>` +
        `<field var='username'><value>variant@localhost</value></field><field var='password'><value>password-3</value></field></x>`;
      expect((await iq(c, changeIq('v3', form), 'v3')).attrs.type).to.equal('result');
      expect(await tryLogin(t.c2sPort, clients, 'variant', 'password-3')).to.equal('success');
    });

    it('refuses an empty, short or another account\'s password change, keeping the password and not echoing it', async () => {
      await t.addUser('keeper', 'keeper-password');
      const c = await session('keeper', 'keeper-password');
      const cases: [string, string][] = [
        ['<username>keeper</username><password/>', 'bad-request'],
        ['<username>keeper</username>', 'bad-request'],
        ['<username>keeper</username><password>short</password>', 'not-acceptable'],
        ['<username>bob</username><password>hijacked-password</password>', 'forbidden'],
        ['<username>not valid</username><password>hijacked-password</password>', 'forbidden'],
      ];
      for (const [inner, condition] of cases) {
        const r = await iq(c, changeIq('k1', inner), 'k1');
        expect(stanzaError(r).condition, inner).to.equal(condition);
        expect(r.getChild('query'), `${inner}: the password must not be sent back`).to.equal(undefined);
      }
      expect(await tryLogin(t.c2sPort, clients, 'keeper', 'keeper-password')).to.equal('success');
      expect(await tryLogin(t.c2sPort, clients, 'bob', 'builder-password')).to.equal('success');
    });
  });

  describe('cancellation (§3.2)', () => {
    it('answers, then ends every session with not-authorized and removes the account and its data', async () => {
      await t.addUser('leaver', 'leaver-password');
      const phone = await session('leaver', 'leaver-password', 'phone');
      const laptop = await session('leaver', 'leaver-password', 'laptop');
      // Some data of the account: a roster item.
      expect((await iq(phone, `<iq type='set' id='ro1'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' name='Bob'/></query></iq>`, 'ro1')).attrs.type).to.equal('result');
      const roster = t.server.store.collection('roster');
      expect(await roster.countDocuments({ owner: 'leaver@localhost' })).to.equal(1);
      // Registered after every module's listener, so it runs once they have all finished.
      const removed = new Promise<string>((resolve) => {
        const off = t.server.accounts.onRemoved((account) => {
          off();
          resolve(account.toString());
        });
      });

      phone.send(`<iq type='set' id='bye'><query xmlns='${NS_REGISTER}'><remove/></query></iq>`);
      // The result comes first (a roster push may precede it), then the stream error.
      const result = await phone.nextMatching((e) => e.attrs.id === 'bye' || e.name === 'stream:error');
      expect(result.attrs).to.deep.include({ type: 'result', id: 'bye' });
      expect(await phone.streamError()).to.equal('not-authorized');
      expect(await laptop.streamError()).to.equal('not-authorized');
      for (const c of [phone, laptop]) {
        c.send('</stream:stream>');
        await c.waitClosed();
      }

      expect(await removed).to.equal('leaver@localhost');
      expect(await t.server.accounts.exists(jid('leaver', 'localhost'))).to.equal(false);
      expect(await roster.countDocuments({ owner: 'leaver@localhost' })).to.equal(0);
      expect(await tryLogin(t.c2sPort, clients, 'leaver', 'leaver-password')).to.match(/not-authorized/);
    });

    it('works addressed to the domain too (the unregister URI action)', async () => {
      await t.addUser('urileaver', 'uri-password');
      const c = await session('urileaver', 'uri-password');
      c.send(changeIq('bye2', '<remove/>', 'localhost'));
      expect((await c.next()).attrs).to.deep.include({ type: 'result', id: 'bye2', from: 'localhost' });
      expect(await c.streamError()).to.equal('not-authorized');
      expect(await t.server.accounts.exists(jid('urileaver', 'localhost'))).to.equal(false);
    });

    it('bad-request when <remove/> is not the only child, and the account stays', async () => {
      await t.addUser('stayer', 'stayer-password');
      const c = await session('stayer', 'stayer-password');
      const r = await iq(c, changeIq('s1', '<remove/><username>stayer</username>'), 's1');
      expect(stanzaError(r).condition).to.equal('bad-request');
      expect(await t.server.accounts.exists(jid('stayer', 'localhost'))).to.equal(true);
    });
  });
});

describe('register: password change and cancellation turned off', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  before(async () => {
    t = await startTestServer({ config: { modules: { register: { allowPasswordChange: false, allowCancellation: false } } } });
    await t.addUser('locked', 'locked-password');
  });
  after(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await t.stop();
  });

  it('not-allowed for both, and nothing changes', async () => {
    const c = await RawClient.connect(t.c2sPort);
    clients.push(c);
    await c.login('locked', 'locked-password');
    const change = await iq(c, changeIq('n1', '<username>locked</username><password>new-password</password>'), 'n1');
    expect(stanzaError(change)).to.deep.equal({ condition: 'not-allowed', type: 'cancel' });
    const remove = await iq(c, changeIq('n2', '<remove/>'), 'n2');
    expect(stanzaError(remove)).to.deep.equal({ condition: 'not-allowed', type: 'cancel' });
    expect([change, remove].map((r) => r.getChild('error')!.attrs.code)).to.deep.equal(['405', '405']);
    expect(await t.server.accounts.exists(jid('locked', 'localhost'))).to.equal(true);
    expect(await tryLogin(t.c2sPort, clients, 'locked', 'locked-password')).to.equal('success');
    expect(c.closed).to.equal(false);
  });
});

describe('register: disabled module', () => {
  it('modules.register: false answers jabber:iq:register with service-unavailable', async () => {
    const t = await startTestServer({ config: { modules: { register: false } } });
    const c = await RawClient.connect(t.c2sPort);
    try {
      await t.addUser('plain', 'plain-password');
      await c.login('plain', 'plain-password');
      const r = await iq(c, changeIq('z1', '<remove/>'), 'z1');
      expect(stanzaError(r).condition).to.equal('service-unavailable');
      expect(await t.server.accounts.exists(jid('plain', 'localhost'))).to.equal(true);
    } finally {
      c.destroy();
      await t.stop();
    }
  });
});
