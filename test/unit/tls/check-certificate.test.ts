import { expect } from 'chai';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { checkCertificate } from '../../../server/tls/check-certificate.ts';
import { CertificateStore } from '../../../server/tls/certificate-store.ts';
import { createCertificate } from '../../../server/tls/self-signed.ts';
import { captureLogger, makeTempDir, removeTempDir, writePair } from './fixtures.ts';

const DAY = 24 * 60 * 60 * 1000;

function chain(names: string[], opts: { notBefore?: Date; notAfter?: Date } = {}) {
  const ca = createCertificate({ names: ['Check CA'], organization: 'Check', ca: true });
  const leaf = createCertificate({ names, organization: 'Leaf', issuer: { commonName: 'Check CA', organization: 'Check', key: ca.key }, ...opts });
  return { ca, leaf };
}

describe('checkCertificate (chorus check)', () => {
  let dir: string;
  beforeEach(async () => { dir = await makeTempDir(); });
  afterEach(async () => { await removeTempDir(dir); });

  it('passes a CA-issued chain that covers the host and its service names', async () => {
    const { ca, leaf } = chain(['example.org', '*.example.org']);
    const paths = await writePair(dir, { cert: leaf.cert + ca.cert, key: leaf.key });
    const result = checkCertificate('example.org', paths, { serviceNames: ['conference.example.org'] });
    expect(result).to.deep.include({ host: 'example.org', ok: true, problems: [], warnings: [], selfSigned: false });
    expect(result.names).to.deep.equal(['example.org', '*.example.org']);
    expect(result.fingerprint).to.equal(new X509Certificate(leaf.cert).fingerprint256);
    expect(result.notAfter!.toISOString()).to.equal(new Date(new X509Certificate(leaf.cert).validTo).toISOString());
  });

  it('reports an expired certificate', async () => {
    const { ca, leaf } = chain(['example.org'], { notBefore: new Date(Date.now() - 90 * DAY), notAfter: new Date(Date.now() - DAY) });
    const paths = await writePair(dir, { cert: leaf.cert + ca.cert, key: leaf.key });
    const result = checkCertificate('example.org', paths);
    expect(result.ok).to.equal(false);
    expect(result.problems).to.deep.equal([`${paths.cert}: expired on ${result.notAfter!.toISOString()}`]);
  });

  it('reports a certificate for another host, and uncovered service names', async () => {
    const { ca, leaf } = chain(['example.net', '*.example.net']);
    const paths = await writePair(dir, { cert: leaf.cert + ca.cert, key: leaf.key });
    const result = checkCertificate('example.org', paths, { serviceNames: ['upload.example.net', 'upload.example.org'] });
    expect(result.ok).to.equal(false);
    expect(result.problems).to.deep.equal([
      `${paths.cert}: does not cover example.org (it names example.net, *.example.net)`,
      `${paths.cert}: does not cover upload.example.org (it names example.net, *.example.net)`,
    ]);
  });

  it('reports a chain in the wrong order, and warns about a missing intermediate', async () => {
    const { ca, leaf } = chain(['example.org']);
    const wrongOrder = await writePair(dir, { cert: leaf.cert + createCertificate({ names: ['Other CA'], ca: true }).cert, key: leaf.key });
    expect(checkCertificate('example.org', wrongOrder).problems).to.deep.equal([
      `${wrongOrder.cert}: certificate #2 did not issue certificate #1; the chain is out of order or mixed`,
    ]);
    const leafOnly = await writePair(dir, { cert: leaf.cert, key: leaf.key }, { cert: 'leaf.pem', key: 'leaf.key' });
    const result = checkCertificate('example.org', leafOnly);
    expect(result.ok).to.equal(true);
    expect(result.warnings).to.deep.equal([
      `${leafOnly.cert}: holds only the server certificate; clients also need the intermediate (use certbot's fullchain.pem)`,
    ]);
    expect(ca.cert).to.be.a('string');
  });

  it('warns about a certificate close to expiry', async () => {
    const { ca, leaf } = chain(['example.org'], { notAfter: new Date(Date.now() + 3 * DAY) });
    const paths = await writePair(dir, { cert: leaf.cert + ca.cert, key: leaf.key });
    const result = checkCertificate('example.org', paths);
    expect(result.ok).to.equal(true);
    expect(result.warnings).to.deep.equal([`${paths.cert}: expires on ${result.notAfter!.toISOString()}`]);
  });

  it('reports a key that does not match and a missing file', async () => {
    const { leaf } = chain(['example.org']);
    const other = createCertificate({ names: ['example.org'] });
    const mismatch = await writePair(dir, { cert: leaf.cert, key: other.key });
    expect(checkCertificate('example.org', mismatch)).to.deep.include({
      ok: false, problems: [`${mismatch.key}: the private key does not match the certificate in ${mismatch.cert}`], fingerprint: undefined,
    });
    const missing = { cert: join(dir, 'absent.pem'), key: mismatch.key };
    expect(checkCertificate('example.org', missing).problems).to.deep.equal([`${missing.cert}: file not found`]);
  });

  it('refuses an RSA key shorter than 2048 bits', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const paths = await writePair(dir, createCertificate({ names: ['example.org'], privateKey: weak }));
    const result = checkCertificate('example.org', paths);
    expect(result.ok).to.equal(false);
    // Node's OpenSSL (security level 1) would serve it; clients at level 2 would not.
    expect(result.problems).to.deep.equal([`${paths.cert}: RSA key of 1024 bits; at least 2048 are needed`]);
  });

  it('checks what a loaded store serves, with the self-signed warning', async () => {
    const store = new CertificateStore({ dataDir: dir, hosts: ['example.org'], log: captureLogger().log });
    await store.load();
    const result = checkCertificate('example.org', store);
    expect(result.ok).to.equal(true);
    expect(result.selfSigned).to.equal(true);
    expect(result.fingerprint).to.equal(store.fingerprint('example.org'));
    expect(result.warnings).to.deep.equal([
      `${store.certificate('example.org')!.paths.cert}: self-signed; clients must be told to trust fingerprint ${result.fingerprint}, and other servers will refuse it for federation`,
    ]);
    expect(checkCertificate('example.net', store)).to.deep.include({ ok: false, problems: ['example.net: no certificate loaded for this host'] });
  });
});
