// What a client session needs from the rest of the server.
import type { Host } from '../host.ts';
import type { SessionRegistry } from '../sessions.ts';
import type { Router } from '../router.ts';
import type { PresenceBroker } from '../im/presence.ts';
import type { Accounts } from '../accounts.ts';
import type { AuthThrottle } from '../sasl/auth-throttle.ts';
import type { CoreConfig } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { ServerMetrics } from '../metrics.ts';
import type { ClientSession } from './client-session.ts';

export interface C2sServices {
  hosts: ReadonlyMap<string, Host>;
  sessions: SessionRegistry;
  router: Router;
  presence: PresenceBroker;
  accounts: Accounts;
  throttle: AuthThrottle;
  config: Pick<CoreConfig, 'c2s' | 'sasl'>;
  log: Logger;
  /** Counters the session layer feeds (stanzas, authentications). */
  metrics: ServerMetrics;
  /** Every client session, bound or not: for the idle sweep and shutdown. */
  live: Set<ClientSession>;
}
