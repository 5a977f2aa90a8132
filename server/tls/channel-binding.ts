// Channel bindings of a server-side TLS socket, for SCRAM-*-PLUS (RFC 5802 §6) and XEP-0440.
import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

export type ChannelBindingType = 'tls-exporter' | 'tls-server-end-point' | 'tls-unique';

/**
 * What a socket advertises, best first: tls-exporter binds the connection itself,
 * tls-server-end-point only the certificate. tls-unique is computed on request but never
 * advertised (see tlsUnique).
 */
const PREFERENCE: readonly ChannelBindingType[] = ['tls-exporter', 'tls-server-end-point'];

const EXPORTER_LABEL = 'EXPORTER-Channel-Binding';
const EXPORTER_LENGTH = 32;

/**
 * RFC 9266 §2: 32 bytes from the TLS exporter with the label `EXPORTER-Channel-Binding` and an
 * empty context. The binding is only defined when the handshake yields a unique master secret:
 * always with TLS 1.3, with TLS 1.2 only if the extended master secret extension (RFC 7627) was
 * negotiated (without it a triple-handshake attacker can give two connections the same value).
 * Node does not tell us whether it was, so TLS 1.2 gets no tls-exporter.
 */
export function tlsExporter(socket: TLSSocket): Buffer | undefined {
  if (!handshakeDone(socket) || socket.getProtocol() !== 'TLSv1.3') return undefined;
  return socket.exportKeyingMaterial(EXPORTER_LENGTH, EXPORTER_LABEL, Buffer.alloc(0));
}

/**
 * tls-unique, never advertised (config sasl.acceptTlsUnique). On TLS 1.2, RFC 5929 §3.1: the
 * first Finished message of the latest handshake, the client's on a full handshake and the
 * server's on an abbreviated (resumed) one, where the server speaks first. The triple handshake
 * that breaks it without RFC 7627 needs RSA key exchange or a DH group the attacker picks; Chorus
 * offers ECDHE only and refuses renegotiation (certificate-store.ts).
 *
 * COMPAT(slixmpp 1.8.3, CPython ssl): TLS 1.3 has no tls-unique (RFC 9266 §1, §3), but CPython's
 * SSLSocket.get_channel_binding('tls-unique'), which slixmpp sends with every -PLUS mechanism,
 * applies the same rule there through OpenSSL (the client's own Finished unless the session was
 * resumed, else the server's), although in TLS 1.3 the server's Finished always comes first. We
 * compute the same value. It is still this connection's alone: a TLS 1.3 Finished is an HMAC over
 * the whole handshake transcript under a key from this handshake's secret (RFC 8446 §4.4.4, §7.1),
 * so a man in the middle's two connections cannot share it. docs/dns-and-certificates.md says more.
 */
export function tlsUnique(socket: TLSSocket): Buffer | undefined {
  if (!handshakeDone(socket)) return undefined;
  return socket.isSessionReused() ? socket.getFinished() : socket.getPeerFinished();
}

/** Per socket, since asking Node for the certificate costs more than the hash (see below). */
const endPoints = new WeakMap<TLSSocket, Buffer | null>();

/** RFC 5929 §4.1: the hash of the server's own certificate (DER). */
export function tlsServerEndPoint(socket: TLSSocket): Buffer | undefined {
  const cached = endPoints.get(socket);
  if (cached !== undefined) return cached ?? undefined;
  if (!handshakeDone(socket)) return undefined; // until SNI has run, this is not the final certificate
  // getCertificate() takes ~25 µs; getX509Certificate() ~10x that (measured, Node 20).
  const local = socket.getCertificate();
  const der = local && 'raw' in local ? local.raw : undefined;
  if (!der) return undefined;
  const hash = serverEndPointHash(der);
  const value = hash ? createHash(hash).update(der).digest() : null;
  endPoints.set(socket, value);
  return value ?? undefined;
}

/** The bindings this socket can provide, best first (empty before the handshake completes). */
export function supportedChannelBindings(socket: TLSSocket): ChannelBindingType[] {
  if (!handshakeDone(socket)) return [];
  return PREFERENCE.filter((type) =>
    type === 'tls-exporter' ? socket.getProtocol() === 'TLSv1.3' : tlsServerEndPoint(socket) !== undefined);
}

/**
 * Whether the client's Finished arrived. Before that, Node reports the highest enabled version
 * as the protocol and the initial certificate as the local one, neither of them final.
 */
function handshakeDone(socket: TLSSocket): boolean {
  return socket.getPeerFinished() !== undefined;
}

/** The binding data of `type`, or undefined when the socket cannot provide it. */
export function channelBinding(socket: TLSSocket, type: ChannelBindingType): Buffer | undefined {
  switch (type) {
    case 'tls-exporter':
      return tlsExporter(socket);
    case 'tls-server-end-point':
      return tlsServerEndPoint(socket);
    case 'tls-unique':
      return tlsUnique(socket);
  }
}

type HashName = 'sha224' | 'sha256' | 'sha384' | 'sha512' | 'sha512-224' | 'sha512-256';

// Hash functions named by signature algorithm OIDs. MD5 and SHA-1 map to SHA-256: RFC 5929 §4.1.
const SIGNATURE_HASH: Record<string, HashName> = {
  '1.2.840.113549.1.1.4': 'sha256', // md5WithRSAEncryption
  '1.2.840.113549.1.1.5': 'sha256', // sha1WithRSAEncryption
  '1.3.14.3.2.29': 'sha256', // sha1WithRSASignature (OIW)
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.113549.1.1.15': 'sha512-224',
  '1.2.840.113549.1.1.16': 'sha512-256',
  '1.2.840.10045.4.1': 'sha256', // ecdsa-with-SHA1
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.10040.4.3': 'sha256', // dsa-with-sha1
  '2.16.840.1.101.3.4.3.1': 'sha224', // dsa-with-sha224
  '2.16.840.1.101.3.4.3.2': 'sha256', // dsa-with-sha256
};
const DIGEST_HASH: Record<string, HashName> = {
  '1.2.840.113549.2.5': 'sha256', // md5
  '1.3.14.3.2.26': 'sha256', // sha1
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '2.16.840.1.101.3.4.2.5': 'sha512-224',
  '2.16.840.1.101.3.4.2.6': 'sha512-256',
};
const RSASSA_PSS = '1.2.840.113549.1.1.10';

/**
 * The hash RFC 5929 §4.1 prescribes for a certificate (DER), from its signatureAlgorithm.
 * Undefined when the algorithm has no single hash function (Ed25519, Ed448) or is unknown: the
 * binding is then not defined, and not offering it beats guessing a value a client won't match.
 */
export function serverEndPointHash(der: Uint8Array): HashName | undefined {
  try {
    // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier, signature }
    const certificate = readTlv(der, 0, 0x30);
    const tbs = readTlv(der, certificate.start, 0x30);
    const algorithm = readTlv(der, tbs.end, 0x30);
    const oidTlv = readTlv(der, algorithm.start, 0x06);
    const oid = decodeOid(der.subarray(oidTlv.start, oidTlv.end));
    if (oid !== RSASSA_PSS) return SIGNATURE_HASH[oid];
    // RFC 4055 §3.1: RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] DEFAULT sha1, ... }
    if (oidTlv.end >= algorithm.end) return 'sha256'; // absent parameters: all defaults, SHA-1
    const params = readTlv(der, oidTlv.end, 0x30);
    if (params.start >= params.end || der[params.start] !== 0xa0) return 'sha256';
    const hashField = readTlv(der, params.start, 0xa0);
    const hashAlgorithm = readTlv(der, hashField.start, 0x30);
    const hashOid = readTlv(der, hashAlgorithm.start, 0x06);
    return DIGEST_HASH[decodeOid(der.subarray(hashOid.start, hashOid.end))];
  } catch {
    return undefined;
  }
}

interface Tlv { start: number; end: number }

/** One DER tag-length-value at `offset`; throws unless the tag is `tag` and the value fits. */
function readTlv(der: Uint8Array, offset: number, tag: number): Tlv {
  if (der[offset] !== tag) throw new Error('unexpected DER tag');
  let length = der[offset + 1];
  let start = offset + 2;
  if (length === undefined) throw new Error('truncated DER');
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4) throw new Error('unsupported DER length');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + (der[start + i] ?? Number.NaN);
    start += octets;
  }
  const end = start + length;
  if (!(end <= der.length)) throw new Error('truncated DER');
  return { start, end };
}

function decodeOid(bytes: Uint8Array): string {
  const parts: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      if (parts.length === 0) parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}
