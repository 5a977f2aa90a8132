// Channel-binding types Chorus can bind SCRAM-*-PLUS to (RFC 5056, RFC 5802 §6).

/**
 * RFC 9266 tls-exporter, RFC 5929 §4 tls-server-end-point, and RFC 5929 §3 tls-unique, which
 * is accepted for clients that insist on it (config `sasl.acceptTlsUnique`) but never advertised.
 */
export type ChannelBindingType = 'tls-exporter' | 'tls-server-end-point' | 'tls-unique';

/**
 * What the server may advertise with XEP-0440 (`<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>`),
 * best first, and what makes -PLUS worth offering. Without tls-unique: a client that reads the
 * list keeps to the types defined for every TLS version.
 */
export const SUPPORTED_CHANNEL_BINDINGS: readonly ChannelBindingType[] = ['tls-exporter', 'tls-server-end-point'];

/** Every type a client may name in its GS2 header. */
const KNOWN: readonly string[] = [...SUPPORTED_CHANNEL_BINDINGS, 'tls-unique'];

export function isChannelBindingType(name: string): name is ChannelBindingType {
  return KNOWN.includes(name);
}

/** Whether `name` is advertised (XEP-0440) and so can justify offering -PLUS. */
export function isAdvertisedChannelBinding(name: string): boolean {
  return (SUPPORTED_CHANNEL_BINDINGS as readonly string[]).includes(name);
}
