// slixmpp (Debian python3-slixmpp, the library behind poezio) against Chorus: as shipped, channel
// binding on, it logs in over STARTTLS or direct TLS (SCRAM-SHA-512-PLUS with tls-unique, which
// Chorus accepts by default: sasl.acceptTlsUnique), asks disco#info and ping, and chats with a user
// logged in with @xmpp/client over WebSocket. Driven through test/interop/clients/slixmpp_client.py.
import { expect } from 'chai';
import { xml } from '@xmpp/client';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import type { Connected } from '../support/xmpp-client.ts';
import { debianVersion, missingPackages, skipIfMissing, pythonHas, stopAllPrograms } from './programs.ts';
import { runPythonClient } from './python-client.ts';
import { receivedFrom, webUser } from './web-user.ts';

const missing = missingPackages([{ pkg: 'python3-slixmpp', present: () => pythonHas('slixmpp') }]);
const version = debianVersion('python3-slixmpp');

const slixmpp = (args: string[]) => runPythonClient('slixmpp_client.py', args);

describe(`interop: slixmpp ${missing ? `(skipped: ${missing})` : version}`, function () {
  this.timeout(60_000);
  let t: TestServer;
  const clients: Connected[] = [];

  before(async function () {
    skipIfMissing(this, missing);
    t = await startTestServer();
    await t.addUser('alice', 'wonderland');
    await t.addUser('bob', 'builder');
  });

  afterEach(async () => {
    await stopAllPrograms();
    await Promise.all(clients.splice(0).map((c) => c.stop()));
  });

  after(async () => {
    await t?.stop();
  });

  async function bobOnWebSocket(): Promise<Connected> {
    const bob = await webUser(t, 'bob', 'builder');
    clients.push(bob);
    return bob;
  }

  /** slixmpp's one SASL attempt: SCRAM-SHA-512-PLUS bound with tls-unique, and the server's v= verified. */
  function expectBoundWithTlsUnique(r: Awaited<ReturnType<typeof slixmpp>>): void {
    expect(r.all('sasl-attempt')).to.deep.equal([{ event: 'sasl-attempt', mechanism: 'SCRAM-SHA-512-PLUS', gs2_header: 'p=tls-unique,,' }]);
    expect(r.all('sasl-failure')).to.deep.equal([]);
    // mutual_auth: slixmpp checked the server's signature, computed over the same tls-unique bytes.
    expect(r.one('sasl-success')).to.include({ mechanism: 'SCRAM-SHA-512-PLUS', mutual_auth: true });
    // XEP-0440 never lists tls-unique; the -PLUS mechanisms are offered for the other two types.
    expect(r.one('sasl-success').offered).to.include.members(['SCRAM-SHA-512-PLUS', 'SCRAM-SHA-512', 'SCRAM-SHA-256']);
  }

  it('as shipped, over STARTTLS on TLS 1.3: SCRAM-SHA-512-PLUS with tls-unique, disco#info, ping, and a chat with an @xmpp/client user on WebSocket', async () => {
    const bob = await bobOnWebSocket();
    const body = 'Hello Bob, slixmpp here <&> ✓';
    const run = slixmpp([
      '--jid', 'alice@localhost/slixmpp', '--password', 'wonderland', '--port', String(t.c2sPort),
      '--to', 'bob@localhost', '--body', body, '--expect-reply',
    ]);

    // What the @xmpp/client user received: 'from' stamped with slixmpp's full JID (RFC 6120 §8.1.2.1).
    const got = await receivedFrom(bob, (e) => e.name === 'message' && e.getChildText('body') !== null, run);
    expect(got.attrs).to.include({ from: 'alice@localhost/slixmpp', to: 'bob@localhost', type: 'chat', id: 'slixmpp-1' });
    expect(got.getChildText('body')).to.equal(body);
    await bob.xmpp.send(xml('message', { to: got.attrs.from, type: 'chat', id: 'reply-1' }, xml('body', {}, 'Hi slixmpp, Bob on the web')));

    const r = await run;
    expect(r.code, r.transcript).to.equal(0);
    expectBoundWithTlsUnique(r);
    expect(r.one('tls').version).to.equal('TLSv1.3');
    expect(r.one('session').jid).to.equal('alice@localhost/slixmpp');
    const disco = r.one('disco-info');
    expect(disco.type).to.equal('result');
    expect(disco.identities).to.deep.include({ category: 'server', type: 'im', name: 'Chorus' });
    expect(disco.features).to.include.members(['http://jabber.org/protocol/disco#info', 'http://jabber.org/protocol/disco#items', 'urn:xmpp:ping']);
    expect(r.one('ping')).to.include({ type: 'result', from: 'localhost' });
    // What slixmpp received back: Bob's reply, from his full JID, to slixmpp's full JID.
    expect(r.one('message')).to.include({ from: 'bob@localhost/web', to: 'alice@localhost/slixmpp', type: 'chat', id: 'reply-1', body: 'Hi slixmpp, Bob on the web' });
    expect(r.events.some((e) => e.event === 'message-error' || e.event === 'stream-error')).to.equal(false);
    // RFC 6120 §4.4: the server answered slixmpp's </stream:stream> with its own.
    expect(r.one('closed')).to.include({ server_closed_stream: true });
  });

  it('as shipped, over direct TLS (XEP-0368) on TLS 1.3: SCRAM-SHA-512-PLUS with tls-unique', async () => {
    const bob = await bobOnWebSocket();
    const run = slixmpp([
      '--jid', 'alice@localhost/plus', '--password', 'wonderland', '--port', String(t.directTlsPort), '--direct-tls',
      '--to', 'bob@localhost', '--body', 'bound to the channel',
    ]);
    const got = await receivedFrom(bob, (e) => e.name === 'message' && e.getChildText('body') === 'bound to the channel', run);
    expect(got.attrs.from).to.equal('alice@localhost/plus');

    const r = await run;
    expect(r.code, r.transcript).to.equal(0);
    expectBoundWithTlsUnique(r);
    expect(r.one('tls').version).to.equal('TLSv1.3');
    expect(r.one('ping')).to.include({ type: 'result' });
  });

  // What an operator gets by turning the compatibility path off: slixmpp 1.8.3 knows no other
  // binding, and its fallback, the 'y' flag, is what RFC 5802 §6 makes a server refuse once it
  // offered -PLUS (a downgrade). When this fails, slixmpp changed: docs/clients.md needs a look.
  it('with sasl.acceptTlsUnique false, slixmpp 1.8.3 cannot log in: tls-unique refused, then its \'y\' fallback refused', async function () {
    if (!version?.startsWith('1.8.3')) return this.skip(); // the exchange pinned is 1.8.3's
    // Its own server: the failures count against 127.0.0.1's throttle. Five attempts (RFC 6120
    // §6.4.5 allows 2 to 5) let it get past the three -PLUS mechanisms to the 'y' fallback.
    const own = await startTestServer({ config: { sasl: { acceptTlsUnique: false }, c2s: { maxAuthFailures: 5 } } });
    try {
      await own.addUser('alice', 'wonderland');
      const r = await slixmpp(['--jid', 'alice@localhost/default', '--password', 'wonderland', '--port', String(own.c2sPort)]);
      expect(r.code, r.transcript).to.equal(1);
      const attempts = r.all('sasl-attempt').map((e) => `${e.mechanism as string} ${e.gs2_header as string}`);
      // A sixth may leave before the stream error arrives; it gets no answer.
      expect(attempts).to.have.length.within(5, 6);
      expect(attempts.slice(0, 5)).to.deep.equal([
        'SCRAM-SHA-512-PLUS p=tls-unique,,', 'SCRAM-SHA-256-PLUS p=tls-unique,,', 'SCRAM-SHA-1-PLUS p=tls-unique,,',
        'SCRAM-SHA-512 y,,', 'SCRAM-SHA-256 y,,',
      ]);
      const failures = r.all('sasl-failure').map((f) => [f.condition, f.text]);
      expect(failures).to.deep.equal([
        ...Array(3).fill(['malformed-request', 'unsupported-channel-binding-type']),
        ...Array(2).fill(['not-authorized', 'server-does-support-channel-binding']),
      ]);
      // RFC 6120 §6.4.5: after c2s.maxAuthFailures failures the stream is closed.
      expect(r.one('stream-error')).to.include({ condition: 'policy-violation' });
      expect(r.events.some((e) => e.event === 'session')).to.equal(false);
    } finally {
      await own.stop();
    }
  });

  it('slixmpp as shipped logs in when the operator withholds the -PLUS mechanisms (sasl.mechanisms)', async () => {
    const own = await startTestServer({ config: { sasl: { mechanisms: ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'] } } });
    try {
      await own.addUser('alice', 'wonderland');
      const r = await slixmpp(['--jid', 'alice@localhost/default', '--password', 'wonderland', '--port', String(own.c2sPort)]);
      expect(r.code, r.transcript).to.equal(0);
      // 'y': slixmpp could bind but saw no -PLUS; correct here, since none was offered (RFC 5802 §6).
      expect(r.all('sasl-attempt')).to.deep.equal([{ event: 'sasl-attempt', mechanism: 'SCRAM-SHA-512', gs2_header: 'y,,' }]);
      expect(r.one('sasl-success')).to.include({ mechanism: 'SCRAM-SHA-512', mutual_auth: true });
      expect(r.one('ping')).to.include({ type: 'result' });
    } finally {
      await own.stop();
    }
  });
});
