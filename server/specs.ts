// What the core implements; with each module's `specs`, this generates docs/compliance.md.
export const CORE_SPECS: readonly string[] = [
  'RFC 6120 (XMPP Core): client streams, STARTTLS, SASL, resource binding, stanza routing and errors',
  'RFC 6121 (XMPP IM): §2 roster get, set, remove, pushes and versioning (§2.6); §3 the presence subscription state machine with pre-approval (§3.4) and requests kept for offline accounts; §4 presence broadcast, probes, directed presence, unavailable on session end; §8.5 delivery to local bare and full JIDs',
  'XEP-0160 v1.0.1 (best practices for handling offline messages), with XEP-0203 v2.0 delayed-delivery stamps and the XEP-0334 no-store hint',
  'RFC 7622 (JID address format) with the PRECIS profiles of RFC 8264/8265',
  'RFC 7395 (XMPP over WebSocket)',
  'RFC 4616 (PLAIN), RFC 5802 (SCRAM-SHA-1), RFC 7677 (SCRAM-SHA-256), SCRAM-SHA-512, and their -PLUS variants',
  'RFC 9266 (tls-exporter) and RFC 5929 §4 (tls-server-end-point) channel binding; RFC 5929 §3 tls-unique accepted but not advertised, on TLS 1.3 as OpenSSL computes it (sasl.acceptTlsUnique)',
  'XEP-0368 v1.1 (SRV records for XMPP over TLS): direct TLS listener',
  'XEP-0156 v1.4 (discovering alternative connection methods): host-meta and host-meta.json',
  'XEP-0440 v0.4 (SASL channel-binding type capability)',
  'RFC 3921 §3 session establishment, accepted as a no-op (draft-cridland-xmpp-session)',
];
