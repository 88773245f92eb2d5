// The package's public API. Everything not exported here is internal.
export { EntraSyncError, type ErrorLocation } from './errors.js';
export type * from './targets/connector.js';
export { TargetError } from './targets/connector.js';
export type * from './source/types.js';
export {
  compileExpression, evaluateExpression, explainExpression, parseExpression, printExpression, ExpressionError,
  FUNCTION_NAMES, MAX_EXPRESSION_LENGTH,
  type CompiledExpression, type EvaluateOptions, type EvaluationResult, type ExpressionNode, type ExpressionErrorCode,
  type Explanation, type ExplainedNode,
} from './expressions/index.js';
