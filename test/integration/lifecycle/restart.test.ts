// What operators do to a running server, through what they run (the compiled build and
// `npm start`): kill -9 and start again at once, start a second server on the same data, and
// stop it with Ctrl-C in a terminal, where the signal reaches npm and the server together.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { ChorusProcess, REPO_ROOT, makeTempDir, runCli, writeConfig, type Launcher } from '../../support/chorus-process.ts';
import { RawClient } from '../../support/raw-client.ts';
import { connectClient } from '../../support/xmpp-client.ts';
import { testCertificate } from '../../support/test-certificate.ts';

const RESTARTS = 20;

/** Whether a process has exited but was not reaped (state Z in /proc/PID/stat). */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

describe('lifecycle: restarts and signals, as operators run the server', function () {
  this.timeout(180_000);
  let dir: string;
  let config: string;
  const processes: ChorusProcess[] = [];
  const clients: RawClient[] = [];

  before(async () => {
    dir = await makeTempDir('chorus-restart-');
    const cert = testCertificate();
    config = await writeConfig(dir, {
      dataDir: join(dir, 'data'),
      log: { level: 'info' },
      hosts: [{ domain: 'localhost', certificate: { cert: cert.certFile, key: cert.keyFile } }],
      listeners: [
        { type: 'c2s', address: '127.0.0.1', port: 0, tls: 'starttls' },
        { type: 'http', address: '127.0.0.1', port: 0 },
      ],
      shutdownGraceSeconds: 10,
    });
    const accounts = join(dir, 'accounts.txt');
    await writeFile(accounts, 'alice@localhost wonderland\n');
    const add = await runCli(['adduser', '--bulk', accounts, '--config', config]);
    expect(add.code, add.stderr).to.equal(0);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await Promise.all(processes.splice(0).map((p) => p.stop()));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function start(launcher: Launcher = 'build'): Promise<ChorusProcess> {
    const p = await ChorusProcess.start(config, { launcher });
    processes.push(p);
    return p;
  }

  async function loggedIn(p: ChorusProcess): Promise<RawClient> {
    const c = await RawClient.connect(p.port('c2s-starttls'));
    clients.push(c);
    await c.login('alice', 'wonderland', 'desk');
    return c;
  }

  it('the compiled build finds package.json from build/: its software version (XEP-0092) is the package\'s', async () => {
    const built = (await import(pathToFileURL(join(REPO_ROOT, 'build', 'xep', 'version', 'index.js')).href)) as { SOFTWARE_VERSION: string };
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(built.SOFTWARE_VERSION).to.equal(pkg.version);
  });

  it(`starts again at once after kill -9, ${RESTARTS} times in a row, with its data`, async () => {
    // Each killed server stays a zombie (its parent does not reap it): it no longer holds anything,
    // though kill(pid, 0) still finds it.
    let p = await start('build-unreaped');
    for (let i = 0; i < RESTARTS; i++) {
      const killed = p.pid;
      p.signal('SIGKILL');
      p = await start('build-unreaped');
      expect(isZombie(killed), `restart ${i + 1}: the killed server is a zombie`).to.equal(true);
      expect(p.logs.some((l) => /in use by another/.test(l.msg)), `restart ${i + 1}`).to.equal(false);
    }
    const alice = await connectClient({ service: `xmpp://127.0.0.1:${p.port('c2s-starttls')}`, username: 'alice', password: 'wonderland' });
    expect(alice.jid).to.match(/^alice@localhost\//);
    await alice.stop();
  });

  it('refuses a second live server on the same data directory, in one line naming the first one', async () => {
    const first = await start();
    const second = ChorusProcess.spawn(config, { launcher: 'build' });
    processes.push(second);
    const exit = await second.waitExit(15_000);
    expect(exit.code).to.equal(1);
    expect(second.stderr.trim().split('\n')).to.deep.equal([`chorus: the data directory ${join(dir, 'data', 'db')} is in use by another Chorus process (pid ${first.pid})`]);
    expect(second.logs.some((l) => l.msg === 'listening')).to.equal(false);
    // The first one was not disturbed.
    await loggedIn(first);
  });

  it('Ctrl-C on `npm start` (SIGINT to npm and the server at once): clients get <system-shutdown/>, the server logs "Chorus stopped", npm exits 0, and it starts again at once', async () => {
    for (let round = 0; round < 3; round++) {
      const p = await start('npm-start');
      const alice = await loggedIn(p);
      p.signalGroup('SIGINT');
      expect(await alice.streamError()).to.equal('system-shutdown');
      alice.send('</stream:stream>');
      await alice.waitClosed();
      expect(await p.waitExit(15_000), `round ${round + 1}`).to.deep.equal({ code: 0, signal: null });
      expect(p.logs.filter((l) => l.msg === 'shutting down')).to.have.length(1);
      expect(p.logs.at(-1)!.msg).to.equal('Chorus stopped');
    }
    await loggedIn(await start('npm-start'));
  });

  it('a second signal during the shutdown does not cut it short', async () => {
    const p = await start();
    const alice = await loggedIn(p);
    // Two signals, as the terminal and npm deliver them (the second once the first is handled:
    // sent back to back they may reach the process as one).
    p.signal('SIGINT');
    await p.waitForLog((l) => l.msg === 'shutting down');
    p.signal('SIGINT');
    await p.waitForLog((l) => /already shutting down/.test(l.msg));
    expect(await alice.streamError()).to.equal('system-shutdown');
    alice.send('</stream:stream>');
    await alice.waitClosed();
    expect(await p.waitExit(15_000)).to.deep.equal({ code: 0, signal: null });
    expect(p.logs.map((l) => l.msg)).to.include.members(['shutting down', 'Chorus stopped']);
  });

  it('a third signal forces the exit without waiting for clients that do not answer', async () => {
    const p = await start();
    const alice = await loggedIn(p);
    p.signal('SIGINT');
    expect(await alice.streamError()).to.equal('system-shutdown');
    // Alice never answers the closing tag: the shutdown would wait the 10 s grace period.
    const forcedAt = Date.now();
    // One at a time: signals sent back to back may reach the process as one.
    p.signal('SIGINT');
    await p.waitForLog((l) => /already shutting down/.test(l.msg));
    p.signal('SIGINT');
    const exit = await p.waitExit(5_000);
    expect(exit).to.deep.equal({ code: 130, signal: null });
    expect(Date.now() - forcedAt).to.be.lessThan(5_000);
    expect(p.logs.some((l) => l.msg === 'Chorus stopped')).to.equal(false);
    // Forced or not, the next start finds the store free.
    await loggedIn(await start());
  });
});
