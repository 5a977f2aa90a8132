// go-sendxmpp (Debian go-sendxmpp; Go, on the go-xmpp library) against Chorus: it sends a message
// to a user logged in with @xmpp/client over WebSocket, over STARTTLS and over direct TLS, and in
// listen mode prints what that user sends it.
//
// go-sendxmpp has no option for a CA file; Go reads extra roots from SSL_CERT_FILE, so it verifies
// the test certificate like any other (its -n flag, which skips verification, is not used).
import { existsSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import { xml } from '@xmpp/client';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import type { Connected } from '../support/xmpp-client.ts';
import type { Jid } from '../../server/jid.ts';
import { testCertificate } from '../support/test-certificate.ts';
import { debianVersion, missingPackages, skipIfMissing, privateHome, startProgram, stopAllPrograms, type Program } from './programs.ts';
import { receivedFrom, webUser } from './web-user.ts';

const GO_SENDXMPP = '/usr/bin/go-sendxmpp';
const missing = missingPackages([{ pkg: 'go-sendxmpp', present: () => existsSync(GO_SENDXMPP) }]);
const version = debianVersion('go-sendxmpp');

describe(`interop: go-sendxmpp ${missing ? `(skipped: ${missing})` : version}`, function () {
  this.timeout(60_000);
  let t: TestServer;
  let dave: Jid;
  let home: { dir: string; remove(): void } | undefined;
  const clients: Connected[] = [];

  before(async function () {
    skipIfMissing(this, missing);
    t = await startTestServer();
    dave = await t.addUser('dave', 'from the shell');
    await t.addUser('bob', 'builder');
    // Its own HOME: go-sendxmpp reads ~/.config/go-sendxmpp/sendxmpprc when present.
    home = privateHome('go-sendxmpp');
  });

  afterEach(async () => {
    await stopAllPrograms();
    await Promise.all(clients.splice(0).map((c) => c.stop()));
  });

  after(async () => {
    await t?.stop();
    home?.remove();
  });

  function goSendxmpp(args: string[], opts: { stdin?: string; timeoutMs?: number } = {}): Program {
    return startProgram(GO_SENDXMPP, ['--username', 'dave@localhost', '--password', 'from the shell', '--timeout', '10', ...args], {
      env: { HOME: home!.dir, SSL_CERT_FILE: testCertificate().certFile },
      stdin: opts.stdin,
      timeoutMs: opts.timeoutMs ?? 30_000,
    });
  }

  async function bobOnWebSocket(): Promise<Connected> {
    const bob = await webUser(t, 'bob', 'builder');
    clients.push(bob);
    return bob;
  }

  const sentBy = (resourcePrefix: string) => new RegExp(`^dave@localhost/${resourcePrefix}`);

  it('sends a message over STARTTLS to an @xmpp/client user on WebSocket', async () => {
    const bob = await bobOnWebSocket();
    const program = goSendxmpp(['--debug', '--jserver', `127.0.0.1:${t.c2sPort}`, 'bob@localhost'], { stdin: 'Hello Bob, go-sendxmpp here <&>\n' });
    const run = program.result().then((r) => ({ ...r, transcript: program.transcript() }));

    const got = await receivedFrom(bob, (e) => e.name === 'message' && e.getChildText('body') !== null, run);
    expect(got.attrs.from).to.match(sentBy('go-sendxmpp'));
    expect(got.attrs).to.include({ to: 'bob@localhost', type: 'chat' });
    expect(got.getChildText('body')).to.equal('Hello Bob, go-sendxmpp here <&>');
    const r = await run;
    expect(r.code, r.transcript).to.equal(0);
    // --debug prints what the server sent: TLS was required, and the stream was bound.
    const debug = r.stdout + r.stderr;
    expect(debug).to.include('<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"><required/></starttls>');
    expect(debug).to.match(/<jid>dave@localhost\/go-sendxmpp[^<]*<\/jid>/);
  });

  it('sends a message over direct TLS (XEP-0368)', async () => {
    const bob = await bobOnWebSocket();
    const program = goSendxmpp(['--tls', '--jserver', `127.0.0.1:${t.directTlsPort}`, 'bob@localhost'], { stdin: 'over direct TLS\n' });
    const run = program.result().then((r) => ({ ...r, transcript: program.transcript() }));
    const got = await receivedFrom(bob, (e) => e.name === 'message' && e.getChildText('body') !== null, run);
    expect(got.attrs.from).to.match(sentBy('go-sendxmpp'));
    expect(got.getChildText('body')).to.equal('over direct TLS');
    expect((await run).code, program.transcript()).to.equal(0);
  });

  it('refuses a server whose certificate it cannot verify (no CA given): the test really verifies TLS', async () => {
    const program = startProgram(GO_SENDXMPP, ['--username', 'dave@localhost', '--password', 'from the shell', '--jserver', `127.0.0.1:${t.c2sPort}`, 'bob@localhost'], {
      env: { HOME: home!.dir },
      stdin: 'never sent\n',
      timeoutMs: 30_000,
    });
    const r = await program.result();
    expect(r.code, program.transcript()).to.not.equal(0);
    expect(r.stdout + r.stderr).to.match(/certificate signed by unknown authority/);
  });

  it('in listen mode prints a message the @xmpp/client user sends it', async () => {
    const listener = goSendxmpp(['--listen', '--jserver', `127.0.0.1:${t.c2sPort}`], { timeoutMs: 30_000 });
    const bob = await bobOnWebSocket();
    const full = await availableSession(t, dave, listener);
    await bob.xmpp.send(xml('message', { to: full, type: 'chat', id: 'to-listener' }, xml('body', {}, 'Hi listener, Bob here')));
    const line = await listener.waitForLine((l) => l.includes('Hi listener, Bob here'), 10_000);
    // "<time> <sender's bare JID>: <body>"
    expect(line).to.match(/^\S+ bob@localhost: Hi listener, Bob here$/);
    await listener.stop();
  });
});

/**
 * The full JID of an available session of the account, polled from the server's session registry:
 * the peer's presence is invisible to other users until they subscribe, which these tests do not.
 */
async function availableSession(t: TestServer, account: Jid, program: Program): Promise<string> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const session = t.server.sessions.resources(account).find((s) => s.available);
    if (session) return session.jid.toString();
    if (program.exited) throw new Error(`go-sendxmpp exited before it was online\n${program.transcript()}`);
    await delay(50);
  }
  throw new Error(`${account.toString()} was not online within 15 s\n${program.transcript()}`);
}
