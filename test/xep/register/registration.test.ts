// XEP-0077 account creation on streams that have not authenticated, over TCP with STARTTLS,
// direct TLS and WebSocket, and what the core does with other stanzas before authentication.
import { expect } from 'chai';
import type { Element } from 'ltx';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { RawClient, NS } from '../../support/raw-client.ts';
import { WsClient } from '../../support/ws-client.ts';
import { loadConfigFile } from '../../../server/config/load-config.ts';
import { jid } from '../../../server/jid.ts';
import { modules } from '../../../xep/index.ts';
import { NS_DATA, NS_FEATURE, NS_REGISTER, iq, plain, registerIq, stanzaError, tryLogin, unauthenticated } from './support.ts';

const GET = `<iq type='get' id='g1'><query xmlns='${NS_REGISTER}'/></iq>`;

describe('register: in-band registration (XEP-0077 §3.1)', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  const wsClients: WsClient[] = [];

  before(async () => {
    t = await startTestServer({
      config: {
        listeners: [
          { type: 'c2s', address: '127.0.0.1', port: 0, tls: 'starttls' },
          { type: 'c2s', address: '127.0.0.1', port: 0, tls: 'direct' },
          { type: 'http', address: '127.0.0.1', port: 0, tls: true },
          // A listener that lets clients skip TLS: registration must still refuse them.
          { type: 'c2s', address: '127.0.0.1', port: 0, tls: 'starttls', requireTls: false },
        ],
        modules: { register: { allowRegistration: true, minPasswordLength: 6, throttle: { attempts: 1000, windowSeconds: 60 } } },
      },
    });
    await t.addUser('alice', 'wonderland');
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
    for (const c of wsClients.splice(0)) c.terminate();
  });
  after(() => t.stop());

  const exists = (local: string) => t.server.accounts.exists(jid(local, 'localhost'));

  describe('stream feature (§8)', () => {
    it('is offered after STARTTLS, before SASL, and not after authentication', async () => {
      const c = await RawClient.connect(t.c2sPort);
      clients.push(c);
      const beforeTls = await c.open();
      // RFC 6120 §5.3.1: while TLS is mandatory, STARTTLS is the only feature.
      expect(beforeTls.getChildElements().map((e) => e.name)).to.deep.equal(['starttls']);
      await c.startTls();
      const features = await c.open();
      const register = features.getChild('register', NS_FEATURE);
      expect(register, features.toString()).to.not.equal(undefined);
      expect(register!.getChildElements()).to.deep.equal([]);
      expect(features.getChild('mechanisms', NS.sasl)).to.not.equal(undefined);
      expect(await plain(c, 'alice', 'wonderland')).to.equal('success');
      const afterAuth = await c.open();
      expect(afterAuth.getChild('bind', NS.bind)).to.not.equal(undefined);
      expect(afterAuth.getChild('register', NS_FEATURE)).to.equal(undefined);
    });

    it('is not offered on an unencrypted stream, where registration is refused', async () => {
      const insecurePort = t.server.listeners.filter((l) => l.kind === 'c2s-starttls')[1]!.port;
      const c = await RawClient.connect(insecurePort);
      clients.push(c);
      const features = await c.open();
      expect(features.getChild('mechanisms', NS.sasl)).to.not.equal(undefined);
      expect(features.getChild('register', NS_FEATURE)).to.equal(undefined);
      const r = await iq(c, registerIq('in1', 'plaintext', 'secret-pw'), 'in1');
      expect(r.attrs.type).to.equal('error');
      expect(stanzaError(r).condition).to.equal('not-authorized');
      expect(await exists('plaintext')).to.equal(false);
    });
  });

  describe('the form (IQ get)', () => {
    it('lists username and password, with instructions and a data form', async () => {
      const { c } = await unauthenticated(t.c2sPort, clients);
      const r = await iq(c, GET, 'g1');
      expect(r.attrs).to.deep.equal({ type: 'result', id: 'g1' });
      const q = r.getChild('query', NS_REGISTER)!;
      expect(q.getChildElements().map((e) => e.name)).to.deep.equal(['instructions', 'username', 'password', 'x']);
      expect(q.getChildText('instructions')).to.match(/at least 6 characters/);
      expect(q.getChild('username')!.getText()).to.equal('');
      expect(q.getChild('registered')).to.equal(undefined);
      const form = q.getChild('x', NS_DATA)!;
      expect(form.attrs.type).to.equal('form');
      const fields = form.getChildren('field').map((f) => ({ ...f.attrs, required: f.getChild('required') !== undefined, value: f.getChildText('value') }));
      expect(fields).to.deep.equal([
        { type: 'hidden', var: 'FORM_TYPE', required: false, value: NS_REGISTER },
        { type: 'text-single', label: 'Username', var: 'username', required: true, value: null },
        { type: 'text-private', label: 'Password', var: 'password', required: true, value: null },
      ]);
    });

    it("answers from the domain when the request was addressed to it, and never carries a 'to'", async () => {
      const { c } = await unauthenticated(t.c2sPort, clients);
      const r = await iq(c, `<iq type='get' id='g2' to='localhost'><query xmlns='${NS_REGISTER}'/></iq>`, 'g2');
      expect(r.attrs).to.deep.equal({ type: 'result', id: 'g2', from: 'localhost' });
    });
  });

  describe('creating an account (IQ set)', () => {
    it('creates the account; the client then authenticates with SASL on the same stream and binds', async () => {
      const { c } = await unauthenticated(t.c2sPort, clients);
      expect((await iq(c, GET, 'g1')).attrs.type).to.equal('result');
      const r = await iq(c, registerIq('r1', 'newbie', 'correct horse'), 'r1');
      expect(r.attrs).to.deep.equal({ type: 'result', id: 'r1' });
      expect(r.getChildElements()).to.deep.equal([]);
      expect(await exists('newbie')).to.equal(true);
      expect(await plain(c, 'newbie', 'correct horse')).to.equal('success');
      await c.open();
      c.send(`<iq type='set' id='b1'><bind xmlns='${NS.bind}'><resource>phone</resource></bind></iq>`);
      const bound = await c.nextMatching((e) => e.attrs.id === 'b1');
      expect(bound.getChild('bind', NS.bind)!.getChildText('jid')).to.equal('newbie@localhost/phone');
      // And on a new connection with the same credentials.
      expect(await tryLogin(t.c2sPort, clients, 'newbie', 'correct horse')).to.equal('success');
    });

    it('accepts the data form instead of the fields (XEP-0077 §4)', async () => {
      const { c } = await unauthenticated(t.c2sPort, clients);
      const r = await iq(c,
        `<iq type='set' id='f1'><query xmlns='${NS_REGISTER}'><x xmlns='${NS_DATA}' type='submit'>` +
          `<field var='FORM_TYPE' type='hidden'><value>${NS_REGISTER}</value></field>` +
          `<field var='username'><value>formuser</value></field><field var='password'><value>form-secret</value></field>` +
          `</x></query></iq>`, 'f1');
      expect(r.attrs.type).to.equal('result');
      expect(await tryLogin(t.c2sPort, clients, 'formuser', 'form-secret')).to.equal('success');
    });

    it('stores the username normalised: a name differing only in case is the same account', async () => {
      const { c } = await unauthenticated(t.c2sPort, clients);
      expect((await iq(c, registerIq('n1', 'CamelCase', 'secret-pw'), 'n1')).attrs.type).to.equal('result');
      expect(await exists('camelcase')).to.equal(true);
      expect(await tryLogin(t.c2sPort, clients, 'camelcase', 'secret-pw')).to.equal('success');
    });

    it('conflict when the account exists, with the request echoed (§3.1)', async () => {
      const { c } = await unauthenticated(t.c2sPort, clients);
      for (const name of ['alice', 'ALICE']) {
        const r = await iq(c, registerIq('c1', name, 'another-pw'), 'c1');
        expect(r.attrs.type).to.equal('error');
        expect(stanzaError(r)).to.deep.equal({ condition: 'conflict', type: 'cancel' });
        // XEP-0077 §9: the old HTTP-style code as well (XEP-0086).
        expect(r.getChild('error')!.attrs.code).to.equal('409');
        expect(r.getChild('query', NS_REGISTER)!.getChildText('username')).to.equal(name);
      }
      // The existing account keeps its password.
      expect(await tryLogin(t.c2sPort, clients, 'alice', 'wonderland')).to.equal('success');
    });

    it('jid-malformed for a username that is not a valid localpart (RFC 7622 §3.3)', async () => {
      const { c } = await unauthenticated(t.c2sPort, clients);
      for (const bad of ['two words', 'at@sign', 'slash/name', 'quote&apos;s', 'colon:name', 'x'.repeat(1024)]) {
        const r = await iq(c, registerIq('m1', bad, 'secret-pw'), 'm1');
        expect(stanzaError(r), bad).to.deep.equal({ condition: 'jid-malformed', type: 'modify' });
      }
      expect(await t.server.accounts.list('localhost')).to.not.include('two words');
    });

    it('not-acceptable when the username or password is missing or empty (§3.1)', async () => {
      const { c } = await unauthenticated(t.c2sPort, clients);
      const cases: [string | null, string | null][] = [['lonely', null], ['lonely', ''], [null, 'secret-pw'], ['', 'secret-pw'], [null, null]];
      for (const [u, p] of cases) {
        const r = await iq(c, registerIq('e1', u, p), 'e1');
        expect(stanzaError(r), `${u}/${p}`).to.deep.equal({ condition: 'not-acceptable', type: 'modify' });
        expect(r.getChild('error')!.attrs.code).to.equal('406');
      }
      const form = await iq(c,
        `<iq type='set' id='e2'><query xmlns='${NS_REGISTER}'><x xmlns='${NS_DATA}' type='submit'>` +
          `<field var='username'><value>lonely</value></field></x></query></iq>`, 'e2');
      expect(stanzaError(form).condition).to.equal('not-acceptable');
      expect(await exists('lonely')).to.equal(false);
    });

    it('not-acceptable for a password shorter than minPasswordLength', async () => {
      const { c } = await unauthenticated(t.c2sPort, clients);
      const r = await iq(c, registerIq('s1', 'shorty', 'five5'), 's1');
      expect(stanzaError(r).condition).to.equal('not-acceptable');
      expect(r.getChild('error')!.getChildText('text', NS.stanzas)).to.match(/at least 6 characters/);
      expect(await exists('shorty')).to.equal(false);
    });

    it('bad-request for the fields and a data form together (§4), or a form that is not submitted', async () => {
      const { c } = await unauthenticated(t.c2sPort, clients);
      const both = await iq(c,
        `<iq type='set' id='x1'><query xmlns='${NS_REGISTER}'><username>both</username><password>secret-pw</password>` +
          `<x xmlns='${NS_DATA}' type='submit'><field var='username'><value>both</value></field><field var='password'><value>secret-pw</value></field></x></query></iq>`, 'x1');
      expect(stanzaError(both).condition).to.equal('bad-request');
      const form = await iq(c,
        `<iq type='set' id='x2'><query xmlns='${NS_REGISTER}'><x xmlns='${NS_DATA}' type='form'>` +
          `<field var='username'><value>both</value></field><field var='password'><value>secret-pw</value></field></x></query></iq>`, 'x2');
      expect(stanzaError(form).condition).to.equal('bad-request');
      expect(await exists('both')).to.equal(false);
    });

    it('unexpected-request for <remove/> before authentication (§3.2)', async () => {
      const { c } = await unauthenticated(t.c2sPort, clients);
      const r = await iq(c, `<iq type='set' id='u1'><query xmlns='${NS_REGISTER}'><remove/></query></iq>`, 'u1');
      expect(stanzaError(r).condition).to.equal('unexpected-request');
      expect(await exists('alice')).to.equal(true);
    });
  });

  describe('over direct TLS and WebSocket', () => {
    it('direct TLS (XEP-0368): the feature, registration, then login', async () => {
      const c = await RawClient.connect(t.directTlsPort, { directTls: true });
      clients.push(c);
      const features = await c.open();
      expect(features.getChild('register', NS_FEATURE)).to.not.equal(undefined);
      expect((await iq(c, registerIq('d1', 'direct', 'direct-pw'), 'd1')).attrs.type).to.equal('result');
      expect(await plain(c, 'direct', 'direct-pw')).to.equal('success');
    });

    it('WebSocket over TLS (RFC 7395): the feature, registration, then SCRAM login', async () => {
      const url = `wss://localhost:${t.server.port('https')}/xmpp-websocket`;
      const ws = await WsClient.connect(url);
      wsClients.push(ws);
      const { features } = await ws.open();
      expect(features.getChild('register', NS_FEATURE)).to.not.equal(undefined);
      const form = await iq(ws, GET, 'g1');
      expect(form.getChild('query', NS_REGISTER)!.getChild('username')).to.not.equal(undefined);
      expect((await iq(ws, registerIq('w1', 'websocket', 'socket-pw'), 'w1')).attrs.type).to.equal('result');
      const again = await WsClient.connect(url);
      wsClients.push(again);
      expect(await again.login('websocket', 'socket-pw')).to.equal('websocket@localhost/ws');
    });
  });

  describe('anything else before authentication (RFC 6120 §4.9.3.12)', () => {
    const refused: [string, string][] = [
      ['an IQ another module serves after authentication', `<iq type='get' id='o1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`],
      ['a registration IQ addressed to an account', `<iq type='get' id='o2' to='alice@localhost'><query xmlns='${NS_REGISTER}'/></iq>`],
      ['a registration IQ without an id', `<iq type='get'><query xmlns='${NS_REGISTER}'/></iq>`],
      ['an IQ result', `<iq type='result' id='o3'/>`],
      ['a message', `<message to='alice@localhost'><body>hi</body></message>`],
      ['a presence', `<presence/>`],
    ];
    for (const [what, xml] of refused) {
      it(`${what}: the not-authorized stream error`, async () => {
        const { c } = await unauthenticated(t.c2sPort, clients);
        c.send(xml);
        expect(await c.streamError()).to.equal('not-authorized');
      });
    }

    it('a registration IQ before STARTTLS, while TLS is required: the not-authorized stream error', async () => {
      const c = await RawClient.connect(t.c2sPort);
      clients.push(c);
      await c.open();
      c.send(registerIq('t1', 'early', 'early-pw'));
      expect(await c.streamError()).to.equal('not-authorized');
      expect(await exists('early')).to.equal(false);
    });
  });
});

describe('register: throttling per address (XEP-0077 §3.1.1)', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  before(async () => {
    t = await startTestServer({ config: { modules: { register: { allowRegistration: true, throttle: { attempts: 2, windowSeconds: 60 } } } } });
    await t.addUser('taken', 'taken-password');
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });
  after(() => t.stop());

  it('refuses the attempt past the limit with not-acceptable (wait); other addresses are not affected', async () => {
    const { c } = await unauthenticated(t.c2sPort, clients, '127.0.0.2');
    // Malformed requests do not count...
    expect(stanzaError(await iq(c, registerIq('a0', 'nopassword', null), 'a0')).condition).to.equal('not-acceptable');
    expect((await iq(c, registerIq('a1', 'first', 'first-password'), 'a1')).attrs.type).to.equal('result');
    // ...conflicts do, so names cannot be probed for free.
    expect(stanzaError(await iq(c, registerIq('a2', 'taken', 'other-password'), 'a2')).condition).to.equal('conflict');
    const refused = await iq(c, registerIq('a3', 'third', 'third-password'), 'a3');
    expect(stanzaError(refused)).to.deep.equal({ condition: 'not-acceptable', type: 'wait' });
    expect(await t.server.accounts.exists(jid('third', 'localhost'))).to.equal(false);

    // A new stream from the same address is still refused.
    const { c: again } = await unauthenticated(t.c2sPort, clients, '127.0.0.2');
    expect(stanzaError(await iq(again, registerIq('a4', 'third', 'third-password'), 'a4')).type).to.equal('wait');

    const { c: other } = await unauthenticated(t.c2sPort, clients, '127.0.0.3');
    expect((await iq(other, registerIq('b1', 'third', 'third-password'), 'b1')).attrs.type).to.equal('result');
    expect(await t.server.accounts.exists(jid('third', 'localhost'))).to.equal(true);
  });
});

describe('register: off by default', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  before(async () => {
    t = await startTestServer();
    await t.addUser('alice', 'wonderland');
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });
  after(() => t.stop());

  it('the default configuration does not allow registration; conf/chorus.yaml (npm start) does', async () => {
    expect(t.server.config.modules.register).to.deep.include({ allowRegistration: false, allowPasswordChange: true, allowCancellation: true });
    const local = await loadConfigFile('conf/chorus.yaml', modules, {});
    expect(local.modules.register).to.deep.include({ allowRegistration: true });
  });

  it('offers no stream feature and refuses the form with the not-authorized stream error', async () => {
    const { c, features } = await unauthenticated(t.c2sPort, clients);
    expect(features.getChild('mechanisms', NS.sasl)).to.not.equal(undefined);
    expect(features.getChild('register', NS_FEATURE)).to.equal(undefined);
    c.send(GET);
    expect(await c.streamError()).to.equal('not-authorized');
  });

  it('refuses the registration itself the same way, creating nothing', async () => {
    const { c } = await unauthenticated(t.c2sPort, clients);
    c.send(registerIq('r1', 'intruder', 'intruder-pw'));
    expect(await c.streamError()).to.equal('not-authorized');
    expect(await t.server.accounts.exists(jid('intruder', 'localhost'))).to.equal(false);
  });

  it('still advertises jabber:iq:register in disco#info for password changes (§10)', async () => {
    const c = await RawClient.connect(t.c2sPort);
    clients.push(c);
    await c.login('alice', 'wonderland');
    const r: Element = await iq(c, `<iq type='get' to='localhost' id='d1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, 'd1');
    const features = r.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
    expect(features).to.include(NS_REGISTER);
  });
});
