// Entra ID's attribute-mapping expression language, evaluated locally: parse once, compile to closures,
// evaluate against Graph-shaped attribute bags. This module is the public face; see docs/expressions.md.
import { collectAttributes, type ExpressionNode } from './ast.js';
import { compileNode, type Evaluator, type Tracer } from './compiler.js';
import { ExpressionError, positionedError } from './errors.js';
import { FUNCTIONS } from './functions.js';
import { parseExpression } from './parser.js';
import { printExpression } from './printer.js';
import type { CompiledExpression, EvaluateOptions, EvaluationResult } from './types.js';
import { FlowSentinel, toResultValue, type Value } from './values.js';

export { ExpressionError } from './errors.js';
export type { ExpressionErrorCode } from './errors.js';
export type { ExpressionNode, CallNode, AttributeNode, StringNode, NumberNode, HexNode, IdentifierNode, EmptyNode, ComparisonNode, ComparisonOperator, Span } from './ast.js';
export type { CompiledExpression, EvaluateOptions, EvaluationResult } from './types.js';
export { parseExpression, MAX_EXPRESSION_LENGTH } from './parser.js';
export { printExpression } from './printer.js';

const NO_OPTIONS: EvaluateOptions = Object.freeze({});

/** Canonical spellings of every function the language knows. */
export const FUNCTION_NAMES: readonly string[] = [...FUNCTIONS.values()].map((f) => f.name).sort();

function checkPlacement(root: ExpressionNode, source: string): void {
  const visit = (node: ExpressionNode, top: boolean): void => {
    if (node.kind === 'call') {
      if (!top && node.name.toLowerCase() === 'selectuniquevalue') {
        throw positionedError('EXPR_PLACEMENT', 'SelectUniqueValue must be the outermost function of the expression', source, node.start, { functionName: 'SelectUniqueValue' });
      }
      const condition = node.args[0];
      if (node.name.toLowerCase() === 'iif' && condition?.kind === 'call' && condition.name.toLowerCase() === 'ignoreflowifnullorempty') {
        // Microsoft's reference: a flow wrapper is not a boolean; wrap the whole IIF instead.
        throw positionedError('EXPR_PLACEMENT', 'IgnoreFlowIfNullOrEmpty cannot be the condition of IIF; wrap the whole IIF in it instead', source, condition.start, { functionName: 'IIF' });
      }
      node.args.forEach((arg) => visit(arg, false));
    } else if (node.kind === 'comparison') {
      visit(node.left, false);
      visit(node.right, false);
    }
  };
  visit(root, true);
}

function usesRedact(node: ExpressionNode): boolean {
  if (node.kind === 'call') return node.name.toLowerCase() === 'redact' || node.args.some(usesRedact);
  if (node.kind === 'comparison') return usesRedact(node.left) || usesRedact(node.right);
  return false;
}

function finish(v: Value, redacted: boolean): EvaluationResult {
  if (v instanceof FlowSentinel) return redacted ? { value: null, flow: v.flow, redacted } : { value: null, flow: v.flow };
  const value = toResultValue(v);
  return redacted ? { value, flow: 'flow', redacted } : { value, flow: 'flow' };
}

function build(source: string, tree: ExpressionNode, tracer?: Tracer): { root: Evaluator; redacted: boolean } {
  checkPlacement(tree, source);
  const root = compileNode(tree, tracer ? { source, optimize: false, tracer } : { source, optimize: true }, FUNCTIONS);
  return { root, redacted: usesRedact(tree) };
}

function run(root: Evaluator, redacted: boolean, source: string, attributes: Readonly<Record<string, unknown>>, options: EvaluateOptions): EvaluationResult {
  try {
    return finish(root(attributes, options), redacted);
  } catch (err) {
    if (err instanceof FlowSentinel) return finish(err, redacted);
    if (err instanceof ExpressionError) throw err;
    // A bug of ours must still reach the user as an expression error, never a raw exception.
    throw new ExpressionError('EXPR_RUNTIME', `evaluating ${JSON.stringify(source.length > 80 ? `${source.slice(0, 77)}...` : source)} failed: ${err instanceof Error ? err.message : String(err)}`, { line: 1, column: 1 }, {}, { cause: err });
  }
}

/** Parse and compile once; evaluate many times. Throws ExpressionError for syntax and compile-time errors. */
export function compileExpression(source: string): CompiledExpression {
  const tree = parseExpression(source);
  const { root, redacted } = build(source, tree);
  const references = Object.freeze(collectAttributes(tree));
  return Object.freeze({
    source,
    references,
    evaluate(attributes: Readonly<Record<string, unknown>>, options: EvaluateOptions = NO_OPTIONS): EvaluationResult {
      return run(root, redacted, source, attributes, options);
    },
  });
}

/** One-shot form: compile and evaluate. For many evaluations keep the compileExpression() result. */
export function evaluateExpression(source: string, attributes: Readonly<Record<string, unknown>>, options?: EvaluateOptions): EvaluationResult {
  return compileExpression(source).evaluate(attributes, options);
}

/** One node of an explained evaluation: its text, its result (or error), and its children. */
export interface ExplainedNode {
  readonly text: string;
  readonly kind: ExpressionNode['kind'];
  /** 'literal' for constants; 'notEvaluated' for branches IIF/Switch/Coalesce did not need. */
  readonly status: 'value' | 'error' | 'literal' | 'notEvaluated';
  readonly value?: unknown;
  readonly flow?: 'ignoreAttribute' | 'ignoreObject';
  readonly error?: string;
  readonly children: readonly ExplainedNode[];
}

export interface Explanation {
  /** True when the expression uses Redact(): every value in the tree must be hidden from logs. */
  readonly redacted: boolean;
  readonly result?: EvaluationResult;
  readonly error?: ExpressionError;
  readonly tree: ExplainedNode;
}

/**
 * Evaluate with every sub-result recorded, for `entra-sync expr --explain`. Syntax and compile errors
 * throw; a runtime error is returned with the tree up to the failing node.
 */
export function explainExpression(source: string, attributes: Readonly<Record<string, unknown>>, options: EvaluateOptions = NO_OPTIONS): Explanation {
  const tree = parseExpression(source);
  const outcomes = new Map<ExpressionNode, { value: Value } | { error: unknown }>();
  const { root, redacted } = build(source, tree, { record: (node, outcome) => outcomes.set(node, outcome) });
  let result: EvaluationResult | undefined;
  let error: ExpressionError | undefined;
  try {
    result = run(root, redacted, source, attributes, options);
  } catch (err) {
    error = err instanceof ExpressionError ? err : new ExpressionError('EXPR_RUNTIME', String(err), {});
  }
  const describe = (node: ExpressionNode): ExplainedNode => {
    const children = node.kind === 'call' ? node.args.map(describe) : node.kind === 'comparison' ? [describe(node.left), describe(node.right)] : [];
    const text = node.kind === 'empty' ? '(empty)' : printExpression(node);
    const literal = node.kind === 'string' || node.kind === 'number' || node.kind === 'hex' || node.kind === 'empty';
    const outcome = outcomes.get(node);
    if (!outcome) return { text, kind: node.kind, status: literal ? 'literal' : 'notEvaluated', children };
    if ('error' in outcome) {
      const e = outcome.error;
      if (e instanceof FlowSentinel) return { text, kind: node.kind, status: 'value', value: null, flow: e.flow, children };
      return { text, kind: node.kind, status: 'error', error: e instanceof Error ? e.message : String(e), children };
    }
    if (literal) return { text, kind: node.kind, status: 'literal', children };
    const v = outcome.value;
    if (v instanceof FlowSentinel) return { text, kind: node.kind, status: 'value', value: null, flow: v.flow, children };
    return { text, kind: node.kind, status: 'value', value: toResultValue(v), children };
  };
  return { redacted, ...(result ? { result } : {}), ...(error ? { error } : {}), tree: describe(tree) };
}
