// The package's public API. Everything not exported here is internal.
export { EntraSyncError, type ErrorLocation } from './errors.js';
export type * from './targets/connector.js';
export { TargetError } from './targets/connector.js';
export { createConnector, type TargetConnectorOptions, type CountingConnector, type ConnectorDeps } from './targets/factory.js';
export { ScimConnector } from './targets/scim/connector.js';
export { RestConnector } from './targets/rest/connector.js';
export type { TargetRequestStats } from './targets/http.js';
export {
  scimTargetOptionsSchema, targetAuthSchema, targetConnectionSchema,
  type ScimTargetOptions, type ScimTargetOptionsInput, type TargetAuthOptions, type TargetConnectionOptions,
} from './targets/scim/options.js';
export { restTargetOptionsSchema, type RestTargetOptions, type RestTargetOptionsInput } from './targets/rest/options.js';
export type * from './source/types.js';
export { sourceOptionsSchema, type SourceOptions, type SourceOptionsInput } from './source/options.js';
export { createSourceReader, userSelectList, type SourceReader, type SourceReaderDeps, type ReadSummary, type ReadOptions } from './source/reader.js';
export { SourceStoreImpl, type CommitSummary, type ScopeSettings } from './state/source-store.js';
export { withRetry, parseRetryAfter, backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy, type RetryOptions, type RetryVerdict } from './net/retry.js';
export {
  compileExpression, evaluateExpression, explainExpression, parseExpression, printExpression, ExpressionError,
  FUNCTION_NAMES, MAX_EXPRESSION_LENGTH,
  type CompiledExpression, type EvaluateOptions, type EvaluationResult, type ExpressionNode, type ExpressionErrorCode,
  type Explanation, type ExplainedNode,
} from './expressions/index.js';
export { runCycle, type CycleInput, type CycleOptions, type CycleSummary, type CycleCounts, type CycleKind } from './sync/cycle.js';
export { buildPlan, applySavedPlan, formatPlan } from './sync/saved-plans.js';
export { approveStaged, rejectStaged } from './sync/staging.js';
export { reconcileTarget, type DriftFix } from './sync/reconcile.js';
export { cyclePolicyFromConfig, DEFAULT_CYCLE_POLICY, type CyclePolicy, type ApplyPolicy } from './sync/policy.js';
export { applyOperations, type ApplyContext, type ApplyResult, type FailedObject } from './sync/apply.js';
export { recoverInFlight } from './sync/recovery.js';
export { SyncEvents, type SyncEventMap, type SyncEventName } from './observability/events.js';
export { TargetsStore, type SavedPlan, type FailureRecord, type QuarantineState, type RunRecord } from './state/targets-store.js';
export { SyncMetrics } from './observability/metrics.js';
