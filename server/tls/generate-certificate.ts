// `chorus cert generate` and the store's first start: a self-signed certificate for a host and
// its service subdomains, written where the store looks for it.
import { normalizeDnsName } from './certificate-names.ts';
import { parseCertificatePair, storedCertificatePaths, writeCertificateFiles } from './certificate-files.ts';
import type { LoadedCertificate } from './certificate-files.ts';
import { createSelfSignedCertificate } from './self-signed.ts';
import type { CertificateKeyType } from './self-signed.ts';

/** The names a generated certificate covers: the host, one level of subdomains, and any extras. */
export function generatedCertificateNames(host: string, extraNames: readonly string[] = []): string[] {
  const domain = normalizeDnsName(host);
  return [...new Set([domain, `*.${domain}`, ...extraNames.map(normalizeDnsName)])];
}

/** Create (overwriting any existing files) `<dataDir>/certs/<host>/{fullchain,privkey}.pem`. */
export async function generateCertificate(
  host: string,
  dataDir: string,
  extraNames: readonly string[] = [],
  opts: { keyType?: CertificateKeyType } = {},
): Promise<LoadedCertificate> {
  const domain = normalizeDnsName(host);
  const pair = createSelfSignedCertificate({
    names: generatedCertificateNames(domain, extraNames),
    keyType: opts.keyType ?? 'ec-p256',
  });
  const paths = await writeCertificateFiles(storedCertificatePaths(dataDir, domain).dir, pair);
  return parseCertificatePair(pair.cert, pair.key, paths);
}
