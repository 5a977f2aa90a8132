// `chorus start` as a child process: its JSON logs (ports, the generated certificate's
// fingerprint), graceful shutdown on SIGTERM and SIGINT (every stream gets <system-shutdown/>
// and its closing tag, then the process exits 0 in bounded time), and data kept across restarts.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as net from 'node:net';
import tls from 'node:tls';
import { ChorusProcess, makeTempDir, runCli, writeConfig } from '../../support/chorus-process.ts';
import { RawClient } from '../../support/raw-client.ts';
import { WsClient, NS_FRAMING } from '../../support/ws-client.ts';
import { connectClient } from '../../support/xmpp-client.ts';
import { testCertificate } from '../../support/test-certificate.ts';

const GRACE_SECONDS = 2;
/** How long the whole shutdown may take: the grace period plus generous room for a loaded machine. */
const EXIT_BOUND_MS = GRACE_SECONDS * 1000 + 4000;

/** 'connected' or the error code of a TCP connection attempt. */
function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve('connected');
    });
    s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('lifecycle: `chorus start` as a process', function () {
  this.timeout(90_000);
  let dir: string;
  const processes: ChorusProcess[] = [];
  const sockets: { destroy?(): void; terminate?(): void }[] = [];

  before(async () => {
    dir = await makeTempDir('chorus-lifecycle-');
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) (s.destroy ?? s.terminate)!.call(s);
    await Promise.all(processes.splice(0).map((p) => p.stop()));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function start(config: string): Promise<ChorusProcess> {
    const p = await ChorusProcess.start(config);
    processes.push(p);
    return p;
  }

  function wsUrl(p: ChorusProcess): string {
    return `ws://127.0.0.1:${p.port('http')}/xmpp-websocket`;
  }

  describe('graceful shutdown', () => {
    let config: string;

    before(async () => {
      // The test certificate, which the test clients trust, so STARTTLS and direct TLS verify.
      const cert = testCertificate();
      config = await writeConfig(dir, {
        dataDir: join(dir, 'data'),
        log: { level: 'info' },
        hosts: [{ domain: 'localhost', certificate: { cert: cert.certFile, key: cert.keyFile } }],
        listeners: [
          { type: 'c2s', address: '127.0.0.1', port: 0, tls: 'starttls' },
          { type: 'c2s', address: '127.0.0.1', port: 0, tls: 'direct' },
          { type: 'http', address: '127.0.0.1', port: 0 },
        ],
        shutdownGraceSeconds: GRACE_SECONDS,
      });
      const accounts = join(dir, 'accounts.txt');
      await writeFile(accounts, 'alice@localhost wonderland\nbob@localhost builder\n');
      const add = await runCli(['adduser', '--bulk', accounts, '--config', config]);
      expect(add.code, add.stderr).to.equal(0);
    });

    it('logs JSON lines on a non-TTY stdout, with the port of every listener', async () => {
      const p = await start(config);
      expect(p.otherOutput).to.deep.equal([]);
      const listening = p.logs.filter((l) => l.msg === 'listening');
      expect(listening.map((l) => l.listener)).to.deep.equal(['c2s-starttls', 'c2s-direct-tls', 'http']);
      for (const l of listening) {
        expect(l.address).to.equal('127.0.0.1');
        expect(l.port).to.be.a('number').greaterThan(0);
      }
    });

    it('SIGTERM: each stream gets <system-shutdown/> then its closing tag, the process exits 0, and the accounts survive a restart', async () => {
      const p = await start(config);
      const starttls = await RawClient.connect(p.port('c2s-starttls'));
      const direct = await RawClient.connect(p.port('c2s-direct-tls'), { directTls: true });
      const ws = await WsClient.connect(wsUrl(p));
      sockets.push(starttls, direct, ws);
      await starttls.login('alice', 'wonderland', 'tcp');
      await direct.login('alice', 'wonderland', 'direct');
      await ws.login('bob', 'builder', 'web');

      const signalledAt = Date.now();
      p.signal('SIGTERM');
      // RFC 6120 §4.9.3.22: <system-shutdown/> and then the closing tag, which the client answers (§4.4).
      for (const c of [starttls, direct]) {
        expect(await c.streamError()).to.equal('system-shutdown');
        c.send('</stream:stream>');
        await c.waitClosed();
      }
      // RFC 7395 §3.5, §3.6: the stream error, then <close/>, which the client answers.
      expect(await ws.streamError()).to.equal('system-shutdown');
      ws.send(`<close xmlns='${NS_FRAMING}'/>`);
      expect((await ws.waitClosed()).code).to.equal(1000);

      const exit = await p.waitExit(EXIT_BOUND_MS);
      expect(exit).to.deep.equal({ code: 0, signal: null });
      // Every client answered, so nothing waited for the grace period.
      expect(Date.now() - signalledAt).to.be.lessThan(GRACE_SECONDS * 1000);
      expect(p.logs.find((l) => l.msg === 'shutting down')).to.include({ signal: 'SIGTERM' });
      expect(p.logs.at(-1)!.msg).to.equal('Chorus stopped');

      // The embedded store was flushed to disk: the accounts log in after a restart.
      const again = await start(config);
      const alice = await connectClient({ service: `xmpp://127.0.0.1:${again.port('c2s-starttls')}`, username: 'alice', password: 'wonderland' });
      expect(alice.jid).to.match(/^alice@localhost\//);
      await alice.stop();
      const bob = await connectClient({ service: wsUrl(again), username: 'bob', password: 'builder' });
      expect(bob.jid).to.match(/^bob@localhost\//);
      await bob.stop();
    });

    it('SIGINT: the same, and clients that never answer do not hold the exit beyond the grace period', async () => {
      const p = await start(config);
      const tcp = await RawClient.connect(p.port('c2s-starttls'));
      const ws = await WsClient.connect(wsUrl(p));
      const unauthenticated = await RawClient.connect(p.port('c2s-starttls'));
      sockets.push(tcp, ws, unauthenticated);
      await tcp.login('alice', 'wonderland', 'silent');
      await ws.login('bob', 'builder', 'silent');
      await unauthenticated.open();

      const signalledAt = Date.now();
      p.signal('SIGINT');
      // None of them answers the server's closing tag.
      expect(await tcp.streamError()).to.equal('system-shutdown');
      expect(await ws.streamError()).to.equal('system-shutdown');
      // A stream still negotiating is shut down too.
      expect(await unauthenticated.streamError()).to.equal('system-shutdown');
      // Listeners stopped accepting before the streams were told.
      expect(await connectOutcome(p.port('c2s-starttls'))).to.equal('ECONNREFUSED');
      expect(await connectOutcome(p.port('http'))).to.equal('ECONNREFUSED');

      const exit = await p.waitExit(EXIT_BOUND_MS);
      expect(exit).to.deep.equal({ code: 0, signal: null });
      expect(Date.now() - signalledAt).to.be.lessThan(EXIT_BOUND_MS);
      await tcp.waitClosed(1000);
      await unauthenticated.waitClosed(1000);
      await ws.waitClosed(1000);
      expect(p.logs.find((l) => l.msg === 'shutting down')).to.include({ signal: 'SIGINT' });
    });

    it('an idle server (no clients) exits 0 at once on SIGTERM', async () => {
      const p = await start(config);
      const signalledAt = Date.now();
      p.signal('SIGTERM');
      expect(await p.waitExit(EXIT_BOUND_MS)).to.deep.equal({ code: 0, signal: null });
      expect(Date.now() - signalledAt).to.be.lessThan(GRACE_SECONDS * 1000);
    });
  });

  describe('certificates on first start', () => {
    it("logs the generated certificate's SHA-256 fingerprint, serves that certificate, and reuses it after a restart", async () => {
      const dataDir = join(dir, 'fresh-data');
      const config = await writeConfig(
        dir,
        {
          dataDir,
          log: { level: 'info' },
          hosts: [{ domain: 'localhost' }],
          listeners: [{ type: 'c2s', address: '127.0.0.1', port: 0, tls: 'direct' }],
          shutdownGraceSeconds: GRACE_SECONDS,
        },
        'fresh.yaml',
      );
      const first = await start(config);
      const generated = first.logs.find((l) => /generated a self-signed certificate/.test(l.msg));
      expect(generated, 'a log line announcing the generated certificate').to.not.equal(undefined);
      const onDisk = new X509Certificate(await readFile(join(dataDir, 'certs', 'localhost', 'fullchain.pem'))).fingerprint256;
      expect(generated).to.include({ host: 'localhost', fingerprint: onDisk });
      expect(onDisk).to.match(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

      // The certificate a TLS client gets is the one whose fingerprint was logged.
      const served = await new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: first.port('c2s-direct-tls'), servername: 'localhost', rejectUnauthorized: false }, () => {
          resolve(s.getPeerCertificate().fingerprint256);
          s.destroy();
        });
        s.on('error', reject);
      });
      expect(served).to.equal(onDisk);

      first.signal('SIGTERM');
      expect((await first.waitExit(EXIT_BOUND_MS)).code).to.equal(0);

      const second = await start(config);
      expect(second.logs.some((l) => /generated a self-signed certificate/.test(l.msg))).to.equal(false);
      expect(second.logs.find((l) => l.msg === 'certificate loaded')).to.include({ host: 'localhost', source: 'stored', fingerprint: onDisk });
    });
  });
});
