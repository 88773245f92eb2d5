// One provisioning cycle for one target: the source changes since this target's cursor (plus failed
// objects whose retry is due) → scope and map → plan against the links → hold back what the deletion
// threshold stops → apply the rest → move the cursor once every change up to it is applied or recorded
// as a failure. Users written before their manager had a link are planned again once it has one. Also: saved plans (build, then apply exactly that or refuse), approving or rejecting
// staged operations, and reconcile (re-read the target and repair drift). Every entry point returns a
// plain summary object; logs and metrics follow the events.
import { hostname } from 'node:os';
import { setImmediate } from 'node:timers';
import { randomUUID } from 'node:crypto';
import { EntraSyncError } from '../errors.js';
import type { TargetConfig } from '../config/schema.js';
import type { LiveRead, SourceGroupRecord, SourceStore, SourceUserRecord } from '../source/types.js';
import type { ObjectType, TargetConnector } from '../targets/connector.js';
import { leaseHeldError, type QuarantineState, type SavedPlan, type TargetsStore } from '../state/targets-store.js';
import { ApplySession, applyOperations, diffAttributes, emptyCounts, recoverInFlight, step, type ApplyCounts, type ApplyResult, type FailedObject, type RecoveryReport } from './apply.js';
import { SyncEvents } from '../observability/events.js';
import { desiredGroup, desiredUser, type CompiledTarget, type MappingContext } from '../engine/mapping.js';
import { planObject } from '../engine/plan.js';
import { applyThreshold, isDestructive, type DeleteThreshold } from '../engine/threshold.js';
import type { DesiredObject, Link, PlannedOperation, ProvisioningStep } from '../engine/types.js';
import type { TargetAttributes } from '../targets/connector.js';
import { isRedactedMarker, redactedPathsOf, sealOperation, shownValue } from '../engine/redaction.js';
import { isNullOrEmpty } from '../engine/values.js';

const HOUR = 3_600_000;

/** What a target does about failures, deletions and quarantine (from its config, see `cyclePolicyFromConfig`). */
export interface CyclePolicy {
  deleteThreshold: DeleteThreshold;
  /** Delay before each retry of a failed object; the last step repeats. */
  retryScheduleMs: readonly number[];
  /** Stop retrying an object this long after its first failure (Entra: 28 days); null = never. */
  giveUpAfterMs: number | null;
  quarantine: {
    /** Share of a cycle's object operations that failed above which the target is quarantined. */
    failureRatio: number;
    /** The ratio is ignored below this many failures. */
    minFailures: number;
    /** Wait before the next cycle while quarantined; the last step repeats (Entra slows to daily). */
    backoffMs: readonly number[];
  };
  onNotFound: 'recreate' | 'unlink';
  concurrency: number;
  leaseTtlMs: number;
  /** Objects mapped and planned per batch: bounds memory on an initial sync of a large tenant. */
  batchSize: number;
}

export const DEFAULT_CYCLE_POLICY: CyclePolicy = {
  deleteThreshold: { count: 500 },
  retryScheduleMs: [6 * HOUR, 12 * HOUR, 24 * HOUR],
  giveUpAfterMs: 28 * 24 * HOUR,
  quarantine: { failureRatio: 0.4, minFailures: 10, backoffMs: [HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, 16 * HOUR, 24 * HOUR] },
  onNotFound: 'recreate',
  concurrency: 16,
  leaseTtlMs: 10 * 60_000,
  batchSize: 500,
};

/** The cycle policy a target's configuration asks for. */
export function cyclePolicyFromConfig(target: Pick<TargetConfig, 'deleteThreshold' | 'failedObjectRetry' | 'quarantine'>): CyclePolicy {
  const maxBackoff = target.quarantine.maxBackoff;
  const backoff = DEFAULT_CYCLE_POLICY.quarantine.backoffMs.filter((ms) => ms < maxBackoff);
  return {
    ...DEFAULT_CYCLE_POLICY,
    deleteThreshold: { ...target.deleteThreshold },
    retryScheduleMs: [...target.failedObjectRetry.after, target.failedObjectRetry.thenEvery],
    giveUpAfterMs: target.failedObjectRetry.giveUpAfter,
    quarantine: { failureRatio: target.quarantine.failureRatio, minFailures: target.quarantine.minFailures, backoffMs: [...backoff, maxBackoff] },
  };
}

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
  store: TargetsStore;
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

// ── one cycle ───────────────────────────────────────────────────────────────────────────────────

/** Runs one cycle for one target. Throws EntraSyncError TARGET_LEASED if another process holds the target. */
export async function runCycle(input: CycleInput): Promise<CycleSummary> {
  const options = input.options ?? {};
  const kind: CycleKind = options.only ? 'provision' : 'sync';
  return withTarget(input, kind, async (run) => {
    if (!options.dryRun) {
      const q = input.store.quarantine(run.target);
      if (q && !options.ignoreQuarantine && new Date(q.nextAttempt).getTime() > run.now().getTime()) {
        run.skip(`target is quarantined (${q.reason}: ${q.message}); next attempt at ${q.nextAttempt}`);
        return;
      }
      await run.recover();
    }
    const planned = run.plan(options.full ?? false, options.only);
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
      held = run.threshold(held, !options.dryRun);
      if (options.dryRun) run.collect(held);
      else await run.apply(held, run.heldSteps);
    }
    // An aborted cycle leaves the cursor: changes up to it may be unsent (those sent are planned again as no-ops).
    if (!options.dryRun && !options.only && !run.stopped && !run.aborted) input.store.setCursor(run.target, run.cursor.to);
  });
}

// ── saved plans ─────────────────────────────────────────────────────────────────────────────────

/** Plans a cycle without sending anything and saves it with what it was built on; `applySavedPlan` applies exactly it. */
export async function buildPlan(input: CycleInput): Promise<{ plan: SavedPlan; summary: CycleSummary }> {
  const summary = await runCycle({ ...input, options: { ...input.options, dryRun: true, only: undefined } });
  const target = input.compiled.name;
  const plan = input.store.savePlan({
    target, sourceSeq: summary.cursor.to, cursorSeq: summary.cursor.from, linksVersion: input.store.linksVersion(target),
    full: summary.full, operations: summary.plan!.operations, staged: summary.plan!.staged,
    diff: formatPlan(summary.plan!.operations, summary.plan!.staged),
  });
  return { plan, summary };
}

/**
 * Applies a saved plan exactly, or refuses (EntraSyncError PLAN_STALE) if the source or the target's links
 * have moved since it was built: a plan reviewed against one state must not be applied to another.
 */
export async function applySavedPlan(input: Omit<CycleInput, 'options'> & { planId: string; options?: Pick<CycleOptions, 'now' | 'holder'> }): Promise<CycleSummary> {
  const plan = input.store.plan(input.planId);
  if (!plan) throw new EntraSyncError('PLAN_NOT_FOUND', `no saved plan with id "${input.planId}"`, { objectId: input.planId });
  if (plan.target !== input.compiled.name) throw new EntraSyncError('PLAN_WRONG_TARGET', `plan ${plan.id} was built for target "${plan.target}", not "${input.compiled.name}"`, { objectId: plan.id });
  if (plan.status !== 'pending') throw new EntraSyncError('PLAN_ALREADY_USED', `plan ${plan.id} was already ${plan.status}${plan.appliedAt ? ` at ${plan.appliedAt}` : ''}; build a new one with \`plan\``, { objectId: plan.id });
  return withTarget({ ...input, options: input.options ?? {} }, 'apply-plan', async (run) => {
    await run.recover();
    const reason = stalePlanReason(plan, input.source.currentSeq(), input.store.cursor(plan.target), input.store.linksVersion(plan.target));
    if (reason) {
      input.store.setPlanStatus(plan.id, 'refused');
      throw new EntraSyncError('PLAN_STALE', `plan ${plan.id} cannot be applied: ${reason}; run \`plan\` again and review the new plan`, { objectId: plan.id });
    }
    run.cursor = { from: plan.cursorSeq, to: plan.sourceSeq };
    // The plan holds redacted values as hashes only; the clear values are mapped again from the same source state.
    const operations = plan.operations.map((op) => {
      const clear = run.unseal(op);
      if (typeof clear === 'string') {
        input.store.setPlanStatus(plan.id, 'refused');
        throw new EntraSyncError('PLAN_STALE', `plan ${plan.id} cannot be applied: ${clear}; run \`plan\` again and review the new plan`, { objectId: plan.id });
      }
      return clear;
    });
    for (const op of plan.staged) run.stage(op);
    await run.apply(operations, undefined);
    if (!run.stopped) input.store.setCursor(plan.target, plan.sourceSeq);
    input.store.setPlanStatus(plan.id, 'applied', run.now());
  });
}

function stalePlanReason(plan: SavedPlan, sourceSeq: number, cursor: number, linksVersion: number): string | null {
  if (sourceSeq !== plan.sourceSeq) return `the source has changed since it was built (source seq ${plan.sourceSeq} → ${sourceSeq})`;
  if (cursor !== plan.cursorSeq) return `another cycle has run for this target since it was built (cursor ${plan.cursorSeq} → ${cursor})`;
  if (linksVersion !== plan.linksVersion) return `what the target holds has changed since it was built (links version ${plan.linksVersion} → ${linksVersion})`;
  return null;
}

/** A readable diff: one line per operation, attribute changes indented under it. */
export function formatPlan(operations: readonly PlannedOperation[], staged: readonly PlannedOperation[] = []): string {
  const lines: string[] = [];
  const describe = (op: PlannedOperation, prefix: string) => {
    const who = `${op.type} ${op.displayName} (${op.sourceId})`;
    // Values that went through Redact() read `[redacted]`, whether the operation holds them clear or sealed.
    const redacted = redactedPathsOf(op);
    const show = (path: string, v: unknown) => {
      const shown = shownValue(path, v, redacted);
      return shown === null || shown === undefined ? '∅' : typeof shown === 'string' && shown !== v ? shown : JSON.stringify(shown);
    };
    switch (op.kind) {
      case 'create':
        lines.push(`${prefix}+ create ${who}${op.match.length ? `, unless one matches ${op.match.map((m) => `${m.path}=${show(m.path, m.value)}`).join(' or ')}` : ''}`);
        for (const [path, value] of Object.entries(op.attributes)) lines.push(`${prefix}    ${path}: ${show(path, value)}`);
        break;
      case 'update':
        lines.push(`${prefix}~ update ${who} → ${op.targetId}`);
        for (const c of op.changes) lines.push(`${prefix}    ${c.path}: ${show(c.path, c.before)} → ${show(c.path, c.after)}`);
        break;
      case 'disable': case 'enable': case 'delete':
        lines.push(`${prefix}${op.kind === 'enable' ? '+' : '-'} ${op.kind} ${who} → ${op.targetId} (${op.reason})`);
        break;
      case 'addMembers': case 'removeMembers': {
        const foreign = op.memberTargetIds ?? [];
        const names = [...op.memberSourceIds, ...foreign.map((id) => `target id ${id} (not ours)`)];
        lines.push(`${prefix}${op.kind === 'addMembers' ? '+' : '-'} ${op.kind === 'addMembers' ? 'add' : 'remove'} ${names.length} member(s) ${op.kind === 'addMembers' ? 'to' : 'from'} ${who}: ${names.join(', ')}`);
        break;
      }
      case 'unlink': case 'skip':
        lines.push(`${prefix}  ${op.kind} ${who}: ${op.reason}`);
        break;
    }
  };
  for (const op of operations) describe(op, '');
  if (staged.length) {
    lines.push(`held back by the deletion threshold (${staged.length}, need approval):`);
    for (const op of staged) describe(op, '  ');
  }
  if (lines.length === 0) lines.push('nothing to do: the target already holds what it should');
  return lines.join('\n');
}

// ── staged operations ───────────────────────────────────────────────────────────────────────────

/** Releases the operations the deletion threshold held back and applies them now. */
export async function approveStaged(input: Omit<CycleInput, 'source'> & { source?: SourceStore }): Promise<CycleSummary> {
  return withTarget(input, 'approve', async (run) => {
    await run.recover();
    const ops = input.store.approve(run.target);
    const steps = (op: PlannedOperation) => [step('scope', 'success', `${op.kind} approved by an administrator`)];
    const options = input.options ?? {};
    for (let i = 0; i < ops.length && !run.stopped; i += run.policy.batchSize) {
      if (i > 0 && options.between && (options.betweenWanted?.() ?? true)) await options.between({ target: run.target });
      if (run.abortRequested()) { run.restage(ops.slice(i)); break; }
      await run.apply(ops.slice(i, i + run.policy.batchSize), steps);
      // Approved but not sent (aborted): held back again, for the next `approve`.
      run.restage(run.takeUnsent());
    }
  });
}

/** Drops the held-back operations; each object's provisioning log says so. Returns what was dropped. */
export function rejectStaged(store: TargetsStore, target: string, now = new Date()): PlannedOperation[] {
  const runId = randomUUID();
  return store.transaction(() => {
    const dropped = store.reject(target);
    for (const op of dropped) {
      store.log({
        runId, target, type: op.type, sourceId: op.sourceId, targetId: 'targetId' in op ? op.targetId : null, displayName: op.displayName,
        action: 'skip', status: 'skipped', steps: [step('action', 'skipped', `${op.kind} rejected by an administrator`)], modifiedProperties: [], at: now.toISOString(),
      });
    }
    return dropped;
  });
}

// ── reconcile ───────────────────────────────────────────────────────────────────────────────────

export interface DriftFix {
  type: ObjectType;
  sourceId: string;
  targetId: string;
  displayName: string;
  fix: 'recreate' | 'attributes' | 'enable' | 'disable' | 'members';
  details: string;
}

/**
 * Re-reads every linked object from the target and repairs what was changed there by hand: attributes we
 * wrote, the active flag, members we added, objects deleted outright. Entra never re-reads the target.
 */
export async function reconcileTarget(input: Omit<CycleInput, 'source'> & { source?: SourceStore }): Promise<CycleSummary & { fixes: DriftFix[] }> {
  const fixes: DriftFix[] = [];
  const summary = await withTarget(input, 'reconcile', async (run) => {
    if (!input.options?.dryRun) await run.recover();
    const { store, connector } = input;
    const activePath = input.compiled.options.activeAttribute;
    const exact = input.compiled.options.groupMembership === 'exact';
    for (const type of ['user', 'group'] as const) {
      let after = '';
      for (;;) {
        const page = store.linksPage(run.target, type, after, input.policy?.batchSize ?? DEFAULT_CYCLE_POLICY.batchSize);
        if (page.length === 0) break;
        after = page[page.length - 1]!.sourceId;
        const ops: PlannedOperation[] = [];
        for (const link of page) {
          if (link.status === 'deleted') continue;
          if (type === 'user') run.examined.users++; else run.examined.groups++;
          const base = { type, sourceId: link.sourceId, displayName: displayNameOf(link.written, link.sourceId) };
          const found = await connector.get(type, link.targetId);
          // Redacted values were stored as hashes: to send them again they are mapped again from the source.
          const written = run.clearWritten(type, link);
          const sealed = new Set(written.redacted);
          const redactedPaths = written.redacted.length ? { redactedPaths: written.redacted } : {};
          const unrestorable = written.dropped.length ? `; ${written.dropped.length} redacted attribute(s) cannot be restored without their source value (${written.dropped.join(', ')})` : '';
          if (!found) {
            fixes.push({ ...base, targetId: link.targetId, fix: 'recreate', details: `deleted on the target; created again from what we last wrote${unrestorable}` });
            ops.push({ kind: 'update', ...base, targetId: link.targetId, changes: Object.entries(written.attributes).map(([path, after]) => ({ path, before: null, after })), desired: { ...written.attributes }, ...redactedPaths });
            continue;
          }
          // Compare only what the connector could read back; the active flag follows the link status.
          const readable = Object.fromEntries(Object.entries(link.written).filter(([path]) => path in found.attributes && path !== activePath));
          const drifted = diffAttributes(found.attributes, readable, link.sourceId);
          const changes = drifted.filter((c) => !written.dropped.includes(c.path)).map((c) => (sealed.has(c.path) ? { ...c, after: written.attributes[c.path] } : c));
          if (drifted.length) {
            const shown = (path: string, v: unknown) => JSON.stringify(shownValue(path, v, sealed) ?? null);
            const details = drifted.map((c) => `${c.path}: ${shown(c.path, c.before)} → ${shown(c.path, c.after)}`).join('; ');
            fixes.push({ ...base, targetId: link.targetId, fix: 'attributes', details: `${details}${drifted.length > changes.length ? unrestorable : ''}` });
          }
          if (changes.length) ops.push({ kind: 'update', ...base, targetId: link.targetId, changes, desired: { ...written.attributes }, ...redactedPaths });
          if (type === 'user' && activePath in found.attributes) {
            const want = link.status === 'active';
            if (found.attributes[activePath] !== want) {
              fixes.push({ ...base, targetId: link.targetId, fix: want ? 'enable' : 'disable', details: `${activePath} was ${JSON.stringify(found.attributes[activePath])} on the target` });
              ops.push({ kind: want ? 'enable' : 'disable', type: 'user', sourceId: link.sourceId, displayName: base.displayName, targetId: link.targetId, reason: 'inScope' } as PlannedOperation);
            }
          }
          // Additive: only members we added are checked (and re-added). Exact: the target group must hold
          // exactly what Entra lists, so every member found there that is not wanted is removed too.
          if (type === 'group' && (link.members?.length || exact)) {
            const presentList = await connector.listMembers(link.targetId);
            const present = new Set(presentList);
            const linkMembers = link.members ?? [];
            const missing = linkMembers.filter((m) => {
              const member = store.linkOfMember(run.target, m);
              return member && member.status === 'active' && !present.has(member.targetId);
            });
            if (missing.length) {
              fixes.push({ ...base, targetId: link.targetId, fix: 'members', details: `${missing.length} member(s) we added were removed on the target: ${missing.join(', ')}` });
              if (!input.options?.dryRun) {
                // Forget them first, so a crash before the re-add leaves them for the next cycle's planner.
                store.putLink({ ...link, members: linkMembers.filter((m) => !missing.includes(m)) });
              }
              ops.push({ kind: 'addMembers', type: 'group', sourceId: link.sourceId, displayName: base.displayName, targetId: link.targetId, memberSourceIds: missing });
            }
            if (exact) {
              // Wanted: the members the link records plus those waiting for their own link.
              const wanted = new Set<string>();
              for (const m of [...linkMembers, ...store.deferredMembersOf(run.target, link.sourceId)]) {
                const member = store.linkOfMember(run.target, m);
                if (member && member.status !== 'deleted') wanted.add(member.targetId);
              }
              const ours: string[] = [];
              const foreign: string[] = [];
              for (const id of presentList) {
                if (wanted.has(id)) continue;
                const member = store.linkByTargetId(run.target, 'user', id) ?? store.linkByTargetId(run.target, 'group', id);
                if (member) ours.push(member.sourceId); else foreign.push(id);
              }
              if (ours.length || foreign.length) {
                fixes.push({
                  ...base, targetId: link.targetId, fix: 'members',
                  details: `${ours.length + foreign.length} member(s) on the target that Entra does not list were removed (exact membership): ${[...ours, ...foreign.map((id) => `target id ${id}`)].join(', ')}`,
                });
                ops.push({ kind: 'removeMembers', type: 'group', sourceId: link.sourceId, displayName: base.displayName, targetId: link.targetId, memberSourceIds: ours, ...(foreign.length ? { memberTargetIds: foreign } : {}) });
              }
            }
          }
        }
        if (input.options?.dryRun) run.collect(ops);
        else await run.apply(ops, () => [step('import', 'success', 'read back from the target by reconcile')]);
        if (run.stopped) return;
      }
    }
  });
  return { ...summary, fixes };
}

// ── the shared run machinery ────────────────────────────────────────────────────────────────────

type SourceRecord = SourceUserRecord | SourceGroupRecord;

/** Yielded by the planner when what comes next needs every batch before it applied. */
const BARRIER = Symbol('barrier');
/** Yielded by the planner when it has planned every user a live read committed so far: wait for the next chunk. */
const WAIT = Symbol('wait for the read');

interface PlannedBatch {
  operations: PlannedOperation[];
  destructive: PlannedOperation[];
  steps: (op: PlannedOperation) => ProvisioningStep[];
}

class TargetRun {
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
  /** Source ids of the last two batches planned: the ones that can still be in flight while the next is planned. */
  private recentBatchIds: Set<string>[] = [];
  stopped: ApplyResult['stopped'] = null;
  /** The signal stopped this run before it did all it planned. */
  aborted = false;
  private unsent: PlannedOperation[] = [];
  recovered: RecoveryReport = { landed: [], replanned: [] };
  skippedReason: string | undefined;
  readonly collected: PlannedOperation[] = [];
  readonly stagedOps: PlannedOperation[] = [];
  private readonly heldStepMap = new Map<string, ProvisioningStep[]>();
  /** Target paths mapped with SelectUniqueValue, and the values this cycle's creates took on them. */
  private readonly uniquePaths = new Set<string>();
  private readonly uniqueChosen = new Map<string, Set<string>>();
  /** One match index for the whole cycle, however many batches it applies. */
  private readonly applySession = new ApplySession();

  constructor(private readonly input: Omit<CycleInput, 'source'> & { source?: SourceStore }, readonly holder: string) {
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

  /** Puts approved operations that were not sent back among the staged ones. */
  restage(ops: readonly PlannedOperation[]): void {
    if (ops.length === 0) return;
    const { store } = this.input;
    const now = this.now();
    store.transaction(() => { for (const op of ops) store.stage(this.target, this.runId, op, now); });
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

  /** The mapping context of this run: references resolve to the target's user links. */
  mappingContext(): MappingContext {
    const { store } = this.input;
    return {
      now: this.now(),
      resolveReference: (sourceId) => {
        const link = store.link(this.target, 'user', sourceId);
        return link && link.status !== 'deleted' ? link.targetId : null;
      },
      // SelectUniqueValue: taken on the target (as far as we wrote it) or by a create planned earlier in this
      // cycle — whose link is not written yet, the batch being in flight or the same one.
      valueExists: (path, value) => {
        this.uniquePaths.add(path);
        return this.uniqueChosen.get(path)?.has(value) === true || store.writtenValueExists(this.target, 'user', path, value);
      },
      ...(this.input.options?.defaultDomain !== undefined ? { defaultDomain: this.input.options.defaultDomain } : {}),
    };
  }

  /** Remembers the unique values a planned create took, so no later object of this cycle picks them too. */
  private noteUniqueValues(desired: DesiredObject, ops: readonly PlannedOperation[]): void {
    if (this.uniquePaths.size === 0 || !ops.some((op) => op.kind === 'create')) return;
    for (const path of this.uniquePaths) {
      const value = desired.attributes[path];
      if (typeof value !== 'string') continue;
      let taken = this.uniqueChosen.get(path);
      if (!taken) this.uniqueChosen.set(path, taken = new Set());
      taken.add(value);
    }
  }

  /**
   * A stored operation with its redacted values (sealed as hashes) mapped again from the source, ready to
   * send; a reason text when they cannot be (no source, the object or the value is gone).
   */
  unseal(op: PlannedOperation): PlannedOperation | string {
    if (op.kind !== 'create' && op.kind !== 'update') return op;
    const paths = redactedPathsOf(op);
    if (paths.size === 0) return op;
    const desired = this.input.source ? this.desired(op.type, op.sourceId, this.mappingContext()) : null;
    const clear = (path: string, value: unknown): unknown => {
      if (!isRedactedMarker(value)) return value;
      const fresh = desired?.attributes[path];
      if (isNullOrEmpty(fresh)) throw new Error(`the redacted value of ${path} for ${op.type} ${op.sourceId} can no longer be mapped from the source`);
      return fresh;
    };
    const unsealAll = (attributes: TargetAttributes) => Object.fromEntries(Object.entries(attributes).map(([p, v]) => [p, clear(p, v)]));
    try {
      if (op.kind === 'create') return { ...op, attributes: unsealAll(op.attributes), match: op.match.map((m) => ({ path: m.path, value: clear(m.path, m.value) as string })) };
      return { ...op, changes: op.changes.map((c) => ({ path: c.path, before: c.before, after: clear(c.path, c.after) })), desired: unsealAll(op.desired) };
    } catch (err) {
      return (err as Error).message;
    }
  }

  /**
   * What we last wrote to `link`, with the redacted values (stored as hashes) mapped again from the source
   * so they can be sent; `dropped` lists the redacted paths that cannot be (no source, or no value now).
   */
  clearWritten(type: ObjectType, link: Link): { attributes: TargetAttributes; dropped: string[]; redacted: string[] } {
    const redacted = Object.keys(link.written).filter((p) => isRedactedMarker(link.written[p]));
    if (redacted.length === 0) return { attributes: link.written, dropped: [], redacted };
    const desired = this.input.source ? this.desired(type, link.sourceId, this.mappingContext()) : null;
    const attributes: TargetAttributes = {};
    const dropped: string[] = [];
    for (const [path, value] of Object.entries(link.written)) {
      if (!isRedactedMarker(value)) { attributes[path] = value; continue; }
      const fresh = desired?.attributes[path];
      if (isNullOrEmpty(fresh)) dropped.push(path);
      else attributes[path] = fresh;
    }
    return { attributes, dropped, redacted };
  }

  heldSteps = (op: PlannedOperation): ProvisioningStep[] => this.heldStepMap.get(`${op.type}:${op.sourceId}`) ?? [];

  /** Changed (or all, or only the named) objects, mapped and planned in batches; due retries are folded in. */
  *plan(full: boolean, only: CycleOptions['only']): Generator<PlannedBatch | typeof BARRIER | typeof WAIT> {
    const { store } = this.input;
    const source = this.input.source!;
    const now = this.now();
    const ctx = this.mappingContext();
    this.cursor = { from: store.cursor(this.target), to: source.currentSeq() };
    this.events.emit('cycle:start', { target: this.target, runId: this.runId, kind: only ? 'provision' : 'sync', dryRun: this.dryRun, full, cursor: this.cursor.from, at: now });

    // Due failures of one type (small): those not among the changed objects are retries, planned after them.
    const dueOf = (type: ObjectType): Set<string> => {
      const due = new Set<string>();
      for (const f of store.dueFailures(this.target, now)) {
        if (f.type !== type) continue;
        if (!this.dryRun && this.policy.giveUpAfterMs !== null && now.getTime() - new Date(f.firstFailedAt).getTime() > this.policy.giveUpAfterMs) {
          this.giveUp(f.type, f.sourceId, f.firstFailedAt, now);
          continue;
        }
        due.add(f.sourceId);
      }
      return due;
    };
    // Changed objects streamed from the source store's keyset pages (no statement is held open between them,
    // so the cycle writes and awaits freely): never the whole list in memory, and each record read once.
    const cursor = this.cursor;
    const from = cursor.from;
    // With a live read, users keep arriving until it ends: the cursor's end follows its commits until then.
    const live = full || only ? undefined : this.input.live;
    function* changedIds(type: ObjectType, due: Set<string>): Generator<SourceRecord | typeof WAIT> {
      let ended = type !== 'user' || live === undefined;
      for (let after = from; ;) {
        const records = type === 'user'
          ? (full ? source.allUsers() : source.changedUsers(after))
          : (full ? source.allGroups() : source.changedGroups(after));
        for (const r of records) {
          if (!full && r.seq > cursor.to) {
            if (ended) return;
            cursor.to = source.currentSeq(); // a chunk committed since we looked
          }
          due.delete(r.id);
          after = r.seq;
          yield r;
        }
        if (ended || live === undefined) return;
        // Still reading (or failed, which the cycle sees when it waits): wait for the next chunk.
        if (live.state !== 'done') { yield WAIT; continue; }
        // The read's last commit is in: what it committed after our last look is the end of this cycle.
        ended = true;
        cursor.to = source.currentSeq();
      }
    }

    // Users whose manager was not on the target when they were written (forgotten once it resolves).
    const pendingHolders = this.dryRun ? new Set<string>() : store.pendingReferenceHolders(this.target, 'user');
    for (const type of ['user', 'group'] as const) {
      const planned = new Set<string>();
      if (only) {
        const list = [...new Set((type === 'user' ? only.users : only.groups) ?? [])];
        yield* this.planBatches(type, list, { retries: new Set(), ctx, pendingHolders, planned });
        yield BARRIER;
        continue;
      }
      const due = dueOf(type);
      yield* this.planBatches(type, changedIds(type, due), { retries: new Set(), ctx, pendingHolders, planned });
      // What is left of `due` was not among the changed objects: retries.
      this.examined.retries += due.size;
      yield* this.planBatches(type, [...due], { retries: due, ctx, pendingHolders, planned });
      // What follows reads the links this type's batches write (back-fill; groups' members): wait for them.
      yield BARRIER;
      if (type !== 'user') continue;
      // Manager back-fill: users written before their manager had a link are planned again once it has one —
      // in this cycle when the manager was linked by an earlier batch, else in the next. Entra needs a restart.
      const ready = store.readyPendingReferences(this.target, 'user');
      if (ready.length === 0) continue;
      this.backfilled += ready.length;
      yield* this.planBatches('user', ready, { retries: new Set(), ctx, pendingHolders, planned, examined: planned, note: 'a reference it was waiting for is now on the target' });
    }
  }

  /** Maps and plans `ids` (or records already read) in batches; the caller applies each while the next is planned. */
  private *planBatches(
    type: ObjectType, ids: Iterable<string | SourceRecord | typeof WAIT>,
    how: { retries: ReadonlySet<string>; ctx: MappingContext; pendingHolders: Set<string>; planned: Set<string>; examined?: Set<string>; note?: string },
  ): Generator<PlannedBatch | typeof BARRIER | typeof WAIT> {
    const { store, compiled } = this.input;
    const { retries, ctx, pendingHolders } = how;
    const it = ids[Symbol.iterator]();
    for (let done = false; !done;) {
      const chunk: (string | SourceRecord)[] = [];
      let wait = false;
      while (chunk.length < this.policy.batchSize) {
        const n = it.next();
        if (n.done) { done = true; break; }
        if (n.value === WAIT) { wait = true; break; }
        chunk.push(n.value);
      }
      if (chunk.length === 0) {
        if (wait) { yield WAIT; continue; }
        break;
      }
      // An object met again while the batch that planned it may still be in flight (a live read committed it
      // twice): wait for that batch, so this plan sees the link it writes.
      const ids = chunk.map((item) => (typeof item === 'string' ? item : item.id));
      if (ids.some((id) => this.recentBatchIds.some((recent) => recent.has(id)))) yield BARRIER;
      this.recentBatchIds = [this.recentBatchIds[this.recentBatchIds.length - 1] ?? new Set(), new Set(ids)];
      const batch: PlannedBatch = { operations: [], destructive: [], steps: () => [] };
      const steps = new Map<string, ProvisioningStep[]>();
      batch.steps = (op) => steps.get(`${op.type}:${op.sourceId}`) ?? [];
      store.transaction(() => {
        for (const item of chunk) {
          const sourceId = typeof item === 'string' ? item : item.id;
          const desired = this.desired(type, item, ctx);
          // Only the back-fill pass can meet an object twice; only its candidates (pending holders) are remembered.
          if (!how.examined?.has(sourceId)) { if (type === 'user') this.examined.users++; else this.examined.groups++; }
          if (!desired) {
            if (!this.dryRun) store.clearFailure(this.target, type, sourceId);
            continue;
          }
          const id = desired.sourceId; // `sourceId` may be a UPN on demand
          if (type === 'user' && !this.dryRun) this.rememberPendingReferences(desired, pendingHolders);
          if (type === 'user' && (this.dryRun || pendingHolders.has(id))) how.planned.add(id);
          const link = store.link(this.target, type, id);
          const ops = planObject(desired, link, compiled.options);
          if (type === 'user') this.noteUniqueValues(desired, ops);
          if (!this.dryRun) store.unstage(this.target, type, id); // a newer plan supersedes what was held back
          this.events.emit('object:planned', { target: this.target, runId: this.runId, type, sourceId: id, kinds: ops.map((o) => o.kind) });
          if (ops.length === 0) {
            this.counts.unchanged++;
            // A due retry with nothing left to do (e.g. resolved by recovery) is settled.
            if (!this.dryRun && retries.has(id)) store.clearFailure(this.target, type, id);
            continue;
          }
          const objectSteps = describeSteps(desired, link, retries.has(id), how.note);
          for (const op of ops) {
            if (isDestructive(op)) { batch.destructive.push(op); this.heldStepMap.set(`${op.type}:${op.sourceId}`, objectSteps); }
            else batch.operations.push(op);
          }
          steps.set(`${type}:${id}`, objectSteps);
        }
      });
      yield batch;
      if (wait) yield WAIT;
    }
  }

  /** Records (or forgets) the references a user could not resolve, so the back-fill finds it later. */
  private rememberPendingReferences(desired: DesiredObject, holders: Set<string>): void {
    const refs = desired.scope === 'inScope' && desired.skip === undefined ? desired.pendingReferences : undefined;
    if (refs && Object.keys(refs).length) {
      this.input.store.setPendingReferences(this.target, 'user', desired.sourceId, refs);
      holders.add(desired.sourceId);
    } else if (holders.delete(desired.sourceId)) {
      this.input.store.setPendingReferences(this.target, 'user', desired.sourceId, {});
    }
  }

  /** The desired object for a source id (a user's may be a UPN on demand), or for a record already read. */
  private desired(type: ObjectType, ref: string | SourceRecord, ctx: MappingContext): DesiredObject | null {
    const source = this.input.source!;
    const { compiled } = this.input;
    if (type === 'user') {
      const record = typeof ref === 'string' ? source.user(ref) ?? source.userByPrincipalName(ref) : ref as SourceUserRecord;
      return record ? desiredUser(record, compiled, ctx) : null;
    }
    const record = typeof ref === 'string' ? source.group(ref) : ref as SourceGroupRecord;
    return record ? desiredGroup(record, source.groupMembers(record.id), compiled, ctx) : null;
  }

  private giveUp(type: ObjectType, sourceId: string, firstFailedAt: string, now: Date): void {
    const { store } = this.input;
    store.transaction(() => {
      store.clearFailure(this.target, type, sourceId);
      store.log({
        runId: this.runId, target: this.target, type, sourceId, targetId: store.link(this.target, type, sourceId)?.targetId ?? null, displayName: sourceId,
        action: 'skip', status: 'skipped', steps: [step('action', 'skipped', `failing since ${firstFailedAt}; no more retries (gave up after ${Math.round(this.policy.giveUpAfterMs! / HOUR)} h)`)],
        modifiedProperties: [], at: now.toISOString(),
      });
    });
  }

  /** Splits disables/deletes by the threshold over the linked count; the excess is staged (unless dry run). Returns what proceeds. */
  threshold(held: PlannedOperation[], persist: boolean): PlannedOperation[] {
    if (held.length === 0) return held;
    const { proceed, staged } = applyThreshold(held, this.input.store.linkedCount(this.target), this.policy.deleteThreshold);
    for (const op of staged) {
      if (persist) this.stage(op);
      else { this.stagedOps.push(op); this.staged++; }
    }
    return proceed;
  }

  stage(op: PlannedOperation): void {
    const { store } = this.input;
    const now = this.now();
    store.transaction(() => {
      store.stage(this.target, this.runId, op, now);
      store.log({
        runId: this.runId, target: this.target, type: op.type, sourceId: op.sourceId, targetId: 'targetId' in op ? op.targetId : null,
        displayName: op.displayName, action: 'staged', status: 'staged',
        steps: [...this.heldSteps(op), step('action', 'skipped', `${op.kind} held back: this cycle's disables and deletes pass the deletion threshold; run \`approve\` or \`reject\``)],
        modifiedProperties: [], at: now.toISOString(),
      });
    });
    this.stagedOps.push(op);
    this.staged++;
    this.events.emit('operation:staged', { target: this.target, runId: this.runId, operation: op });
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

  /** Quarantine on a refused credential or too many failures; leave it after a healthy cycle. */
  settleQuarantine(): QuarantineState | null {
    const { store } = this.input;
    const now = this.now();
    const counted = this.failures.filter((f) => f.operation !== 'addMembers' && f.operation !== 'removeMembers' && f.kind !== 'unauthorized').length;
    const q = this.policy.quarantine;
    let reason: { code: string; message: string } | null = null;
    if (this.stopped) reason = { code: this.stopped.reason, message: `the target refused our credentials: ${this.stopped.message}` };
    // An aborted run says too little to enter or leave quarantine by its failure ratio.
    else if (this.aborted) return store.quarantine(this.target) ?? null;
    else if (counted >= q.minFailures && this.sent > 0 && counted / this.sent > q.failureRatio) {
      reason = { code: 'EncounteredEscrowProportionThreshold', message: `${counted} of ${this.sent} operations failed (more than ${Math.round(q.failureRatio * 100)} %)` };
    }
    if (reason) {
      const state = store.enterQuarantine(this.target, reason.code, reason.message, now, q.backoffMs);
      this.events.emit('target:quarantined', { target: this.target, reason: state.reason, message: state.message, nextAttempt: state.nextAttempt });
      return state;
    }
    if (store.quarantine(this.target)) {
      store.clearQuarantine(this.target);
      this.events.emit('target:released', { target: this.target });
    }
    return null;
  }
}

function describeSteps(desired: DesiredObject, link: { targetId: string; status: string } | undefined, retry: boolean, note?: string): ProvisioningStep[] {
  return [
    step('import', 'success', `${desired.type} ${desired.displayName} (${desired.sourceId}) read from the source store${retry ? '; retrying an earlier failure' : ''}${note ? `; ${note}` : ''}`),
    step('scope', desired.scope === 'inScope' ? 'success' : 'skipped', desired.scope === 'inScope' ? 'in scope' : `out of scope: ${desired.scope}`),
    ...(link ? [step('match', 'success', `linked to ${link.targetId} (${link.status})`)] : []),
  ];
}

function displayNameOf(written: Record<string, unknown>, fallback: string): string {
  for (const key of ['userName', 'displayName']) if (typeof written[key] === 'string') return written[key];
  return fallback;
}

/** Lease, run record, cycle:end and the summary around any unit of work on one target. */
async function withTarget(
  input: Omit<CycleInput, 'source'> & { source?: SourceStore },
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
    const quarantine = dryRun || run.skippedReason ? store.quarantine(run.target) ?? null : run.settleQuarantine();
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
