// aioxmpp (Debian python3-aioxmpp) against Chorus. aioxmpp parses every stanza into strict
// models and logs what does not fit, so a clean run also says Chorus's replies are well-formed
// for it. Driven through test/interop/clients/aioxmpp_client.py.
import { expect } from 'chai';
import { xml } from '@xmpp/client';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import type { Connected } from '../support/xmpp-client.ts';
import { debianVersion, missingPackages, skipIfMissing, pythonHas, stopAllPrograms } from './programs.ts';
import { runPythonClient } from './python-client.ts';
import { receivedFrom, webUser } from './web-user.ts';

const missing = missingPackages([{ pkg: 'python3-aioxmpp', present: () => pythonHas('aioxmpp') }]);
const version = debianVersion('python3-aioxmpp');

const aioxmpp = (args: string[]) => runPythonClient('aioxmpp_client.py', args);

describe(`interop: aioxmpp ${missing ? `(skipped: ${missing})` : version}`, function () {
  this.timeout(60_000);
  let t: TestServer;
  const clients: Connected[] = [];

  before(async function () {
    skipIfMissing(this, missing);
    // Offline storage off, so a message to an offline account comes back as an error (the case checked below).
    t = await startTestServer({ config: { offline: { maxMessages: 0 } } });
    await t.addUser('carol', 'strict models');
    await t.addUser('bob', 'builder');
  });

  afterEach(async () => {
    await stopAllPrograms();
    await Promise.all(clients.splice(0).map((c) => c.stop()));
  });

  after(async () => {
    await t?.stop();
  });

  it('logs in over STARTTLS (SCRAM-SHA-256), asks disco#info and ping, and chats with an @xmpp/client user on WebSocket', async () => {
    const bob = await webUser(t, 'bob', 'builder');
    clients.push(bob);
    const body = 'Hello from aioxmpp: <tags> & "quotes"';
    const run = aioxmpp([
      '--jid', 'carol@localhost/aioxmpp', '--password', 'strict models', '--port', String(t.c2sPort),
      '--to', 'bob@localhost', '--body', body, '--expect-reply',
    ]);

    const got = await receivedFrom(bob, (e) => e.name === 'message' && e.getChildText('body') !== null, run);
    expect(got.attrs).to.include({ from: 'carol@localhost/aioxmpp', to: 'bob@localhost', type: 'chat', id: 'aioxmpp-1' });
    expect(got.getChildText('body')).to.equal(body);
    await bob.xmpp.send(xml('message', { to: got.attrs.from, type: 'chat', id: 'reply-1' }, xml('body', {}, 'Hi aioxmpp')));

    const r = await run;
    expect(r.code, r.transcript).to.equal(0);
    // aiosasl knows SCRAM-SHA-1 and -256, without channel binding; it verifies the server's signature itself.
    expect(r.all('sasl-attempt').map((e) => e.mechanism)).to.deep.equal(['SCRAM-SHA-256']);
    expect(r.one('sasl-success').mechanism).to.equal('SCRAM-SHA-256');
    expect(r.one('session').jid).to.equal('carol@localhost/aioxmpp');
    const disco = r.one('disco-info');
    expect(disco.identities).to.deep.include({ category: 'server', type: 'im', name: 'Chorus' });
    expect(disco.features).to.include.members(['http://jabber.org/protocol/disco#info', 'http://jabber.org/protocol/disco#items', 'urn:xmpp:ping']);
    expect(r.one('ping').ok).to.equal(true);
    expect(r.one('message')).to.include({ from: 'bob@localhost/web', to: 'carol@localhost/aioxmpp', type: 'chat', id: 'reply-1', body: 'Hi aioxmpp' });
    expect(r.all('message-error'), r.transcript).to.deep.equal([]);
    // Nothing Chorus sent made aioxmpp's strict parser complain.
    expect(r.all('log'), r.transcript).to.deep.equal([]);
    expect(r.one('closed')).to.be.an('object');
  });

  it('gets a well-formed error back for a message to an account that is not online', async () => {
    // RFC 6121 §8.5.2.2.1: no available resource and offline storage turned off: <service-unavailable/>.
    const r = await aioxmpp([
      '--jid', 'carol@localhost/aioxmpp', '--password', 'strict models', '--port', String(t.c2sPort),
      '--to', 'bob@localhost', '--body', 'anyone there?', '--expect-reply',
    ]);
    expect(r.code, r.transcript).to.equal(1);
    expect(r.one('message-error')).to.include({ from: 'bob@localhost', to: 'carol@localhost/aioxmpp', id: 'aioxmpp-1', condition: 'service-unavailable' });
    expect(r.all('log'), r.transcript).to.deep.equal([]);
  });
});
