// Shared fixtures for the SASL unit tests: an in-memory account table behind a SaslContext.
import { SaslFailure } from '../../../server/errors.ts';
import type { ScramCredentials } from '../../../server/sasl/credentials.ts';
import type { ChannelBindingType, SaslContext } from '../../../server/sasl/mechanism.ts';

export interface ContextOptions {
  secure?: boolean;
  plusOffered?: boolean;
  channelBindings?: Partial<Record<ChannelBindingType, Buffer>>;
  acceptTlsUnique?: boolean;
  scramIterations?: number;
}

/** A context over `accounts`; `lookups` records every name passed to getCredentials. */
export function makeContext(accounts: Record<string, ScramCredentials>, opts: ContextOptions = {}): SaslContext & { lookups: string[] } {
  const lookups: string[] = [];
  return {
    lookups,
    async getCredentials(username: string) {
      lookups.push(username);
      return Object.hasOwn(accounts, username) ? accounts[username]! : null;
    },
    channelBinding: (type: ChannelBindingType) => opts.channelBindings?.[type],
    secure: opts.secure ?? true,
    plusOffered: opts.plusOffered ?? false,
    ...(opts.acceptTlsUnique !== undefined ? { acceptTlsUnique: opts.acceptTlsUnique } : {}),
    ...(opts.scramIterations !== undefined ? { scramIterations: opts.scramIterations } : {}),
  };
}

/** The SaslFailure condition a promise rejects with (fails the test if it resolves). */
export async function failureOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof SaslFailure) return err.condition;
    throw err;
  }
  throw new Error('expected a SaslFailure, but the step succeeded');
}
