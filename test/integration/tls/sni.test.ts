import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { storedCertificatePaths, writeCertificateFiles } from '../../../server/tls/certificate-files.ts';
import { CertificateStore } from '../../../server/tls/certificate-store.ts';
import { createCertificate } from '../../../server/tls/self-signed.ts';
import { captureLogger, makeTempDir, removeTempDir } from '../../unit/tls/fixtures.ts';
import { closeClients, connectTls, listenTls, sessionOf } from './tls-harness.ts';
import type { ListenerKind, TlsListener } from './tls-harness.ts';

for (const kind of ['direct', 'starttls'] as ListenerKind[]) {
  describe(`TLS with the certificate store (${kind === 'direct' ? 'tls.createServer' : 'TLSSocket upgrade, as STARTTLS'})`, () => {
    let dataDir: string;
    let store: CertificateStore;
    let listener: TlsListener;
    /** The CA option that makes a client trust exactly one host's self-signed certificate. */
    const trust = (host: string): string => store.certificate(host)!.certPem;

    beforeEach(async () => {
      dataDir = await makeTempDir();
      store = new CertificateStore({ dataDir, hosts: ['example.org', 'example.net'], log: captureLogger().log });
      await store.load();
      // the STARTTLS path keeps one options object, as a listener would
      const options = store.serverOptions();
      listener = await listenTls(kind, () => options);
      store.onReload(() => listener.tlsServer?.setSecureContext(store.serverOptions()));
    });
    afterEach(async () => {
      closeClients();
      await listener.close();
      await removeTempDir(dataDir);
    });

    it('presents the certificate of the host the client names, verified by the client', async () => {
      for (const host of ['example.org', 'example.net']) {
        const client = await connectTls(listener.port, { servername: host, ca: trust(host), rejectUnauthorized: true });
        const server = await listener.nextSecure();
        const peer = client.getPeerX509Certificate()!;
        expect(client.authorized).to.equal(true);
        expect(peer.fingerprint256).to.equal(store.fingerprint(host));
        expect(peer.subject).to.equal(`CN=${host}\nO=Chorus self-signed`);
        expect(peer.subjectAltName).to.equal(`DNS:${host}, DNS:*.${host}`);
        expect((server as tls.TLSSocket & { servername?: string }).servername).to.equal(host);
      }
    });

    it('presents a host certificate for its subdomains through the wildcard', async () => {
      const client = await connectTls(listener.port, { servername: 'upload.example.net', ca: trust('example.net'), rejectUnauthorized: true });
      expect(client.getPeerX509Certificate()!.fingerprint256).to.equal(store.fingerprint('example.net'));
    });

    it("presents the default host's certificate for an unknown name and without SNI", async () => {
      const unknown = await connectTls(listener.port, { servername: 'unknown.test' });
      expect(unknown.getPeerX509Certificate()!.fingerprint256).to.equal(store.fingerprint('example.org'));
      const bare = await connectTls(listener.port); // an IP address: no SNI is sent
      expect(bare.getPeerX509Certificate()!.fingerprint256).to.equal(store.fingerprint('example.org'));
    });

    it('negotiates TLS 1.3, and TLS 1.2 for clients that stop there', async () => {
      const modern = await connectTls(listener.port, { servername: 'example.org' });
      expect(modern.getProtocol()).to.equal('TLSv1.3');
      const older = await connectTls(listener.port, { servername: 'example.org', maxVersion: 'TLSv1.2' });
      expect(older.getProtocol()).to.equal('TLSv1.2');
      // forward-secret key exchange, the ECDSA certificate, an AEAD cipher
      expect(older.getCipher().name).to.match(/^ECDHE-ECDSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    });

    it('refuses a TLS 1.1 client', async () => {
      // SECLEVEL=0 lets this client's OpenSSL really offer TLS 1.1 (see the control below).
      const old = { servername: 'example.org', minVersion: 'TLSv1' as const, maxVersion: 'TLSv1.1' as const, ciphers: 'DEFAULT@SECLEVEL=0' };
      const err = await connectTls(listener.port, old).then(() => null, (e: NodeJS.ErrnoException) => e);
      expect(err?.code).to.equal('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
      const failure = (await listener.nextFailure()) as NodeJS.ErrnoException;
      expect(failure.code).to.equal('ERR_SSL_UNSUPPORTED_PROTOCOL');

      // control: the same client is served by a server that still allows TLS 1.1
      const lenient = await listenTls(kind, () => ({ ...store.serverOptions(), secureContext: undefined, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }));
      try {
        const client = await connectTls(lenient.port, old);
        expect(client.getProtocol()).to.equal('TLSv1.1');
      } finally {
        await lenient.close();
      }
    });

    it('serves renewed certificates after reload(), with and without SNI', async () => {
      const renewed = createCertificate({ names: ['example.org', '*.example.org'], organization: 'Renewed' });
      await writeCertificateFiles(storedCertificatePaths(dataDir, 'example.org').dir, renewed);
      await store.reload();
      const expected = new X509Certificate(renewed.cert).fingerprint256;
      const named = await connectTls(listener.port, { servername: 'example.org' });
      expect(named.getPeerX509Certificate()!.fingerprint256).to.equal(expected);
      const bare = await connectTls(listener.port);
      expect(bare.getPeerX509Certificate()!.fingerprint256).to.equal(expected);
      const other = await connectTls(listener.port, { servername: 'example.net' });
      expect(other.getPeerX509Certificate()!.fingerprint256).to.equal(store.fingerprint('example.net'));
    });

    it('resumes TLS 1.3 sessions, also across a reload', async () => {
      const first = await connectTls(listener.port, { servername: 'example.net' });
      const session = await sessionOf(first);
      expect(first.isSessionReused()).to.equal(false);
      const second = await connectTls(listener.port, { servername: 'example.net', session });
      expect(second.isSessionReused()).to.equal(true);
      await store.reload();
      // stateless tickets stay valid until they expire; the one from before the reload still works
      const third = await connectTls(listener.port, { servername: 'example.net', session });
      expect(third.isSessionReused()).to.equal(true);
    });
  });
}

// Node adds an SNI context's certificate next to the initial one rather than replacing it
// (nodejs/node#54235); these prove the store arranges its contexts so each host still gets its own.
for (const kind of ['direct', 'starttls'] as ListenerKind[]) {
  describe(`hosts whose certificates have different key types (${kind})`, () => {
    let dataDir: string;
    let store: CertificateStore;
    let listener: TlsListener;
    let records: ReturnType<typeof captureLogger>['records'];
    let rsaFingerprint: string;

    beforeEach(async () => {
      dataDir = await makeTempDir();
      const rsa = createCertificate({ names: ['example.net', '*.example.net'], organization: 'RSA host', keyType: 'rsa-2048' });
      rsaFingerprint = new X509Certificate(rsa.cert).fingerprint256;
      const paths = await writeCertificateFiles(storedCertificatePaths(dataDir, 'example.net').dir, rsa);
      const captured = captureLogger();
      records = captured.records;
      // example.org: the default host, with a generated ECDSA certificate
      store = new CertificateStore({ dataDir, hosts: ['example.org', 'example.net'], explicit: { 'example.net': paths }, log: captured.log });
      await store.load();
      listener = await listenTls(kind, () => store.serverOptions());
    });
    afterEach(async () => {
      closeClients();
      await listener.close();
      await removeTempDir(dataDir);
    });

    for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
      it(`gives each named host its own certificate over ${maxVersion}`, async () => {
        const ecdsaFingerprint = store.fingerprint('example.org');
        for (const [servername, expected] of [
          ['example.net', rsaFingerprint], ['example.org', ecdsaFingerprint],
          ['upload.example.net', rsaFingerprint], ['upload.example.org', ecdsaFingerprint],
        ] as const) {
          const client = await connectTls(listener.port, { servername, maxVersion });
          expect([servername, client.getPeerX509Certificate()!.fingerprint256]).to.deep.equal([servername, expected]);
          expect(client.getProtocol()).to.equal(maxVersion);
        }
      });
    }

    it('gives clients without SNI the RSA host, and says so', async () => {
      const bare = await connectTls(listener.port);
      expect(bare.getPeerX509Certificate()!.fingerprint256).to.equal(rsaFingerprint);
      const warning = records.find((r) => r.msg.startsWith('hosts mix certificate key types'));
      expect(warning).to.deep.include({ defaultHost: 'example.org', noSniHost: 'example.net' });
    });

    if (kind === 'starttls') {
      it("starts with the stream's host when it is known, so a client without SNI gets it too", async () => {
        const known = await listenTls(kind, () => store.serverOptions('example.org'));
        try {
          const bare = await connectTls(known.port);
          expect(bare.getPeerX509Certificate()!.fingerprint256).to.equal(store.fingerprint('example.org'));
          const named = await connectTls(known.port, { servername: 'example.org' });
          expect(named.getPeerX509Certificate()!.fingerprint256).to.equal(store.fingerprint('example.org'));
        } finally {
          await known.close();
        }
      });
    }
  });
}
