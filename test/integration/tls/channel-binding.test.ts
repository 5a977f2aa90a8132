import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { CertificateStore } from '../../../server/tls/certificate-store.ts';
import { channelBinding, supportedChannelBindings, tlsExporter, tlsServerEndPoint, tlsUnique } from '../../../server/tls/channel-binding.ts';
import { createCertificate } from '../../../server/tls/self-signed.ts';
import type { CertificateOptions } from '../../../server/tls/self-signed.ts';
import type { ChannelBindingType } from '../../../server/tls/channel-binding.ts';
import { captureLogger, makeTempDir, removeTempDir, writePair } from '../../unit/tls/fixtures.ts';
import { closeClients, connectTls, listenTls, sessionOf } from './tls-harness.ts';
import type { TlsListener } from './tls-harness.ts';

/**
 * One host per certificate kind, all in one store so SNI picks among them. `hash` is the test's
 * own reading of RFC 5929 §4.1 for the certificate it built (undefined: no binding defined).
 */
const CERTIFICATES: { host: string; options: Omit<CertificateOptions, 'names'>; hash: string | undefined }[] = [
  { host: 'ecdsa-p256.example', options: { keyType: 'ec-p256', hash: 'sha256' }, hash: 'sha256' },
  { host: 'rsa-sha256.example', options: { keyType: 'rsa-2048', hash: 'sha256' }, hash: 'sha256' },
  { host: 'ecdsa-sha384.example', options: { keyType: 'ec-p384', hash: 'sha384' }, hash: 'sha384' },
  { host: 'rsa-pss-sha512.example', options: { keyType: 'rsa-2048', hash: 'sha512', rsaPss: true }, hash: 'sha512' },
  { host: 'ed25519.example', options: { keyType: 'ed25519' }, hash: undefined },
];

const EXPORTER_LABEL = 'EXPORTER-Channel-Binding';

/**
 * CPython's ssl module as a TLS client, as slixmpp uses it: two connections, the second resuming
 * the first's session; for each, one JSON line with the version, whether the session was reused,
 * and what get_channel_binding('tls-unique') returns. It reads until the server closes before
 * keeping the session: Node's TLS 1.3 ticket comes after the server's first data, not with the handshake.
 */
const CPYTHON_CLIENT = `
import json, socket, ssl, sys
port, version, servername = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.maximum_version = getattr(ssl.TLSVersion, version)
session = None
for _ in range(2):
    with socket.create_connection(('127.0.0.1', port)) as raw:
        with ctx.wrap_socket(raw, server_hostname=servername, session=session) as s:
            print(json.dumps({'version': s.version(), 'reused': s.session_reused,
                              'tls_unique': s.get_channel_binding('tls-unique').hex()}), flush=True)
            while s.recv(64):
                pass
            session = s.session
`;

interface CPythonConnection { version: string; reused: boolean; tls_unique: string }

/** Runs CPYTHON_CLIENT against `port`, and reads the server's side of each connection from `nextSecure`. */
async function cpythonClient(port: number, version: 'TLSv1_2' | 'TLSv1_3', nextSecure: () => Promise<TLSSocket>): Promise<{ client: CPythonConnection[]; server: { reused: boolean; tlsUnique: string }[] }> {
  const run = new Promise<string>((resolve, reject) => {
    execFile('python3', ['-c', CPYTHON_CLIENT, String(port), version, 'ecdsa-p256.example'], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`python3 failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
  const server: { reused: boolean; tlsUnique: string }[] = [];
  for (let i = 0; i < 2; i++) {
    const socket = await Promise.race([nextSecure(), run.then(() => { throw new Error('python3 ended early'); })]);
    server.push({ reused: socket.isSessionReused(), tlsUnique: tlsUnique(socket)!.toString('hex') });
    socket.end('x');
  }
  const client = (await run).trim().split('\n').map((line) => JSON.parse(line) as CPythonConnection);
  return { client, server };
}

describe('channel binding on real TLS connections', () => {
  let dir: string;
  let store: CertificateStore;
  let listener: TlsListener;

  before(async () => {
    dir = await makeTempDir();
    const explicit: Record<string, { cert: string; key: string }> = {};
    for (const { host, options } of CERTIFICATES) {
      explicit[host] = await writePair(dir, createCertificate({ names: [host], ...options }), { cert: `${host}.crt`, key: `${host}.key` });
    }
    store = new CertificateStore({ dataDir: dir, hosts: CERTIFICATES.map((c) => c.host), explicit, log: captureLogger().log });
    await store.load();
    listener = await listenTls('starttls', () => store.serverOptions());
  });
  after(async () => {
    await listener.close();
    await removeTempDir(dir);
  });
  afterEach(() => closeClients());

  /** `peer`: the certificate the client received. Node 20 answers getPeerX509Certificate() only once per socket. */
  async function connect(host: string, maxVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.3'): Promise<{ client: TLSSocket; server: TLSSocket; peer: X509Certificate }> {
    const client = await connectTls(listener.port, { servername: host, maxVersion });
    const server = await listener.nextSecure();
    const peer = client.getPeerX509Certificate()!;
    expect(peer.fingerprint256).to.equal(store.fingerprint(host));
    return { client, server, peer };
  }

  describe('tls-exporter (RFC 9266)', () => {
    it('agrees with the client on TLS 1.3 and differs per connection', async () => {
      const a = await connect('ecdsa-p256.example');
      const b = await connect('ecdsa-p256.example');
      expect(a.server.getProtocol()).to.equal('TLSv1.3');
      const serverA = tlsExporter(a.server)!;
      expect(serverA).to.have.length(32);
      expect(serverA.equals(a.client.exportKeyingMaterial(32, EXPORTER_LABEL, Buffer.alloc(0)))).to.equal(true);
      const serverB = tlsExporter(b.server)!;
      expect(serverB.equals(b.client.exportKeyingMaterial(32, EXPORTER_LABEL, Buffer.alloc(0)))).to.equal(true);
      expect(serverA.equals(serverB)).to.equal(false);
      expect(supportedChannelBindings(a.server)).to.deep.equal(['tls-exporter', 'tls-server-end-point']);
    });

    it('is not offered on TLS 1.2', async () => {
      const { server } = await connect('ecdsa-p256.example', 'TLSv1.2');
      expect(server.getProtocol()).to.equal('TLSv1.2');
      expect(tlsExporter(server)).to.equal(undefined);
      expect(supportedChannelBindings(server)).to.deep.equal(['tls-server-end-point']);
    });
  });

  it('offers nothing before the handshake, and does not remember that', async () => {
    const before: ChannelBindingType[][] = [];
    const secured = new Promise<TLSSocket>((resolve) => {
      const server = net.createServer((raw) => {
        const socket = new tls.TLSSocket(raw, { isServer: true, ...store.serverOptions() });
        before.push(supportedChannelBindings(socket));
        socket.on('secure', () => {
          server.close();
          resolve(socket);
        });
      });
      server.listen(0, '127.0.0.1', () => {
        void connectTls((server.address() as net.AddressInfo).port, { servername: 'ecdsa-p256.example' });
      });
    });
    const socket = await secured;
    expect(before).to.deep.equal([[]]);
    expect(tlsServerEndPoint(socket)).to.have.length(32);
    expect(supportedChannelBindings(socket)).to.deep.equal(['tls-exporter', 'tls-server-end-point']);
    socket.destroy();
  });

  describe('tls-unique (RFC 5929 §3.1; on TLS 1.3 as OpenSSL and CPython compute it)', () => {
    it('TLS 1.3: the client\'s Finished on a full handshake, the server\'s on a resumed one; never advertised', async () => {
      const first = await connect('ecdsa-p256.example');
      expect(first.server.getProtocol()).to.equal('TLSv1.3');
      expect(first.server.isSessionReused()).to.equal(false);
      const full = tlsUnique(first.server)!;
      expect(full.length).to.be.at.least(32); // HMAC output of the suite's hash (RFC 8446 §4.4.4)
      expect(full.equals(first.client.getFinished()!)).to.equal(true);
      expect(channelBinding(first.server, 'tls-unique')!.equals(full)).to.equal(true);
      expect(supportedChannelBindings(first.server)).to.not.include('tls-unique');

      const session = await sessionOf(first.client);
      const again = await connectTls(listener.port, { servername: 'ecdsa-p256.example', session });
      const second = await listener.nextSecure();
      expect(second.isSessionReused()).to.equal(true);
      const resumed = tlsUnique(second)!;
      expect(resumed.equals(again.getPeerFinished()!)).to.equal(true);
      expect(resumed.equals(second.getFinished()!)).to.equal(true);
      expect(resumed.equals(full)).to.equal(false);
      expect(supportedChannelBindings(second)).to.not.include('tls-unique');
    });

    it('TLS 1.2: RFC 5929\'s first Finished of the handshake, 12 bytes, the client\'s (full) or the server\'s (resumed)', async () => {
      const first = await connect('ecdsa-p256.example', 'TLSv1.2');
      expect(first.server.getProtocol()).to.equal('TLSv1.2');
      const full = tlsUnique(first.server)!;
      expect(full).to.have.length(12);
      expect(full.equals(first.client.getFinished()!)).to.equal(true);

      const session = await sessionOf(first.client);
      const again = await connectTls(listener.port, { servername: 'ecdsa-p256.example', session, maxVersion: 'TLSv1.2' });
      const second = await listener.nextSecure();
      expect(second.isSessionReused()).to.equal(true);
      expect(tlsUnique(second)!.equals(again.getPeerFinished()!)).to.equal(true);
      expect(supportedChannelBindings(second)).to.deep.equal(['tls-server-end-point']);
    });

    it('differs per connection', async () => {
      const a = await connect('ecdsa-p256.example');
      const b = await connect('ecdsa-p256.example');
      expect(tlsUnique(a.server)!.equals(tlsUnique(b.server)!)).to.equal(false);
    });

    for (const [version, label, length] of [['TLSv1_3', 'TLS 1.3', 32], ['TLSv1_2', 'TLS 1.2', 12]] as const) {
      it(`equals what CPython's ssl (slixmpp's get_channel_binding()) computes on ${label}, full and resumed`, async () => {
        const { client, server } = await cpythonClient(listener.port, version, () => listener.nextSecure());
        expect(client.map((c) => [c.version, c.reused])).to.deep.equal([[label.replace(' ', 'v'), false], [label.replace(' ', 'v'), true]]);
        expect(server.map((s) => s.reused)).to.deep.equal([false, true]);
        for (let i = 0; i < 2; i++) {
          expect(client[i]!.tls_unique, `connection ${i + 1}`).to.equal(server[i]!.tlsUnique);
          expect(client[i]!.tls_unique).to.have.length(length * 2);
        }
        expect(client[0]!.tls_unique).to.not.equal(client[1]!.tls_unique);
      });
    }
  });

  describe('tls-server-end-point (RFC 5929 §4.1)', () => {
    for (const { host, hash } of CERTIFICATES) {
      it(`matches the client's hash of the certificate for ${host}`, async () => {
        const { server, peer } = await connect(host);
        const binding = tlsServerEndPoint(server);
        if (hash === undefined) {
          expect(binding).to.equal(undefined);
          expect(supportedChannelBindings(server)).to.deep.equal(['tls-exporter']);
          return;
        }
        const expected = createHash(hash).update(peer.raw).digest();
        expect(binding!.toString('hex')).to.equal(expected.toString('hex'));
        expect(binding).to.have.length(expected.length);
      });
    }

    it('also holds on TLS 1.2 with an RSA certificate', async () => {
      const { server, peer } = await connect('rsa-sha256.example', 'TLSv1.2');
      expect(server.getProtocol()).to.equal('TLSv1.2');
      const expected = createHash('sha256').update(peer.raw).digest();
      expect(tlsServerEndPoint(server)!.equals(expected)).to.equal(true);
    });
  });
});
