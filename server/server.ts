// The running server: storage, hosts and their modules, certificates, listeners, and the
// order in which they start and stop.
import { resolve as resolvePath, join } from 'node:path';
import { monotonicMs } from './clock.ts';
import { PROJECT_ROOT } from './project-root.ts';
import { StreamError } from './errors.ts';
import { Host } from './host.ts';
import { LocalSessionRegistry } from './sessions.ts';
import { Router } from './router.ts';
import { LocalDelivery } from './im/delivery.ts';
import { PresenceBroker } from './im/presence.ts';
import { Accounts, accountCollections } from './accounts.ts';
import { Roster, NS_ROSTER, NS_ROSTER_VER, NS_PRE_APPROVAL } from './im/roster.ts';
import { RosterStore, rosterCollections } from './im/roster-store.ts';
import { PendingRequests, pendingCollections } from './im/pending-requests.ts';
import { OfflineMessages, offlineCollections } from './im/offline.ts';
import { Band } from './hooks.ts';
import { parseJid } from './jid.ts';
import { x } from './xml/element.ts';
import { startModule, type Module } from './module.ts';
import { openStore } from './storage/open-store.ts';
import { ensureCollections, type Store, type CollectionSpec } from './storage/port.ts';
import { CertificateStore } from './tls/certificate-store.ts';
import { AuthThrottle } from './sasl/auth-throttle.ts';
import { HttpRouter } from './net/http-router.ts';
import { listenC2s, type Listening } from './net/c2s-listener.ts';
import { listenHttp } from './net/http-listener.ts';
import { ListenerError } from './net/listener-error.ts';
import { placeholderPage, webClientHandler } from './net/web-client.ts';
import { NS_SESSION } from './c2s/bind.ts';
import { listenAdmin, type AdminListener } from './admin/admin-socket.ts';
import { ServerMetrics } from './metrics.ts';
import { timedStore } from './storage/timed-store.ts';
import { metricsHandler } from './net/metrics-endpoint.ts';
import { MECHANISMS } from './sasl/mechanism.ts';
import type { ClientSession } from './c2s/client-session.ts';
import type { C2sServices } from './c2s/c2s-services.ts';
import type { TlsSettings } from './stream/socket-stream.ts';
import type { Config } from './config/load-config.ts';
import type { Logger } from './log.ts';

export interface ServerOptions {
  config: Config;
  /** Every module Chorus knows; those set to `false` in the config are not started. */
  modules: readonly Module<unknown>[];
  log: Logger;
  /** A store to use instead of opening the configured one (tests). It is closed by stop() too. */
  store?: Store;
}

const CLIENT_DIST = join(PROJECT_ROOT, 'client', 'dist');

export class Server {
  readonly config: Config;
  readonly log: Logger;
  readonly hosts = new Map<string, Host>();
  readonly sessions = new LocalSessionRegistry();
  readonly http = new HttpRouter();
  /** This server's Prometheus registry and counters (docs/metrics.md). */
  readonly metrics: ServerMetrics;
  readonly listeners: Listening[] = [];
  store!: Store;
  accounts!: Accounts;
  /** Rosters (cached for online accounts); administration and tests set items through it. */
  rosters!: RosterStore;
  router!: Router;
  certificates: CertificateStore | null = null;
  private presence!: PresenceBroker;
  private readonly live = new Set<ClientSession>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private admin: AdminListener | null = null;
  private stopping: Promise<void> | null = null;

  constructor(private readonly opts: ServerOptions) {
    this.config = opts.config;
    this.log = opts.log;
    this.metrics = new ServerMetrics({ mechanisms: MECHANISMS, enabled: opts.config.sasl.mechanisms });
  }

  get dataDir(): string {
    return resolvePath(this.config.dataDir);
  }

  /**
   * Open storage and set up hosts and modules, without listening: what the CLI's account
   * commands need. start() calls it first.
   */
  async open(): Promise<void> {
    const { config } = this;
    const store = this.opts.store ?? (await openStore(storageSettings(config, this.dataDir), this.log));
    // Every operation of the core and the modules is timed, whichever adapter is underneath.
    this.store = timedStore(store, (collection, operation, seconds) => this.metrics.storageOperation(collection, operation, seconds));
    const specs: CollectionSpec[] = [...accountCollections, ...rosterCollections, ...pendingCollections, ...offlineCollections];
    for (const m of this.enabledModules()) specs.push(...(m.collections ?? []));
    await ensureCollections(this.store, specs);
    this.accounts = new Accounts(this.store, { scramIterations: config.sasl.scramIterations });
    // A removed account's sessions end at once (RFC 6120 §4.9.3.12: its authentication no longer holds).
    this.accounts.onRemoved((account) => {
      for (const s of [...this.sessions.resources(account)]) s.close(new StreamError('not-authorized', 'the account was deleted'));
    });

    const rosterStore = (this.rosters = new RosterStore(this.store));
    const pending = new PendingRequests(this.store);
    const offline = new OfflineMessages(this.store, config.offline.maxMessages);
    const roster = new Roster(rosterStore, this.sessions, config.roster);
    const delivery = new LocalDelivery(this.sessions, this.accounts);
    this.presence = new PresenceBroker(this.sessions, rosterStore, pending, roster, offline, config.roster.maxItems, this.log);
    this.router = new Router(this.hosts, delivery, this.presence, this.log);
    delivery.attach(this.router, this.presence);
    this.presence.attach(this.router);
    // Account removal: contacts are told the subscriptions ended (as if each item were removed,
    // RFC 6121 §2.5.2), then the core's own data of the account goes (modules remove theirs).
    this.accounts.onRemoved(async (account) => {
      const owner = account.toString();
      for (const item of await rosterStore.list(owner)) {
        await this.presence.subscriptions.removed(account, item, parseJid(item.jid)).catch(() => {});
      }
      await Promise.all([rosterStore.removeAll(owner), pending.removeAll(owner), offline.removeAll(owner)]);
    });

    for (const hostConfig of config.hosts) {
      const host = new Host(hostConfig, this.log);
      this.hosts.set(host.domain, host);
      // RFC 6121 Appendix E (RFC 3921 session): accepted and answered with an empty result.
      host.iq.handle('set', NS_SESSION, 'account', () => null, 'core', { feature: false });
      host.iq.handle('get', NS_ROSTER, 'account', (req) => roster.get(req), 'core');
      host.iq.handle('set', NS_ROSTER, 'account', (req) => roster.set(req), 'core');
      // RFC 6121 §2.6.1 and §3.4: roster versioning and subscription pre-approval are stream features.
      host.hooks.observe('c2s/features', Band.Notify, ({ features }) => void features.push(x('ver', { xmlns: NS_ROSTER_VER }), x('sub', { xmlns: NS_PRE_APPROVAL })), 'core');
      // The rosters of online accounts stay in memory (presence broadcast reads no storage).
      host.hooks.observe('session/bound', Band.Stamp, ({ session }) => rosterStore.retain(session.jid.bareString), 'core');
      host.hooks.observe('session/closed', Band.Notify, ({ session }) => rosterStore.release(session.jid.bareString), 'core');
      // XEP-0160: a message RFC 6121 §8.5.2.2.1 lets the server keep is stored, unless the sender
      // asked otherwise or the account's store is full; unclaimed, the sender gets an error.
      host.hooks.filter('message/offline', Band.Archive, async ({ stanza }) => {
        const verdict = await offline.store(stanza, host.domain);
        if (verdict === 'stored') this.metrics.offlineWrites.inc();
        return verdict === 'stored' || verdict === 'discarded' ? 'drop' : undefined;
      }, 'core');
      for (const mod of this.enabledModules()) {
        host.modules.push(
          await startModule(mod, config.modules[mod.name], {
            host,
            store: this.store,
            accounts: this.accounts,
            log: this.log,
            sessions: this.sessions,
            http: this.http,
            route: (el) => this.settle(this.router.routeElement(el)),
            sendAs: (session, el) => this.settle(this.router.sendAs(session, el)),
            rosterItem: (owner, contact) => rosterStore.get(owner.toString(), contact.bare().toString()),
            metrics: this.metrics,
          }),
        );
      }
    }
  }

  /** Open everything and start listening. */
  async start(): Promise<void> {
    await this.open();
    const { config } = this;
    this.certificates = new CertificateStore({
      dataDir: this.dataDir,
      hosts: config.hosts.map((h) => ({ domain: h.domain, extraNames: h.serviceNames, explicit: h.certificate })),
      log: this.log,
    });
    await this.certificates.load();
    const certificates = this.certificates;
    const tlsFor = (host?: string): TlsSettings => certificates.serverOptions(host);
    const onReload = (fn: () => void) => void certificates.onReload(fn);

    const { throttle } = config.sasl;
    const services: C2sServices = {
      hosts: this.hosts,
      sessions: this.sessions,
      router: this.router,
      presence: this.presence,
      accounts: this.accounts,
      throttle: new AuthThrottle({
        perAddress: {
          freeFailures: throttle.perAddress.freeFailures,
          baseDelayMs: throttle.perAddress.baseDelaySeconds * 1000,
          maxDelayMs: throttle.perAddress.maxDelaySeconds * 1000,
          forgetAfterMs: throttle.perAddress.forgetAfterSeconds * 1000,
        },
        perBlock: throttle.perBlock,
        perAccount: { hotAfterFailures: throttle.perAccount.hotAfterFailures, coolDownMs: throttle.perAccount.coolDownSeconds * 1000 },
        // An exchange ends with its stream at the latest: the auth timeout, noticed by the next sweep.
        holdMs: config.c2s.authTimeoutSeconds * 1000 + sweepInterval(config),
      }),
      config,
      log: this.log,
      metrics: this.metrics,
      live: this.live,
    };

    // Account commands of the CLI reach this process through the admin socket.
    this.admin = await listenAdmin(this);
    const domains = [...this.hosts.keys()];
    if (config.metrics.enabled) {
      this.metrics.watchSessions(() => this.live);
      this.metrics.includeProcessMetrics();
      this.http.route('GET', config.metrics.path, metricsHandler(this.metrics, config.metrics.allowFrom), 'metrics');
    }
    this.http.route('GET', '/*', webClientHandler(CLIENT_DIST, () => placeholderPage(domains, '/xmpp-websocket')), 'web-client');
    // Every listener is open before any is announced: a port in use fails the start in one line
    // naming the listener (ListenerError), not after half of them were logged as listening.
    try {
      for (const [i, l] of config.listeners.entries()) {
        try {
          this.listeners.push(
            l.type === 'c2s'
              ? await listenC2s(l, tlsFor, services, onReload)
              : await listenHttp(l, { router: this.http, tls: tlsFor(), services, onReload }),
          );
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          throw new ListenerError(i, l, e.code, e.message);
        }
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    for (const l of this.listeners) this.log.info({ listener: l.kind, address: l.address, port: l.port }, 'listening');
    this.sweepTimer = setInterval(() => this.sweep(), sweepInterval(config));
    this.sweepTimer.unref();
    this.log.info({ hosts: domains, storage: config.storage.kind }, 'Chorus started');
  }

  /** The port a listener of this kind got (tests listen on port 0). */
  port(kind: 'c2s-starttls' | 'c2s-direct-tls' | 'http' | 'https'): number {
    const l = this.listeners.find((x) => x.kind === kind);
    if (!l) throw new Error(`no ${kind} listener`);
    return l.port;
  }

  /**
   * Graceful shutdown: stop accepting, send every stream <system-shutdown/>, give them a
   * moment to close, then stop modules and flush storage.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.admin?.close();
    const closing = this.listeners.splice(0).map((l) => l.close());
    const sessions = [...this.live];
    for (const s of sessions) s.close(new StreamError('system-shutdown'));
    await waitUntil(() => sessions.every((s) => s.stream.isClosed), this.config.shutdownGraceSeconds * 1000);
    for (const s of sessions) if (!s.stream.isClosed) s.stream.destroy();
    await Promise.all(closing);
    for (const host of this.hosts.values()) await host.stopModules();
    if (this.store) await this.store.close();
    this.log.info('Chorus stopped');
  }

  /** What a module routes is not awaited by it: a failure on the way is logged, never left unhandled. */
  private settle(result: void | Promise<void>): void {
    if (result) result.catch((err: unknown) => this.log.error({ err }, 'routing a module\'s stanza failed'));
  }

  private enabledModules(): Module<unknown>[] {
    return this.opts.modules.filter((m) => this.config.modules[m.name] !== false);
  }

  private sweep(): void {
    const now = monotonicMs();
    for (const s of this.live) s.tick(now, s.stream.lastActivity);
  }
}

function storageSettings(config: Config, dataDir: string) {
  const s = config.storage;
  return s.kind === 'mongodb'
    ? { kind: 'mongodb' as const, uri: s.uri, database: s.database }
    : { kind: 'embedded' as const, dir: join(dataDir, 'db'), compactionIntervalMs: s.compactionIntervalSeconds * 1000 };
}

/** Often enough to notice timeouts within a few seconds of their deadline. */
function sweepInterval(config: Config): number {
  const shortest = Math.min(config.c2s.authTimeoutSeconds, config.c2s.pingTimeoutSeconds, config.c2s.idleSeconds);
  return Math.max(250, Math.min(5000, (shortest * 1000) / 4));
}

async function waitUntil(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
