// `chorus cert import DIR`: copy certificates issued by certbot (or laid out like its live/
// folders) into <dataDir>/certs/<domain>/, after checking them, so the server never depends on
// files it may not be able to read later (certbot's archive/ is root-only).
import { lstat, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { CertificateFileError, readCertificateFiles, storedCertificatePaths, writeCertificateFiles } from './certificate-files.ts';
import type { CertificatePaths, LoadedCertificate } from './certificate-files.ts';
import { namesCover, normalizeDnsName } from './certificate-names.ts';

export { generateCertificate } from './generate-certificate.ts';

export interface ImportedCertificate {
  /** The files read (as named in the source, before following symlinks). */
  from: CertificatePaths;
  /** The hosts this certificate was installed for. */
  hosts: string[];
  /** Where it was written, one entry per host. */
  to: CertificatePaths[];
  names: string[];
  fingerprint: string;
  fingerprintSha1: string;
  notAfter: Date;
  selfSigned: boolean;
}

export interface ImportResult {
  imported: ImportedCertificate[];
  /** Certificate folders that cover none of the requested hosts. */
  skipped: { dir: string; reason: string }[];
}

/** Nothing was imported; each problem names a file. */
export class CertificateImportError extends Error {
  constructor(readonly problems: string[]) {
    super(`certificate import failed:\n  ${problems.join('\n  ')}`);
  }
}

const CHAIN_FILE = 'fullchain.pem';
const KEY_FILE = 'privkey.pem';

/**
 * Import from `sourceDir`: one domain's folder, or certbot's `live/` holding a folder per
 * certificate. With `hosts`, each certificate goes to the hosts it covers and the others are
 * skipped; without, it goes to its folder's name (certbot's `-0001` suffix removed), which it
 * must cover. Everything is validated before anything is written.
 */
export async function importCertificates(sourceDir: string, dataDir: string, hosts?: string[]): Promise<ImportResult> {
  const wanted = hosts?.map(normalizeDnsName);
  const folders = await certificateFolders(sourceDir);
  const problems: string[] = [];
  const skipped: ImportResult['skipped'] = [];
  const accepted: { folder: string; certificate: LoadedCertificate; hosts: string[] }[] = [];
  const now = Date.now();

  for (const folder of folders) {
    let certificate: LoadedCertificate;
    try {
      certificate = await readCertificateFiles({ cert: join(folder, CHAIN_FILE), key: join(folder, KEY_FILE) });
    } catch (err) {
      if (!(err instanceof CertificateFileError)) throw err;
      problems.push(err.message);
      continue;
    }
    const file = certificate.paths.cert;
    let covered: string[];
    if (wanted) {
      covered = wanted.filter((h) => namesCover(certificate.names, h));
      if (covered.length === 0) {
        skipped.push({ dir: folder, reason: `covers none of ${wanted.join(', ')} (it names ${certificate.names.join(', ')})` });
        continue;
      }
    } else {
      const domain = folderDomain(folder);
      if (!namesCover(certificate.names, domain)) {
        problems.push(`${file}: does not cover ${domain}, the folder's name (it names ${certificate.names.join(', ')})`);
        continue;
      }
      covered = [domain];
    }
    if (certificate.notAfter.getTime() <= now) {
      problems.push(`${file}: expired on ${certificate.notAfter.toISOString()}`);
      continue;
    }
    if (certificate.notBefore.getTime() > now) {
      problems.push(`${file}: not valid before ${certificate.notBefore.toISOString()}`);
      continue;
    }
    accepted.push({ folder, certificate, hosts: covered });
  }
  if (problems.length > 0) throw new CertificateImportError(problems);

  // When several certificates cover a host, the folder named for it wins, then the newest.
  const chosen = new Map<string, (typeof accepted)[number]>();
  for (const candidate of accepted) {
    for (const host of candidate.hosts) {
      const current = chosen.get(host);
      if (!current || preferFor(host, candidate, current)) chosen.set(host, candidate);
    }
  }

  const imported: ImportedCertificate[] = [];
  for (const candidate of accepted) {
    const forHosts = candidate.hosts.filter((h) => chosen.get(h) === candidate);
    if (forHosts.length === 0) {
      skipped.push({ dir: candidate.folder, reason: `another certificate was preferred for ${candidate.hosts.join(', ')}` });
      continue;
    }
    const { certificate } = candidate;
    const to: CertificatePaths[] = [];
    for (const host of forHosts) {
      const dir = storedCertificatePaths(dataDir, host).dir;
      to.push(await writeCertificateFiles(dir, { cert: certificate.certPem, key: certificate.keyPem }));
    }
    imported.push({
      from: certificate.paths,
      hosts: forHosts,
      to,
      names: certificate.names,
      fingerprint: certificate.fingerprint,
      fingerprintSha1: certificate.fingerprintSha1,
      notAfter: certificate.notAfter,
      selfSigned: certificate.selfSigned,
    });
  }
  return { imported, skipped };
}

/** `sourceDir` itself when it holds the files, else its sub-folders that do (certbot's live/). */
async function certificateFolders(sourceDir: string): Promise<string[]> {
  let info;
  try {
    info = await stat(sourceDir);
  } catch (err) {
    throw new CertificateImportError([`${sourceDir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (err as Error).message}`]);
  }
  if (!info.isDirectory()) throw new CertificateImportError([`${sourceDir}: not a directory`]);
  if (await holdsCertificate(sourceDir)) return [sourceDir];
  const folders: string[] = [];
  for (const entry of (await readdir(sourceDir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const dir = join(sourceDir, entry.name);
    if ((entry.isDirectory() || entry.isSymbolicLink()) && (await holdsCertificate(dir))) folders.push(dir);
  }
  if (folders.length === 0) {
    throw new CertificateImportError([`${sourceDir}: no ${CHAIN_FILE} or ${KEY_FILE} in it or in its sub-folders`]);
  }
  return folders;
}

async function holdsCertificate(dir: string): Promise<boolean> {
  for (const name of [CHAIN_FILE, KEY_FILE]) {
    try {
      await lstat(join(dir, name));
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}

/** certbot names a second lineage for the same domain `example.org-0001`. */
function folderDomain(folder: string): string {
  return normalizeDnsName(basename(resolve(folder)).replace(/-\d{4}$/, ''));
}

function preferFor(
  host: string,
  a: { folder: string; certificate: LoadedCertificate },
  b: { folder: string; certificate: LoadedCertificate },
): boolean {
  const aNamed = folderDomain(a.folder) === host;
  const bNamed = folderDomain(b.folder) === host;
  if (aNamed !== bNamed) return aNamed;
  return a.certificate.notAfter.getTime() > b.certificate.notAfter.getTime();
}
