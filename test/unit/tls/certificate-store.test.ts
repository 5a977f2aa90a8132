import { expect } from 'chai';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CertificateFileError, storedCertificatePaths } from '../../../server/tls/certificate-files.ts';
import { CertificateStore } from '../../../server/tls/certificate-store.ts';
import { createCertificate, createSelfSignedCertificate } from '../../../server/tls/self-signed.ts';
import { INFO, WARN, captureLogger, makeTempDir, removeTempDir, writePair } from './fixtures.ts';

const FINGERPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;
const DAY = 24 * 60 * 60 * 1000;

describe('CertificateStore', () => {
  let dataDir: string;
  beforeEach(async () => { dataDir = await makeTempDir(); });
  afterEach(async () => { await removeTempDir(dataDir); });

  describe('first start without certificates', () => {
    it('generates a self-signed certificate covering the host, *.host and the service names', async () => {
      const { log, records } = captureLogger();
      const store = new CertificateStore({
        dataDir, hosts: ['Example.org'], serviceNames: { 'example.org': ['conference.example.org', 'a.b.example.org'] }, log,
      });
      await store.load();

      const paths = storedCertificatePaths(dataDir, 'example.org');
      expect(paths.cert).to.equal(join(dataDir, 'certs', 'example.org', 'fullchain.pem'));
      const cert = new X509Certificate(await readFile(paths.cert));
      const key = createPrivateKey(await readFile(paths.key));
      expect(cert.checkPrivateKey(key)).to.equal(true);
      expect(key.asymmetricKeyType).to.equal('ec');
      expect(cert.subjectAltName).to.equal(
        'DNS:example.org, DNS:*.example.org, DNS:conference.example.org, DNS:a.b.example.org');
      expect((await stat(paths.key)).mode & 0o777).to.equal(0o600);
      expect((await stat(paths.dir)).mode & 0o777).to.equal(0o700);

      const fingerprint = store.fingerprint('example.org');
      expect(fingerprint).to.match(FINGERPRINT);
      expect(fingerprint).to.equal(cert.fingerprint256);
      expect(store.source('example.org')).to.equal('generated');
      const generated = records.filter((r) => r.level === INFO && r.msg.startsWith('generated a self-signed certificate'));
      expect(generated).to.have.length(1);
      expect(generated[0]!.fingerprint).to.equal(fingerprint);
      expect(generated[0]!.host).to.equal('example.org');
      expect(records.filter((r) => r.level >= WARN)).to.deep.equal([]);
    });

    it('reuses the stored certificate on the next start', async () => {
      const first = new CertificateStore({ dataDir, hosts: ['example.org'], log: captureLogger().log });
      await first.load();
      const paths = storedCertificatePaths(dataDir, 'example.org');
      const pem = await readFile(paths.cert, 'utf8');

      const { log, records } = captureLogger();
      const second = new CertificateStore({ dataDir, hosts: ['example.org'], log });
      await second.load();
      expect(second.fingerprint('example.org')).to.equal(first.fingerprint('example.org'));
      expect(second.source('example.org')).to.equal('stored');
      expect(await readFile(paths.cert, 'utf8')).to.equal(pem);
      expect(records.some((r) => r.msg.startsWith('generated'))).to.equal(false);
      const loaded = records.find((r) => r.msg === 'certificate loaded');
      expect(loaded?.fingerprint).to.equal(first.fingerprint('example.org'));
    });

    it('replaces its own generated certificate when it is about to expire', async () => {
      const paths = storedCertificatePaths(dataDir, 'example.org');
      await mkdir(paths.dir, { recursive: true });
      const old = createSelfSignedCertificate({
        names: ['example.org', '*.example.org'], notAfter: new Date(Date.now() + 10 * DAY),
      });
      await writePair(paths.dir, old, { cert: 'fullchain.pem', key: 'privkey.pem' });
      const { log, records } = captureLogger();
      const store = new CertificateStore({ dataDir, hosts: ['example.org'], log });
      await store.load();
      expect(store.fingerprint('example.org')).to.not.equal(new X509Certificate(old.cert).fingerprint256);
      expect(store.source('example.org')).to.equal('generated');
      expect(store.certificate('example.org')!.notAfter.getTime()).to.be.above(Date.now() + 300 * DAY);
      expect(records.find((r) => r.msg.startsWith('replacing'))?.reason).to.equal('it expires within 30 days');
    });

    it('replaces its own generated certificate when a service name was added', async () => {
      const first = new CertificateStore({ dataDir, hosts: ['example.org'], log: captureLogger().log });
      await first.load();
      const second = new CertificateStore({
        dataDir, hosts: [{ domain: 'example.org', extraNames: ['muc.chat.example.org'] }], log: captureLogger().log,
      });
      await second.load();
      expect(second.fingerprint('example.org')).to.not.equal(first.fingerprint('example.org'));
      expect(second.certificate('example.org')!.names).to.deep.equal(['example.org', '*.example.org', 'muc.chat.example.org']);
    });

    it("never replaces an operator's certificate, even an expired one: it warns", async () => {
      const paths = storedCertificatePaths(dataDir, 'example.org');
      await mkdir(paths.dir, { recursive: true });
      const theirs = createSelfSignedCertificate({
        names: ['other.example'], organization: 'Operator',
        notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - DAY),
      });
      await writePair(paths.dir, theirs, { cert: 'fullchain.pem', key: 'privkey.pem' });
      const { log, records } = captureLogger();
      const store = new CertificateStore({ dataDir, hosts: ['example.org'], log });
      await store.load();
      expect(store.fingerprint('example.org')).to.equal(new X509Certificate(theirs.cert).fingerprint256);
      expect(await readFile(paths.cert, 'utf8')).to.equal(theirs.cert);
      const warnings = records.filter((r) => r.level === WARN).map((r) => r.msg);
      expect(warnings).to.deep.equal(['certificate has expired', 'certificate does not cover the host']);
    });
  });

  describe('configured files', () => {
    it('uses explicit files instead of the data directory', async () => {
      const pair = createCertificate({ names: ['example.org'], organization: 'CA-issued', keyType: 'rsa-2048' });
      const explicit = await writePair(dataDir, pair);
      const store = new CertificateStore({ dataDir, hosts: ['example.org'], explicit: { 'example.org': explicit }, log: captureLogger().log });
      await store.load();
      expect(store.source('example.org')).to.equal('explicit');
      expect(store.fingerprint('example.org')).to.equal(new X509Certificate(pair.cert).fingerprint256);
      expect(store.certificate('example.org')!.generated).to.equal(false);
      // nothing was generated next to it
      let generated = true;
      await stat(join(dataDir, 'certs')).catch(() => { generated = false; });
      expect(generated).to.equal(false);
    });

    it('fails naming the explicit file that is missing', async () => {
      const store = new CertificateStore({
        dataDir, hosts: ['example.org'], explicit: { 'example.org': { cert: join(dataDir, 'nope.pem'), key: join(dataDir, 'nokey.pem') } },
        log: captureLogger().log,
      });
      const err = await store.load().then(() => null, (e: unknown) => e);
      expect(err).to.be.instanceOf(CertificateFileError);
      expect((err as CertificateFileError).file).to.equal(join(dataDir, 'nope.pem'));
      expect((err as CertificateFileError).problem).to.equal('file not found');
    });

    it('fails naming the key file when the stored key does not match', async () => {
      const paths = storedCertificatePaths(dataDir, 'example.org');
      await mkdir(paths.dir, { recursive: true });
      await writeFile(paths.cert, createSelfSignedCertificate({ names: ['example.org'] }).cert);
      await writeFile(paths.key, createSelfSignedCertificate({ names: ['example.org'] }).key);
      const store = new CertificateStore({ dataDir, hosts: ['example.org'], log: captureLogger().log });
      const err = await store.load().then(() => null, (e: unknown) => e);
      expect(err).to.be.instanceOf(CertificateFileError);
      expect((err as CertificateFileError).file).to.equal(paths.key);
      expect((err as CertificateFileError).problem).to.equal(`the private key does not match the certificate in ${paths.cert}`);
    });

    it('does not generate over a lone stored certificate whose key is missing', async () => {
      const paths = storedCertificatePaths(dataDir, 'example.org');
      await mkdir(paths.dir, { recursive: true });
      const pem = createSelfSignedCertificate({ names: ['example.org'] }).cert;
      await writeFile(paths.cert, pem);
      const store = new CertificateStore({ dataDir, hosts: ['example.org'], log: captureLogger().log });
      const err = await store.load().then(() => null, (e: unknown) => e);
      expect((err as CertificateFileError).file).to.equal(paths.key);
      expect((err as CertificateFileError).problem).to.equal('file not found');
      expect(await readFile(paths.cert, 'utf8')).to.equal(pem);
    });
  });

  describe('reload', () => {
    it('serves renewed files and tells listeners', async () => {
      const store = new CertificateStore({ dataDir, hosts: ['example.org'], log: captureLogger().log });
      await store.load();
      const before = store.fingerprint('example.org');
      const renewed = createCertificate({ names: ['example.org'], organization: 'Renewed' });
      await writePair(storedCertificatePaths(dataDir, 'example.org').dir, renewed, { cert: 'fullchain.pem', key: 'privkey.pem' });
      let told = 0;
      store.onReload(() => { told++; });
      await store.reload();
      expect(store.fingerprint('example.org')).to.equal(new X509Certificate(renewed.cert).fingerprint256);
      expect(store.fingerprint('example.org')).to.not.equal(before);
      expect(store.serverOptions().cert).to.equal(renewed.cert);
      expect(told).to.equal(1);
    });

    it('keeps the certificates in service when the new files are broken', async () => {
      const store = new CertificateStore({ dataDir, hosts: ['example.org'], log: captureLogger().log });
      await store.load();
      const before = store.fingerprint('example.org');
      const contextBefore = store.secureContextFor('example.org');
      const paths = storedCertificatePaths(dataDir, 'example.org');
      await writeFile(paths.key, createSelfSignedCertificate({ names: ['example.org'] }).key);
      let told = 0;
      store.onReload(() => { told++; });
      const err = await store.reload().then(() => null, (e: unknown) => e);
      expect((err as CertificateFileError).file).to.equal(paths.key);
      expect(store.fingerprint('example.org')).to.equal(before);
      expect(store.secureContextFor('example.org')).to.equal(contextBefore);
      expect(told).to.equal(0);
    });
  });

  describe('choosing a certificate by server name', () => {
    it('prefers exact names, then one-label wildcards, then the default host', async () => {
      const store = new CertificateStore({ dataDir, hosts: ['example.org', 'example.net'], log: captureLogger().log });
      await store.load();
      const org = store.certificate('example.org')!;
      const net = store.certificate('example.net')!;
      expect(org.fingerprint).to.not.equal(net.fingerprint);
      expect(store.certificateFor('example.net')).to.equal(net);
      expect(store.certificateFor('EXAMPLE.NET.')).to.equal(net);
      expect(store.certificateFor('upload.example.net')).to.equal(net);
      expect(store.certificateFor('a.b.example.net')).to.equal(org); // wildcard covers one label only
      expect(store.certificateFor('unknown.test')).to.equal(org);
      expect(store.certificateFor(undefined)).to.equal(org);
      expect(store.secureContextFor('example.net')).to.equal(store.secureContextFor('x.example.net'));
      expect(store.secureContextFor('example.net')).to.not.equal(store.secureContextFor('example.org'));
    });

    it('gives a served host its own certificate even when another names it', async () => {
      const shared = createCertificate({ names: ['example.org', 'example.net'], organization: 'Shared' });
      const own = createCertificate({ names: ['example.net'], organization: 'Own' });
      const store = new CertificateStore({
        dataDir,
        hosts: ['example.org', 'example.net'],
        explicit: { 'example.org': await writePair(dataDir, shared, { cert: 's.pem', key: 's.key' }), 'example.net': await writePair(dataDir, own) },
        log: captureLogger().log,
      });
      await store.load();
      expect(store.certificateFor('example.net').fingerprint).to.equal(new X509Certificate(own.cert).fingerprint256);
    });

    it('shares one context between hosts configured with the same files', async () => {
      const pair = createCertificate({ names: ['example.org', 'example.net'], organization: 'Shared' });
      const files = await writePair(dataDir, pair);
      const store = new CertificateStore({
        dataDir, hosts: ['example.org', 'example.net'], explicit: { 'example.org': files, 'example.net': files }, log: captureLogger().log,
      });
      await store.load();
      expect(store.secureContextFor('example.org')).to.equal(store.secureContextFor('example.net'));
    });

    it('refuses to be used before load()', () => {
      const store = new CertificateStore({ dataDir, hosts: ['example.org'], log: captureLogger().log });
      expect(() => store.secureContextFor('example.org')).to.throw('CertificateStore.load() has not completed');
    });
  });
});
