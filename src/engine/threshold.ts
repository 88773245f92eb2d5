// Accidental-deletion prevention, per target and per cycle (Entra's "Prevent accidental deletions", plus a
// percentage): when a cycle would disable or delete more objects than allowed, those operations are staged
// for an admin's approval and everything else proceeds.
import type { PlannedOperation } from './types.js';

export interface DeleteThreshold {
  /** Disables + deletes per cycle above which they are staged. */
  count?: number | undefined;
  /** Same, as a percentage of the objects linked on the target. */
  percent?: number | undefined;
}

/** Operations the threshold counts: every disable and delete, of users and groups. */
export function isDestructive(op: PlannedOperation): boolean {
  return op.kind === 'disable' || op.kind === 'delete';
}

/** Whether `destructive` disables/deletes out of `linkedCount` linked objects pass the threshold. */
export function exceedsThreshold(destructive: number, linkedCount: number, threshold: DeleteThreshold): boolean {
  if (destructive === 0) return false;
  if (threshold.count !== undefined && destructive > threshold.count) return true;
  if (threshold.percent !== undefined) {
    // With nothing linked every destructive operation is 100 % of it.
    const share = linkedCount > 0 ? (destructive * 100) / linkedCount : 100;
    if (share > threshold.percent) return true;
  }
  return false;
}

export function applyThreshold(
  ops: PlannedOperation[],
  linkedCount: number,
  threshold: DeleteThreshold,
): { proceed: PlannedOperation[]; staged: PlannedOperation[] } {
  const destructive = ops.filter(isDestructive);
  if (!exceedsThreshold(destructive.length, linkedCount, threshold)) return { proceed: ops, staged: [] };
  return { proceed: ops.filter((op) => !isDestructive(op)), staged: destructive };
}
