// What an authentication attempt leaves behind: one log line at info and a count per mechanism
// (docs/metrics.md). The account, the mechanism, the client's address and the condition; never
// a password or any SASL payload.
import type { SaslFailureCondition } from '../errors.ts';
import type { Jid } from '../jid.ts';
import type { ClientSession } from './client-session.ts';
import type { C2sServices } from './c2s-services.ts';

/** RFC 4422 §3.1: mechanism names are at most 20 characters; what a client sends may be anything. */
const MAX_MECHANISM_LOGGED = 20;

export function reportAuthSuccess(session: ClientSession, services: C2sServices, mechanism: string, account: Jid): void {
  services.metrics.authenticated(mechanism, 'success');
  services.log.info({ session: session.id, account: account.toString(), mechanism, address: session.stream.remoteAddress }, 'authenticated');
}

/** `account`: the account the client named, when it got that far. */
export function reportAuthFailure(session: ClientSession, services: C2sServices, mechanism: string, account: string | undefined, condition: SaslFailureCondition): void {
  services.metrics.authenticated(mechanism, 'failure');
  services.log.info(
    { session: session.id, account, mechanism: mechanism.slice(0, MAX_MECHANISM_LOGGED), address: session.stream.remoteAddress, condition },
    'authentication failed',
  );
}
