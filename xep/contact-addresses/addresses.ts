// Validation of the configured contact addresses (XEP-0157 §3, §4): each is a URI a person can
// use, of a scheme we can check: xmpp: (RFC 5122), mailto: (RFC 6068), https: or http:.
import { domainToASCII } from 'node:url';
import { tryParseJid } from '../../server/jid.ts';

/** Why `value` is not an acceptable contact address, or null when it is. */
export function addressProblem(value: string): string | null {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(value)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'xmpp':
      return xmppProblem(value.slice(5));
    case 'mailto':
      return mailtoProblem(value.slice(7));
    case 'https':
    case 'http':
      return webProblem(value);
    default:
      return 'must be an xmpp:, mailto:, https: or http: URI';
  }
}

/** RFC 5122 §2.2: `xmpp:` + a JID (percent-encoded where needed), then an optional `?query`. */
function xmppProblem(rest: string): string | null {
  // The authority form (xmpp://account@host/...) names who should act, not whom to contact.
  if (rest.startsWith('//')) return 'an xmpp: URI names the contact directly (xmpp:admin@example.org), not an authority';
  const path = rest.split(/[?#]/, 1)[0]!;
  const decoded = percentDecode(path);
  if (decoded === null) return 'the address in the xmpp: URI has a broken percent-encoding';
  if (decoded === '' || tryParseJid(decoded) === null) return 'the address in the xmpp: URI is not a valid JID';
  return null;
}

/** RFC 6068 §2: `mailto:` + one or more comma-separated addr-specs, then optional `?hfields`. */
function mailtoProblem(rest: string): string | null {
  const to = rest.split('?', 1)[0]!;
  const decoded = percentDecode(to);
  if (decoded === null) return 'the mailto: URI has a broken percent-encoding';
  if (decoded === '') return 'the mailto: URI names no address';
  for (const address of decoded.split(',')) {
    const at = address.lastIndexOf('@');
    const local = address.slice(0, at);
    const domain = address.slice(at + 1);
    if (at <= 0 || /[\s<>()\[\]\\,;:"@]/.test(local) || domainToASCII(domain) === '' || (!domain.includes('.') && domain !== 'localhost')) {
      return `"${address}" in the mailto: URI is not an email address`;
    }
  }
  return null;
}

function webProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not a valid URL';
  }
  if (url.hostname === '') return 'the URL names no host';
  if (url.username !== '' || url.password !== '') return 'a published URL must not carry credentials';
  return null;
}

function percentDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}
