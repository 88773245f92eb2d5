// Turns a syntax tree into nested closures, once. Evaluation walks closures only: no re-parsing, no
// lookups by name, and literal arguments are pre-converted. The same compiler, with a tracer, records
// every sub-result for `entra-sync expr --explain`.
import { collectAttributes, type CallNode, type ComparisonNode, type ExpressionNode } from './ast.js';
import { parseDateTime, DateProblem } from './dates.js';
import { ExpressionError, lineColumn, positionedError, type ExpressionErrorCode } from './errors.js';
import type { EvaluateOptions } from './types.js';
import {
  CoercionProblem, DateTimeValue, FlowSentinel, toNumber, toText, type Value,
} from './values.js';

export type Attributes = Readonly<Record<string, unknown>>;
export type Evaluator = (attrs: Attributes, opts: EvaluateOptions) => Value;

export interface Tracer {
  record(node: ExpressionNode, outcome: { value: Value } | { error: unknown }): void;
}

export interface CompileContext {
  readonly source: string;
  /** Fuse common shapes such as Item(Split(x, "@"), 1); off when tracing so every step is visible. */
  readonly optimize: boolean;
  readonly tracer?: Tracer;
}

/** How a function compiles its call; `lazy` arguments may carry a flow decision through untouched. */
export interface FunctionSpec {
  readonly name: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  /** Extra arity rule, e.g. Switch's key/value pairs; returns a problem text. */
  readonly checkArity?: (count: number) => string | undefined;
  readonly lazy?: (argIndex: number) => boolean;
  compile(site: CallSite): Evaluator;
}

const NULL_EVALUATOR: Evaluator = () => null;

/** One call in the tree with its compiled arguments and helpers that report errors at the right place. */
export class CallSite {
  readonly argNodes: readonly ExpressionNode[];

  constructor(
    readonly ctx: CompileContext,
    readonly node: CallNode,
    readonly spec: FunctionSpec,
    readonly args: readonly Evaluator[],
  ) {
    this.argNodes = node.args;
  }

  get name(): string {
    return this.spec.name;
  }

  arg(i: number): Evaluator {
    return this.args[i] ?? NULL_EVALUATOR;
  }

  /** True when the argument was left out: `F(a, , b)` or beyond the last argument given. */
  isEmpty(i: number): boolean {
    const n = this.argNodes[i];
    return n === undefined || n.kind === 'empty';
  }

  /** Text of a string or number literal argument, or undefined when the argument is computed. */
  literalText(i: number): string | undefined {
    const n = this.argNodes[i];
    if (!n) return undefined;
    if (n.kind === 'string') return n.value;
    if (n.kind === 'number') return n.text;
    if (n.kind === 'hex') return String(n.value);
    return undefined;
  }

  /** A literal integer argument checked at compile time; undefined when the argument is computed. */
  literalInteger(i: number, what: string): number | undefined {
    const n = this.argNodes[i];
    if (!n) return undefined;
    if (n.kind === 'string' || n.kind === 'number' || n.kind === 'hex') {
      const v = toNumber(n.kind === 'hex' ? n.value : this.literalText(i)!);
      if (v === undefined) throw this.compileError('EXPR_TYPE', `${this.name}: ${what} must be a number, not ${JSON.stringify(this.literalText(i))}`, i);
      return Math.trunc(v);
    }
    return undefined;
  }

  compileError(code: ExpressionErrorCode, problem: string, argIndex?: number): ExpressionError {
    const at = argIndex === undefined ? this.node : (this.argNodes[argIndex] ?? this.node);
    const offset = at.kind === 'empty' && argIndex !== undefined && this.argNodes[argIndex] === undefined ? this.node.end - 1 : at.start;
    return positionedError(code, problem, this.ctx.source, offset, { functionName: this.name });
  }

  /** A runtime error naming the function, the attributes behind the argument, and the position. */
  runtimeError(problem: string, argIndex?: number, code: ExpressionErrorCode = 'EXPR_RUNTIME'): ExpressionError {
    const at = argIndex === undefined ? this.node : (this.argNodes[argIndex] ?? this.node);
    const attributes = collectAttributes(at);
    const { line, column } = lineColumn(this.ctx.source, at.start);
    const from = attributes.length ? ` (from ${attributes.map((a) => `[${a}]`).join(', ')})` : '';
    return new ExpressionError(code, `${this.name}: ${problem}${from} at line ${line}, column ${column}`, { line, column }, { functionName: this.name, attributes });
  }

  /** The argument as text; null stays null. Multi-valued or object values are a runtime type error. */
  text(i: number, a: Attributes, o: EvaluateOptions): string | null {
    const v = this.arg(i)(a, o);
    if (typeof v === 'string') return v;
    if (v === null) return null;
    const t = toText(v);
    if (t instanceof CoercionProblem) throw this.runtimeError(t.message, i, 'EXPR_TYPE');
    return t;
  }

  /** The argument as a number; null stays null; anything else non-numeric is a runtime type error. */
  number(i: number, a: Attributes, o: EvaluateOptions, what: string): number | null {
    const v = this.arg(i)(a, o);
    if (v === null) return null;
    if (typeof v === 'number') return v;
    const n = toNumber(v);
    if (n === undefined) {
      const shown = toText(v);
      throw this.runtimeError(`${what} must be a number, not ${typeof shown === 'string' ? JSON.stringify(shown) : 'this value'}`, i, 'EXPR_TYPE');
    }
    return n;
  }

  /** The argument as a DateTime: a DateTime value or text CDate can read; null stays null. */
  date(i: number, a: Attributes, o: EvaluateOptions): DateTimeValue | null {
    const v = this.arg(i)(a, o);
    if (v instanceof DateTimeValue) return v;
    if (v === null) return null;
    const t = toText(v);
    if (t instanceof CoercionProblem) throw this.runtimeError(t.message, i, 'EXPR_TYPE');
    if (t === null) return null;
    const d = parseDateTime(t);
    if (d instanceof DateProblem) throw this.runtimeError(d.message, i);
    return d;
  }
}

export type FunctionTable = ReadonlyMap<string, FunctionSpec>;

/** Values of the bare identifiers the language knows. */
const CONSTANTS: ReadonlyMap<string, Value> = new Map<string, Value>([
  ['vbbinarycompare', 0],
  ['vbtextcompare', 1],
  ['ignoreattributeflow', FlowSentinel.ignoreAttribute],
  ['ignoreobjectflow', FlowSentinel.ignoreObject],
  ['true', true],
  ['false', false],
  ['utf8', 'UTF8'],
  ['unicode', 'Unicode'],
  ['ascii', 'ASCII'],
]);

export const CONSTANT_NAMES = ['vbBinaryCompare', 'vbTextCompare', 'IgnoreAttributeFlow', 'IgnoreObjectFlow', 'True', 'False', 'UTF8', 'Unicode', 'ASCII'];

/** Whether evaluating `node` can yield a flow decision (IgnoreFlowIfNullOrEmpty, Ignore*Flow). */
export function mayFlow(node: ExpressionNode, functions: FunctionTable): boolean {
  if (node.kind === 'identifier') return CONSTANTS.get(node.name.toLowerCase()) instanceof FlowSentinel;
  if (node.kind !== 'call') return false;
  if (node.name.toLowerCase() === 'ignoreflowifnullorempty') return true;
  const spec = functions.get(node.name.toLowerCase());
  return node.args.some((arg, i) => (spec?.lazy?.(i) ?? false) && mayFlow(arg, functions));
}

function throwIfFlow(e: Evaluator): Evaluator {
  // A flow decision inside a strict argument decides for the whole expression: unwind to evaluate().
  return (a, o) => {
    const v = e(a, o);
    if (v instanceof FlowSentinel) throw v;
    return v;
  };
}

export function compileNode(node: ExpressionNode, ctx: CompileContext, functions: FunctionTable): Evaluator {
  const inner = compileBare(node, ctx, functions);
  const tracer = ctx.tracer;
  if (!tracer) return inner;
  return (a, o) => {
    try {
      const value = inner(a, o);
      tracer.record(node, { value });
      return value;
    } catch (error) {
      tracer.record(node, { error });
      throw error;
    }
  };
}

function compileBare(node: ExpressionNode, ctx: CompileContext, functions: FunctionTable): Evaluator {
  switch (node.kind) {
    case 'string': {
      const v = node.value;
      return () => v;
    }
    case 'number': {
      // Entra stores constants as strings; numbers stay text until a function needs a number.
      const v = node.text;
      return () => v;
    }
    case 'hex': {
      const v = node.value;
      return () => v;
    }
    case 'empty':
      return NULL_EVALUATOR;
    case 'identifier': {
      const key = node.name.toLowerCase();
      if (!CONSTANTS.has(key)) {
        const hint = functions.has(key) ? `; to call the function write ${node.name}()` : `; known constants are ${CONSTANT_NAMES.join(', ')}`;
        throw positionedError('EXPR_UNKNOWN_CONSTANT', `unknown name "${node.name}"${hint}`, ctx.source, node.start);
      }
      const v = CONSTANTS.get(key)!;
      return () => v;
    }
    case 'attribute':
      return attributeReader(node.name);
    case 'comparison':
      return compileComparison(node, ctx, functions);
    case 'call':
      return compileCall(node, ctx, functions);
  }
}

function attributeReader(name: string): Evaluator {
  const normalize = (v: unknown): Value => {
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return null;
    if (typeof v === 'bigint') return v.toString();
    return v as Value;
  };
  // Names such as "constructor" exist on every object's prototype; only own properties are attributes.
  if (name in Object.prototype) {
    return (a) => (Object.hasOwn(a, name) ? normalize(a[name]) : null);
  }
  return (a) => {
    const v = a[name];
    if (typeof v === 'string') return v;
    return normalize(v);
  };
}

export function compileCall(node: CallNode, ctx: CompileContext, functions: FunctionTable): Evaluator {
  const spec = functions.get(node.name.toLowerCase());
  if (!spec) {
    const suggestion = suggest(node.name, functions);
    throw positionedError('EXPR_UNKNOWN_FUNCTION', `unknown function "${node.name}"${suggestion ? `; did you mean ${suggestion}?` : ''}`, ctx.source, node.start);
  }
  const count = node.args.length;
  if (count < spec.minArgs || count > spec.maxArgs) {
    const expected = spec.minArgs === spec.maxArgs ? `${spec.minArgs}` : spec.maxArgs === Infinity ? `at least ${spec.minArgs}` : `${spec.minArgs} to ${spec.maxArgs}`;
    throw positionedError('EXPR_ARITY', `${spec.name} takes ${expected} argument${expected === '1' ? '' : 's'} but was given ${count}`, ctx.source, node.start, { functionName: spec.name });
  }
  const extra = spec.checkArity?.(count);
  if (extra) throw positionedError('EXPR_ARITY', `${spec.name}: ${extra}`, ctx.source, node.start, { functionName: spec.name });
  const args = node.args.map((arg, i) => {
    const e = compileNode(arg, ctx, functions);
    return !(spec.lazy?.(i) ?? false) && mayFlow(arg, functions) ? throwIfFlow(e) : e;
  });
  return spec.compile(new CallSite(ctx, node, spec, args));
}

function compileComparison(node: ComparisonNode, ctx: CompileContext, functions: FunctionTable): Evaluator {
  const wrap = (n: ExpressionNode): Evaluator => {
    const e = compileNode(n, ctx, functions);
    return mayFlow(n, functions) ? throwIfFlow(e) : e;
  };
  const left = wrap(node.left);
  const right = wrap(node.right);
  const op = node.operator;
  const fail = (problem: string): ExpressionError => {
    const { line, column } = lineColumn(ctx.source, node.start);
    const attributes = collectAttributes(node);
    return new ExpressionError('EXPR_TYPE', `comparison "${op}": ${problem} at line ${line}, column ${column}`, { line, column }, { attributes });
  };
  return (a, o) => compareValues(op, left(a, o), right(a, o), fail);
}

/**
 * `=`/`<>` compare numbers numerically and everything else as case-sensitive text, with null read as
 * "". `<`, `<=`, `>`, `>=` compare numerically when both sides are numbers (or numeric text), as
 * DateTimes when both are dates, and otherwise as ordinal text.
 */
export function compareValues(op: ComparisonNode['operator'], l: Value, r: Value, fail: (problem: string) => ExpressionError): boolean {
  if (op === '=' || op === '<>') {
    let equal: boolean;
    if (typeof l === 'number' && typeof r === 'number') equal = l === r;
    else if (l instanceof DateTimeValue && r instanceof DateTimeValue) equal = l.epochMs === r.epochMs && l.subMsTicks === r.subMsTicks;
    else equal = comparableText(l, fail) === comparableText(r, fail);
    return op === '=' ? equal : !equal;
  }
  let diff: number;
  if (l instanceof DateTimeValue && r instanceof DateTimeValue) {
    diff = l.epochMs - r.epochMs || l.subMsTicks - r.subMsTicks;
  } else {
    const ln = l === null ? undefined : toNumber(l);
    const rn = r === null ? undefined : toNumber(r);
    if (ln !== undefined && rn !== undefined) diff = ln - rn;
    else {
      const lt = comparableText(l, fail);
      const rt = comparableText(r, fail);
      diff = lt < rt ? -1 : lt > rt ? 1 : 0;
    }
  }
  switch (op) {
    case '<': return diff < 0;
    case '<=': return diff <= 0;
    case '>': return diff > 0;
    default: return diff >= 0;
  }
}

function comparableText(v: Value, fail: (problem: string) => ExpressionError): string {
  if (typeof v === 'string') return v;
  const t = toText(v);
  if (t instanceof CoercionProblem) throw fail(t.message);
  return t ?? '';
}

function suggest(name: string, functions: FunctionTable): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const spec of functions.values()) {
    const d = editDistance(lower, spec.name.toLowerCase());
    if (d < bestDistance) { best = spec.name; bestDistance = d; }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

