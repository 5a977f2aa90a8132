// `chorus check` reports the storage, the certificates, the listeners' ports and the metrics
// endpoint, tells a running Chorus on the same data directory apart from another program, and
// prints DNS records only for domains that can have public DNS.
import { expect } from 'chai';
import * as net from 'node:net';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ChorusProcess, makeTempDir, runCli, writeConfig } from '../../support/chorus-process.ts';
import { testCertificate } from '../../support/test-certificate.ts';

/** A port nobody holds right now (the kernel's pick, released at once). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A socket holding a port, as another program would. */
async function holdPort(): Promise<net.Server> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return s;
}

const lines = (stdout: string) => stdout.split('\n');

describe('CLI: chorus check', function () {
  this.timeout(60_000);
  let dir: string;
  const cleanup: (() => Promise<void> | void)[] = [];

  beforeEach(async () => {
    dir = await makeTempDir('chorus-check-');
  });
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
    await rm(dir, { recursive: true, force: true });
  });

  async function config(extra: Record<string, unknown>): Promise<string> {
    const cert = testCertificate();
    return writeConfig(dir, {
      dataDir: join(dir, 'data'),
      log: { level: 'info' },
      hosts: [{ domain: 'localhost', certificate: { cert: cert.certFile, key: cert.keyFile } }],
      ...extra,
    });
  }

  it('on a localhost configuration: storage, certificate, free ports and the metrics URL; no DNS records', async () => {
    const [c2s, http] = [await freePort(), await freePort()];
    const cfg = await config({
      listeners: [
        { type: 'c2s', address: '127.0.0.1', port: c2s },
        { type: 'http', address: '127.0.0.1', port: http },
      ],
    });
    const r = await runCli(['check', '--config', cfg]);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(lines(r.stdout)).to.include.members([
      'configuration: valid (1 host, storage embedded)',
      `storage: embedded, ${join(dir, 'data', 'db')}: created at the first start`,
      'localhost: certificate ok (self-signed: clients will warn)',
      `listeners.0 (c2s, starttls) 127.0.0.1:${c2s}: free`,
      `listeners.1 (http) 127.0.0.1:${http}: free`,
      `metrics: http://127.0.0.1:${http}/metrics, answered to 127.0.0.0/8, ::1`,
      'DNS: nothing to publish for localhost (.localhost names are for local or test use)',
    ]);
    expect(r.stdout).to.not.include('IN SRV');
    expect(r.stdout).to.not.include('IN A');
  });

  it('prints the SRV and A records of a public domain, and skips the others with the reason', async () => {
    const cfg = await writeConfig(dir, {
      dataDir: join(dir, 'data'),
      hosts: [{ domain: 'xmpp.example.org' }, { domain: 'chat.test' }, { domain: 'intranet' }],
      listeners: [
        { type: 'c2s', address: '127.0.0.1', port: 0, tls: 'starttls' },
        { type: 'c2s', address: '127.0.0.1', port: 0, tls: 'direct' },
      ],
      metrics: { enabled: false },
    });
    const r = await runCli(['check', '--config', cfg]);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    const records = lines(r.stdout).map((l) => l.trim());
    // RFC 6120 §3.2.1 (STARTTLS) and XEP-0368 (direct TLS, preferred by its lower priority).
    expect(records).to.include.members([
      '_xmpp-client._tcp.xmpp.example.org. 3600 IN SRV 5 0 0 xmpp.example.org.',
      '_xmpps-client._tcp.xmpp.example.org. 3600 IN SRV 4 0 0 xmpp.example.org.',
      'xmpp.example.org. 3600 IN A 203.0.113.10',
      'xmpp.example.org. 3600 IN AAAA 2001:db8::10',
      'DNS: nothing to publish for chat.test (.test names are for local or test use)',
      'DNS: nothing to publish for intranet (a single-label name)',
      'metrics: off (metrics.enabled: false)',
      'listeners.0 (c2s, starttls) 127.0.0.1:0: a free port is picked at each start',
    ]);
    expect(records.filter((l) => l.includes(' IN '))).to.have.length(4);
  });

  it('a port held by another program is a problem: exit 1, naming the listener', async () => {
    const blocker = await holdPort();
    cleanup.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const held = (blocker.address() as net.AddressInfo).port;
    const cfg = await config({ listeners: [{ type: 'http', address: '127.0.0.1', port: held }] });
    const r = await runCli(['check', '--config', cfg]);
    expect(r.code).to.equal(1);
    expect(lines(r.stdout)).to.include(`listeners.0 (http) 127.0.0.1:${held}: PROBLEM, in use by another program`);
  });

  it('a data directory that cannot be made is a problem', async () => {
    await writeFile(join(dir, 'a-file'), '');
    const cfg = await writeConfig(dir, {
      dataDir: join(dir, 'a-file', 'data'),
      hosts: [{ domain: 'localhost' }],
      listeners: [{ type: 'c2s', address: '127.0.0.1', port: 0 }],
    });
    const r = await runCli(['check', '--config', cfg]);
    expect(r.code).to.equal(1);
    expect(lines(r.stdout)).to.include(`storage: embedded, ${join(dir, 'a-file', 'data', 'db')}: PROBLEM, ${join(dir, 'a-file')} is not a directory`);
  });

  it('an unreachable MongoDB is a problem, named with the driver\'s reason', async () => {
    const closed = await freePort();
    const cfg = await config({
      storage: { kind: 'mongodb', uri: `mongodb://127.0.0.1:${closed}/chorus` },
      listeners: [{ type: 'c2s', address: '127.0.0.1', port: 0 }],
    });
    const r = await runCli(['check', '--config', cfg]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(new RegExp(`^storage: mongodb: PROBLEM, unreachable: .*ECONNREFUSED 127\\.0\\.0\\.1:${closed}`, 'm'));
  });

  it('with the server running: its storage and ports are reported as the running Chorus\'s, and /metrics answers', async () => {
    const [c2s, http] = [await freePort(), await freePort()];
    const cfg = await config({
      listeners: [
        { type: 'c2s', address: '127.0.0.1', port: c2s },
        { type: 'http', address: '127.0.0.1', port: http },
      ],
    });
    const server = await ChorusProcess.start(cfg);
    cleanup.push(() => server.stop());
    const r = await runCli(['check', '--config', cfg]);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(lines(r.stdout)).to.include.members([
      `a Chorus server is running on ${join(dir, 'data')} (pid ${server.pid})`,
      `storage: embedded, ${join(dir, 'data', 'db')}: in use by the running Chorus (pid ${server.pid})`,
      `listeners.0 (c2s, starttls) 127.0.0.1:${c2s}: in use by the running Chorus (pid ${server.pid})`,
      `listeners.1 (http) 127.0.0.1:${http}: in use by the running Chorus (pid ${server.pid})`,
    ]);
    expect(r.stdout).to.match(/^ {2}answers: \d+ series$/m);
  });
});
