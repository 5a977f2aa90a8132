// The DNS names a certificate is valid for, and whether they cover a domain.
import type { X509Certificate } from 'node:crypto';

/** Lower-case, without the trailing dot of an absolute name: the form names are compared in. */
export function normalizeDnsName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * The dNSName entries of the subjectAltName extension; the subject CN only when there is none
 * (RFC 6125 §6.4.4: the CN is a fallback, never used next to DNS SANs).
 */
export function certificateDnsNames(cert: X509Certificate): string[] {
  const san = cert.subjectAltName;
  if (san) {
    const names: string[] = [];
    for (const entry of splitSubjectAltName(san)) {
      if (entry.startsWith('DNS:')) names.push(normalizeDnsName(entry.slice(4)));
    }
    if (names.length > 0) return names;
  }
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  return cn ? [normalizeDnsName(cn)] : [];
}

/**
 * Node lists SAN entries as `DNS:a, DNS:b`; an entry holding a comma or quote is written as a
 * JSON string (`DNS:"a,b"`), which must not be split.
 */
function splitSubjectAltName(san: string): string[] {
  const entries: string[] = [];
  let i = 0;
  while (i < san.length) {
    const colon = san.indexOf(':', i);
    if (colon < 0) break;
    const type = san.slice(i, colon);
    let value: string;
    let end: number;
    if (san[colon + 1] === '"') {
      end = colon + 2;
      while (end < san.length && san[end] !== '"') end += san[end] === '\\' ? 2 : 1;
      end += 1;
      try {
        value = JSON.parse(san.slice(colon + 1, end)) as string;
      } catch {
        value = san.slice(colon + 2, end - 1);
      }
    } else {
      end = san.indexOf(', ', colon);
      if (end < 0) end = san.length;
      value = san.slice(colon + 1, end);
    }
    entries.push(`${type}:${value}`);
    i = san.indexOf(', ', end);
    if (i < 0) break;
    i += 2;
  }
  return entries;
}

/**
 * Whether a certificate name covers `domain`. RFC 6125 §6.4.3: a wildcard is only the whole
 * left-most label and matches exactly one label (`*.example.org` covers `a.example.org`, not
 * `example.org` nor `a.b.example.org`).
 */
export function nameCovers(pattern: string, domain: string): boolean {
  const p = normalizeDnsName(pattern);
  const d = normalizeDnsName(domain);
  if (!p.startsWith('*.')) return p === d;
  const dot = d.indexOf('.');
  return dot > 0 && d.slice(dot + 1) === p.slice(2);
}

export function namesCover(names: readonly string[], domain: string): boolean {
  return names.some((n) => nameCovers(n, domain));
}
