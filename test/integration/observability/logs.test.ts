// The connection and authentication log of `chorus start` (docs/metrics.md "Logs"): at info,
// each line with the session id, connections opened and closed (address, transport, reason),
// authentications (account, mechanism, address; the condition of a failure), resources bound;
// and never a password, a SASL payload or a message body anywhere in the output.
import { expect } from 'chai';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ChorusProcess, makeTempDir, runCli, writeConfig, type LogLine } from '../../support/chorus-process.ts';
import { RawClient } from '../../support/raw-client.ts';
import { WsClient } from '../../support/ws-client.ts';
import { testCertificate } from '../../support/test-certificate.ts';

const ALICE_PASSWORD = 'alice-Pa55word-in-wonderland';
const BOB_PASSWORD = 'bob-Pa55word-the-builder';
const WRONG_PASSWORD = 'not-Alice-Pa55word-guess';
const BODY = 'a body the log must never show 4f1c';
const INFO = 30; // pino's level number

describe('logs: connections and authentication', function () {
  this.timeout(60_000);
  let dir: string;
  let p: ChorusProcess | null = null;
  const clients: { destroy?(): void; terminate?(): void }[] = [];

  before(async () => {
    dir = await makeTempDir('chorus-logs-');
  });
  after(async () => {
    for (const c of clients.splice(0)) (c.destroy ?? c.terminate)!.call(c);
    await p?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('logs each connection, authentication and bind with its session id, and no secret or body', async () => {
    const cert = testCertificate();
    const config = await writeConfig(dir, {
      dataDir: join(dir, 'data'),
      log: { level: 'info' },
      hosts: [{ domain: 'localhost', certificate: { cert: cert.certFile, key: cert.keyFile } }],
      listeners: [
        { type: 'c2s', address: '127.0.0.1', port: 0, tls: 'starttls' },
        { type: 'c2s', address: '127.0.0.1', port: 0, tls: 'direct' },
        { type: 'http', address: '127.0.0.1', port: 0 },
      ],
      shutdownGraceSeconds: 2,
    });
    const accounts = join(dir, 'accounts.txt');
    await writeFile(accounts, `alice@localhost ${ALICE_PASSWORD}\nbob@localhost ${BOB_PASSWORD}\n`);
    const add = await runCli(['adduser', '--bulk', accounts, '--config', config]);
    expect(add.code, add.stderr).to.equal(0);
    p = await ChorusProcess.start(config);
    const server = p;
    const line = (msg: string, match: Partial<LogLine> = {}) =>
      server.waitForLog((l) => l.msg === msg && Object.entries(match).every(([k, v]) => l[k] === v));

    // alice over STARTTLS with PLAIN (the password travels inside the SASL payload).
    const alice = await RawClient.connect(p.port('c2s-starttls'));
    clients.push(alice);
    const aliceJid = await alice.login('alice', ALICE_PASSWORD, 'tcp');
    // A wrong password over direct TLS.
    const guesser = await RawClient.connect(p.port('c2s-direct-tls'), { directTls: true });
    clients.push(guesser);
    await guesser.login('alice', WRONG_PASSWORD).then(
      () => expect.fail('the wrong password was accepted'),
      (err: Error) => expect(err.message).to.match(/not-authorized/),
    );
    // bob over WebSocket with SCRAM-SHA-1.
    const bob = await WsClient.connect(`ws://127.0.0.1:${p.port('http')}/xmpp-websocket`);
    clients.push(bob);
    const bobJid = await bob.login('bob', BOB_PASSWORD, 'web');
    alice.send(`<message to='${bobJid}' type='chat' id='secret1'><body>${BODY}</body></message>`);
    expect((await bob.nextMatching((e) => e.name === 'message')).getChildText('body')).to.equal(BODY);

    const aliceAuth = await line('authenticated', { account: 'alice@localhost', mechanism: 'PLAIN' });
    const aliceSession = aliceAuth.session as string;
    expect(aliceAuth).to.include({ level: INFO, address: '127.0.0.1' });
    expect(await line('connection opened', { session: aliceSession })).to.include({ level: INFO, address: '127.0.0.1', transport: 'tcp-starttls' });
    expect(await line('resource bound', { session: aliceSession })).to.include({ level: INFO, jid: aliceJid, address: '127.0.0.1' });

    const failed = await line('authentication failed');
    expect(failed).to.include({ level: INFO, account: 'alice@localhost', mechanism: 'PLAIN', address: '127.0.0.1', condition: 'not-authorized' });
    const guesserSession = failed.session as string;
    expect(guesserSession).to.be.a('string').and.not.equal(aliceSession);
    expect(await line('connection opened', { session: guesserSession })).to.include({ transport: 'tcp-direct-tls', address: '127.0.0.1' });

    const bobAuth = await line('authenticated', { account: 'bob@localhost' });
    const bobSession = bobAuth.session as string;
    expect(bobAuth).to.include({ level: INFO, mechanism: 'SCRAM-SHA-1', address: '127.0.0.1' });
    expect(await line('connection opened', { session: bobSession })).to.include({ transport: 'websocket', address: '127.0.0.1' });
    expect(await line('resource bound', { session: bobSession })).to.include({ jid: bobJid });

    // alice closes her stream; bob's connection drops without a closing handshake.
    alice.send('</stream:stream>');
    await alice.waitClosed();
    expect(await line('connection closed', { session: aliceSession })).to.include({
      level: INFO,
      reason: 'peer-closed',
      jid: aliceJid,
      transport: 'tcp-starttls',
      address: '127.0.0.1',
    });
    bob.terminate();
    expect(await line('connection closed', { session: bobSession })).to.include({ reason: 'transport-lost', jid: bobJid, transport: 'websocket' });

    // The guesser's stream is still negotiating when the server shuts down.
    p.signal('SIGTERM');
    expect(await guesser.streamError()).to.equal('system-shutdown');
    guesser.send('</stream:stream>');
    expect(await p.waitExit(10_000)).to.deep.equal({ code: 0, signal: null });
    const shutdown = p.logs.find((l) => l.msg === 'connection closed' && l.session === guesserSession);
    expect(shutdown).to.include({ reason: 'system-shutdown', transport: 'tcp-direct-tls' });
    expect(shutdown).to.not.have.property('jid');
    expect(p.logs.at(-1)!.msg).to.equal('Chorus stopped');

    // Every session opened was closed once, and every line about one is at info.
    const opened = p.logs.filter((l) => l.msg === 'connection opened').map((l) => l.session);
    const closed = p.logs.filter((l) => l.msg === 'connection closed').map((l) => l.session);
    expect([...closed].sort()).to.deep.equal([...opened].sort());
    expect(new Set(opened).size).to.equal(3);
    for (const l of p.logs.filter((l) => l.session !== undefined)) expect(l.level, l.msg).to.equal(INFO);

    // Nothing secret or private, in any form: passwords, PLAIN payloads (base64), the body.
    const output = [JSON.stringify(p.logs), ...p.otherOutput, p.stderr].join('\n');
    const plain = (pw: string) => Buffer.from(`\0alice\0${pw}`).toString('base64');
    for (const secret of [ALICE_PASSWORD, BOB_PASSWORD, WRONG_PASSWORD, plain(ALICE_PASSWORD), plain(WRONG_PASSWORD), BODY, 'secret1']) {
      expect(output, secret).to.not.contain(secret);
    }
  });
});
