import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { serverEndPointHash } from '../../../server/tls/channel-binding.ts';
import { createSelfSignedCertificate } from '../../../server/tls/self-signed.ts';
import type { CertificateHash, CertificateKeyType } from '../../../server/tls/self-signed.ts';

function der(keyType: CertificateKeyType, hash?: CertificateHash, rsaPss = false): Buffer {
  return new X509Certificate(createSelfSignedCertificate({ names: ['example.org'], keyType, hash, rsaPss }).cert).raw;
}

/** Replace the last byte of the outer signatureAlgorithm OID (same length): a certificate claiming another algorithm. */
function withOuterOidLastByte(cert: Buffer, oidPrefix: string, last: number): Buffer {
  const out = Buffer.from(cert);
  const at = out.lastIndexOf(Buffer.from(oidPrefix, 'hex'));
  expect(at).to.be.above(0);
  out[at + oidPrefix.length / 2] = last;
  return out;
}

const RSA_PKCS1 = '2a864886f70d0101'; // 1.2.840.113549.1.1.
const ECDSA_SHA2 = '2a8648ce3d0403'; // 1.2.840.10045.4.3.

describe('serverEndPointHash (RFC 5929 §4.1)', () => {
  it("uses the certificate signature's hash", () => {
    expect(serverEndPointHash(der('rsa-2048', 'sha256'))).to.equal('sha256');
    expect(serverEndPointHash(der('ec-p384', 'sha384'))).to.equal('sha384');
    expect(serverEndPointHash(der('ec-p256', 'sha512'))).to.equal('sha512');
  });

  it('reads the hash of RSASSA-PSS from its parameters', () => {
    expect(serverEndPointHash(der('rsa-2048', 'sha384', true))).to.equal('sha384');
    expect(serverEndPointHash(der('rsa-2048', 'sha512', true))).to.equal('sha512');
  });

  it('upgrades MD5 and SHA-1 to SHA-256', () => {
    const rsa = der('rsa-2048', 'sha256');
    expect(serverEndPointHash(withOuterOidLastByte(rsa, RSA_PKCS1, 0x04))).to.equal('sha256'); // md5WithRSAEncryption
    expect(serverEndPointHash(withOuterOidLastByte(rsa, RSA_PKCS1, 0x05))).to.equal('sha256'); // sha1WithRSAEncryption
    expect(serverEndPointHash(withOuterOidLastByte(rsa, RSA_PKCS1, 0x0e))).to.equal('sha224'); // sha224WithRSAEncryption
    expect(serverEndPointHash(withOuterOidLastByte(der('ec-p256'), ECDSA_SHA2, 0x01))).to.equal('sha224'); // ecdsa-with-SHA224
  });

  it('is undefined for Ed25519 (no single hash function) and for garbage', () => {
    expect(serverEndPointHash(der('ed25519'))).to.equal(undefined);
    expect(serverEndPointHash(Buffer.from('3003020100', 'hex'))).to.equal(undefined);
    expect(serverEndPointHash(der('ec-p256').subarray(0, 100))).to.equal(undefined);
  });
});
