// `chorus check`: what is wrong with a host's certificate, in words an operator can act on.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { CertificateFileError, parseCertificatePair } from './certificate-files.ts';
import type { CertificatePaths, LoadedCertificate } from './certificate-files.ts';
import { namesCover, normalizeDnsName } from './certificate-names.ts';
import { CertificateStore } from './certificate-store.ts';

export interface CertificateCheck {
  host: string;
  /** No problems (warnings allowed). */
  ok: boolean;
  /** Things that make clients or peers refuse the certificate. */
  problems: string[];
  /** Things worth knowing that do not break TLS by themselves. */
  warnings: string[];
  notAfter: Date | undefined;
  names: string[];
  /** SHA-256 and SHA-1 of the leaf. */
  fingerprint: string | undefined;
  fingerprintSha1: string | undefined;
  selfSigned: boolean;
}

export interface CheckOptions {
  /** Service subdomains (conference.host, upload.host) that must be covered too. */
  serviceNames?: string[];
  /** The moment to judge validity at (default: now). */
  now?: Date;
}

const EXPIRY_WARNING_MS = 14 * 24 * 60 * 60 * 1000;
const MIN_RSA_BITS = 2048;

/** Check the certificate a loaded store serves for `host`, or the files at `paths`. */
export function checkCertificate(
  host: string,
  from: CertificateStore | CertificatePaths,
  opts: CheckOptions = {},
): CertificateCheck {
  const domain = normalizeDnsName(host);
  const empty = (problem: string): CertificateCheck => ({
    host: domain, ok: false, problems: [problem], warnings: [], notAfter: undefined, names: [], fingerprint: undefined, fingerprintSha1: undefined, selfSigned: false,
  });
  let certificate: LoadedCertificate;
  if (from instanceof CertificateStore) {
    const loaded = from.certificate(domain);
    if (!loaded) return empty(`${domain}: no certificate loaded for this host`);
    certificate = loaded;
  } else {
    try {
      certificate = parseCertificatePair(readText(from.cert), readText(from.key), from);
    } catch (err) {
      if (err instanceof CertificateFileError) return empty(err.message);
      throw err;
    }
  }
  return judge(domain, certificate, opts);
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CertificateFileError(file, code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : (err as Error).message);
  }
}

function judge(host: string, c: LoadedCertificate, opts: CheckOptions): CertificateCheck {
  const now = (opts.now ?? new Date()).getTime();
  const file = c.paths.cert;
  const problems: string[] = [];
  const warnings: string[] = [];

  if (c.notAfter.getTime() <= now) problems.push(`${file}: expired on ${c.notAfter.toISOString()}`);
  else if (c.notAfter.getTime() - now < EXPIRY_WARNING_MS) warnings.push(`${file}: expires on ${c.notAfter.toISOString()}`);
  if (c.notBefore.getTime() > now) problems.push(`${file}: not valid before ${c.notBefore.toISOString()}`);

  for (const name of [host, ...(opts.serviceNames ?? []).map(normalizeDnsName)]) {
    if (!namesCover(c.names, name)) problems.push(`${file}: does not cover ${name} (it names ${c.names.join(', ') || 'nothing'})`);
  }

  const bits = c.leaf.publicKey.asymmetricKeyDetails?.modulusLength;
  if (c.leaf.publicKey.asymmetricKeyType?.startsWith('rsa') && bits !== undefined && bits < MIN_RSA_BITS) {
    problems.push(`${file}: RSA key of ${bits} bits; at least ${MIN_RSA_BITS} are needed`);
  }

  // RFC 8446 §4.4.2: each certificate should certify the one before it.
  for (let i = 0; i + 1 < c.chain.length; i++) {
    const child = c.chain[i]!;
    const parent = c.chain[i + 1]!;
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      problems.push(`${file}: certificate #${i + 2} did not issue certificate #${i + 1}; the chain is out of order or mixed`);
    }
    if (new Date(parent.validTo).getTime() <= now) problems.push(`${file}: chain certificate #${i + 2} (${parent.subject.replace(/\n/g, ', ')}) has expired`);
  }

  if (c.selfSigned) {
    warnings.push(`${file}: self-signed; clients must be told to trust fingerprint ${c.fingerprint}, and other servers will refuse it for federation`);
  } else if (c.chain.length === 1) {
    warnings.push(`${file}: holds only the server certificate; clients also need the intermediate (use certbot's fullchain.pem)`);
  }

  try {
    tls.createSecureContext({ key: c.keyPem, cert: c.certPem, minVersion: 'TLSv1.2' });
  } catch (err) {
    problems.push(`${file}: unusable for TLS: ${(err as Error).message}`);
  }

  return {
    host,
    ok: problems.length === 0,
    problems,
    warnings,
    notAfter: c.notAfter,
    names: c.names,
    fingerprint: c.fingerprint,
    fingerprintSha1: c.fingerprintSha1,
    selfSigned: c.selfSigned,
  };
}
