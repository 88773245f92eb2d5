// Prometheus metrics for the sync engine and the daemon, on prom-client. Fed by SyncEvents (the engine never
// calls into metrics) and, at scrape time, by the state files (quarantine, staged, failed objects, delta-link
// age: what is true now, whichever process wrote it). One Registry per SyncMetrics, never prom-client's global
// one, so two runtimes in one process (tests) keep apart. Every name starts with `entra_sync_`; labels are
// target names, operation kinds, HTTP methods and statuses: small, bounded sets. docs/http.md lists them all.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SyncEvents } from './events.js';
import type { QuarantineState, RunRecord } from '../state/targets-store.js';

export const METRIC_PREFIX = 'entra_sync_';

/** What the scrape-time gauges read: the runtime passes its stores (narrowed to what is read here). */
export interface MetricsStateSource {
  targetNames: () => readonly string[];
  targets: {
    quarantine(target: string): QuarantineState | undefined;
    staged(target: string): readonly unknown[];
    failures(target: string): readonly unknown[];
    deferredMemberCount(target: string): number;
    runs(target: string, limit?: number): RunRecord[];
  };
  source: { deltaLink(kind: 'users' | 'groups'): { updatedAt?: string } | undefined };
  now?: () => Date;
}

// Cycles run from under a second (a provision) to an hour (a first sync of a large tenant).
const CYCLE_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600];
const READ_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600];
// One HTTP exchange: a few ms on a LAN to tens of seconds behind a slow proxy.
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Runs looked at for the last successful cycle of a target started before this process. */
const RUNS_SCANNED = 50;

type Labels = Record<string, string>;

export class SyncMetrics {
  readonly registry = new Registry();
  private state: MetricsStateSource | undefined;
  /** Last successful sync cycle per target seen in this process (unix seconds). */
  private readonly lastSuccess = new Map<string, number>();

  private readonly cycles = this.counter('cycles_total', 'Cycles that ran, by target, kind (sync, provision, approve …) and final status.', ['target', 'kind', 'status']);
  private readonly cyclesSkipped = this.counter('cycles_skipped_total', 'Cycles not run (the target is quarantined and its next attempt is not due).', ['target']);
  private readonly cycleDuration = new Histogram({
    name: `${METRIC_PREFIX}cycle_duration_seconds`, help: 'Duration of a cycle, by target, kind and mode (full or incremental).',
    labelNames: ['target', 'kind', 'mode'], buckets: CYCLE_BUCKETS, registers: [this.registry],
  });
  private readonly lastSuccessGauge = this.gauge('last_success_timestamp_seconds', 'Unix time the last successful sync cycle of the target ended (status success or partial).', ['target']);
  private readonly objectsPlanned = this.counter('objects_planned_total', 'Source objects scoped, mapped and planned, by target and type.', ['target', 'type']);
  private readonly objects = this.counter('objects_total', 'Objects written to a target, by action (create, adopt, update, disable …) and result (success, failed, staged).', ['target', 'action', 'result']);
  private readonly failuresByError = this.counter('object_failures_total', 'Objects that failed, by action and error kind (transient, badRequest, unauthorized …).', ['target', 'action', 'error']);
  private readonly membersDeferred = this.counter('members_deferred_total', 'Group members deferred until their user is provisioned.', ['target']);
  private readonly recovered = this.counter('operations_recovered_total', 'In-flight operations resolved after a restart, by whether they had landed.', ['target', 'landed']);
  private readonly quarantined = this.gauge('target_quarantined', '1 while the target is quarantined, else 0.', ['target']);
  private readonly staged = this.gauge('staged_operations', 'Disables and deletes held back by the deletion threshold, waiting for approve or reject.', ['target']);
  private readonly failedObjects = this.gauge('failed_objects', 'Objects whose last operation failed and that wait for a retry.', ['target']);
  private readonly deferredMembers = this.gauge('deferred_members', 'Group memberships waiting for their user to be provisioned.', ['target']);
  private readonly deltaLinkAge = this.gauge('delta_link_age_seconds', 'Age of the stored Graph delta link (absent before the first read).', ['kind']);
  private readonly readDuration = new Histogram({
    name: `${METRIC_PREFIX}graph_read_duration_seconds`, help: 'Duration of a Graph read (sync, resync, plan), by mode and status.',
    labelNames: ['mode', 'status'], buckets: READ_BUCKETS, registers: [this.registry],
  });
  private readonly reading = this.gauge('graph_read_in_progress', '1 while a Graph read runs.', []);
  private readonly graphRequests = this.counter('graph_requests_total', 'HTTP requests to Microsoft Graph and its token endpoint, by method and status (a code, or "error").', ['method', 'status']);
  private readonly graphLatency = new Histogram({
    name: `${METRIC_PREFIX}graph_request_duration_seconds`, help: 'Latency of one HTTP exchange with Graph, by method.',
    labelNames: ['method'], buckets: REQUEST_BUCKETS, registers: [this.registry],
  });
  private readonly targetRequests = this.counter('target_requests_total', 'HTTP requests to a target, by target, method and status (a code, or "error").', ['target', 'method', 'status']);
  private readonly targetLatency = new Histogram({
    name: `${METRIC_PREFIX}target_request_duration_seconds`, help: 'Latency of one HTTP exchange with a target, by target and method.',
    labelNames: ['target', 'method'], buckets: REQUEST_BUCKETS, registers: [this.registry],
  });
  private readonly retries = this.counter('http_retries_total', 'Requests sent again, by service (graph or target), target, reason (throttled, unavailable, network) and whether the answer said Retry-After.', ['service', 'target', 'reason', 'retry_after']);
  private readonly retryWait = this.counter('http_retry_wait_seconds_total', 'Seconds spent waiting before a retry (Retry-After or backoff), by service, target and reason.', ['service', 'target', 'reason']);

  constructor() {
    // From the start, so CPU seconds count from the process's start and the event-loop lag has a history at
    // the first scrape. Nothing here keeps a process alive: a CLI command still exits when its work is done.
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

  /** Subscribes to the engine's events; returns a function that unsubscribes. */
  subscribe(events: SyncEvents): () => void {
    const offs = [
      events.on('cycle:end', (e) => {
        const summary = e.summary as { kind?: string; full?: boolean; dryRun?: boolean };
        const kind = summary.kind ?? 'sync';
        this.cycles.inc({ target: e.target, kind, status: e.status });
        this.cycleDuration.observe({ target: e.target, kind, mode: summary.full ? 'full' : 'incremental' }, e.durationMs / 1000);
        if (kind === 'sync' && !summary.dryRun && (e.status === 'success' || e.status === 'partial')) {
          this.lastSuccess.set(e.target, Date.now() / 1000);
          this.lastSuccessGauge.set({ target: e.target }, Date.now() / 1000);
        }
      }),
      events.on('cycle:skipped', (e) => this.cyclesSkipped.inc({ target: e.target })),
      events.on('object:planned', (e) => this.objectsPlanned.inc({ target: e.target, type: e.type })),
      events.on('operation:sent', (e) => this.objects.inc({ target: e.target, action: e.outcome === 'adopted' ? 'adopt' : e.operation.kind, result: 'success' })),
      events.on('operation:failed', (e) => {
        this.objects.inc({ target: e.target, action: e.operation.kind, result: 'failed' });
        this.failuresByError.inc({ target: e.target, action: e.operation.kind, error: e.error.kind });
      }),
      events.on('operation:staged', (e) => this.objects.inc({ target: e.target, action: e.operation.kind, result: 'staged' })),
      events.on('members:deferred', (e) => this.membersDeferred.inc({ target: e.target }, e.memberSourceIds.length)),
      events.on('operation:recovered', (e) => this.recovered.inc({ target: e.target, landed: String(e.landed) })),
      events.on('target:quarantined', (e) => this.quarantined.set({ target: e.target }, 1)),
      events.on('target:released', (e) => this.quarantined.set({ target: e.target }, 0)),
      events.on('read:start', () => this.reading.set(1)),
      events.on('read:end', (e) => {
        this.reading.set(0);
        this.readDuration.observe({ mode: e.full ? 'full' : 'incremental', status: e.status }, e.durationMs / 1000);
      }),
      events.on('http:request', (e) => {
        const status = String(e.status);
        if (e.service === 'graph') {
          this.graphRequests.inc({ method: e.method, status });
          this.graphLatency.observe({ method: e.method }, e.durationMs / 1000);
        } else {
          const target = e.target ?? '';
          this.targetRequests.inc({ target, method: e.method, status });
          this.targetLatency.observe({ target, method: e.method }, e.durationMs / 1000);
        }
      }),
      events.on('http:retry', (e) => {
        const target = e.target ?? '';
        this.retries.inc({ service: e.service, target, reason: e.reason, retry_after: String(e.retryAfter) });
        this.retryWait.inc({ service: e.service, target, reason: e.reason }, e.waitMs / 1000);
      }),
    ];
    return () => { for (const off of offs) off(); };
  }

  /** Gauges read from the state files at each scrape (set once, by the runtime). */
  observeState(state: MetricsStateSource): void {
    this.state = state;
  }

  /** The Content-Type of `render()`'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Prometheus text exposition, with prom-client's process metrics (CPU, memory, event-loop lag, GC …). */
  async render(): Promise<string> {
    this.refreshState();
    return this.registry.metrics();
  }

  /** What a /metrics endpoint answers. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { body: await this.render(), contentType: this.contentType };
  }

  /**
   * Current value of one series (tests, status): a counter or gauge by name, or a histogram's `_count`,
   * `_sum` or `_bucket` (with its `le` label). 0 when the series has no value yet.
   */
  async value(name: string, labels: Labels = {}): Promise<number> {
    this.refreshState();
    const family = name.replace(/_(count|sum|bucket)$/, '');
    const metric = this.registry.getSingleMetric(name) ?? this.registry.getSingleMetric(family);
    if (!metric) return 0;
    const data = await metric.get();
    const wanted = Object.entries(labels);
    const match = data.values.find((v) => {
      const metricName = (v as { metricName?: string }).metricName ?? data.name;
      if (metricName !== name) return false;
      const have = v.labels as Record<string, string | number>;
      return Object.keys(have).length === wanted.length && wanted.every(([k, x]) => String(have[k]) === x);
    });
    return match?.value ?? 0;
  }

  private refreshState(): void {
    const state = this.state;
    if (!state) return;
    const now = (state.now ?? (() => new Date()))().getTime();
    // Reset first: a target removed from the configuration stops being reported.
    for (const g of [this.quarantined, this.staged, this.failedObjects, this.deferredMembers, this.deltaLinkAge]) g.reset();
    for (const target of state.targetNames()) {
      const labels = { target };
      this.quarantined.set(labels, state.targets.quarantine(target) ? 1 : 0);
      this.staged.set(labels, state.targets.staged(target).length);
      this.failedObjects.set(labels, state.targets.failures(target).length);
      this.deferredMembers.set(labels, state.targets.deferredMemberCount(target));
      // A cycle before this process started (another `sync`, the daemon before a restart) counts too.
      const stored = state.targets.runs(target, RUNS_SCANNED)
        .find((r) => r.kind === 'sync' && (r.status === 'success' || r.status === 'partial') && r.endedAt);
      const last = Math.max(this.lastSuccess.get(target) ?? 0, stored?.endedAt ? Date.parse(stored.endedAt) / 1000 : 0);
      if (last > 0) this.lastSuccessGauge.set(labels, last);
    }
    for (const kind of ['users', 'groups'] as const) {
      const updatedAt = state.source.deltaLink(kind)?.updatedAt;
      if (updatedAt) this.deltaLinkAge.set({ kind }, Math.max(0, (now - Date.parse(updatedAt)) / 1000));
    }
  }

  private counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name: `${METRIC_PREFIX}${name}`, help, labelNames, registers: [this.registry] });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> {
    return new Gauge({ name: `${METRIC_PREFIX}${name}`, help, labelNames, registers: [this.registry] });
  }
}
