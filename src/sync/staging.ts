// Staging: the disables and deletes the deletion threshold holds back, until an administrator approves
// (they are applied then) or rejects them (dropped, and the provisioning log says so). docs/state.md,
// "Deletion threshold and staging".
import { randomUUID } from 'node:crypto';
import type { PlannedOperation, ProvisioningStep } from '../engine/types.js';
import { applyThreshold } from '../engine/threshold.js';
import type { CycleSummary } from './cycle.js';
import { step } from './provisioning-log.js';
import type { SyncStore } from './store.js';
import { withTarget, type RunInput, type TargetRun } from './target-run.js';

type StepsOf = (op: PlannedOperation) => ProvisioningStep[];

/**
 * Splits disables/deletes by the threshold over the linked count; the excess is staged (unless dry run, where
 * it is only counted). Returns what proceeds. `heldSteps` gives each object's steps so far, for its log entry.
 */
export function holdBack(run: TargetRun, held: PlannedOperation[], persist: boolean, heldSteps: StepsOf): PlannedOperation[] {
  if (held.length === 0) return held;
  const { proceed, staged } = applyThreshold(held, run.input.store.linkedCount(run.target), run.policy.deleteThreshold);
  for (const op of staged) {
    if (persist) stage(run, op, heldSteps);
    else { run.stagedOps.push(op); run.staged++; }
  }
  return proceed;
}

/** Holds `op` back until `approve` or `reject`, and logs it as staged. */
export function stage(run: TargetRun, op: PlannedOperation, heldSteps: StepsOf = () => []): void {
  const { store } = run.input;
  const now = run.now();
  store.transaction(() => {
    store.stage(run.target, run.runId, op, now);
    store.log({
      runId: run.runId, target: run.target, type: op.type, sourceId: op.sourceId, targetId: 'targetId' in op ? op.targetId : null,
      displayName: op.displayName, action: 'staged', status: 'staged',
      steps: [...heldSteps(op), step('action', 'skipped', `${op.kind} held back: this cycle's disables and deletes pass the deletion threshold; run \`approve\` or \`reject\``)],
      modifiedProperties: [], at: now.toISOString(),
    });
  });
  run.stagedOps.push(op);
  run.staged++;
  run.events.emit('operation:staged', { target: run.target, runId: run.runId, operation: op });
}

/** Releases the operations the deletion threshold held back and applies them now. */
export async function approveStaged(input: RunInput): Promise<CycleSummary> {
  return withTarget(input, 'approve', async (run) => {
    await run.recover();
    const ops = input.store.approve(run.target);
    const steps = (op: PlannedOperation) => [step('scope', 'success', `${op.kind} approved by an administrator`)];
    const options = input.options ?? {};
    for (let i = 0; i < ops.length && !run.stopped; i += run.policy.batchSize) {
      if (i > 0 && options.between && (options.betweenWanted?.() ?? true)) await options.between({ target: run.target });
      if (run.abortRequested()) { restage(run, ops.slice(i)); break; }
      await run.apply(ops.slice(i, i + run.policy.batchSize), steps);
      // Approved but not sent (aborted): held back again, for the next `approve`.
      restage(run, run.takeUnsent());
    }
  });
}

/** Puts approved operations that were not sent back among the staged ones. */
function restage(run: TargetRun, ops: readonly PlannedOperation[]): void {
  if (ops.length === 0) return;
  const { store } = run.input;
  const now = run.now();
  store.transaction(() => { for (const op of ops) store.stage(run.target, run.runId, op, now); });
}

/** Drops the held-back operations; each object's provisioning log says so. Returns what was dropped. */
export function rejectStaged(store: Pick<SyncStore, 'transaction' | 'reject' | 'log'>, target: string, now = new Date()): PlannedOperation[] {
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
