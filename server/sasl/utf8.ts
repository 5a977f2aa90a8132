// SASL payloads are UTF-8 (RFC 5802 §5.1, RFC 4616 §2): decode strictly, never with replacement characters.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of a SASL payload, or undefined when it is not valid UTF-8. */
export function decodeUtf8(data: Buffer): string | undefined {
  try {
    return decoder.decode(data);
  } catch {
    return undefined;
  }
}
