// The runtime value model. Absent attribute = null, "" = empty, multi-valued = array. Booleans read as
// "True"/"False" wherever a value is used as text (as Entra's engine does); DateTime is a value of its
// own that reads as `M/d/yyyy h:mm:ss tt` in UTC; NumFromDate's Int64 is a string of digits.

/** A point in time with .NET's 100-ns resolution: milliseconds since 1970 plus 0..9999 ticks. */
export class DateTimeValue {
  constructor(readonly epochMs: number, readonly subMsTicks = 0) {}

  toString(): string {
    return formatGeneralDateTime(this);
  }
}

/** Result of IgnoreFlowIfNullOrEmpty / IgnoreAttributeFlow / IgnoreObjectFlow: a decision, not a value. */
export class FlowSentinel {
  private constructor(readonly flow: 'ignoreAttribute' | 'ignoreObject') {}
  static readonly ignoreAttribute = new FlowSentinel('ignoreAttribute');
  static readonly ignoreObject = new FlowSentinel('ignoreObject');
}

export type Scalar = string | number | boolean | DateTimeValue;
/** Objects come from the attribute bag (manager references, app role assignments) and pass through. */
export type Value = Scalar | null | readonly Value[] | FlowSentinel | { readonly [key: string]: unknown };

export function isArray(v: unknown): v is readonly Value[] {
  return Array.isArray(v);
}

/** en-US general ("G") format in UTC, as Entra renders DateTime: `7/2/2021 3:33:38 PM`. */
export function formatGeneralDateTime(d: DateTimeValue): string {
  const date = new Date(d.epochMs);
  const h24 = date.getUTCHours();
  const h12 = h24 % 12 === 0 ? 12 : h24 % 12;
  return `${date.getUTCMonth() + 1}/${date.getUTCDate()}/${date.getUTCFullYear()} ${h12}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())} ${h24 < 12 ? 'AM' : 'PM'}`;
}

export function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Canonical text of a number: integers without exponent, others as JavaScript prints them. */
export function numberToText(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return n.toFixed(0);
  return String(n);
}

/** Why a value cannot be read as text; the caller turns it into an ExpressionError with context. */
export class CoercionProblem {
  constructor(readonly message: string) {}
}

/**
 * A single value as text, or null when absent. Arrays with one element read as that element; an empty
 * array reads as null. Longer arrays and objects cannot be read as one text value.
 */
export function toText(v: Value | undefined): string | null | CoercionProblem {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return numberToText(v);
  if (v instanceof DateTimeValue) return formatGeneralDateTime(v);
  if (typeof v === 'bigint') return (v as bigint).toString();
  if (isArray(v)) {
    if (v.length === 0) return null;
    if (v.length === 1) return toText(v[0]);
    return new CoercionProblem(`a multi-valued value (${v.length} values) was given where a single value is expected; use Item() or Join() first`);
  }
  if (v instanceof FlowSentinel) return new CoercionProblem('a flow decision cannot be used as a value');
  return new CoercionProblem('an object value was given where text is expected');
}

/** A number from a number, a numeric string or a hex literal's value; undefined when it is not one. */
export function toNumber(v: Value): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string') {
    const t = v.trim();
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) {
      if (/^&[hH][0-9a-fA-F]{1,16}$/.test(t)) return Number.parseInt(t.slice(2), 16);
      return undefined;
    }
    return Number(t);
  }
  if (typeof v === 'boolean') return v ? -1 : 0; // VB: CInt(True) = -1
  if (isArray(v) && v.length === 1) return toNumber(v[0] as Value);
  return undefined;
}

/**
 * VB CBool: True for boolean true, the text "True" (any case) and any non-zero number; False for
 * everything else, including null and "" (our choice for IIF over null; see docs/expressions.md).
 */
export function toBoolean(v: Value): boolean {
  if (typeof v === 'boolean') return v;
  if (v === null) return false;
  if (typeof v === 'string') {
    if (v.length === 4 || v.length === 5) {
      const lower = v.toLowerCase();
      if (lower === 'true') return true;
      if (lower === 'false') return false;
    }
    const n = toNumber(v);
    return n !== undefined && n !== 0;
  }
  if (typeof v === 'number') return v !== 0;
  if (isArray(v)) return v.length === 1 ? toBoolean(v[0] as Value) : false;
  return false;
}

/** True for null, "" and an empty array: what IsNullOrEmpty, Join and IgnoreFlowIfNullOrEmpty treat as missing. */
export function isNullOrEmpty(v: Value): boolean {
  return v === null || v === '' || (isArray(v) && v.length === 0);
}

/** What the caller receives: DateTime rendered as Entra renders it, everything else as is. */
export function toResultValue(v: Value): unknown {
  if (v instanceof DateTimeValue) return formatGeneralDateTime(v);
  if (isArray(v)) return v.some((x) => x instanceof DateTimeValue || isArray(x)) ? v.map(toResultValue) : v;
  return v;
}
