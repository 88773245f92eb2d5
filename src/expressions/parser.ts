// Lexer and recursive-descent parser for Entra's expression language (a VBA-like language made of
// function calls). Grammar, as reconstructed from Microsoft's examples:
//   expression = operand [ relop operand ]
//   operand    = call | "[" attribute "]" | string | number | "&H" hex | identifier
//   call       = name ws* "(" [ arg { "," arg } ] ")"      arg may be empty
import type { ComparisonOperator, ExpressionNode } from './ast.js';
import { ExpressionError, positionedError } from './errors.js';

/** Entra rejects longer expressions; so do we, before doing any work on them. */
export const MAX_EXPRESSION_LENGTH = 10_000;

const enum Ch {
  Tab = 9, Lf = 10, Cr = 13, Space = 32, Quote = 34, Percent = 37, Amp = 38, Apos = 39,
  LParen = 40, RParen = 41, Comma = 44, Minus = 45, Dot = 46, Zero = 48, Nine = 57,
  Lt = 60, Eq = 61, Gt = 62, LBracket = 91, Backslash = 92, RBracket = 93, Underscore = 95,
}

function isDigit(c: number): boolean { return c >= Ch.Zero && c <= Ch.Nine; }
function isLetter(c: number): boolean { return (c >= 65 && c <= 90) || (c >= 97 && c <= 122); }
function isHexDigit(c: number): boolean { return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102); }
function isSpace(c: number): boolean { return c === Ch.Space || c === Ch.Tab || c === Ch.Lf || c === Ch.Cr; }

class Parser {
  private pos = 0;
  constructor(private readonly src: string) {}

  parse(): ExpressionNode {
    this.skipSpace();
    if (this.pos >= this.src.length) throw this.error('the expression is empty', 0);
    const node = this.expression();
    this.skipSpace();
    if (this.pos < this.src.length) {
      const c = this.src.charCodeAt(this.pos);
      if (c === Ch.Comma) throw this.error('unexpected "," outside a function call', this.pos);
      if (c === Ch.RParen) throw this.error('unexpected ")" with no matching "("', this.pos);
      throw this.error(`unexpected ${describe(this.src, this.pos)} after the end of the expression${operatorHint(c)}`, this.pos);
    }
    return node;
  }

  private error(problem: string, offset: number): ExpressionError {
    return positionedError('EXPR_SYNTAX', problem, this.src, offset);
  }

  private skipSpace(): void {
    while (this.pos < this.src.length && isSpace(this.src.charCodeAt(this.pos))) this.pos++;
  }

  private expression(): ExpressionNode {
    const left = this.operand();
    this.skipSpace();
    const operator = this.relop();
    if (!operator) return left;
    this.skipSpace();
    if (this.atArgumentEnd()) throw this.error(`the comparison "${operator}" has nothing on its right`, this.pos);
    const right = this.operand();
    this.skipSpace();
    if (this.relopAhead()) throw this.error('comparisons cannot be chained; nest IIF calls instead', this.pos);
    return { kind: 'comparison', operator, left, right, start: left.start, end: right.end };
  }

  private relopAhead(): boolean {
    const c = this.src.charCodeAt(this.pos);
    return c === Ch.Eq || c === Ch.Lt || c === Ch.Gt;
  }

  private relop(): ComparisonOperator | undefined {
    const c = this.src.charCodeAt(this.pos);
    const n = this.src.charCodeAt(this.pos + 1);
    if (c === Ch.Eq) { this.pos++; return '='; }
    if (c === Ch.Lt) {
      if (n === Ch.Gt) { this.pos += 2; return '<>'; }
      if (n === Ch.Eq) { this.pos += 2; return '<='; }
      this.pos++; return '<';
    }
    if (c === Ch.Gt) {
      if (n === Ch.Eq) { this.pos += 2; return '>='; }
      this.pos++; return '>';
    }
    return undefined;
  }

  private atArgumentEnd(): boolean {
    if (this.pos >= this.src.length) return true;
    const c = this.src.charCodeAt(this.pos);
    return c === Ch.Comma || c === Ch.RParen;
  }

  private operand(): ExpressionNode {
    const start = this.pos;
    if (start >= this.src.length) throw this.error('the expression ends where a value was expected', start);
    const c = this.src.charCodeAt(start);
    if (c === Ch.LBracket) return this.attribute();
    if (c === Ch.Quote) return this.string();
    if (isDigit(c) || (c === Ch.Minus && isDigit(this.src.charCodeAt(start + 1)))) return this.number();
    if (c === Ch.Amp) return this.hex();
    if (isLetter(c)) return this.name();
    if (c === Ch.Apos) throw this.error('single-quoted strings are not part of the language; use double quotes', start);
    if (c === Ch.Percent) throw this.error('placeholders such as %DomainFQDN% are not supported; write the value as a string or use DefaultDomain()', start);
    if (c === Ch.RBracket) throw this.error('"]" without a matching "["', start);
    throw this.error(`unexpected ${describe(this.src, start)} where a value was expected`, start);
  }

  private attribute(): ExpressionNode {
    const start = this.pos;
    const close = this.src.indexOf(']', start + 1);
    if (close === -1) throw this.error('the attribute name is not closed with "]"', start);
    const name = this.src.slice(start + 1, close);
    if (name.trim() === '') throw this.error('the attribute name between "[" and "]" is empty', start);
    this.pos = close + 1;
    return { kind: 'attribute', name, start, end: this.pos };
  }

  private string(): ExpressionNode {
    const start = this.pos;
    let value = '';
    let i = start + 1;
    let chunk = i;
    while (i < this.src.length) {
      const c = this.src.charCodeAt(i);
      if (c === Ch.Quote) {
        value += this.src.slice(chunk, i);
        this.pos = i + 1;
        return { kind: 'string', value, start, end: this.pos };
      }
      if (c === Ch.Backslash) {
        const next = this.src.charCodeAt(i + 1);
        if (next === Ch.Quote || next === Ch.Backslash) {
          value += this.src.slice(chunk, i) + this.src[i + 1];
          i += 2;
          chunk = i;
          continue;
        }
        // An unknown escape such as \+ or \d stays as written: Microsoft's regex examples rely on it.
        i += i + 1 < this.src.length ? 2 : 1;
        continue;
      }
      i++;
    }
    throw this.error('the string is not closed with a double quote', start);
  }

  private number(): ExpressionNode {
    const start = this.pos;
    let i = start;
    if (this.src.charCodeAt(i) === Ch.Minus) i++;
    while (isDigit(this.src.charCodeAt(i))) i++;
    if (this.src.charCodeAt(i) === Ch.Dot) {
      if (!isDigit(this.src.charCodeAt(i + 1))) throw this.error('a decimal point must be followed by digits', i);
      i++;
      while (isDigit(this.src.charCodeAt(i))) i++;
    }
    const after = this.src.charCodeAt(i);
    if (isLetter(after) || after === Ch.Underscore) throw this.error(`unexpected ${describe(this.src, i)} in a number`, i);
    this.pos = i;
    return { kind: 'number', text: this.src.slice(start, i), start, end: i };
  }

  private hex(): ExpressionNode {
    const start = this.pos;
    const h = this.src.charCodeAt(start + 1);
    if (h !== 72 && h !== 104) {
      throw this.error('"&" is not an operator here; join text with Append or Join, or write a hex number as &HFF', start);
    }
    let i = start + 2;
    while (isHexDigit(this.src.charCodeAt(i))) i++;
    if (i === start + 2) throw this.error('a hex number needs digits after "&H"', start);
    if (i - start - 2 > 16) throw this.error('the hex number is longer than 64 bits', start);
    const text = this.src.slice(start, i);
    this.pos = i;
    return { kind: 'hex', text, value: Number.parseInt(text.slice(2), 16), start, end: i };
  }

  private name(): ExpressionNode {
    const start = this.pos;
    let i = start;
    while (i < this.src.length) {
      const c = this.src.charCodeAt(i);
      if (isLetter(c) || isDigit(c) || c === Ch.Underscore) i++;
      else break;
    }
    const name = this.src.slice(start, i);
    this.pos = i;
    this.skipSpace();
    if (this.src.charCodeAt(this.pos) !== Ch.LParen) {
      this.pos = i;
      return { kind: 'identifier', name, start, end: i };
    }
    const open = this.pos;
    this.pos++;
    const args: ExpressionNode[] = [];
    this.skipSpace();
    if (this.src.charCodeAt(this.pos) === Ch.RParen) {
      this.pos++;
      return { kind: 'call', name, args, start, end: this.pos };
    }
    while (true) {
      this.skipSpace();
      if (this.pos >= this.src.length) throw this.error(`the call to ${name} is not closed with ")"`, open);
      const c = this.src.charCodeAt(this.pos);
      if (c === Ch.Comma || c === Ch.RParen) {
        args.push({ kind: 'empty', start: this.pos, end: this.pos });
      } else {
        args.push(this.expression());
        this.skipSpace();
      }
      if (this.pos >= this.src.length) throw this.error(`the call to ${name} is not closed with ")"`, open);
      const sep = this.src.charCodeAt(this.pos);
      if (sep === Ch.Comma) { this.pos++; continue; }
      if (sep === Ch.RParen) { this.pos++; break; }
      throw this.error(`expected "," or ")" in the call to ${name} but found ${describe(this.src, this.pos)}${operatorHint(sep)}`, this.pos);
    }
    return { kind: 'call', name, args, start, end: this.pos };
  }
}

/** The language has no operators besides comparisons; say what to write instead. */
function operatorHint(c: number): string {
  if (c === Ch.Amp || c === 43 /* + */) return '; there is no concatenation operator: use Append or Join';
  if (c === Ch.Minus || c === 42 /* * */ || c === 47 /* / */) return '; there are no arithmetic operators';
  return '';
}

function describe(src: string, offset: number): string {
  const ch = src[offset];
  if (ch === undefined) return 'the end of the expression';
  return JSON.stringify(ch);
}

/** Parse an expression into a tree with source positions. Throws ExpressionError. */
export function parseExpression(source: string): ExpressionNode {
  if (typeof source !== 'string') {
    throw new ExpressionError('EXPR_SYNTAX', 'an expression must be a string', {});
  }
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionError(
      'EXPR_TOO_LONG',
      `the expression is ${source.length} characters long; Entra allows at most ${MAX_EXPRESSION_LENGTH}`,
      { line: 1, column: MAX_EXPRESSION_LENGTH + 1 },
    );
  }
  return new Parser(source).parse();
}
