// Credential lookup for the mechanisms: a storage fault becomes a SASL failure the client understands.
import { SaslFailure } from '../errors.ts';
import type { ScramCredentials } from './credentials.ts';
import type { SaslContext } from './mechanism.ts';

/** RFC 6120 §6.5.10: a fault inside the server is `temporary-auth-failure`; the original error is kept as `cause` for logs. */
export async function lookupCredentials(ctx: SaslContext, username: string): Promise<ScramCredentials | null> {
  try {
    return await ctx.getCredentials(username);
  } catch (err) {
    if (err instanceof SaslFailure) throw err;
    const failure = new SaslFailure('temporary-auth-failure');
    failure.cause = err;
    throw failure;
  }
}
