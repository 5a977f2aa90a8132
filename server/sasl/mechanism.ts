// The server-side SASL mechanism interface the stream layer drives (RFC 4422 §3, RFC 6120 §6),
// and the registry of what Chorus implements.
import { SaslFailure } from '../errors.ts';
import type { ScramCredentials, ScramHash } from './credentials.ts';
import { ScramExchange } from './scram.ts';
import { PlainExchange } from './plain.ts';
import { SUPPORTED_CHANNEL_BINDINGS, isAdvertisedChannelBinding, isChannelBindingType, type ChannelBindingType } from './channel-binding.ts';

export { SUPPORTED_CHANNEL_BINDINGS, isAdvertisedChannelBinding, isChannelBindingType, type ChannelBindingType };

export interface SaslContext {
  /** Credentials for a SASLprep'ed username, or null when no such account. The core maps the name to a JID localpart. */
  getCredentials(username: string): Promise<ScramCredentials | null>;
  /** Channel-binding data of this connection for the given type, or undefined when unavailable (no TLS, or type unsupported). */
  channelBinding(type: ChannelBindingType): Buffer | undefined;
  /** True once TLS protects the stream. */
  secure: boolean;
  /** Whether the server offered any -PLUS mechanism on this stream (needed for the 'y' GS2 flag rule, RFC 5802 §6). */
  plusOffered: boolean;
  /** Config `sasl.acceptTlsUnique`: whether a client may bind with tls-unique, which is never advertised. Absent: no. */
  acceptTlsUnique?: boolean;
  /** Iteration count given to new accounts (config), so the made-up salt of an unknown user looks like a real one. Default 4096. */
  scramIterations?: number;
}

export type SaslStep =
  | { kind: 'challenge'; data: Buffer }
  | { kind: 'success'; data: Buffer | null; username: string; authzid?: string };

/**
 * One authentication exchange. `step(null)` means the client sent no initial response (RFC 6120
 * §6.4.2); an empty Buffer means it sent '=' (a zero-length response). Failures are thrown as
 * SaslFailure carrying the RFC 6120 §6.5 condition; after a failure or success the exchange is spent.
 */
export interface SaslExchange {
  step(response: Buffer | null): Promise<SaslStep>;
  /** RFC 6120 §6.4.4: the client sent <abort/>. Ends the exchange; the stream layer sends the returned failure. */
  abort(): SaslFailure;
}

export type MechanismName =
  | 'SCRAM-SHA-512-PLUS' | 'SCRAM-SHA-256-PLUS' | 'SCRAM-SHA-1-PLUS'
  | 'SCRAM-SHA-512' | 'SCRAM-SHA-256' | 'SCRAM-SHA-1' | 'PLAIN';

/** Every mechanism Chorus implements, in order of preference. */
export const MECHANISMS: readonly MechanismName[] = [
  'SCRAM-SHA-512-PLUS', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS',
  'SCRAM-SHA-512', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN',
];

function scramParams(name: string): { hash: ScramHash; plus: boolean } | undefined {
  const m = /^SCRAM-(SHA-1|SHA-256|SHA-512)(-PLUS)?$/.exec(name);
  return m ? { hash: m[1] as ScramHash, plus: m[2] !== undefined } : undefined;
}

/**
 * The mechanisms to advertise, best first: -PLUS only when the connection has channel-binding data
 * of a type we support; PLAIN only under TLS (it sends the password itself).
 */
export function availableMechanisms(info: { secure: boolean; channelBindings: readonly ChannelBindingType[]; enabled: readonly string[] }): string[] {
  const canBind = info.secure && info.channelBindings.some(isAdvertisedChannelBinding);
  return MECHANISMS.filter((name) => {
    if (!info.enabled.includes(name)) return false;
    if (name === 'PLAIN') return info.secure;
    return !scramParams(name)!.plus || canBind;
  });
}

/**
 * Start the exchange for the mechanism the client chose. Throws `invalid-mechanism` for names we do
 * not implement (or, when `offered` is given, did not offer) and for -PLUS without channel-binding
 * data; `encryption-required` for PLAIN on an unencrypted stream (RFC 6120 §6.5.4).
 */
export function startMechanism(name: string, ctx: SaslContext, offered?: readonly string[]): SaslExchange {
  if (name === 'PLAIN') {
    if (!ctx.secure) throw new SaslFailure('encryption-required');
    if (offered && !offered.includes(name)) throw new SaslFailure('invalid-mechanism');
    return new PlainExchange(ctx);
  }
  const scram = scramParams(name);
  if (!scram || (offered && !offered.includes(name))) throw new SaslFailure('invalid-mechanism');
  if (scram.plus && !SUPPORTED_CHANNEL_BINDINGS.some((t) => ctx.channelBinding(t) !== undefined)) {
    throw new SaslFailure('invalid-mechanism', 'no channel binding on this connection');
  }
  return new ScramExchange(scram.hash, scram.plus, ctx);
}
