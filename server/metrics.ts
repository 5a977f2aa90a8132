// Prometheus metrics of one server (docs/metrics.md describes each). Every Server has its own
// registry, so several servers in one process (the tests) count apart. What happens per stanza
// is a plain field increment; prom-client is asked to format the values only when /metrics is
// scraped, and what can be read from live state (sessions) is computed then, not maintained.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** How stanzas are counted: the three stanza kinds, and 'other' for every other top-level element (SASL, STARTTLS, features). */
export type StanzaKind = 'message' | 'presence' | 'iq' | 'other';

/**
 * Counts of stanzas by kind. The hot path adds one to a field: no label lookup or hashing per
 * stanza; the registry copies the fields into its counters at scrape time.
 */
export class StanzaTally {
  message = 0;
  presence = 0;
  iq = 0;
  other = 0;

  count(name: string): void {
    if (name === 'message') this.message++;
    else if (name === 'presence') this.presence++;
    else if (name === 'iq') this.iq++;
    else this.other++;
  }
}

const STANZA_KINDS: readonly StanzaKind[] = ['message', 'presence', 'iq', 'other'];

/** A client session as the sessions gauge sees it. */
export interface SessionView {
  readonly transportKind: 'tcp' | 'websocket';
  readonly stage: 'negotiating' | 'authenticated' | 'bound';
}

const TRANSPORTS = ['tcp', 'websocket'] as const;
const STAGES = ['negotiating', 'authenticated', 'bound'] as const;

export type AuthResult = 'success' | 'failure';

/** What modules may declare: a name in Chorus's namespace, its help text, its labels. */
export interface MetricSpec<L extends string> {
  /** `chorus_...`, Prometheus style: `_total` for counters, a unit suffix (`_seconds`, `_bytes`) where there is one. */
  name: string;
  help: string;
  labelNames?: readonly L[];
}

/**
 * Metrics for modules (ModuleContext.metrics). A metric is created on first use and shared by
 * every host's instance of the module; asking again with the same name, kind and labels returns
 * it, anything else is a start-up error. Metrics outlive a module's stop: a counter must not go
 * back to zero while the process lives (Prometheus would read the drop as a restart).
 */
export interface ModuleMetrics {
  counter<L extends string = never>(spec: MetricSpec<L>): Counter<L>;
  gauge<L extends string = never>(spec: MetricSpec<L>): Gauge<L>;
  histogram<L extends string = never>(spec: MetricSpec<L> & { buckets?: readonly number[] }): Histogram<L>;
}

/** Buckets from 50 µs (an embedded read) to 2.5 s (a struggling remote database). */
const STORAGE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class ServerMetrics implements ModuleMetrics {
  readonly registry = new Registry();
  /** Top-level elements read from client streams. */
  readonly stanzasIn = new StanzaTally();
  /** Top-level elements written to client streams (stream headers and stream errors aside). */
  readonly stanzasOut = new StanzaTally();
  /** Messages written to offline storage (XEP-0160). */
  readonly offlineWrites: Counter;
  /**
   * Messages written to the message archive. Declared by the core so that it exists (at 0) on
   * every server; the archive module (XEP-0313, MAM) gets it with `ctx.metrics.counter()` under
   * this name and increments it.
   */
  readonly archiveWrites: Counter;
  private readonly auth: Counter<'mechanism' | 'result'>;
  private readonly storage: Histogram<'collection' | 'operation'>;
  private readonly knownMechanisms: ReadonlySet<string>;
  private sessions: () => Iterable<SessionView> = () => [];
  private withProcess = false;

  /** `mechanisms`: every mechanism Chorus implements; `enabled`: those configured, shown at 0 from the start. */
  constructor(opts: { mechanisms: readonly string[]; enabled: readonly string[] }) {
    const registers = [this.registry];
    this.knownMechanisms = new Set(opts.mechanisms);
    const tallies = { in: this.stanzasIn, out: this.stanzasOut };
    for (const [direction, name, help] of [
      ['in', 'chorus_c2s_stanzas_received_total', 'Top-level elements received on client streams, by kind (message, presence, iq; other: SASL, STARTTLS and other non-stanzas)'],
      ['out', 'chorus_c2s_stanzas_sent_total', 'Top-level elements sent on client streams, by kind (message, presence, iq; other: SASL, STARTTLS, stream features and other non-stanzas)'],
    ] as const) {
      const tally = tallies[direction];
      const counter: Counter<'kind'> = new Counter({
        name,
        help,
        labelNames: ['kind'],
        registers,
        // Copies the plain counts in at scrape time (the counter is only ever set from them).
        collect: () => {
          counter.reset();
          for (const kind of STANZA_KINDS) counter.inc({ kind }, tally[kind]);
        },
      });
    }
    const sessionsGauge: Gauge<'transport' | 'state'> = new Gauge({
      name: 'chorus_c2s_sessions',
      help: 'Client sessions open now, by transport (tcp, websocket) and state (negotiating, authenticated, bound)',
      labelNames: ['transport', 'state'],
      registers,
      // Counted from the live sessions at scrape time: nothing to keep in step per session.
      collect: () => {
        const counts = { tcp: { negotiating: 0, authenticated: 0, bound: 0 }, websocket: { negotiating: 0, authenticated: 0, bound: 0 } };
        for (const s of this.sessions()) counts[s.transportKind][s.stage]++;
        for (const transport of TRANSPORTS) for (const state of STAGES) sessionsGauge.set({ transport, state }, counts[transport][state]);
      },
    });
    this.auth = new Counter({
      name: 'chorus_c2s_auth_total',
      help: 'SASL authentications on client streams, by mechanism and result (success, failure)',
      labelNames: ['mechanism', 'result'],
      registers,
    });
    for (const mechanism of opts.enabled) for (const result of ['success', 'failure'] as const) this.auth.inc({ mechanism, result }, 0);
    this.offlineWrites = new Counter({ name: 'chorus_offline_writes_total', help: 'Messages written to offline storage (XEP-0160)', registers });
    this.archiveWrites = new Counter({ name: 'chorus_archive_writes_total', help: 'Messages written to the message archive (XEP-0313); incremented by the archive module', registers });
    this.storage = new Histogram({
      name: 'chorus_storage_operation_duration_seconds',
      help: 'Time storage operations took, by collection and operation (failed ones included)',
      labelNames: ['collection', 'operation'],
      buckets: STORAGE_BUCKETS,
      registers,
    });
  }

  /** Where the sessions gauge counts from (every client session, bound or not). */
  watchSessions(source: () => Iterable<SessionView>): void {
    this.sessions = source;
  }

  /** One SASL outcome. A mechanism Chorus does not implement is counted as 'unsupported' (clients choose the name). */
  authenticated(mechanism: string, result: AuthResult): void {
    this.auth.inc({ mechanism: this.knownMechanisms.has(mechanism) ? mechanism : 'unsupported', result });
  }

  /** The storage decorator's report (storage/timed-store.ts). */
  storageOperation(collection: string, operation: string, seconds: number): void {
    this.storage.observe({ collection, operation }, seconds);
  }

  /** Add the process's metrics (CPU, memory, event-loop lag, GC...) to what this server serves. */
  includeProcessMetrics(): void {
    processRegistry(); // starts the collectors now, so that the first scrape has samples
    this.withProcess = true;
  }

  /** The Prometheus text exposition of every metric. */
  async scrape(): Promise<string> {
    const own = await this.registry.metrics();
    return this.withProcess ? own + '\n' + (await processRegistry().metrics()) : own;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  // ---- ModuleMetrics

  counter<L extends string = never>(spec: MetricSpec<L>): Counter<L> {
    return this.declare(spec, Counter, () => new Counter({ ...spec, labelNames: spec.labelNames ?? [], registers: [this.registry] }));
  }

  gauge<L extends string = never>(spec: MetricSpec<L>): Gauge<L> {
    return this.declare(spec, Gauge, () => new Gauge({ ...spec, labelNames: spec.labelNames ?? [], registers: [this.registry] }));
  }

  histogram<L extends string = never>(spec: MetricSpec<L> & { buckets?: readonly number[] }): Histogram<L> {
    const buckets = spec.buckets ? [...spec.buckets] : undefined;
    return this.declare(spec, Histogram, () => new Histogram({ ...spec, buckets, labelNames: spec.labelNames ?? [], registers: [this.registry] }));
  }

  private declare<M extends Counter<L> | Gauge<L> | Histogram<L>, L extends string>(
    spec: MetricSpec<L>,
    kind: abstract new (...args: never[]) => unknown,
    create: () => M,
  ): M {
    if (!spec.name.startsWith('chorus_')) throw new Error(`metric '${spec.name}': names start with 'chorus_'`);
    const existing = this.registry.getSingleMetric(spec.name);
    if (existing === undefined) return create();
    const labels = (existing as unknown as { labelNames: readonly string[] }).labelNames;
    const wanted = spec.labelNames ?? [];
    if (!(existing instanceof kind) || labels.length !== wanted.length || labels.some((l, i) => l !== wanted[i])) {
      throw new Error(`metric '${spec.name}' already exists as another kind or with other labels`);
    }
    return existing as M;
  }
}

let shared: Registry | null = null;

/**
 * prom-client's process and Node.js metrics (CPU, memory, file descriptors, event-loop lag, GC),
 * with their usual names (`process_*`, `nodejs_*`) so that existing dashboards read them. One
 * registry per process, not per server: they describe the process, and their collectors (a GC
 * observer, an event-loop delay monitor) cannot be stopped, so a server per test must not start
 * new ones. Started by the first server that serves metrics, never by the CLI's one-shot commands.
 */
function processRegistry(): Registry {
  if (shared === null) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
  }
  return shared;
}
