// Errors of the expression language: one type for syntax, compile-time and runtime problems, each
// pointing at a line and column of the expression and, for syntax/compile errors, showing it with a caret.
import { EntraSyncError, type ErrorLocation } from '../errors.js';

export type ExpressionErrorCode =
  | 'EXPR_SYNTAX'
  | 'EXPR_TOO_LONG'
  | 'EXPR_UNKNOWN_FUNCTION'
  | 'EXPR_UNKNOWN_CONSTANT'
  | 'EXPR_ARITY'
  | 'EXPR_TYPE'
  | 'EXPR_PLACEMENT'
  | 'EXPR_REGEX'
  | 'EXPR_RUNTIME';

export interface ExpressionErrorDetails {
  /** The function whose evaluation failed (runtime errors), in its canonical spelling. */
  functionName?: string;
  /** Attributes feeding the failing argument, such as `userPrincipalName`. */
  attributes?: readonly string[];
}

export class ExpressionError extends EntraSyncError {
  override readonly code: ExpressionErrorCode;
  readonly functionName: string | undefined;
  readonly attributes: readonly string[];

  constructor(code: ExpressionErrorCode, message: string, where: ErrorLocation, details: ExpressionErrorDetails = {}, options?: { cause?: unknown }) {
    super(code, message, where, options);
    this.name = 'ExpressionError';
    this.code = code;
    this.functionName = details.functionName;
    this.attributes = details.attributes ?? [];
  }
}

/** 1-based line and column of a UTF-16 offset in `source`. */
export function lineColumn(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source.charCodeAt(i) === 10) { line++; lineStart = i + 1; }
  }
  return { line, column: offset - lineStart + 1 };
}

/** The offending line of the expression with a caret under `offset`, indented for a terminal. */
export function caretExcerpt(source: string, offset: number): string {
  const { line, column } = lineColumn(source, offset);
  const text = source.split('\n')[line - 1] ?? '';
  const shown = text.replace(/\r$/, '').replace(/\t/g, ' ');
  return `    ${shown}\n    ${' '.repeat(Math.max(0, column - 1))}^`;
}

/** A syntax or compile-time error at `offset`: the message names line and column and shows the caret. */
export function positionedError(code: ExpressionErrorCode, problem: string, source: string, offset: number, details: ExpressionErrorDetails = {}): ExpressionError {
  const { line, column } = lineColumn(source, offset);
  return new ExpressionError(code, `${problem} at line ${line}, column ${column}:\n${caretExcerpt(source, offset)}`, { line, column }, details);
}
