// Channel-binding types Chorus can bind SCRAM-*-PLUS to (RFC 5056, RFC 5802 §6).

/** RFC 9266 tls-exporter, RFC 5929 §4 tls-server-end-point. tls-unique is absent: TLS 1.3 has none. */
export type ChannelBindingType = 'tls-exporter' | 'tls-server-end-point';

/** What the server may advertise with XEP-0440 (`<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>`), best first. */
export const SUPPORTED_CHANNEL_BINDINGS: readonly ChannelBindingType[] = ['tls-exporter', 'tls-server-end-point'];

export function isChannelBindingType(name: string): name is ChannelBindingType {
  return (SUPPORTED_CHANNEL_BINDINGS as readonly string[]).includes(name);
}
