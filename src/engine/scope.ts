// Entra's attribute scoping filters, evaluated over one source object's attributes.
// A filter is a list of clauses that must all hold (AND); several filters are alternatives (OR); no filters
// means everything is in scope. Semantics follow Microsoft's scoping-filter documentation:
// string comparisons are case-sensitive, the GREATER/LESS operators compare integers only, a null or empty
// attribute makes every clause false except IS NULL, and multi-valued attributes cannot be filtered.
import { compileDotNetRegex, RegexProblem } from '../expressions/regex.js';
import { isNullOrEmpty, readSourceAttribute } from './values.js';

export const SCOPING_OPERATORS = [
  'EQUALS',
  'NOT EQUALS',
  'IS TRUE',
  'IS FALSE',
  'IS NULL',
  'IS NOT NULL',
  'REGEX MATCH',
  'NOT REGEX MATCH',
  'GREATER_THAN',
  'GREATER_THAN_OR_EQUALS',
  'LESS_THAN',
  'LESS_THAN_OR_EQUALS',
  'INCLUDES',
  'ENDS_WITH',
  'STARTS_WITH',
  '&',
  '!&',
] as const;

export type ScopingOperator = (typeof SCOPING_OPERATORS)[number];

/** Operators that take no value. */
export const UNARY_OPERATORS: ReadonlySet<ScopingOperator> = new Set(['IS TRUE', 'IS FALSE', 'IS NULL', 'IS NOT NULL']);
/** Operators whose value must be an integer. */
export const INTEGER_OPERATORS: ReadonlySet<ScopingOperator> = new Set([
  'GREATER_THAN',
  'GREATER_THAN_OR_EQUALS',
  'LESS_THAN',
  'LESS_THAN_OR_EQUALS',
]);

export interface ScopingClause {
  /** Source attribute name, as in a direct mapping (e.g. `department`, `extension_<appId>_costCenter`). */
  attribute: string;
  operator: ScopingOperator;
  /** The comparison value; absent for the unary operators. */
  value?: string;
}

export interface ScopingFilter {
  /** A title for logs and provision-on-demand output. */
  title?: string;
  clauses: ScopingClause[];
}

/**
 * Maps the spellings people use (the portal's `Greater_Than`, Graph's `NOT EQUALS`, `not_equals`, `contains`…)
 * to one canonical operator, or undefined when it is not an operator.
 */
export function normalizeScopingOperator(text: string): ScopingOperator | undefined {
  const t = text.trim();
  if (t === '&' || t === '!&') return t;
  const key = t.toUpperCase().replace(/[\s_]+/g, '_');
  return OPERATOR_ALIASES.get(key);
}

const OPERATOR_ALIASES = new Map<string, ScopingOperator>(
  SCOPING_OPERATORS.filter((op) => op !== '&' && op !== '!&').map((op) => [op.replace(/[\s_]+/g, '_'), op]),
);
OPERATOR_ALIASES.set('CONTAINS', 'INCLUDES');

const regexCache = new Map<string, RegExp>();

/**
 * A .NET pattern as a JavaScript RegExp, translated by the expression language's .NET regex support (the
 * same dialect as Replace): named groups, a leading `(?i)`, `\A`/`\z` carry over. Unanchored, like .NET's
 * Regex.IsMatch. Throws an Error naming the problem when the pattern cannot be used.
 */
export function scopingRegex(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    const translated = compileDotNetRegex(pattern);
    if (translated instanceof RegexProblem) throw new Error(translated.message);
    // The translation is global (for Replace); a test must not carry lastIndex between calls.
    re = new RegExp(translated.regex.source, translated.regex.flags.replace(/[gdy]/g, ''));
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

const INTEGER = /^[+-]?\d+$/;

function asInteger(value: unknown): bigint | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : undefined;
  if (typeof value === 'bigint') return value;
  if (typeof value === 'string' && INTEGER.test(value.trim())) return BigInt(value.trim());
  return undefined;
}

function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  // Entra renders booleans as True/False; EQUALS True must match a boolean attribute.
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return undefined;
}

function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const t = value.trim().toLowerCase();
    if (t === 'true') return true;
    if (t === 'false') return false;
  }
  return undefined;
}

/** One clause against one attribute bag. */
export function matchesClause(clause: ScopingClause, attributes: Record<string, unknown>): boolean {
  const value = readSourceAttribute(attributes, clause.attribute);
  const empty = isNullOrEmpty(value);
  if (clause.operator === 'IS NULL') return empty;
  if (clause.operator === 'IS NOT NULL') return !empty;
  // Documented: every other operator is false on a null or empty value (NOT EQUALS and NOT REGEX MATCH too).
  if (empty) return false;
  // Documented: multi-valued attributes cannot be filtered; a clause over one never matches.
  if (Array.isArray(value)) return false;
  const operand = clause.value ?? '';
  switch (clause.operator) {
    case 'IS TRUE':
      return asBoolean(value) === true;
    case 'IS FALSE':
      return asBoolean(value) === false;
    case 'EQUALS':
    case 'NOT EQUALS': {
      const text = asText(value);
      if (text === undefined) return false;
      // Booleans compare by meaning, so `accountEnabled EQUALS true` works whatever the spelling.
      const equal =
        typeof value === 'boolean' ? asBoolean(operand) === value : text === operand;
      return clause.operator === 'EQUALS' ? equal : !equal;
    }
    case 'REGEX MATCH':
    case 'NOT REGEX MATCH': {
      const text = asText(value);
      if (text === undefined) return false;
      const match = scopingRegex(operand).test(text);
      return clause.operator === 'REGEX MATCH' ? match : !match;
    }
    case 'GREATER_THAN':
    case 'GREATER_THAN_OR_EQUALS':
    case 'LESS_THAN':
    case 'LESS_THAN_OR_EQUALS': {
      const left = asInteger(value);
      const right = asInteger(operand);
      if (left === undefined || right === undefined) return false;
      if (clause.operator === 'GREATER_THAN') return left > right;
      if (clause.operator === 'GREATER_THAN_OR_EQUALS') return left >= right;
      if (clause.operator === 'LESS_THAN') return left < right;
      return left <= right;
    }
    case 'INCLUDES': {
      const text = asText(value);
      return text !== undefined && text.includes(operand);
    }
    case 'STARTS_WITH': {
      const text = asText(value);
      return text !== undefined && text.startsWith(operand);
    }
    case 'ENDS_WITH': {
      const text = asText(value);
      return text !== undefined && text.endsWith(operand);
    }
    case '&':
    case '!&': {
      // Documented as "the evaluated attribute exists in the input string value": the attribute's value is
      // a substring of the clause's value.
      const text = asText(value);
      if (text === undefined) return false;
      const inside = operand.includes(text);
      return clause.operator === '&' ? inside : !inside;
    }
  }
}

/** Clauses ANDed within a filter, filters ORed; no filters means in scope. */
export function matchesScopingFilters(filters: ScopingFilter[], attributes: Record<string, unknown>): boolean {
  if (filters.length === 0) return true;
  return filters.some((filter) => filter.clauses.every((clause) => matchesClause(clause, attributes)));
}

/** A clause as provision-on-demand shows it: `{attribute} {operator} {value}`. */
export function describeScopingClause(clause: ScopingClause): string {
  return UNARY_OPERATORS.has(clause.operator)
    ? `${clause.attribute} ${clause.operator}`
    : `${clause.attribute} ${clause.operator} ${clause.value ?? ''}`;
}
