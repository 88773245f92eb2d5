// SCIM filter expressions (RFC 7644 §3.4.2.2) and attribute paths: a real lexer and recursive-descent
// parser, so a client that escapes a quote or backslash wrongly gets the wrong answer, as it would from a
// strict server. Attribute names and operators are case-insensitive; string literals are JSON strings.

import { ScimError } from './errors.js';

export interface AttrPath {
  /** Schema URN prefix as written (core or extension), when the path had one. */
  urn?: string;
  attr: string;
  sub?: string;
}

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type Literal = string | number | boolean | null;

export type Filter =
  | { kind: 'compare'; path: AttrPath; op: CompareOp; value: Literal }
  | { kind: 'present'; path: AttrPath }
  | { kind: 'and' | 'or'; left: Filter; right: Filter }
  | { kind: 'not'; filter: Filter }
  /** `emails[type eq "work"]`: some value of the multi-valued attribute matches the inner filter. */
  | { kind: 'valuePath'; path: AttrPath; filter: Filter };

type Token =
  | { t: 'word'; v: string; pos: number }
  | { t: 'string'; v: string; pos: number }
  | { t: '(' | ')' | '[' | ']'; pos: number };

const COMPARE_OPS = new Set<string>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);

function invalid(detail: string): ScimError {
  return new ScimError(400, detail, 'invalidFilter');
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      tokens.push({ t: c, pos: i });
      i++;
    } else if (c === '"') {
      const start = i;
      i++;
      let closed = false;
      while (i < text.length) {
        const d = text[i]!;
        if (d === '\\') {
          i += 2;
        } else if (d === '"') {
          closed = true;
          i++;
          break;
        } else {
          i++;
        }
      }
      if (!closed) throw invalid(`unterminated string starting at column ${start + 1}`);
      const raw = text.slice(start, i);
      let v: unknown;
      try {
        v = JSON.parse(raw);
      } catch {
        throw invalid(`invalid escape in string starting at column ${start + 1}: ${raw}`);
      }
      tokens.push({ t: 'string', v: v as string, pos: start });
    } else {
      const start = i;
      while (i < text.length && !' \t\n\r()[]"'.includes(text[i]!)) i++;
      tokens.push({ t: 'word', v: text.slice(start, i), pos: start });
    }
  }
  return tokens;
}

/**
 * `userName`, `name.givenName`, `urn:…:enterprise:2.0:User:department`, `urn:…:User:manager.value`.
 * `knownUrns` lets `urn:…:2.0:User` (no attribute) and URNs containing dots be split correctly.
 */
export function parseAttrPath(text: string, knownUrns: readonly string[] = []): AttrPath {
  let urn: string | undefined;
  let rest = text;
  if (text.toLowerCase().startsWith('urn:')) {
    const lower = text.toLowerCase();
    const known = knownUrns.find((u) => lower.startsWith(u.toLowerCase() + ':'));
    if (known) {
      urn = text.slice(0, known.length);
      rest = text.slice(known.length + 1);
    } else {
      const cut = text.lastIndexOf(':');
      urn = text.slice(0, cut);
      rest = text.slice(cut + 1);
    }
  }
  const dot = rest.indexOf('.');
  const attr = dot < 0 ? rest : rest.slice(0, dot);
  const sub = dot < 0 ? undefined : rest.slice(dot + 1);
  const namePattern = /^\$?[A-Za-z][\w$-]*$/;
  if (!namePattern.test(attr) || (sub !== undefined && !namePattern.test(sub))) {
    throw invalid(`invalid attribute path "${text}"`);
  }
  const path: AttrPath = { attr };
  if (urn !== undefined) path.urn = urn;
  if (sub !== undefined) path.sub = sub;
  return path;
}

class Parser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly knownUrns: readonly string[],
  ) {}

  parse(): Filter {
    if (this.tokens.length === 0) throw invalid('empty filter');
    const f = this.parseOr();
    const extra = this.tokens[this.i];
    if (extra) throw invalid(`unexpected ${describe(extra)} at column ${extra.pos + 1}`);
    return f;
  }

  /** For `attr[ … ]` inside a PATCH path: parse up to the closing bracket. */
  parseUntilBracket(): Filter {
    const f = this.parseOr();
    const close = this.tokens[this.i];
    if (!close || close.t !== ']') throw invalid('expected "]"');
    this.i++;
    return f;
  }

  private peekWord(): string | undefined {
    const tok = this.tokens[this.i];
    return tok && tok.t === 'word' ? tok.v.toLowerCase() : undefined;
  }

  private parseOr(): Filter {
    let left = this.parseAnd();
    while (this.peekWord() === 'or') {
      this.i++;
      left = { kind: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): Filter {
    let left = this.parseUnary();
    while (this.peekWord() === 'and') {
      this.i++;
      left = { kind: 'and', left, right: this.parseUnary() };
    }
    return left;
  }

  private parseUnary(): Filter {
    const tok = this.tokens[this.i];
    if (!tok) throw invalid('filter ends where an expression was expected');
    if (tok.t === '(') {
      this.i++;
      const inner = this.parseOr();
      this.expect(')');
      return inner;
    }
    if (tok.t === 'word' && tok.v.toLowerCase() === 'not' && this.tokens[this.i + 1]?.t === '(') {
      this.i += 2;
      const inner = this.parseOr();
      this.expect(')');
      return { kind: 'not', filter: inner };
    }
    if (tok.t !== 'word') throw invalid(`expected an attribute at column ${tok.pos + 1}, found ${describe(tok)}`);
    this.i++;
    const path = parseAttrPath(tok.v, this.knownUrns);
    const next = this.tokens[this.i];
    if (next?.t === '[') {
      this.i++;
      if (path.sub !== undefined) throw invalid(`"${tok.v}[" : a value filter follows the attribute, not a sub-attribute`);
      const inner = this.parseOr();
      this.expect(']');
      return { kind: 'valuePath', path, filter: inner };
    }
    const opTok = this.tokens[this.i];
    if (!opTok || opTok.t !== 'word') throw invalid(`expected an operator after "${tok.v}"`);
    const op = opTok.v.toLowerCase();
    this.i++;
    if (op === 'pr') return { kind: 'present', path };
    if (!COMPARE_OPS.has(op)) throw invalid(`unknown operator "${opTok.v}" at column ${opTok.pos + 1}`);
    const valTok = this.tokens[this.i];
    if (!valTok) throw invalid(`expected a value after "${opTok.v}"`);
    this.i++;
    return { kind: 'compare', path, op: op as CompareOp, value: literal(valTok) };
  }

  private expect(t: ')' | ']'): void {
    const tok = this.tokens[this.i];
    if (!tok || tok.t !== t) throw invalid(`expected "${t}"${tok ? ` at column ${tok.pos + 1}` : ' at the end'}`);
    this.i++;
  }
}

function describe(tok: Token): string {
  return tok.t === 'word' ? `"${tok.v}"` : tok.t === 'string' ? `string ${JSON.stringify(tok.v)}` : `"${tok.t}"`;
}

function literal(tok: Token): Literal {
  if (tok.t === 'string') return tok.v;
  if (tok.t !== 'word') throw invalid(`expected a value at column ${tok.pos + 1}`);
  const lower = tok.v.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (lower === 'null') return null;
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(tok.v)) return Number(tok.v);
  // An unquoted word is the classic symptom of a client that forgot to quote (or mis-escaped) a value.
  throw invalid(`value ${tok.v} at column ${tok.pos + 1} is not a quoted string, number, boolean or null`);
}

export function parseFilter(text: string, knownUrns: readonly string[] = []): Filter {
  return new Parser(tokenize(text), knownUrns).parse();
}

/** A PATCH path (RFC 7644 §3.5.2): `attrPath` or `attrPath[valFilter]` optionally followed by `.subAttr`. */
export interface PatchPath {
  path: AttrPath;
  filter?: Filter;
}

export function parsePatchPath(text: string, knownUrns: readonly string[] = []): PatchPath {
  const trimmed = text.trim();
  const open = trimmed.indexOf('[');
  if (open < 0) {
    // A bare extension URN addresses the whole extension object.
    const known = knownUrns.find((u) => u.toLowerCase() === trimmed.toLowerCase());
    if (known) return { path: { urn: known, attr: '' } };
    return { path: parseAttrPathForPatch(trimmed, knownUrns) };
  }
  const base = parseAttrPathForPatch(trimmed.slice(0, open), knownUrns);
  if (base.sub !== undefined) throw new ScimError(400, `invalid path "${text}"`, 'invalidPath');
  const parser = new Parser(tokenize(trimmed.slice(open + 1)), knownUrns);
  let filter: Filter;
  try {
    filter = parser.parseUntilBracket();
  } catch (err) {
    if (err instanceof ScimError) throw new ScimError(400, `invalid path "${text}": ${err.message}`, 'invalidPath');
    throw err;
  }
  // Find where the closing bracket ended in the original text to read an optional `.sub`.
  const after = closingBracketEnd(trimmed, open);
  const tail = trimmed.slice(after);
  if (tail !== '') {
    if (!/^\.\$?[A-Za-z][\w$-]*$/.test(tail)) throw new ScimError(400, `invalid path "${text}"`, 'invalidPath');
    base.sub = tail.slice(1);
  }
  return { path: base, filter };
}

function parseAttrPathForPatch(text: string, knownUrns: readonly string[]): AttrPath {
  try {
    return parseAttrPath(text, knownUrns);
  } catch {
    throw new ScimError(400, `invalid path "${text}"`, 'invalidPath');
  }
}

function closingBracketEnd(text: string, open: number): number {
  let i = open + 1;
  let depth = 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    } else if (c === '[') {
      depth++;
    } else if (c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  throw new ScimError(400, `invalid path "${text}": missing "]"`, 'invalidPath');
}
