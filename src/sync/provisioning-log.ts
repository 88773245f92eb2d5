// One object's entry in the provisioning log, as Entra shows it: steps (import, scope, match, action,
// export), the modified properties (Redact()ed values shown as `[redacted]`) and the error, if any.
import type { PlannedOperation, ProvisioningAction, ProvisioningLogEntry, ProvisioningStep } from '../engine/types.js';
import { redactedPathsOf, shownValue } from '../engine/redaction.js';

export function step(name: ProvisioningStep['name'], status: ProvisioningStep['status'], details: string): ProvisioningStep {
  return { name, status, details };
}

/** The log's action for an operation: both member operations are 'members'. */
export function actionOf(op: PlannedOperation): ProvisioningAction {
  switch (op.kind) {
    case 'addMembers':
    case 'removeMembers': return 'members';
    default: return op.kind;
  }
}

export interface LogContext {
  runId: string;
  target: string;
  /** Steps that came before apply (import, scope) for an object's entry. */
  stepsBefore?: ((op: PlannedOperation) => ProvisioningStep[]) | undefined;
}

/** The entry for `op`: the steps before apply, its own, and an export step unless it has one or sent nothing. */
export function logEntry(
  ctx: LogContext, op: PlannedOperation, action: ProvisioningAction, status: ProvisioningLogEntry['status'], targetId: string | null,
  steps: ProvisioningStep[], modified: ProvisioningLogEntry['modifiedProperties'], now: Date, error?: { code: string; message: string },
): ProvisioningLogEntry {
  const exportStep = steps.some((s) => s.name === 'export') || status === 'skipped' || op.kind === 'unlink'
    ? [] : [step('export', 'success', targetId ? `target id ${targetId}` : 'nothing exported')];
  const redacted = redactedPathsOf(op);
  return {
    runId: ctx.runId, target: ctx.target, type: op.type, sourceId: op.sourceId, targetId,
    displayName: op.displayName, action, status, steps: [...(ctx.stepsBefore?.(op) ?? []), ...steps, ...exportStep],
    modifiedProperties: modified.map((m) => ({ path: m.path, before: shownValue(m.path, m.before, redacted), after: shownValue(m.path, m.after, redacted) })),
    ...(error ? { error } : {}), at: now.toISOString(),
  };
}
