import { expect } from 'chai';
import { createHash } from 'node:crypto';
import type { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { CertificateStore } from '../../../server/tls/certificate-store.ts';
import { supportedChannelBindings, tlsExporter, tlsServerEndPoint } from '../../../server/tls/channel-binding.ts';
import { createCertificate } from '../../../server/tls/self-signed.ts';
import type { CertificateOptions } from '../../../server/tls/self-signed.ts';
import type { ChannelBindingType } from '../../../server/tls/channel-binding.ts';
import { captureLogger, makeTempDir, removeTempDir, writePair } from '../../unit/tls/fixtures.ts';
import { closeClients, connectTls, listenTls } from './tls-harness.ts';
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
