// Profanity (Debian profanity; a terminal client on libstrophe) against Chorus, driven like a
// person would: typed into a private tmux session, read off the screen. It logs in over
// STARTTLS and chats with a user logged in with @xmpp/client over WebSocket.
//
// Profanity trusts what OpenSSL's default paths trust; SSL_CERT_FILE points those at the test
// certificate, so it verifies the server instead of asking whether to accept the certificate.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { xml } from '@xmpp/client';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import type { Connected } from '../support/xmpp-client.ts';
import { testCertificate } from '../support/test-certificate.ts';
import { debianVersion, missingPackages, skipIfMissing } from './programs.ts';
import { TmuxSession } from './tmux.ts';
import { webUser } from './web-user.ts';

const missing = missingPackages([
  { pkg: 'profanity', present: () => existsSync('/usr/bin/profanity') },
  { pkg: 'tmux', present: () => existsSync('/usr/bin/tmux') },
]);
const version = debianVersion('profanity');

describe(`interop: profanity ${missing ? `(skipped: ${missing})` : version}`, function () {
  this.timeout(60_000);
  let t: TestServer;
  let term: TmuxSession | undefined;
  const clients: Connected[] = [];

  before(async function () {
    skipIfMissing(this, missing);
    t = await startTestServer();
    await t.addUser('frank', 'terminal velocity');
    await t.addUser('bob', 'builder');
  });

  afterEach(async () => {
    term?.stop();
    term = undefined;
    await Promise.all(clients.splice(0).map((c) => c.stop()));
  });

  after(async () => {
    await t?.stop();
  });

  it('logs in over STARTTLS (SCRAM-SHA-512) and chats with an @xmpp/client user on WebSocket', async () => {
    const bob = await webUser(t, 'bob', 'builder');
    clients.push(bob);
    // -l DEBUG: libstrophe's log (in HOME) records the SASL exchange.
    term = TmuxSession.start('profanity -l DEBUG', { SSL_CERT_FILE: testCertificate().certFile });
    await term.waitFor(/Type '\/help' to show complete help/);
    term.type(`/connect frank@localhost server 127.0.0.1 port ${t.c2sPort} tls force`);
    await term.waitFor(/Enter password:/);
    term.type('terminal velocity');
    const [, resource] = await term.waitFor(/frank@localhost\/(\S+) logged in successfully/);

    term.type('/msg bob@localhost Hello Bob, profanity here <&>');
    const got = await bob.waitFor((e) => e.name === 'message' && e.getChildText('body') !== null, 10_000);
    expect(got.attrs).to.include({ from: `frank@localhost/${resource!}`, to: 'bob@localhost', type: 'chat' });
    expect(got.getChildText('body')).to.equal('Hello Bob, profanity here <&>');

    await bob.xmpp.send(xml('message', { to: got.attrs.from, type: 'chat', id: 'reply-1' }, xml('body', {}, 'Hi Frank, Bob on the web')));
    // The reply shows in the chat window /msg opened.
    await term.waitFor(/Hi Frank, Bob on the web/);

    term.type('/quit');
    expect(await term.waitForExit(), 'profanity did not quit').to.equal(true);
    const log = readFileSync(join(term.home, '.local/share/profanity/logs/profanity.log'), 'utf8');
    expect(log).to.include('SASL SCRAM-SHA-512 auth successful');
    expect(log).to.include('<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"><required/></starttls>');
  });
});
