import { expect } from 'chai';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { SELF_SIGNED_ORGANIZATION, createCertificate, createSelfSignedCertificate } from '../../../server/tls/self-signed.ts';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const DAY = 24 * 60 * 60 * 1000;

/** The signature algorithm as OpenSSL prints it: an independent reading of what was built. */
function opensslSignatureAlgorithm(pem: string): string {
  const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem }).toString();
  return /Signature Algorithm: (\S+)/.exec(text)![1]!;
}

describe('createSelfSignedCertificate', () => {
  it('makes an ECDSA P-256 SHA-256 certificate for one year by default', () => {
    const before = Date.now();
    const pair = createSelfSignedCertificate({ names: ['example.org', '*.example.org'] });
    const cert = new X509Certificate(pair.cert);
    const key = createPrivateKey(pair.key);
    expect(key.asymmetricKeyType).to.equal('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
    expect(cert.checkPrivateKey(key)).to.equal(true);
    expect(cert.verify(cert.publicKey)).to.equal(true);
    expect(cert.issuer).to.equal(cert.subject);
    expect(cert.subject).to.equal(`CN=example.org\nO=${SELF_SIGNED_ORGANIZATION}`);
    expect(cert.subjectAltName).to.equal('DNS:example.org, DNS:*.example.org');
    expect(cert.keyUsage).to.have.members([SERVER_AUTH, CLIENT_AUTH]);
    expect(cert.ca).to.equal(false);
    const validDays = (new Date(cert.validTo).getTime() - before) / DAY;
    expect(validDays).to.be.within(364.9, 365.1);
    expect(new Date(cert.validFrom).getTime()).to.be.below(before);
    expect(opensslSignatureAlgorithm(pair.cert)).to.equal('ecdsa-with-SHA256');
  });

  it('gives every certificate a fresh positive serial', () => {
    const a = new X509Certificate(createSelfSignedCertificate({ names: ['a.example'] }).cert);
    const b = new X509Certificate(createSelfSignedCertificate({ names: ['a.example'] }).cert);
    expect(a.serialNumber).to.not.equal(b.serialNumber);
    expect(parseInt(a.serialNumber.slice(0, 2), 16)).to.be.within(1, 0x7f);
  });

  for (const [keyType, hash, rsaPss, expected] of [
    ['rsa-2048', 'sha256', false, 'sha256WithRSAEncryption'],
    ['ec-p384', 'sha384', false, 'ecdsa-with-SHA384'],
    ['rsa-2048', 'sha512', true, 'rsassaPss'],
    ['ed25519', undefined, false, 'ED25519'],
  ] as const) {
    it(`signs with ${expected} for a ${keyType} key`, () => {
      const pair = createSelfSignedCertificate({ names: ['example.org'], keyType, hash, rsaPss });
      const cert = new X509Certificate(pair.cert);
      expect(cert.verify(cert.publicKey)).to.equal(true);
      expect(cert.checkPrivateKey(createPrivateKey(pair.key))).to.equal(true);
      expect(opensslSignatureAlgorithm(pair.cert)).to.equal(expected);
    });
  }

  it('issues a leaf under a CA', () => {
    const ca = createCertificate({ names: ['Test CA'], organization: 'Test', ca: true, keyType: 'rsa-2048' });
    const leaf = createCertificate({
      names: ['example.org'], organization: 'Leaf', issuer: { commonName: 'Test CA', organization: 'Test', key: ca.key },
    });
    const caCert = new X509Certificate(ca.cert);
    const leafCert = new X509Certificate(leaf.cert);
    expect(caCert.ca).to.equal(true);
    expect(leafCert.checkIssued(caCert)).to.equal(true);
    expect(leafCert.verify(caCert.publicKey)).to.equal(true);
    expect(leafCert.verify(leafCert.publicKey)).to.equal(false);
    expect(opensslSignatureAlgorithm(leaf.cert)).to.equal('sha256WithRSAEncryption');
  });
});
