// One provisioning cycle for one target: the source changes since this target's cursor (plus failed
// objects whose retry is due) → scope and map → plan against the links (planner.ts) → hold back what the
// deletion threshold stops (staging.ts) → apply the rest (apply.ts) → move the cursor once every change up to
// it is applied or recorded as a failure. Batches overlap: the next is planned while the last is applied.
// A signal stops it early (status 'aborted', the cursor stays); `between` is where the daemon runs a queued
// provision while nothing is in flight. The other units of work on a target: saved-plans.ts, staging.ts
// (approve, reject), reconcile.ts; all share target-run.ts and return a plain summary; logs and metrics
// follow the events.
import { setImmediate } from 'node:timers';
import { EntraSyncError } from '../errors.js';
import type { CompiledTarget } from '../engine/mapping.js';
import type { PlannedOperation } from '../engine/types.js';
import type { SyncEvents } from '../observability/events.js';
import type { LiveRead, SourceStore } from '../source/types.js';
import type { QuarantineState } from '../state/targets-store.js';
import type { TargetConnector } from '../targets/connector.js';
import type { ApplyCounts, FailedObject } from './apply.js';
import { BARRIER, CyclePlanner, WAIT, type PlannedBatch } from './planner.js';
import type { CyclePolicy } from './policy.js';
import { holdBack } from './staging.js';
import type { SyncStore } from './store.js';
import { withTarget } from './target-run.js';

export interface CycleOptions {
  /** Plan only: nothing is sent to the target and nothing is written to links, cursor, failures or staging. */
  dryRun?: boolean;
  /** Compare every source object, not only those changed since the cursor (resync). */
  full?: boolean;
  now?: () => Date;
  /** Who holds the lease (defaults to host:pid:random). */
  holder?: string;
  defaultDomain?: string;
  /** Provision on demand: only these source objects (the cursor does not move). */
  only?: { users?: string[]; groups?: string[] };
  /** Run even though the target is quarantined and its next attempt is not due (an admin's explicit command). */
  ignoreQuarantine?: boolean;
  /**
   * Stops the cycle early (the daemon's shutdown): checked before each operation is journalled, never between
   * journalling and sending. Those journalled are sent and recorded, nothing new starts, and the cycle ends with
   * status 'aborted' without moving the cursor: the next cycle plans what was not sent.
   */
  signal?: AbortSignal;
  /**
   * Awaited between batches, once every batch before it is applied and recorded (nothing in flight for this
   * target) and before the next is planned: the daemon runs a queued provision there instead of after the
   * whole cycle. Not called before the first batch, nor on dry runs.
   */
  between?: (at: { target: string }) => Promise<void>;
  /**
   * When given, the cycle pauses for `between` only where this says so: pausing means waiting for the batches
   * in flight, which otherwise overlap (the next starts while the last's final requests are out).
   */
  betweenWanted?: () => boolean;
}

export interface CycleInput {
  store: SyncStore;
  source: SourceStore;
  /**
   * A read still committing users in chunks (not for full cycles or provisioning on demand): the cycle applies
   * each chunk as it lands, waits for the next, and takes the read's final commit as its end. A read that
   * fails stops the cycle after what it applied (error SOURCE_READ_FAILED; the cursor stays).
   */
  live?: LiveRead;
  compiled: CompiledTarget;
  connector: TargetConnector;
  options?: CycleOptions;
  policy?: Partial<CyclePolicy>;
  events?: SyncEvents;
}

export type CycleKind = 'sync' | 'provision' | 'apply-plan' | 'approve' | 'reconcile';

export interface CycleCounts extends ApplyCounts {
  /** Objects examined whose target already holds what they should. */
  unchanged: number;
}

/** The plain result of every entry point in this module. */
export interface CycleSummary {
  runId: string;
  target: string;
  kind: CycleKind;
  /** 'aborted': the signal stopped it; what it did not send is planned again by the next cycle. */
  status: 'success' | 'partial' | 'failed' | 'quarantined' | 'aborted';
  dryRun: boolean;
  full: boolean;
  cursor: { from: number; to: number };
  examined: { users: number; groups: number; retries: number };
  counts: CycleCounts;
  failed: number;
  failures: FailedObject[];
  /** Disables/deletes held back by the threshold, awaiting `approve`. */
  staged: number;
  deferredMembers: number;
  /** Users planned again because a reference they were waiting for (their manager) is now on the target. */
  backfilled?: number;
  /** Requests the target connector sent (HTTP requests when the connector reports them, else connector calls). */
  requests: number;
  durationMs: number;
  recovered: { landed: number; replanned: number };
  quarantine: QuarantineState | null;
  /** Present on dry runs and plans: every operation that would be sent, and those that would be staged. */
  plan?: { operations: PlannedOperation[]; staged: PlannedOperation[] };
  /** Why the cycle did not run (quarantine not due), when it did not. */
  skippedReason?: string;
}

/** Runs one cycle for one target. Throws EntraSyncError TARGET_LEASED if another process holds the target. */
export async function runCycle(input: CycleInput): Promise<CycleSummary> {
  const options = input.options ?? {};
  const kind: CycleKind = options.only ? 'provision' : 'sync';
  return withTarget(input, kind, async (run) => {
    const planner = new CyclePlanner(run);
    if (!options.dryRun) {
      const q = input.store.quarantine(run.target);
      if (q && !options.ignoreQuarantine && new Date(q.nextAttempt).getTime() > run.now().getTime()) {
        run.skip(`target is quarantined (${q.reason}: ${q.message}); next attempt at ${q.nextAttempt}`);
        return;
      }
      await run.recover();
    }
    const planned = planner.plan(options.full ?? false, options.only);
    let held: PlannedOperation[] = [];
    // The next batch is mapped and planned while the last is applied, and starts as soon as every operation of
    // the last has started (its final requests still out): the target's latency, not our planning or the end
    // of a batch, sets the pace. At most two batches are in flight. A barrier from the planner waits for all
    // of them (what follows reads the links they write).
    let inFlight: Promise<void>[] = [];
    let lastStarted: Promise<void> = Promise.resolve();
    const settle = async () => { const applying = inFlight; inFlight = []; await Promise.all(applying); };
    // Batches started since the last pause for `between`.
    let sincePause = 0;
    for (;;) {
      if (run.abortRequested()) break;
      if (sincePause > 0 && options.between && !options.dryRun && (options.betweenWanted?.() ?? true)) {
        await settle();
        if (run.stopped) break;
        sincePause = 0;
        await options.between({ target: run.target });
        continue; // the signal may have been aborted meanwhile
      }
      let step: IteratorResult<PlannedBatch | typeof BARRIER | typeof WAIT>;
      try {
        step = planned.next();
      } catch (err) {
        await settle().catch(() => undefined); // never leave a batch in flight behind us
        throw err;
      }
      if (step.done) break;
      const batch = step.value;
      if (batch === BARRIER) { await settle(); if (run.stopped) break; continue; }
      // Caught up with a read still under way: the batch in flight goes on while the next chunk is read.
      if (batch === WAIT) { await run.unlessAborted(input.live?.changed()); if (input.live?.state === 'failed') break; continue; }
      held.push(...batch.destructive);
      if (options.dryRun) { run.collect(batch.operations); continue; }
      try {
        await lastStarted;
        if (inFlight.length >= 2) await inFlight.shift();
      } catch (err) {
        await settle().catch(() => undefined); // never leave a batch in flight behind us
        throw err;
      }
      if (run.stopped || run.abortRequested()) break;
      sincePause++;
      let started: () => void = () => undefined;
      lastStarted = new Promise<void>((resolve) => { started = resolve; });
      const applying = run.apply(batch.operations, batch.steps, { onAllStarted: started });
      applying.then(started, started);
      applying.catch(() => undefined); // awaited later; not unhandled while the next batch is planned
      inFlight.push(applying);
      await new Promise<void>((resolve) => setImmediate(resolve)); // let this batch's first requests leave
    }
    await settle();
    // Members deferred in earlier cycles whose own user this cycle provisioned: once, now that no batch runs.
    if (!options.dryRun && input.live?.state !== 'failed' && !run.aborted) await run.addReadyDeferredMembers();
    if (input.live?.state === 'failed') {
      throw new EntraSyncError('SOURCE_READ_FAILED', `the Graph read failed while this cycle applied its users: the ${run.sent} operations sent stay applied, nothing else was planned, and the next cycle goes on from here`);
    }
    // Aborted: the held disables and deletes are neither staged nor sent; the next cycle plans them again.
    if (!run.stopped && !run.abortRequested()) {
      held = holdBack(run, held, !options.dryRun, planner.heldSteps);
      if (options.dryRun) run.collect(held);
      else await run.apply(held, planner.heldSteps);
    }
    // An aborted cycle leaves the cursor: changes up to it may be unsent (those sent are planned again as no-ops).
    if (!options.dryRun && !options.only && !run.stopped && !run.aborted) input.store.setCursor(run.target, run.cursor.to);
  });
}
