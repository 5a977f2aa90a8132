// Listening as a new user meets it: every interface means IPv6 and IPv4 by default, a port in
// use stops the start in one line naming the listener before any is announced, and the
// certificate's fingerprints are logged in both forms clients show.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import * as net from 'node:net';
import * as http from 'node:http';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ChorusProcess, makeTempDir, writeConfig } from '../../support/chorus-process.ts';
import { RawClient } from '../../support/raw-client.ts';
import { testCertificate } from '../../support/test-certificate.ts';

function httpStatus(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host, port, path: '/.well-known/host-meta' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

describe('listeners: dual-stack default, ports in use, fingerprints', function () {
  this.timeout(60_000);
  let dir: string;
  const processes: ChorusProcess[] = [];

  beforeEach(async () => {
    dir = await makeTempDir('chorus-listeners-');
  });
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.stop()));
    await rm(dir, { recursive: true, force: true });
  });

  it('without an address, listens on every interface, IPv6 and IPv4: clients reach it on ::1 and 127.0.0.1', async () => {
    const cert = testCertificate();
    const cfg = await writeConfig(dir, {
      dataDir: join(dir, 'data'),
      log: { level: 'info' },
      hosts: [{ domain: 'localhost', certificate: { cert: cert.certFile, key: cert.keyFile } }],
      listeners: [{ type: 'c2s', port: 0 }, { type: 'http', port: 0 }],
    });
    const p = await ChorusProcess.start(cfg);
    processes.push(p);
    expect(p.logs.filter((l) => l.msg === 'listening').map((l) => l.address)).to.deep.equal(['::', '::']);
    for (const host of ['127.0.0.1', '::1']) {
      expect(await httpStatus(host, p.port('http')), host).to.equal(200);
      const c = await RawClient.connect(p.port('c2s-starttls'), { host });
      try {
        const features = await c.open();
        expect(features.getChild('starttls'), host).to.not.equal(undefined);
      } finally {
        c.destroy();
      }
    }
  });

  it("an explicit '0.0.0.0' is IPv4 only", async () => {
    const cfg = await writeConfig(dir, {
      dataDir: join(dir, 'data'),
      log: { level: 'info' },
      hosts: [{ domain: 'localhost' }],
      listeners: [{ type: 'http', address: '0.0.0.0', port: 0 }],
    });
    const p = await ChorusProcess.start(cfg);
    processes.push(p);
    expect(await httpStatus('127.0.0.1', p.port('http'))).to.equal(200);
    const refused = await httpStatus('::1', p.port('http')).then(String, (err: NodeJS.ErrnoException) => err.code);
    expect(refused).to.equal('ECONNREFUSED');
  });

  it('a port in use: exit 1 with one line naming the listener and the key to change, nothing announced as listening', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const held = (blocker.address() as net.AddressInfo).port;
    try {
      const cfg = await writeConfig(dir, {
        dataDir: join(dir, 'data'),
        log: { level: 'info' },
        hosts: [{ domain: 'localhost' }],
        listeners: [
          { type: 'c2s', address: '127.0.0.1', port: 0 },
          { type: 'c2s', address: '127.0.0.1', port: 0, tls: 'direct' },
          { type: 'http', address: '127.0.0.1', port: held },
        ],
      });
      const p = ChorusProcess.spawn(cfg);
      processes.push(p);
      const exit = await p.waitExit(20_000);
      expect(exit.code).to.equal(1);
      expect(p.stderr.trim().split('\n')).to.deep.equal([
        `chorus: listeners.2 (http) cannot listen on 127.0.0.1:${held}: the port is in use by another program; stop it, or change listeners.2.port`,
      ]);
      expect(p.logs.filter((l) => l.msg === 'listening' || l.msg === 'Chorus started')).to.deep.equal([]);
      // No stack, no error logged on the way: the one line says it all.
      expect(p.logs.filter((l) => l.level >= 50)).to.deep.equal([]);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('logs the certificate\'s SHA-256 and SHA-1 fingerprints', async () => {
    const cfg = await writeConfig(dir, {
      dataDir: join(dir, 'data'),
      log: { level: 'info' },
      hosts: [{ domain: 'localhost' }],
      listeners: [{ type: 'c2s', address: '127.0.0.1', port: 0 }],
    });
    const p = await ChorusProcess.start(cfg);
    processes.push(p);
    const leaf = new X509Certificate(await readFile(join(dir, 'data', 'certs', 'localhost', 'fullchain.pem')));
    for (const msg of [/generated a self-signed certificate/, /^certificate loaded$/]) {
      const line = p.logs.find((l) => msg.test(l.msg));
      expect(line).to.include({ fingerprint: leaf.fingerprint256, fingerprintSha1: leaf.fingerprint });
    }
    expect(leaf.fingerprint).to.match(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
  });
});
