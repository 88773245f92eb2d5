// What a target does about failures, deletions, quarantine and pacing: the cycle's policy (from the target's
// configuration) and the part of it apply needs. Defaults follow Entra's provisioning service.
import type { TargetConfig } from '../config/schema.js';
import type { DeleteThreshold } from '../engine/threshold.js';

export const HOUR = 3_600_000;
/** Entra's escrow limit: a failing object is given up this long after its first failure. */
const GIVE_UP_AFTER_MS = 28 * 24 * HOUR;

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
  giveUpAfterMs: GIVE_UP_AFTER_MS,
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

export interface ApplyPolicy {
  /** An update, enable or disable answered 404: create the object again from what we know, or forget the link. */
  onNotFound: 'recreate' | 'unlink';
  /** Delay before each retry of a failed object (the last step repeats). Entra: 6 h, 12 h, 24 h, then daily. */
  retryScheduleMs: readonly number[];
  /** Transient errors (5xx, timeouts) are retried at the next cycle this many times before following the schedule. */
  transientRetriesNextCycle: number;
  /** Operations in flight at once; the connector still paces the requests themselves. */
  concurrency: number;
  /** With at least this many creates of one type and a target that can list, match against one page-through instead of one GET per object. */
  matchIndexThreshold: number;
  /** Most operations per bulk() call when the target advertises /Bulk (capped by its maxOperations). */
  bulkBatchSize: number;
  /**
   * A bug (an exception nobody classified) is retried at the next cycle once; a second one parks the object
   * this long after its first failure, which is when the cycle gives up on it (null: parked 28 days).
   */
  giveUpAfterMs: number | null;
}

export const DEFAULT_APPLY_POLICY: ApplyPolicy = {
  onNotFound: 'recreate',
  retryScheduleMs: DEFAULT_CYCLE_POLICY.retryScheduleMs,
  transientRetriesNextCycle: 2,
  concurrency: 16,
  matchIndexThreshold: 50,
  bulkBatchSize: 50,
  giveUpAfterMs: GIVE_UP_AFTER_MS,
};

/** How long a parked object waits when no give-up horizon is set. */
export const PARK_DEFAULT_MS = GIVE_UP_AFTER_MS;
