// X.509 certificates: self-signed ones for hosts without a CA-issued certificate, and (for tests
// and `chorus check` fixtures) small CA hierarchies. node-forge builds the X.509 structure (Node has no certificate
// builder); node:crypto makes the key pair and the signature, because forge can only sign with
// RSA and its key generation is pure JavaScript (seconds for RSA, no ECDSA at all).
import { X509Certificate, constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import forge from 'node-forge';

const { asn1, pki } = forge;
// Part of forge's public API, missing from @types/node-forge.
const { getTBSCertificate } = pki as unknown as { getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1 };

/** ECDSA P-256 is the default: its TLS handshake costs the server far less CPU than RSA 2048. */
export type CertificateKeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-3072' | 'ed25519';
export type CertificateHash = 'sha256' | 'sha384' | 'sha512';

export interface CertificateOptions {
  /** DNS names for the subjectAltName extension; the first one is also the subject CN. */
  names: string[];
  /** Subject organisation; Chorus marks the certificates it generates with SELF_SIGNED_ORGANIZATION. */
  organization?: string;
  /** Issue under this CA (its subject and PEM private key) instead of self-signing. */
  issuer?: { commonName: string; organization?: string; key: string };
  /** Make a CA certificate (basicConstraints cA, keyCertSign) rather than a server certificate. */
  ca?: boolean;
  keyType?: CertificateKeyType;
  /** Certify this existing private key (PEM) instead of generating one; `keyType` is then ignored. */
  privateKey?: string;
  /** The signature's hash; ignored when an Ed25519 key signs. */
  hash?: CertificateHash;
  /** Sign with RSASSA-PSS instead of PKCS#1 v1.5 (RSA signing keys only). */
  rsaPss?: boolean;
  notBefore?: Date;
  notAfter?: Date;
}

export interface PemPair {
  /** The certificate, PEM. */
  cert: string;
  /** The private key, PKCS#8 PEM. */
  key: string;
}

/** The subject organisation of certificates Chorus generates, so it can recognise (and renew) its own. */
export const SELF_SIGNED_ORGANIZATION = 'Chorus self-signed';

/** 365 days stays well under the 825-day limit Apple platforms put on user-trusted TLS certificates. */
export const SELF_SIGNED_VALIDITY_DAYS = 365;

const DAY_MS = 24 * 60 * 60 * 1000;

const HASH_OID: Record<CertificateHash, string> = {
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
};
const HASH_LENGTH: Record<CertificateHash, number> = { sha256: 32, sha384: 48, sha512: 64 };
const RSA_PKCS1_OID: Record<CertificateHash, string> = {
  sha256: '1.2.840.113549.1.1.11',
  sha384: '1.2.840.113549.1.1.12',
  sha512: '1.2.840.113549.1.1.13',
};
const ECDSA_OID: Record<CertificateHash, string> = {
  sha256: '1.2.840.10045.4.3.2',
  sha384: '1.2.840.10045.4.3.3',
  sha512: '1.2.840.10045.4.3.4',
};
const RSASSA_PSS_OID = '1.2.840.113549.1.1.10';
const ED25519_OID = '1.3.101.112';
const MGF1_OID = '1.2.840.113549.1.1.8';

function generateKeyPair(type: CertificateKeyType): { publicKey: KeyObject; privateKey: KeyObject } {
  switch (type) {
    case 'ec-p256': return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    case 'ec-p384': return generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    case 'rsa-2048': return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'rsa-3072': return generateKeyPairSync('rsa', { modulusLength: 3072 });
    case 'ed25519': return generateKeyPairSync('ed25519');
  }
}

function existingKeyPair(pem: string): { publicKey: KeyObject; privateKey: KeyObject } {
  const privateKey = createPrivateKey(pem);
  return { publicKey: createPublicKey(privateKey), privateKey };
}

const oid = (id: string): forge.asn1.Asn1 =>
  asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(id).getBytes());
const seq = (items: forge.asn1.Asn1[]): forge.asn1.Asn1 =>
  asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
const nul = (): forge.asn1.Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '');
const ctx = (tag: number, item: forge.asn1.Asn1): forge.asn1.Asn1 =>
  asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, true, [item]);

type SignatureKind = 'ecdsa' | 'rsa' | 'rsa-pss' | 'ed25519';

function signatureAlgorithm(kind: SignatureKind, hash: CertificateHash): forge.asn1.Asn1 {
  // RFC 8410 §3: the parameters of id-Ed25519 MUST be absent.
  if (kind === 'ed25519') return seq([oid(ED25519_OID)]);
  // RFC 5758 §3.2: the parameters of ecdsa-with-SHA* MUST be absent.
  if (kind === 'ecdsa') return seq([oid(ECDSA_OID[hash])]);
  if (kind === 'rsa') return seq([oid(RSA_PKCS1_OID[hash]), nul()]); // RFC 4055 §5: NULL parameters
  // RFC 4055 §3.1: RSASSA-PSS-params with the hash, MGF1 over the same hash, salt = hash length.
  const hashAlg = seq([oid(HASH_OID[hash]), nul()]);
  return seq([
    oid(RSASSA_PSS_OID),
    seq([
      ctx(0, hashAlg),
      ctx(1, seq([oid(MGF1_OID), seq([oid(HASH_OID[hash]), nul()])])),
      ctx(2, asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false,
        asn1.integerToDer(HASH_LENGTH[hash]).getBytes())),
    ]),
  ]);
}

function signatureKind(signer: KeyObject, pss: boolean): SignatureKind {
  const type = signer.asymmetricKeyType;
  if (pss && type !== 'rsa') throw new Error('RSASSA-PSS needs an RSA signing key');
  switch (type) {
    case 'rsa': return pss ? 'rsa-pss' : 'rsa';
    case 'ec': return 'ecdsa';
    case 'ed25519': return 'ed25519';
    default: throw new Error(`cannot sign certificates with a ${type ?? 'unknown'} key`);
  }
}

/** Build and sign a certificate for `names`: self-signed unless `issuer` is given. */
export function createCertificate(opts: CertificateOptions): PemPair {
  const names = [...new Set(opts.names.map((n) => n.toLowerCase()))];
  if (names.length === 0) throw new Error('a certificate needs at least one name');
  const keyType = opts.keyType ?? 'ec-p256';
  const hash = opts.hash ?? 'sha256';
  const { publicKey, privateKey } = opts.privateKey ? existingKeyPair(opts.privateKey) : generateKeyPair(keyType);
  const isRsa = privateKey.asymmetricKeyType === 'rsa';
  const signer = opts.issuer ? createPrivateKey(opts.issuer.key) : privateKey;
  const kind = signatureKind(signer, opts.rsaPss === true);
  const pss = kind === 'rsa-pss';
  const spkiDer = publicKey.export({ type: 'spki', format: 'der' });

  const cert = pki.createCertificate();
  // RFC 5280 §4.1.2.2: positive, at most 20 octets; a random one avoids collisions between regenerations.
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  cert.serialNumber = serial.toString('hex');
  const now = Date.now();
  cert.validity.notBefore = opts.notBefore ?? new Date(now - 60 * 60 * 1000); // tolerate clock skew
  cert.validity.notAfter = opts.notAfter ?? new Date(now + SELF_SIGNED_VALIDITY_DAYS * DAY_MS);
  const dn = (commonName: string, organization: string | undefined) => [
    { shortName: 'CN', value: commonName },
    ...(organization ? [{ shortName: 'O', value: organization }] : []),
  ];
  const subject = dn(names[0]!, opts.organization ?? SELF_SIGNED_ORGANIZATION);
  cert.setSubject(subject);
  cert.setIssuer(opts.issuer ? dn(opts.issuer.commonName, opts.issuer.organization) : subject);
  // RFC 5280 §4.2.1.2 allows any method that gives unique identifiers: truncated SHA-256 of the SPKI.
  const keyId = createHash('sha256').update(spkiDer).digest().subarray(0, 20);
  const keyIdExtension = { id: '2.5.29.14', value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, keyId.toString('binary')) };
  cert.setExtensions(opts.ca
    ? [
      { name: 'basicConstraints', critical: true, cA: true },
      { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true, digitalSignature: true },
      keyIdExtension,
    ]
    : [
      { name: 'basicConstraints', cA: false },
      // RFC 5280 §4.2.1.3; keyEncipherment only matters for TLS 1.2 RSA key transport.
      { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: isRsa },
      // serverAuth for c2s/s2s listeners, clientAuth for outgoing s2s with SASL EXTERNAL (XEP-0178).
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames: names.map((value) => ({ type: 2, value })) },
      keyIdExtension,
    ]);

  // forge's TBSCertificate builder only knows RSA keys and always writes NULL parameters, so it is
  // given a placeholder key and the two fields it cannot express are replaced afterwards.
  cert.publicKey = pki.setRsaPublicKey(new forge.jsbn.BigInteger('1'), new forge.jsbn.BigInteger('3'));
  cert.siginfo.algorithmOid = RSA_PKCS1_OID.sha256;
  const tbs = getTBSCertificate(cert);
  const tbsFields = tbs.value as forge.asn1.Asn1[];
  tbsFields[2] = signatureAlgorithm(kind, hash);
  tbsFields[6] = asn1.fromDer(spkiDer.toString('binary'));
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');

  // Ed25519 hashes internally: node:crypto takes no digest name for it.
  const signature = sign(kind === 'ed25519' ? null : hash, tbsDer, pss
    ? { key: signer, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_LENGTH[hash] }
    : signer);
  const certificate = seq([
    tbs,
    signatureAlgorithm(kind, hash),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\x00' + signature.toString('binary')),
  ]);
  const der = Buffer.from(asn1.toDer(certificate).getBytes(), 'binary');
  return {
    cert: new X509Certificate(der).toString(),
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** A self-signed server certificate for `names` (ECDSA P-256, SHA-256, 365 days by default). */
export function createSelfSignedCertificate(opts: Omit<CertificateOptions, 'issuer'>): PemPair {
  return createCertificate(opts);
}
