// A certificate chain and its private key on disk: where Chorus keeps them, reading and
// validating a pair, writing one with a private key only the server's user can read.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { certificateDnsNames } from './certificate-names.ts';
import { SELF_SIGNED_ORGANIZATION } from './self-signed.ts';
import type { PemPair } from './self-signed.ts';

export interface CertificatePaths {
  /** PEM chain, leaf first (certbot's fullchain.pem). */
  cert: string;
  /** PEM private key (certbot's privkey.pem). */
  key: string;
}

export interface LoadedCertificate {
  paths: CertificatePaths;
  /** The chain as read, handed to TLS unchanged. */
  certPem: string;
  keyPem: string;
  leaf: X509Certificate;
  /** Leaf first, then intermediates as they appear in the file. */
  chain: X509Certificate[];
  privateKey: KeyObject;
  /** DNS names the leaf is valid for (normalised; may include `*.` wildcards). */
  names: string[];
  /** SHA-256 of the leaf, `AA:BB:...`. */
  fingerprint: string;
  /** SHA-1 of the leaf, `AA:BB:...`: what some clients show (profanity 0.13). */
  fingerprintSha1: string;
  notBefore: Date;
  notAfter: Date;
  selfSigned: boolean;
  /** Self-signed by Chorus itself, so Chorus may replace it. */
  generated: boolean;
}

/** A problem with one file; the message names the file. */
export class CertificateFileError extends Error {
  constructor(readonly file: string, readonly problem: string) {
    super(`${file}: ${problem}`);
  }
}

/** Certbot's file names, so a `live/<domain>/` folder can be copied in as is. */
export function storedCertificatePaths(dataDir: string, domain: string): CertificatePaths & { dir: string } {
  const dir = join(dataDir, 'certs', domain);
  return { dir, cert: join(dir, 'fullchain.pem'), key: join(dir, 'privkey.pem') };
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Parse and cross-check a chain and key already read into memory. Throws CertificateFileError. */
export function parseCertificatePair(certPem: string, keyPem: string, paths: CertificatePaths): LoadedCertificate {
  const blocks = certPem.match(PEM_CERTIFICATE);
  if (!blocks) throw new CertificateFileError(paths.cert, 'contains no PEM certificate');
  const chain = blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new CertificateFileError(paths.cert, `certificate #${i + 1} cannot be parsed (${(err as Error).message})`);
    }
  });
  const leaf = chain[0]!;
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch (err) {
    const reason = /passphrase/i.test((err as Error).message)
      ? 'the private key is encrypted; store it without a passphrase'
      : `contains no usable private key (${(err as Error).message})`;
    throw new CertificateFileError(paths.key, reason);
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new CertificateFileError(paths.key, `the private key does not match the certificate in ${paths.cert}`);
  }
  // Not checkIssued(leaf): OpenSSL refuses a self-issued certificate without keyCertSign usage.
  const selfSigned = leaf.issuer === leaf.subject && leaf.verify(leaf.publicKey);
  return {
    paths,
    certPem,
    keyPem,
    leaf,
    chain,
    privateKey,
    names: certificateDnsNames(leaf),
    fingerprint: leaf.fingerprint256,
    fingerprintSha1: leaf.fingerprint,
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    selfSigned,
    generated: selfSigned && leaf.subject.split('\n').includes(`O=${SELF_SIGNED_ORGANIZATION}`),
  };
}

async function readPem(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8'); // follows symlinks, as certbot's live/ holds them
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'file not found'
      : code === 'EACCES' ? 'permission denied (the server user cannot read it)'
      : (err as Error).message;
    throw new CertificateFileError(file, problem);
  }
}

export async function readCertificateFiles(paths: CertificatePaths): Promise<LoadedCertificate> {
  // One after the other, so a missing certificate is reported before a missing key, every time.
  const certPem = await readPem(paths.cert);
  const keyPem = await readPem(paths.key);
  return parseCertificatePair(certPem, keyPem, paths);
}

/**
 * Write a pair into `dir` under certbot's names. Each file is written aside and renamed, so a
 * reader never sees half a file; the key is created 0600 and the folder 0700.
 */
export async function writeCertificateFiles(dir: string, pair: PemPair): Promise<CertificatePaths> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const paths = { cert: join(dir, 'fullchain.pem'), key: join(dir, 'privkey.pem') };
  const suffix = `.tmp-${process.pid}`;
  await writeFile(paths.key + suffix, pair.key, { mode: 0o600 });
  await chmod(paths.key + suffix, 0o600); // an existing file keeps its mode on open; force it
  await writeFile(paths.cert + suffix, pair.cert, { mode: 0o644 });
  await rename(paths.key + suffix, paths.key);
  await rename(paths.cert + suffix, paths.cert);
  return paths;
}
