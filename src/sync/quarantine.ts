// Quarantine, as Entra does it: a target that refuses our credentials, or fails too large a share of a
// cycle's operations, is left alone for a growing while (docs/state.md, "Quarantine"); a healthy cycle lifts it.
import type { QuarantineState } from '../state/targets-store.js';
import type { TargetRun } from './target-run.js';

/** Quarantine on a refused credential or too many failures; leave it after a healthy cycle. */
export function settleQuarantine(run: TargetRun): QuarantineState | null {
  const { store } = run.input;
  const now = run.now();
  const counted = run.failures.filter((f) => f.operation !== 'addMembers' && f.operation !== 'removeMembers' && f.kind !== 'unauthorized').length;
  const q = run.policy.quarantine;
  let reason: { code: string; message: string } | null = null;
  if (run.stopped) reason = { code: run.stopped.reason, message: `the target refused our credentials: ${run.stopped.message}` };
  // An aborted run says too little to enter or leave quarantine by its failure ratio.
  else if (run.aborted) return store.quarantine(run.target) ?? null;
  else if (counted >= q.minFailures && run.sent > 0 && counted / run.sent > q.failureRatio) {
    reason = { code: 'EncounteredEscrowProportionThreshold', message: `${counted} of ${run.sent} operations failed (more than ${Math.round(q.failureRatio * 100)} %)` };
  }
  if (reason) {
    const state = store.enterQuarantine(run.target, reason.code, reason.message, now, q.backoffMs);
    run.events.emit('target:quarantined', { target: run.target, reason: state.reason, message: state.message, nextAttempt: state.nextAttempt });
    return state;
  }
  if (store.quarantine(run.target)) {
    store.clearQuarantine(run.target);
    run.events.emit('target:released', { target: run.target });
  }
  return null;
}
