// Whether a served domain can have records in the public DNS, for `chorus check`: names kept for
// local and test use, IP literals and single labels cannot, so no records are printed for them.

/** RFC 6761 (localhost, test, invalid, example), RFC 6762 (local), RFC 8375 (home.arpa), and the
 *  private-use names ICANN set aside (internal). */
const LOCAL_SUFFIXES = ['localhost', 'local', 'test', 'invalid', 'example', 'internal', 'home.arpa'];

/** Why `domain` has no public DNS records, or null when it can have them. */
export function notPublicReason(domain: string): string | null {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(domain) || domain.startsWith('[') || domain.includes(':')) return 'an IP address';
  const suffix = LOCAL_SUFFIXES.find((s) => domain === s || domain.endsWith(`.${s}`));
  if (suffix) return `.${suffix} names are for local or test use`;
  if (!domain.includes('.')) return 'a single-label name';
  return null;
}
