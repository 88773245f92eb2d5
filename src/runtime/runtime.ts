// The one place that turns a loaded Config into a running system: the state file, the source store and
// one Graph reader (whose $select serves every target), the per-target state, one connector per target,
// the compiled mappings, and the events that feed the logger and the metrics. Every command (sync, plan,
// provision, status …) and the demo call these methods; none of them wires parts together itself.
import { hostname } from 'node:os';
import type { Config, TargetConfig } from '../config/schema.js';
import { runCycle, type CycleOptions, type CycleSummary } from '../sync/cycle.js';
import { cyclePolicyFromConfig, type CyclePolicy } from '../sync/policy.js';
import { step } from '../sync/provisioning-log.js';
import { reconcileTarget, type DriftFix } from '../sync/reconcile.js';
import { applySavedPlan, buildPlan } from '../sync/saved-plans.js';
import { approveStaged, rejectStaged } from '../sync/staging.js';
import { SyncEvents } from '../observability/events.js';
import { compileTarget, desiredGroup, desiredUser, type CompiledTarget, type MappingContext } from '../engine/mapping.js';
import { planObject } from '../engine/plan.js';
import type { DesiredObject, Link, LinkStatus, PlannedOperation, ProvisioningLogEntry, ProvisioningStep, ScopeReason } from '../engine/types.js';
import { EntraSyncError } from '../errors.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { SyncMetrics } from '../observability/metrics.js';
import { createSourceReader, type ReadOptions, type ReadSummary, type SourceReader } from '../source/reader.js';
import type { ReadProgress } from '../source/delta.js';
import { createThreadedSourceReader, readWorkerScript } from '../source/threaded-reader.js';
import type { LiveRead, SourceGroupRecord, SourceUserRecord } from '../source/types.js';
import type { Db } from '../state/db.js';
import { openStateFiles, type StateFiles } from '../state/files.js';
import { SourceStoreImpl } from '../state/source-store.js';
import { describeHolder, readStateLock, type StateLock, type StateLockStatus } from '../state/lock.js';
import { TargetsStore, type LogQuery, type QuarantineState, type RunRecord, type SavedPlan } from '../state/targets-store.js';
import type { ObjectType, TargetAttributes, TargetConnector } from '../targets/connector.js';
import { TargetError } from '../targets/connector.js';
import { httpEventsOn, type HttpObserver } from '../net/events.js';
import { createTargetConnector } from './connectors.js';
import type { ResumeReport } from '../daemon/api.js';

/**
 * Builds the connector of one target; `dryRun` connectors refuse every mutating request at the HTTP layer;
 * `http` is told of every request and retry (the runtime's http:request and http:retry events).
 */
export type ConnectorFactory = (target: TargetConfig, options: { dryRun: boolean; http?: HttpObserver }) => TargetConnector;

export interface RuntimeOptions {
  logger?: Logger;
  /** Every cycle is a dry run, whatever the call asks (the CLI's `--dry-run`). */
  dryRun?: boolean;
  createConnector?: ConnectorFactory;
  now?: () => Date;
  /** Long reads and applies report here (the CLI draws a progress line from it). */
  onProgress?: (progress: RuntimeProgress) => void;
  /** Overrides of every target's cycle policy (tests, benchmarks). */
  policy?: Partial<CyclePolicy>;
  /**
   * `sync` commits a long users round in chunks of this many users and applies them while the rest is read
   * (default READ_CHUNK_USERS; tests use small chunks). 0 turns it off: the whole read, then the cycles.
   */
  readChunkUsers?: number;
  /**
   * Read Graph on a worker thread (default, for a state file): the event loop then only sends and answers
   * target requests. false reads on the event loop, as an in-memory state always does.
   */
  readInWorker?: boolean;
  /** The compiled read-worker.js to start (default: the one beside the runtime's modules). */
  readWorkerScript?: string;
  /**
   * The state lock the caller holds (src/state/lock.ts). Given, the runtime writes as the state's one writer:
   * on open, runs a gone process left marked running become interrupted and its target leases are released.
   * Read-only callers (`status`) hold none.
   */
  stateLock?: StateLock;
}

/** How a caller (the daemon) steers a running cycle: see CycleOptions.signal, between and betweenWanted. */
export type CycleControl = Pick<CycleOptions, 'signal' | 'between' | 'betweenWanted'> & {
  /**
   * `sync`/`resync`: called once each target's cycle has ended, however it ended. The daemon holds a target's
   * cycle in `between` until every other target's cycle is in `between` too or has ended: it must know which.
   */
  ended?: (target: string) => void;
};

/** Users per chunk when `sync` applies a long users round while it is still being read. */
export const READ_CHUNK_USERS = 5000;

export type RuntimeProgress =
  | { stage: 'read'; phase: ReadProgress['phase']; pages: number; items: number }
  | { stage: 'apply'; target: string; planned: number; sent: number; failed: number };

/** A target whose cycle could not run at all (leased by another process, unreachable …), next to those that did. */
export interface TargetFailure {
  target: string;
  error: { code: string; message: string };
}

export type TargetOutcome = CycleSummary | TargetFailure;

export function isTargetFailure<T extends object>(outcome: T | TargetFailure): outcome is TargetFailure {
  return 'error' in outcome && !('runId' in outcome);
}

export interface SyncReport {
  read: ReadSummary;
  targets: TargetOutcome[];
}

export interface PlanReport {
  read: ReadSummary;
  plans: ({ target: string; plan: SavedPlan; summary: CycleSummary } | TargetFailure)[];
}

/** One object's trip through a target, as the provisioning log tells it. */
export interface ObjectTrace {
  type: ObjectType;
  sourceId: string;
  targetId: string | null;
  displayName: string;
  action: ProvisioningLogEntry['action'] | 'none';
  status: ProvisioningLogEntry['status'] | 'planned' | 'unchanged';
  steps: ProvisioningStep[];
  modifiedProperties: ProvisioningLogEntry['modifiedProperties'];
  error?: { code: string; message: string };
}

export interface ProvisionReport {
  object: { type: ObjectType; id: string; displayName: string };
  dryRun: boolean;
  targets: ({ target: string; objects: ObjectTrace[]; summary?: CycleSummary } | TargetFailure)[];
}

export interface PreviewTarget {
  target: string;
  scope: ScopeReason;
  /** Why the object is skipped (IgnoreObjectFlow, a mapping error, no matching value …). */
  skip?: string;
  /** Every mapped attribute, as the target would receive it on create. */
  attributes: TargetAttributes;
  createOnly: string[];
  match: DesiredObject['match'];
  link: Pick<Link, 'targetId' | 'status'> | null;
  operations: PlannedOperation[];
}

export interface PreviewReport {
  user: { id: string; userPrincipalName: string; removed: SourceUserRecord['removed']; assigned: boolean };
  targets: PreviewTarget[];
}

export interface ReconcileReport {
  targets: ((CycleSummary & { fixes: DriftFix[] }) | TargetFailure)[];
}

export interface TargetStatus {
  target: string;
  type: TargetConfig['type'];
  dryRun: boolean;
  cursor: number;
  sourceSeq: number;
  /** True when source changes above the cursor wait for the next cycle. */
  behind: boolean;
  links: Record<ObjectType, Record<LinkStatus, number>>;
  failures: { total: number; due: number; nextRetryAt: string | null };
  staged: number;
  deferredMembers: number;
  pendingPlans: { id: string; createdAt: string }[];
  /** Why the target is quarantined and what lifts it (`entra-sync resume`); null when it is not. */
  quarantine: (QuarantineState & { resume: string }) | null;
  lastRuns: RunRecord[];
}

export interface StatusReport {
  state: string;
  source: { seq: number; usersDeltaLink: boolean; groupsDeltaLink: boolean };
  /** Who holds the state lock (a command or the daemon writing the state now); null when nobody does. */
  lock: StateLockStatus | null;
  targets: TargetStatus[];
}

interface TargetSlot {
  config: TargetConfig;
  compiled: CompiledTarget;
  policy: CyclePolicy;
  connectors: Partial<Record<'live' | 'dryRun', TargetConnector>>;
}

/** Opens everything a command needs. Call `close()` when done (it is safe to call twice). */
export function openRuntime(config: Config, options: RuntimeOptions = {}): Runtime {
  return new Runtime(config, options);
}

export class Runtime {
  /** The state file's connection (targets' tables); the source's is `source.db`. */
  readonly db: Db;
  private readonly files: StateFiles;
  readonly source: SourceStoreImpl;
  readonly targets: TargetsStore;
  readonly reader: SourceReader;
  readonly events = new SyncEvents();
  readonly metrics = new SyncMetrics();
  private readonly slots = new Map<string, TargetSlot>();
  private readonly logger: Logger;
  private readonly factory: ConnectorFactory;
  private readonly now: () => Date;
  /**
   * One lease holder for the runtime's whole life (host:pid:random): a unit of work run inside another's pause
   * (the daemon's provision between a cycle's batches) finds the target's lease already its own and leaves it
   * to the outer one. The daemon's queue keeps this runtime's units of work apart; the state lock, processes.
   */
  private readonly holder = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
  private closed: Promise<void> | undefined;

  constructor(readonly config: Config, private readonly options: RuntimeOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.factory = options.createConnector ?? createTargetConnector;
    this.now = options.now ?? (() => new Date());
    for (const target of config.targets) {
      // Compiled before anything is opened: a bad mapping stops here, having touched nothing.
      const compiled = compileTarget(target);
      const policy: CyclePolicy = {
        ...cyclePolicyFromConfig(target),
        concurrency: target.concurrency,
        ...('notFoundOnUpdate' in target ? { onNotFound: target.notFoundOnUpdate } : {}),
        ...options.policy,
      };
      this.slots.set(target.name, { config: target, compiled, policy, connectors: {} });
    }
    const compiled = [...this.slots.values()].map((s) => s.compiled);
    this.files = openStateFiles(config.state.path, { backgroundCheckpoint: true });
    this.db = this.files.db;
    try {
      this.source = new SourceStoreImpl(this.files.sourceDb);
      this.targets = new TargetsStore(this.db);
      if (options.stateLock) this.recoverAbandoned(options.stateLock);
      const readerDeps = {
        http: httpEventsOn(this.events),
        store: this.source,
        logger: this.logger,
        select: [...new Set(compiled.flatMap((c) => c.sourceAttributes))],
        groupSelect: [...new Set(compiled.flatMap((c) => c.groupSourceAttributes))],
      };
      const workerScript = options.readInWorker === false ? undefined : options.readWorkerScript ?? readWorkerScript();
      this.reader = this.files.sourceFile && workerScript
        ? createThreadedSourceReader(config.source, { ...readerDeps, sourceFile: this.files.sourceFile, workerScript })
        : createSourceReader(config.source, readerDeps);
    } catch (err) {
      this.files.close();
      throw err;
    }
    this.metrics.subscribe(this.events);
    this.metrics.observeState({ targetNames: () => this.targetNames, targets: this.targets, source: this.source, now: this.now });
    this.logEvents();
    if (options.onProgress) this.reportApplyProgress(options.onProgress);
  }

  /** Target names in configuration order. */
  get targetNames(): string[] {
    return [...this.slots.keys()];
  }

  /** The compiled mappings of one target (preview, tests). */
  compiled(target: string): CompiledTarget {
    return this.slot(target).compiled;
  }

  /**
   * One Graph read, then one cycle per target, each with its own links, plans and failures. The targets'
   * cycles run side by side (each at its own concurrency), so a sync to several targets takes as long as the
   * slowest, not their sum. A long users round is committed in chunks and every target's cycle applies each
   * chunk while the rest is read; a full comparison (`--full`) reads everything first.
   */
  async sync(options: { target?: string; full?: boolean; dryRun?: boolean } & CycleControl = {}): Promise<SyncReport> {
    const slots = this.select(options.target);
    const full = options.full ?? false;
    const chunkUsers = full ? 0 : this.options.readChunkUsers ?? READ_CHUNK_USERS;
    let onLive: (live: LiveRead) => void = () => undefined;
    const liveStarted = new Promise<{ live: LiveRead }>((resolve) => { onLive = (live) => resolve({ live }); });
    const reading = this.read(full, chunkUsers > 0 ? { chunkUsers, onLive } : undefined);
    // The read fails before its first chunk: nothing was committed and no cycle starts.
    const first = await Promise.race([reading.then((read) => ({ read })), liveStarted]);
    const live = 'live' in first ? first.live : undefined;
    let readError: unknown;
    const readDone = reading.catch((err: unknown) => { readError = err; return undefined; });
    const targets: TargetOutcome[] = await Promise.all(slots.map((slot) =>
      this.guard(slot, () => runCycle({ ...this.cycleInput(slot, { full, dryRun: options.dryRun, control: options }), ...(live ? { live } : {}) }))
        .finally(() => options.ended?.(slot.config.name))));
    const read = await readDone;
    if (!read) throw readError;
    return { read, targets };
  }

  /** `resync`: forget both delta links, read everything, and compare every object with what each target holds. */
  async resync(options: { target?: string; dryRun?: boolean } & CycleControl = {}): Promise<SyncReport> {
    this.select(options.target);
    this.reader.resetDeltaLinks();
    return this.sync({ ...options, full: true });
  }

  /** Reads Entra, then plans each target without sending anything and saves the plan for `applyPlan`. */
  async plan(options: { target?: string; full?: boolean } = {}): Promise<PlanReport> {
    const slots = this.select(options.target);
    const read = await this.read(options.full ?? false);
    const plans: PlanReport['plans'] = [];
    for (const slot of slots) {
      try {
        const { plan, summary } = await buildPlan(this.cycleInput(slot, { full: options.full ?? false, dryRun: true }));
        plans.push({ target: slot.config.name, plan, summary });
      } catch (err) {
        plans.push(failure(slot.config.name, err));
      }
    }
    return { read, plans };
  }

  /** Applies a saved plan exactly, or throws PLAN_STALE / PLAN_NOT_FOUND / PLAN_ALREADY_USED saying why not. */
  async applyPlan(id: string): Promise<CycleSummary> {
    const plan = this.targets.plan(id);
    if (!plan) throw new EntraSyncError('PLAN_NOT_FOUND', `no saved plan with id "${id}"; \`plan\` prints the id of each plan it saves`, { objectId: id });
    const slot = this.slots.get(plan.target);
    if (!slot) throw new EntraSyncError('PLAN_WRONG_TARGET', `plan ${id} is for target "${plan.target}", which is no longer in the configuration`, { objectId: id });
    this.refuseDryRun(slot, 'apply a saved plan');
    return applySavedPlan({ ...this.cycleInput(slot, {}), planId: id, options: { now: this.now, holder: this.holderId() } });
  }

  /**
   * Provision on demand: one user (UPN or object id) or one group, read fresh from Graph, then a cycle per
   * target for that object only. Returns each object's steps (import, scope, match, action, export).
   */
  async provision(request: { user?: string; group?: string; target?: string; dryRun?: boolean }): Promise<ProvisionReport> {
    if ((request.user === undefined) === (request.group === undefined)) {
      throw new EntraSyncError('CLI_USAGE', 'provision needs exactly one of a user (userPrincipalName or object id) or a group (object id)');
    }
    const slots = this.select(request.target);
    const dryRun = this.options.dryRun === true || request.dryRun === true;
    const record: SourceUserRecord | SourceGroupRecord = request.user !== undefined
      ? await this.reader.readUser(request.user)
      : await this.reader.readGroup(request.group!);
    const type: ObjectType = request.user !== undefined ? 'user' : 'group';
    const displayName = String((type === 'user' ? record.attributes.userPrincipalName : record.attributes.displayName) ?? record.id);
    const report: ProvisionReport = { object: { type, id: record.id, displayName }, dryRun, targets: [] };
    for (const slot of slots) {
      const slotDryRun = dryRun || slot.config.dryRun;
      try {
        const explained = this.explain(slot, type, record);
        const planned = traceFromPlan(explained, type, record.id, slotDryRun);
        if (slotDryRun) {
          report.targets.push({ target: slot.config.name, objects: [planned] });
          continue;
        }
        const summary = await runCycle(this.cycleInput(slot, { only: type === 'user' ? { users: [record.id] } : { groups: [record.id] } }));
        const logged = this.targets.logEntries({ target: slot.config.name, runId: summary.runId }).map(traceFromLog).map((t) => ({
          ...t,
          // The cycle reads from the source store, which readUser/readGroup has just refreshed from Graph.
          steps: t.steps.map((s) => (s.name === 'import' && t.sourceId === record.id ? { ...s, details: `${type} ${displayName} (${record.id}) read fresh from Microsoft Graph` } : s)),
        }));
        report.targets.push({ target: slot.config.name, objects: logged.length ? logged : [{ ...planned, status: 'unchanged' }], summary });
      } catch (err) {
        report.targets.push(failure(slot.config.name, err));
      }
    }
    return report;
  }

  /** What each target would receive for one user (read fresh from Graph): mapped attributes and operations. Writes nothing to any target. */
  async preview(request: { user: string; target?: string }): Promise<PreviewReport> {
    const slots = this.select(request.target);
    const record = await this.reader.readUser(request.user);
    return {
      user: { id: record.id, userPrincipalName: String(record.attributes.userPrincipalName ?? ''), removed: record.removed, assigned: record.assigned },
      targets: slots.map((slot) => {
        const { desired, link, operations } = this.explain(slot, 'user', record);
        return {
          target: slot.config.name, scope: desired.scope, ...(desired.skip ? { skip: desired.skip } : {}),
          attributes: desired.attributes, createOnly: desired.createOnly, match: desired.match,
          link: link ? { targetId: link.targetId, status: link.status } : null, operations,
        };
      }),
    };
  }

  /** Re-reads every linked object from each target and repairs what was changed there by hand. */
  async reconcile(options: { target?: string; dryRun?: boolean } = {}): Promise<ReconcileReport> {
    const targets: ReconcileReport['targets'] = [];
    for (const slot of this.select(options.target)) {
      try {
        targets.push(await reconcileTarget(this.cycleInput(slot, { dryRun: options.dryRun })));
      } catch (err) {
        targets.push(failure(slot.config.name, err));
      }
    }
    return { targets };
  }

  /** Releases the disables/deletes the threshold held back, and applies them now. */
  async approve(options: { target?: string } & CycleControl = {}): Promise<TargetOutcome[]> {
    const out: TargetOutcome[] = [];
    for (const slot of this.select(options.target)) {
      if (this.targets.staged(slot.config.name).length === 0) continue;
      this.refuseDryRun(slot, 'approve staged operations');
      out.push(await this.guard(slot, () => approveStaged(this.cycleInput(slot, { control: options }))));
    }
    return out;
  }

  /** Drops the held-back operations; each object's provisioning log records the rejection. */
  reject(options: { target?: string } = {}): { target: string; dropped: PlannedOperation[] }[] {
    return this.select(options.target)
      .map((slot) => ({ target: slot.config.name, dropped: rejectStaged(this.targets, slot.config.name, this.now()) }))
      .filter((r) => r.dropped.length > 0);
  }

  /**
   * Entra's "restart provisioning" without losing state: lifts each target's quarantine and makes every
   * failed object due for retry now. The next cycle (scheduled, or `sync`) runs and retries them; links,
   * cursor, delta links and staged operations stay as they are (`resync` is the full comparison).
   */
  resume(options: { target?: string } = {}): ResumeReport {
    const now = this.now();
    return {
      targets: this.select(options.target).map((slot) => {
        const name = slot.config.name;
        const q = this.targets.quarantine(name);
        const failuresDue = this.targets.transaction(() => {
          if (q) this.targets.clearQuarantine(name);
          return this.targets.retryFailuresNow(name, now);
        });
        if (q) {
          this.events.emit('target:released', { target: name });
          this.logger.warn({ target: name, reason: q.reason, failuresDue }, `quarantine lifted by resume (was: ${q.message})`);
        }
        return { target: name, wasQuarantined: q !== undefined, reason: q ? `${q.reason}: ${q.message}` : null, failuresDue };
      }),
    };
  }

  /** Per target: how far it is behind the source, links by status, failures, staged, quarantine, last runs. */
  status(options: { target?: string; runs?: number } = {}): StatusReport {
    const now = this.now();
    const sourceSeq = this.source.currentSeq();
    return {
      state: this.config.state.path,
      source: { seq: sourceSeq, usersDeltaLink: this.source.deltaLink('users') !== undefined, groupsDeltaLink: this.source.deltaLink('groups') !== undefined },
      lock: this.stateLockStatus(),
      targets: this.select(options.target).map((slot) => {
        const name = slot.config.name;
        const failures = this.targets.failures(name);
        const cursor = this.targets.cursor(name);
        return {
          target: name, type: slot.config.type, dryRun: slot.config.dryRun, cursor, sourceSeq, behind: cursor < sourceSeq,
          links: { user: this.linkCounts(name, 'user'), group: this.linkCounts(name, 'group') },
          failures: {
            total: failures.length,
            due: failures.filter((f) => new Date(f.nextRetryAt).getTime() <= now.getTime()).length,
            nextRetryAt: failures.map((f) => f.nextRetryAt).sort()[0] ?? null,
          },
          staged: this.targets.staged(name).length,
          deferredMembers: this.targets.deferredMemberCount(name),
          pendingPlans: this.targets.plans(name).filter((p) => p.status === 'pending').map((p) => ({ id: p.id, createdAt: p.createdAt })),
          quarantine: quarantineWithAdvice(this.targets.quarantine(name), name),
          lastRuns: this.targets.runs(name, options.runs ?? 3),
        };
      }),
    };
  }

  /** Provisioning-log entries, newest first. */
  provisioningLog(query: LogQuery): ProvisioningLogEntry[] {
    return this.targets.logEntries(query);
  }

  /** Closes connectors, the reader and the state file. Safe to call more than once. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      for (const slot of this.slots.values()) {
        for (const connector of Object.values(slot.connectors)) {
          try { await connector.close(); } catch (err) { this.logger.warn({ err, target: slot.config.name }, 'closing the target connector failed'); }
        }
      }
      try { await this.reader.close(); } finally { this.files.close(); }
    })();
    return this.closed;
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────────────

  /** Who holds the state lock, for `status`: informative only, so a lock file that cannot be read says nothing. */
  private stateLockStatus(): StateLockStatus | null {
    try {
      return readStateLock(this.config.state.path);
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'cannot read who holds the state lock');
      return null;
    }
  }

  /** As the state's new writer: what a process that ended without finishing left running or leased. */
  private recoverAbandoned(lock: StateLock): void {
    const reason = lock.tookOverFrom
      ? `${describeHolder(lock.tookOverFrom)} ended before it finished`
      : 'the process running it ended before it finished';
    const { runs, leases } = this.targets.interruptAbandoned(reason, this.now());
    if (runs.length || leases) {
      this.logger.warn({ runs: runs.map((r) => ({ target: r.target, kind: r.kind, runId: r.id, startedAt: r.startedAt })), leases }, `${runs.length} run(s) left running by a process that ended are marked interrupted; ${leases} target lease(s) released`);
    }
  }

  private slot(name: string): TargetSlot {
    const slot = this.slots.get(name);
    if (!slot) throw new EntraSyncError('TARGET_UNKNOWN', `no target named "${name}" in the configuration (targets: ${this.targetNames.join(', ')})`, { objectId: name });
    return slot;
  }

  private select(name: string | undefined): TargetSlot[] {
    return name === undefined ? [...this.slots.values()] : [this.slot(name)];
  }

  private connector(slot: TargetSlot, dryRun: boolean): TargetConnector {
    const mode = dryRun ? 'dryRun' : 'live';
    return (slot.connectors[mode] ??= this.factory(slot.config, { dryRun, http: httpEventsOn(this.events) }));
  }

  private refuseDryRun(slot: TargetSlot, what: string): void {
    if (this.options.dryRun || slot.config.dryRun) {
      throw new EntraSyncError('DRY_RUN', `cannot ${what} for target "${slot.config.name}" in dry-run mode (${slot.config.dryRun ? 'the target has dryRun: true' : '--dry-run was given'})`, { objectId: slot.config.name });
    }
  }

  private holderId(): string {
    return this.holder;
  }

  private cycleInput(slot: TargetSlot, o: { full?: boolean; dryRun?: boolean | undefined; only?: { users?: string[]; groups?: string[] }; control?: CycleControl }) {
    const dryRun = this.options.dryRun === true || slot.config.dryRun || o.dryRun === true;
    return {
      store: this.targets,
      source: this.source,
      compiled: slot.compiled,
      connector: this.connector(slot, dryRun),
      policy: slot.policy,
      events: this.events,
      options: {
        dryRun, full: o.full ?? false, now: this.now, holder: this.holderId(),
        ...(o.control?.signal ? { signal: o.control.signal } : {}),
        ...(o.control?.between ? { between: o.control.between } : {}),
        ...(o.control?.betweenWanted ? { betweenWanted: o.control.betweenWanted } : {}),
        ...(o.only ? { only: o.only } : {}),
        ...(this.config.defaultDomain !== undefined ? { defaultDomain: this.config.defaultDomain } : {}),
      },
    };
  }

  private async read(full: boolean, stream?: ReadOptions['stream']): Promise<ReadSummary> {
    const progress = this.options.onProgress;
    const started = Date.now();
    this.events.emit('read:start', { full, at: new Date(started) });
    try {
      const read = await this.reader.read({ full, ...(stream ? { stream } : {}), ...(progress ? { onProgress: (p: ReadProgress) => progress({ stage: 'read', ...p }) } : {}) });
      this.events.emit('read:end', { full: read.full, status: 'success', durationMs: read.durationMs, requests: read.requests });
      return read;
    } catch (err) {
      this.events.emit('read:end', { full, status: 'failed', durationMs: Date.now() - started, requests: 0, error: { code: describeError(err).code } });
      throw err;
    }
  }

  /** One target's failure to run never stops the others: it becomes that target's outcome. */
  private async guard(slot: TargetSlot, work: () => Promise<CycleSummary>): Promise<TargetOutcome> {
    try {
      return await work();
    } catch (err) {
      this.logger.error({ target: slot.config.name, err: describeError(err) }, 'target cycle failed');
      return failure(slot.config.name, err);
    }
  }

  /** Scope, map and plan one object for one target, purely: nothing is written anywhere. */
  private explain(slot: TargetSlot, type: ObjectType, record: SourceUserRecord | SourceGroupRecord): { desired: DesiredObject; link: Link | undefined; operations: PlannedOperation[] } {
    const target = slot.config.name;
    const ctx: MappingContext = {
      now: this.now(),
      resolveReference: (sourceId) => {
        const link = this.targets.link(target, 'user', sourceId);
        return link && link.status !== 'deleted' ? link.targetId : null;
      },
      valueExists: (path, value) => this.targets.writtenValueExists(target, 'user', path, value),
      ...(this.config.defaultDomain !== undefined ? { defaultDomain: this.config.defaultDomain } : {}),
    };
    const desired = type === 'user'
      ? desiredUser(record as SourceUserRecord, slot.compiled, ctx)
      : desiredGroup(record as SourceGroupRecord, this.source.groupMembers(record.id), slot.compiled, ctx);
    const link = this.targets.link(target, type, record.id);
    return { desired, link, operations: planObject(desired, link, slot.compiled.options) };
  }

  private linkCounts(target: string, type: ObjectType): Record<LinkStatus, number> {
    const counts: Record<LinkStatus, number> = { active: 0, disabled: 0, deleted: 0 };
    for (let after = ''; ;) {
      const page = this.targets.linksPage(target, type, after, 5000);
      if (page.length === 0) return counts;
      for (const link of page) counts[link.status]++;
      after = page[page.length - 1]!.sourceId;
    }
  }

  private logEvents(): void {
    const log = this.logger;
    this.events.on('cycle:start', (e) => log.info({ target: e.target, runId: e.runId, kind: e.kind, dryRun: e.dryRun, full: e.full, cursor: e.cursor }, 'cycle started'));
    this.events.on('cycle:end', (e) => {
      const s = e.summary as Partial<CycleSummary>;
      log.info({ target: e.target, runId: e.runId, status: e.status, durationMs: e.durationMs, counts: s.counts, failed: s.failed, staged: s.staged, requests: s.requests }, 'cycle ended');
    });
    this.events.on('cycle:skipped', (e) => log.warn({ target: e.target, nextAttempt: e.nextAttempt }, `cycle skipped: ${e.reason}`));
    this.events.on('operation:sent', (e) => log.debug({ target: e.target, kind: e.operation.kind, type: e.operation.type, sourceId: e.operation.sourceId, outcome: e.outcome, durationMs: e.durationMs }, 'operation sent'));
    this.events.on('operation:failed', (e) => {
      const fields = { target: e.target, kind: e.operation.kind, type: e.operation.type, sourceId: e.operation.sourceId, error: e.error, retryAt: e.retryAt };
      // A bug (an exception nobody classified) is not a target's bad day: error level, with its stack.
      if (e.error.kind === 'bug') log.error(fields, `operation failed on a bug (please report it): ${e.error.message}`);
      else log.warn(fields, 'operation failed');
    });
    this.events.on('operation:staged', (e) => log.info({ target: e.target, kind: e.operation.kind, sourceId: e.operation.sourceId }, 'operation held back by the deletion threshold'));
    this.events.on('operation:recovered', (e) => log.info({ target: e.target, kind: e.operation.kind, sourceId: e.operation.sourceId, landed: e.landed }, 'in-flight operation resolved after a restart'));
    this.events.on('members:deferred', (e) => log.debug({ target: e.target, group: e.groupSourceId, members: e.memberSourceIds.length }, 'members deferred until provisioned'));
    this.events.on('target:quarantined', (e) => log.warn({ target: e.target, reason: e.reason, nextAttempt: e.nextAttempt }, `target quarantined: ${e.message}`));
    this.events.on('target:released', (e) => log.info({ target: e.target }, 'target left quarantine'));
  }

  private reportApplyProgress(report: (p: RuntimeProgress) => void): void {
    const perTarget = new Map<string, { planned: number; sent: number; failed: number }>();
    const of = (target: string) => {
      let c = perTarget.get(target);
      if (!c) { c = { planned: 0, sent: 0, failed: 0 }; perTarget.set(target, c); }
      return c;
    };
    this.events.on('cycle:start', (e) => perTarget.set(e.target, { planned: 0, sent: 0, failed: 0 }));
    this.events.on('object:planned', (e) => { of(e.target).planned += e.kinds.filter((k) => k !== 'skip').length; });
    this.events.on('operation:sent', (e) => { const c = of(e.target); c.sent++; report({ stage: 'apply', target: e.target, ...c }); });
    this.events.on('operation:failed', (e) => { const c = of(e.target); c.failed++; report({ stage: 'apply', target: e.target, ...c }); });
  }
}

function describeError(err: unknown): { code: string; message: string } {
  if (err instanceof EntraSyncError) return { code: err.code, message: err.message };
  // A target's error names its kind, so the outcome says TARGET_UNAUTHORIZED rather than INTERNAL.
  if (err instanceof TargetError) return { code: `TARGET_${err.kind.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`, message: err.message };
  if (err instanceof Error) return { code: (err as { code?: unknown }).code === undefined ? 'INTERNAL' : String((err as { code?: unknown }).code), message: err.message };
  return { code: 'INTERNAL', message: String(err) };
}

function quarantineWithAdvice(q: QuarantineState | undefined, target: string): TargetStatus['quarantine'] {
  return q ? { ...q, resume: `fix the cause, then run \`entra-sync resume --target ${target}\` (or wait for the next attempt at ${q.nextAttempt})` } : null;
}

function failure(target: string, err: unknown): TargetFailure {
  return { target, error: describeError(err) };
}

function traceFromLog(entry: ProvisioningLogEntry): ObjectTrace {
  return {
    type: entry.type, sourceId: entry.sourceId, targetId: entry.targetId, displayName: entry.displayName,
    action: entry.action, status: entry.status, steps: entry.steps, modifiedProperties: entry.modifiedProperties,
    ...(entry.error ? { error: entry.error } : {}),
  };
}

/** The steps a provision would take, from the pure plan: what a dry run shows and what an unchanged object reports. */
function traceFromPlan(explained: { desired: DesiredObject; link: Link | undefined; operations: PlannedOperation[] }, type: ObjectType, sourceId: string, dryRun: boolean): ObjectTrace {
  const { desired, link, operations } = explained;
  const steps: ProvisioningStep[] = [
    step('import', 'success', `${type} ${desired.displayName} (${sourceId}) read fresh from Microsoft Graph`),
    step('scope', desired.scope === 'inScope' ? 'success' : 'skipped', desired.scope === 'inScope' ? 'in scope' : `out of scope: ${desired.scope}`),
  ];
  if (link) steps.push(step('match', 'success', `linked to ${link.targetId} (${link.status})`));
  else if (desired.match.length) steps.push(step('match', 'success', `not linked yet; the target is searched for ${desired.match.map((m) => `${m.path} eq ${JSON.stringify(m.value)}`).join(', then ')} before creating`));
  else steps.push(step('match', 'skipped', 'not linked, and no matching attribute has a value'));
  const real = operations.filter((op) => op.kind !== 'skip');
  const skip = operations.find((op): op is Extract<PlannedOperation, { kind: 'skip' }> => op.kind === 'skip');
  if (real.length) steps.push(step('action', 'success', real.map(describeOperation).join('; ')));
  else steps.push(step('action', 'skipped', skip?.reason ?? desired.skip ?? 'nothing to do: the target already holds what it should'));
  steps.push(step('export', 'skipped', dryRun ? (real.length ? 'dry run: nothing sent' : 'nothing to send') : 'nothing to send'));
  const modified = real.flatMap((op) => op.kind === 'update' ? op.changes.map((c) => ({ path: c.path, before: c.before, after: c.after }))
    : op.kind === 'create' ? Object.entries(op.attributes).map(([path, after]) => ({ path, before: null, after })) : []);
  return {
    type, sourceId, targetId: link?.targetId ?? null, displayName: desired.displayName,
    action: real[0] ? actionOf(real[0]) : skip ? 'skip' : 'none',
    status: real.length ? 'planned' : skip ? 'skipped' : 'unchanged',
    steps, modifiedProperties: modified,
  };
}

function actionOf(op: PlannedOperation): ObjectTrace['action'] {
  switch (op.kind) {
    case 'addMembers': case 'removeMembers': return 'members';
    default: return op.kind;
  }
}

/** One line for one planned operation. */
export function describeOperation(op: PlannedOperation): string {
  switch (op.kind) {
    case 'create': return `create with ${Object.keys(op.attributes).length} attributes`;
    case 'update': return `update ${op.changes.map((c) => c.path).join(', ')}`;
    case 'disable': case 'enable': case 'delete': return `${op.kind} (${op.reason})`;
    case 'addMembers': return `add ${op.memberSourceIds.length} member(s)`;
    case 'removeMembers': return `remove ${op.memberSourceIds.length} member(s)`;
    case 'unlink': return `unlink (${op.reason})`;
    case 'skip': return `skip (${op.reason})`;
  }
}
