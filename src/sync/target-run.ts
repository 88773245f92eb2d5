// The unit of work on one target that every entry point shares (a cycle, a saved plan's apply, approve,
// reconcile): its lease, run record and summary (`withTarget`), and what it accumulates as it goes — counts,
// failures, what was sent, stopped or left unsent — while its batches are applied (`TargetRun.apply`).
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { EntraSyncError } from '../errors.js';
import type { PlannedOperation, ProvisioningStep } from '../engine/types.js';
import { sealOperation } from '../engine/redaction.js';
import { SyncEvents } from '../observability/events.js';
import type { SourceStore } from '../source/types.js';
import type { TargetConnector } from '../targets/connector.js';
import { ApplySession, applyOperations, emptyCounts, type ApplyCounts, type ApplyResult, type FailedObject } from './apply.js';
import type { CycleCounts, CycleInput, CycleKind, CycleSummary } from './cycle.js';
import { DEFAULT_CYCLE_POLICY, type CyclePolicy } from './policy.js';
import { settleQuarantine } from './quarantine.js';
import { recoverInFlight, type RecoveryReport } from './recovery.js';

/** What a unit of work gets: a cycle's input, with the source optional (approve and reconcile can do without). */
export type RunInput = Omit<CycleInput, 'source'> & { source?: SourceStore };

export class TargetRun {
  readonly target: string;
  readonly runId: string;
  readonly now: () => Date;
  readonly policy: CyclePolicy;
  readonly events: SyncEvents;
  cursor = { from: 0, to: 0 };
  readonly examined = { users: 0, groups: 0, retries: 0 };
  readonly counts: CycleCounts = { ...emptyCounts(), unchanged: 0 };
  readonly failures: FailedObject[] = [];
  sent = 0;
  staged = 0;
  deferredMembers = 0;
  backfilled = 0;
  stopped: ApplyResult['stopped'] = null;
  /** The signal stopped this run before it did all it planned. */
  aborted = false;
  private unsent: PlannedOperation[] = [];
  recovered: RecoveryReport = { landed: [], replanned: [] };
  skippedReason: string | undefined;
  readonly collected: PlannedOperation[] = [];
  readonly stagedOps: PlannedOperation[] = [];
  /** One match index for the whole cycle, however many batches it applies. */
  private readonly applySession = new ApplySession();

  constructor(readonly input: RunInput, readonly holder: string) {
    this.target = input.compiled.name;
    this.now = input.options?.now ?? (() => new Date());
    this.policy = { ...DEFAULT_CYCLE_POLICY, ...input.policy };
    this.events = input.events ?? new SyncEvents();
    this.runId = randomUUID();
  }

  get dryRun(): boolean { return this.input.options?.dryRun ?? false; }

  /** Whether the signal is aborted; from then on the run counts as aborted. */
  abortRequested(): boolean {
    if (this.input.options?.signal?.aborted) this.aborted = true;
    return this.aborted;
  }

  /** Waits for `promise`, or less once the signal is aborted. */
  async unlessAborted(promise: Promise<unknown> | undefined): Promise<void> {
    const signal = this.input.options?.signal;
    if (!promise || !signal) { await promise; return; }
    if (signal.aborted) return;
    let onAbort: () => void = () => undefined;
    const aborted = new Promise<void>((resolve) => { onAbort = resolve; signal.addEventListener('abort', onAbort, { once: true }); });
    try { await Promise.race([promise, aborted]); } finally { signal.removeEventListener('abort', onAbort); }
  }

  /** Operations an apply left unsent because of the signal, handed over once. */
  takeUnsent(): PlannedOperation[] {
    const unsent = this.unsent;
    this.unsent = [];
    return unsent;
  }

  skip(reason: string): void {
    this.skippedReason = reason;
    this.events.emit('cycle:skipped', { target: this.target, reason, ...(this.input.store.quarantine(this.target) ? { nextAttempt: this.input.store.quarantine(this.target)!.nextAttempt } : {}) });
  }

  async recover(): Promise<void> {
    this.recovered = await recoverInFlight({ store: this.input.store, connector: this.input.connector, target: this.target, events: this.events, now: this.now });
  }

  /** Dry runs and plans keep what would be sent, with redacted values sealed (they are shown and saved). */
  collect(ops: readonly PlannedOperation[]): void {
    this.collected.push(...ops.map(sealOperation));
  }

  /**
   * Applies `ops`. A cycle's batch passes `batch`: it is told when all of its operations have started, and
   * leaves the deferred members to `addReadyDeferredMembers` at the cycle's end.
   */
  async apply(ops: readonly PlannedOperation[], steps: ((op: PlannedOperation) => ProvisioningStep[]) | undefined, batch?: { onAllStarted: () => void }): Promise<void> {
    if (ops.length === 0 || this.stopped) { batch?.onAllStarted(); return; }
    await this.applyWith(ops, steps, batch ? { onAllStarted: batch.onAllStarted, readyDeferredMembers: false } : {});
  }

  /** Members deferred in earlier cycles whose own link now exists: added once no batch is in flight. */
  async addReadyDeferredMembers(): Promise<void> {
    if (!this.stopped) await this.applyWith([], undefined, {});
  }

  private async applyWith(
    ops: readonly PlannedOperation[], steps: ((op: PlannedOperation) => ProvisioningStep[]) | undefined,
    batch: { onAllStarted?: () => void; readyDeferredMembers?: boolean },
  ): Promise<void> {
    if (!this.input.store.renewLease(this.target, this.holder, this.policy.leaseTtlMs, this.now())) {
      throw leaseHeldError(this.target, this.input.store.leaseHolder(this.target, this.now()));
    }
    const result = await applyOperations(ops, {
      store: this.input.store, connector: this.input.connector, target: this.target, runId: this.runId, events: this.events, now: this.now,
      policy: { onNotFound: this.policy.onNotFound, retryScheduleMs: this.policy.retryScheduleMs, concurrency: this.policy.concurrency, giveUpAfterMs: this.policy.giveUpAfterMs },
      groupMembership: this.input.compiled.options.groupMembership, session: this.applySession,
      ...(this.input.options?.signal ? { signal: this.input.options.signal } : {}),
      ...(steps ? { stepsBefore: steps } : {}), ...batch,
    });
    for (const [k, v] of Object.entries(result.counts) as [keyof ApplyCounts, number][]) this.counts[k] += v;
    this.failures.push(...result.failures);
    this.sent += result.sent;
    this.deferredMembers += result.deferredMembers;
    this.stopped ??= result.stopped;
    if (result.unsent.length) { this.aborted = true; this.unsent.push(...result.unsent); }
  }
}

/** Lease, run record, cycle:end and the summary around any unit of work on one target. */
export async function withTarget(
  input: RunInput,
  kind: CycleKind,
  work: (run: TargetRun) => Promise<void>,
): Promise<CycleSummary> {
  const holder = input.options?.holder ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const counting = countCalls(input.connector);
  const run = new TargetRun({ ...input, connector: counting.connector }, holder);
  const { store } = input;
  const started = Date.now();
  const dryRun = run.dryRun;
  // A dry run writes nothing, so it needs no lease and may run beside a live cycle. A unit of work run by
  // the lease's holder inside its own (a provision in a cycle's `between`) leaves the lease to the outer one.
  const nested = !dryRun && store.leaseHolder(run.target, run.now()) === holder;
  if (!dryRun && !store.acquireLease(run.target, holder, run.policy.leaseTtlMs, run.now())) {
    throw leaseHeldError(run.target, store.leaseHolder(run.target, run.now()));
  }
  const requestsBefore = requestCount(input.connector);
  if (!dryRun) store.startRun(run.target, kind, run.now(), run.runId);
  try {
    await work(run);
    const quarantine = dryRun || run.skippedReason ? store.quarantine(run.target) ?? null : settleQuarantine(run);
    const after = requestCount(input.connector);
    const summary: CycleSummary = {
      runId: run.runId, target: run.target, kind,
      status: run.skippedReason ? 'quarantined' : run.stopped ? 'failed' : quarantine ? 'quarantined' : run.aborted ? 'aborted' : run.failures.length ? 'partial' : 'success',
      dryRun, full: input.options?.full ?? false, cursor: run.cursor, examined: run.examined, counts: run.counts,
      failed: run.failures.length, failures: run.failures, staged: run.staged, deferredMembers: run.deferredMembers, backfilled: run.backfilled,
      requests: requestsBefore !== undefined && after !== undefined ? after - requestsBefore : counting.calls(),
      durationMs: Date.now() - started,
      recovered: { landed: run.recovered.landed.length, replanned: run.recovered.replanned.length },
      quarantine,
      ...(dryRun ? { plan: { operations: run.collected, staged: run.stagedOps } } : {}),
      ...(run.skippedReason ? { skippedReason: run.skippedReason } : {}),
    };
    if (!dryRun) store.endRun(run.runId, summary.status === 'quarantined' && run.skippedReason ? 'skipped' : summary.status, { ...summary, plan: undefined }, run.now());
    run.events.emit('cycle:end', { target: run.target, runId: run.runId, status: summary.status, durationMs: summary.durationMs, summary });
    return summary;
  } catch (err) {
    if (!dryRun) store.endRun(run.runId, 'failed', { error: err instanceof Error ? err.message : String(err) }, run.now());
    throw err;
  } finally {
    if (!dryRun && !nested) store.releaseLease(run.target, holder);
  }
}

function requestCount(connector: TargetConnector): number | undefined {
  const stats = (connector as { stats?: { requests?: unknown } }).stats;
  return typeof stats?.requests === 'number' ? stats.requests : undefined;
}

/** Counts connector calls, for connectors that do not report their HTTP requests. */
function countCalls(connector: TargetConnector): { connector: TargetConnector; calls: () => number } {
  let calls = 0;
  const counted = new Set(['find', 'get', 'create', 'update', 'setActive', 'delete', 'addMembers', 'removeMembers', 'listMembers', 'bulk', 'list']);
  const proxy = new Proxy(connector, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop === 'string' && counted.has(prop) && typeof value === 'function') {
        return (...args: unknown[]) => { calls++; return (value as (...a: unknown[]) => unknown).apply(target, args); };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { connector: proxy, calls: () => calls };
}

/** Thrown when a target's lease is held by another process. */
export function leaseHeldError(target: string, holder: string | undefined): EntraSyncError {
  return new EntraSyncError('TARGET_LEASED', `target "${target}" is being applied by another process${holder ? ` (${holder})` : ''}; try again when it finishes`, { objectId: target });
}
