import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { certificateDnsNames, nameCovers, namesCover, normalizeDnsName } from '../../../server/tls/certificate-names.ts';
import { createSelfSignedCertificate } from '../../../server/tls/self-signed.ts';

describe('certificate names', () => {
  it('normalises case and the trailing dot', () => {
    expect(normalizeDnsName('Example.ORG.')).to.equal('example.org');
  });

  it('matches exact names case-insensitively', () => {
    expect(nameCovers('example.org', 'EXAMPLE.org')).to.equal(true);
    expect(nameCovers('example.org', 'example.net')).to.equal(false);
  });

  it('lets a wildcard cover exactly one label (RFC 6125 §6.4.3)', () => {
    expect(nameCovers('*.example.org', 'conference.example.org')).to.equal(true);
    expect(nameCovers('*.example.org', 'example.org')).to.equal(false);
    expect(nameCovers('*.example.org', 'a.b.example.org')).to.equal(false);
    expect(nameCovers('*.example.org', '.example.org')).to.equal(false);
    expect(namesCover(['example.org', '*.example.org'], 'upload.example.org')).to.equal(true);
    expect(namesCover(['example.org'], 'upload.example.org')).to.equal(false);
  });

  it('reads the dNSName entries of a certificate, in order and lower-cased', () => {
    const { cert } = createSelfSignedCertificate({ names: ['Chat.Example.org', '*.example.org', 'upload.example.net'] });
    expect(certificateDnsNames(new X509Certificate(cert))).to.deep.equal(['chat.example.org', '*.example.org', 'upload.example.net']);
  });
});
