// What a failed operation records, by its TargetError kind: the Entra-like error code, when the object is
// retried, and what may be shown of the error. Transient faults are retried at the next cycles first, then on
// the schedule; a bug once at the next cycle, then parked; the rest on the schedule (docs/state.md).
import type { PlannedOperation } from '../engine/types.js';
import { redactedPathsOf, scrubText } from '../engine/redaction.js';
import type { FailureRecord } from '../state/targets-store.js';
import { TargetError } from '../targets/connector.js';
import { PARK_DEFAULT_MS, type ApplyPolicy } from './policy.js';

/** The code of a bug (an exception nobody classified). */
export const BUG_CODE = 'InternalError';

/** Entra-like error codes for the provisioning log and the failures table. */
export function errorCode(error: TargetError): string {
  switch (error.kind) {
    case 'transient': return error.status === 429 ? 'TooManyRequests' : error.status ? 'InternalServerError' : 'Timeout';
    case 'notFound': return 'InvalidAnchor';
    case 'conflict': return error.scimType === 'uniqueness' || error.status === 409 ? 'EntryConflict' : 'DuplicateTargetEntries';
    case 'badRequest': return error.status === 422 ? 'UnprocessableEntity' : 'BadRequest';
    case 'unauthorized': return 'Unauthorized';
    case 'dryRun': return 'DryRunRefused';
    case 'bug': return BUG_CODE;
  }
}

/**
 * When a failed object is retried: a date, or undefined to follow the schedule from `previous`'s attempts.
 * Transient faults get a few next-cycle retries ("retried in 40 minutes"), then the schedule from its start.
 * A bug is retried once at the next cycle (it may hang on a one-off state); a second one in a row parks the
 * object until the cycle gives up on it: retrying a programming error on a schedule only repeats it. A change
 * of the object in Entra, `resume` or `resync` plans it again before that.
 */
export function retryAtFor(
  error: TargetError, previous: FailureRecord | undefined, now: Date,
  policy: Pick<ApplyPolicy, 'retryScheduleMs' | 'transientRetriesNextCycle' | 'giveUpAfterMs'>,
): Date | undefined {
  if (error.kind === 'bug') {
    if (previous?.code !== BUG_CODE) return now;
    return new Date(new Date(previous.firstFailedAt).getTime() + (policy.giveUpAfterMs ?? PARK_DEFAULT_MS) + 1);
  }
  if (error.kind !== 'transient') return undefined;
  const schedule = policy.retryScheduleMs;
  const attempts = (previous?.attempts ?? 0) + 1;
  const transientStep = attempts - 1 - policy.transientRetriesNextCycle;
  return transientStep < 0 || schedule.length === 0 ? now : new Date(now.getTime() + schedule[Math.min(transientStep, schedule.length - 1)]!);
}

/** The error as it may be recorded: a target that echoes a redacted value must not get it into our log or state. */
export function recordableError(raw: TargetError, op: PlannedOperation): TargetError {
  return redactedPathsOf(op).size === 0 ? raw : new TargetError({
    kind: raw.kind, message: scrubText(raw.message, op), target: raw.target, cause: raw,
    ...(raw.status !== undefined ? { status: raw.status } : {}), ...(raw.scimType !== undefined ? { scimType: raw.scimType } : {}), ...(raw.request !== undefined ? { request: raw.request } : {}),
  });
}

/** Where a bug was thrown, scrubbed of redacted values like the message. */
export function stackOf(cause: unknown, op: PlannedOperation): string | undefined {
  const stack = cause instanceof Error ? cause.stack : undefined;
  return stack && redactedPathsOf(op).size ? scrubText(stack, op) : stack;
}
