// The Module interface and the context handed to modules (DESIGN.md "Modules").
// The context records every registration; stopping the module undoes all of them.
import type { ZodType } from 'zod';
import type { Logger } from './log.ts';
import type { Store } from './storage/port.ts';
import type { CollectionSpec } from './storage/port.ts';
import type { Band, Filter, HookName, Observer } from './hooks.ts';
import type { IqHandlerFor, IqTarget } from './iq-table.ts';
import type { DiscoExtension, DiscoIdentity, DiscoView } from './disco-registry.ts';
import type { BoundSession, SessionRegistry } from './sessions.ts';
import type { Element } from './xml/element.ts';
import type { Jid } from './jid.ts';
import type { HttpHandler } from './net/http-router.ts';
import type { Host } from './host.ts';
import type { Accounts } from './accounts.ts';
import type { RosterItem } from './im/roster-store.ts';
import type { ModuleMetrics } from './metrics.ts';
import { hasFrom } from './im/subscription-state.ts';

export interface Module<C = unknown> {
  /** Short name, also its config key under `modules:` ('mam'). */
  name: string;
  /** What it implements, e.g. 'XEP-0313 v1.1 (urn:xmpp:mam:2)'; generates docs/compliance.md. */
  specs: string[];
  /** Schema of its section in chorus.yaml. */
  config?: ZodType<C>;
  /** Its own collections, indexes and schema version. */
  collections?: CollectionSpec[];
  setup(ctx: ModuleContext<C>): void | Promise<void>;
}

/** A typed per-module value attached to a session, instead of ad-hoc fields on the session. */
export interface SessionSlot<T> {
  get(session: BoundSession): T | undefined;
  set(session: BoundSession, value: T): void;
  delete(session: BoundSession): void;
}

export interface ModuleContext<C = unknown> {
  readonly module: string;
  readonly host: { readonly domain: string; readonly jid: Jid };
  readonly config: C;
  readonly store: Store;
  readonly accounts: Accounts;
  readonly log: Logger;
  readonly hooks: {
    filter<K extends HookName>(name: K, band: Band, fn: Filter<K>): void;
    observe<K extends HookName>(name: K, band: Band, fn: Observer<K>): void;
  };
  readonly iq: {
    /**
     * Handle IQs of this type and payload namespace addressed to the target; the namespace becomes a
     * disco feature of the target unless `feature: false`. 'unauthenticated' handlers answer clients
     * that have not authenticated yet (docs/hooks.md); their request carries the stream, not an address.
     */
    handle<T extends IqTarget>(type: 'get' | 'set', ns: string, target: T, handler: IqHandlerFor<T>, opts?: { feature?: boolean }): void;
  };
  readonly disco: {
    identity(identity: DiscoIdentity, target?: IqTarget): void;
    feature(feature: string, target?: IqTarget): void;
    extension(ext: DiscoExtension, target?: IqTarget): void;
    /** Read what the host has registered (identities, features, extensions). */
    readonly registry: DiscoView;
  };
  readonly http: {
    route(method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD' | 'OPTIONS', path: string, handler: HttpHandler): void;
  };
  readonly router: {
    /** Route a stanza the module generates; it must carry 'from' and 'to'. */
    route(stanza: Element): void;
    /**
     * Send a stanza on behalf of a bound session, as if its client had sent it: 'from' is stamped,
     * 'stanza/outbound' filters run (with `generated` true), then it is routed. A presence without
     * 'to' is broadcast like the client's own (RFC 6121 §4).
     */
    sendAs(session: BoundSession, stanza: Element): void;
  };
  /** Read access to rosters (RFC 6121 §2), e.g. to check a requester's subscription. */
  readonly roster: {
    item(owner: Jid, contact: Jid): Promise<RosterItem | null>;
    /**
     * Whether `requester` may see `owner`'s presence: the account itself, or a contact whose item
     * in the account's roster has subscription 'from' or 'both' (RFC 6121 §3). What XEP-0030 §8
     * and XEP-0012 §4 ask before revealing anything about an account.
     */
    mayReceivePresence(owner: Jid, requester: Jid): true | Promise<boolean>;
  };
  readonly sessions: ModuleSessions;
  /**
   * The module's own Prometheus metrics, in the server's registry (served at /metrics): created
   * on first use, shared by the module's instances on every host, kept when the module stops.
   * Names start with `chorus_`; document each in docs/metrics.md. The archive module (MAM)
   * increments `chorus_archive_writes_total`, which the core declares.
   */
  readonly metrics: ModuleMetrics;
  readonly timers: {
    setTimeout(fn: () => void, ms: number): void;
    setInterval(fn: () => void, ms: number): void;
  };
  /** Run at stop, after every recorded registration is undone. */
  onStop(fn: () => void | Promise<void>): void;
}

/** Read access to who is online, plus typed per-module session slots. */
export interface ModuleSessions {
  get(full: Jid): BoundSession | undefined;
  resources(bare: Jid): readonly BoundSession[];
  all(): IterableIterator<BoundSession>;
  readonly size: number;
  slot<T>(name: string): SessionSlot<T>;
}

/** Services the host gives every module context. */
export interface ModuleServices {
  host: Host;
  store: Store;
  accounts: Accounts;
  log: Logger;
  sessions: SessionRegistry;
  http: { route(method: string, path: string, handler: HttpHandler, owner: string): () => void };
  route(stanza: Element): void;
  sendAs(session: BoundSession, stanza: Element): void;
  rosterItem(owner: Jid, contact: Jid): Promise<RosterItem | null>;
  metrics: ModuleMetrics;
}

/** A started module: stopping it undoes every registration it made. */
export interface LoadedModule {
  name: string;
  stop(): Promise<void>;
}

export async function startModule<C>(mod: Module<C>, config: C, services: ModuleServices): Promise<LoadedModule> {
  const undo: (() => void)[] = [];
  const stopHooks: (() => void | Promise<void>)[] = [];
  const owner = mod.name;
  const { host } = services;
  const record = (fn: () => void) => {
    undo.push(fn);
  };
  const slots = new Map<string, SessionSlot<unknown>>();

  const ctx: ModuleContext<C> = {
    module: owner,
    host: { domain: host.domain, jid: host.jid },
    config,
    store: services.store,
    accounts: services.accounts,
    log: services.log.child({ module: owner, host: host.domain }),
    hooks: {
      filter: (name, band, fn) => record(host.hooks.filter(name, band, fn, owner)),
      observe: (name, band, fn) => record(host.hooks.observe(name, band, fn, owner)),
    },
    iq: {
      handle: (type, ns, target, handler, opts) => record(host.iq.handle(type, ns, target, handler, owner, opts)),
    },
    disco: {
      identity: (identity, target = 'host') => record(host.disco.addIdentity(identity, target)),
      feature: (feature, target = 'host') => record(host.disco.addFeature(feature, target)),
      extension: (ext, target = 'host') => record(host.disco.addExtension(ext, target)),
      registry: host.disco,
    },
    http: {
      route: (method, path, handler) => record(services.http.route(method, path, handler, `${owner}@${host.domain}`)),
    },
    router: { route: (stanza) => services.route(stanza), sendAs: (session, stanza) => services.sendAs(session, stanza) },
    roster: {
      item: (owner, contact) => services.rosterItem(owner, contact),
      mayReceivePresence: (owner, requester) =>
        requester.bare().equals(owner) || services.rosterItem(owner, requester).then((item) => item !== null && hasFrom(item.subscription)),
    },
    sessions: {
      get: (full) => services.sessions.get(full),
      resources: (bare) => services.sessions.resources(bare),
      all: () => services.sessions.all(),
      get size() {
        return services.sessions.size;
      },
      slot<T>(name: string): SessionSlot<T> {
        let slot = slots.get(name);
        if (!slot) {
          const values = new WeakMap<BoundSession, unknown>();
          slot = {
            get: (s) => values.get(s),
            set: (s, v) => void values.set(s, v),
            delete: (s) => void values.delete(s),
          };
          slots.set(name, slot);
        }
        return slot as SessionSlot<T>;
      },
    },
    metrics: services.metrics,
    timers: {
      setTimeout: (fn, ms) => {
        const t = setTimeout(fn, ms);
        t.unref();
        record(() => clearTimeout(t));
      },
      setInterval: (fn, ms) => {
        const t = setInterval(fn, ms);
        t.unref();
        record(() => clearInterval(t));
      },
    },
    onStop: (fn) => {
      stopHooks.push(fn);
    },
  };

  const stop = async () => {
    for (const fn of undo.splice(0).reverse()) fn();
    for (const fn of stopHooks.splice(0).reverse()) await fn();
  };
  try {
    await mod.setup(ctx);
  } catch (err) {
    await stop();
    throw err;
  }
  return { name: owner, stop };
}
