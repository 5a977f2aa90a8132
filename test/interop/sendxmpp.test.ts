// sendxmpp (Debian sendxmpp; Perl, on Net::XMPP) against Chorus: it sends a message over STARTTLS
// to a user logged in with @xmpp/client over WebSocket. It trusts the test certificate through its
// own --tls-ca-path option.
import { existsSync } from 'node:fs';
import { expect } from 'chai';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import type { Connected } from '../support/xmpp-client.ts';
import { testCertificate } from '../support/test-certificate.ts';
import { debianVersion, missingPackages, skipIfMissing, privateHome, startProgram, stopAllPrograms } from './programs.ts';
import { receivedFrom, webUser } from './web-user.ts';

const SENDXMPP = '/usr/bin/sendxmpp';
const missing = missingPackages([{ pkg: 'sendxmpp', present: () => existsSync(SENDXMPP) }]);
const version = debianVersion('sendxmpp');

describe(`interop: sendxmpp ${missing ? `(skipped: ${missing})` : version}`, function () {
  this.timeout(60_000);
  let t: TestServer;
  let home: { dir: string; remove(): void } | undefined;
  const clients: Connected[] = [];

  before(async function () {
    skipIfMissing(this, missing);
    t = await startTestServer();
    await t.addUser('erin', 'perl and tls');
    await t.addUser('bob', 'builder');
    // Its own HOME: sendxmpp reads ~/.sendxmpprc when present.
    home = privateHome('sendxmpp');
  });

  afterEach(async () => {
    await stopAllPrograms();
    await Promise.all(clients.splice(0).map((c) => c.stop()));
  });

  after(async () => {
    await t?.stop();
    home?.remove();
  });

  it('sends a message over STARTTLS to an @xmpp/client user on WebSocket', async () => {
    const bob = await webUser(t, 'bob', 'builder');
    clients.push(bob);
    const body = 'Hello Bob, sendxmpp here <&>\n';
    const program = startProgram(SENDXMPP, [
      '--debug', '--tls', '--tls-ca-path', testCertificate().certFile,
      // --jserver is where to connect; --component is the domain put in the stream header ('to').
      '--jserver', `127.0.0.1:${t.c2sPort}`, '--component', 'localhost',
      '--username', 'erin', '--password', 'perl and tls', '--resource', 'perl',
      'bob@localhost',
    ], { env: { HOME: home!.dir }, stdin: body, timeoutMs: 30_000 });
    const run = program.result().then((r) => ({ ...r, transcript: program.transcript() }));

    const got = await receivedFrom(bob, (e) => e.name === 'message' && e.getChildText('body') !== null, run);
    expect(got.attrs).to.include({ from: 'erin@localhost/perl', to: 'bob@localhost' });
    // sendxmpp sends its standard input as it is, final newline included.
    expect(got.getChildText('body')).to.equal(body);
    const r = await run;
    expect(r.code, r.transcript).to.equal(0);
    // Net::XMPP authenticates with PLAIN, naming its own bare JID as authorization identity (RFC 6120 §6.4.6 allows it).
    expect(r.stderr + r.stdout).to.include("mechanism='PLAIN'");
  });
});
