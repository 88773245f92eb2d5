// Typing and comparing attribute values. A mapping's result is converted to its target type once (so the
// connector sends `true`, not `"True"`), and the planner compares values after the same conversion so an
// unchanged object yields no operation whatever spelling the target or an expression used.
import { createHash } from 'node:crypto';

export const TARGET_TYPES = ['String', 'Boolean', 'Integer', 'DateTime', 'Reference'] as const;
export type TargetType = (typeof TARGET_TYPES)[number];

/** A value that cannot become its target type; the mapping layer turns it into a skip reason. */
export class ValueConversionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValueConversionError';
  }
}

/** Entra's null model: absent, null, `""` and an empty multi-valued attribute are all "no value". */
export function isNullOrEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);
}

/**
 * A source attribute by the name a mapping or filter uses. `objectId` is handled by the caller (it is the
 * record id). Names Entra shows flat but Graph nests (`extensionAttribute1`…`15` under
 * `onPremisesExtensionAttributes`) and dotted paths are looked up inside the object.
 */
export function readSourceAttribute(attributes: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(attributes, name)) return attributes[name];
  if (/^extensionAttribute([1-9]|1[0-5])$/.test(name)) {
    const ext = attributes.onPremisesExtensionAttributes;
    if (ext && typeof ext === 'object') return (ext as Record<string, unknown>)[name];
    return undefined;
  }
  if (name.includes('.')) {
    let current: unknown = attributes;
    for (const part of name.split('.')) {
      if (!current || typeof current !== 'object' || Array.isArray(current)) return undefined;
      current = (current as Record<string, unknown>)[part];
    }
    return current;
  }
  return undefined;
}

const INTEGER = /^[+-]?\d+$/;
// Entra renders DateTime values as `M/d/yyyy h:mm:ss tt` in UTC (FormatDateTime, Now, CDate).
const ENTRA_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}):(\d{2}) (AM|PM)$/i;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

function toIsoString(date: Date): string {
  // Drop zero milliseconds so Graph's `2024-05-01T08:00:00Z` and our rendering compare equal.
  return date.toISOString().replace('.000Z', 'Z');
}

/** The expression engine's DateTime value (epoch milliseconds), or a JS Date, as a Date. */
function asDate(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (value && typeof value === 'object' && typeof (value as { epochMs?: unknown }).epochMs === 'number') {
    return new Date((value as { epochMs: number }).epochMs);
  }
  return undefined;
}

function convertScalar(value: unknown, type: TargetType): unknown {
  if (isNullOrEmpty(value)) return null;
  const date = asDate(value);
  if (date) {
    if (type === 'DateTime') return toIsoString(date);
    // Elsewhere a DateTime reads as text the way Entra renders it.
    if (type === 'String') return String(value instanceof Date ? toIsoString(date) : value);
  }
  switch (type) {
    case 'String':
      if (typeof value === 'string') return value;
      if (typeof value === 'boolean') return value ? 'True' : 'False';
      if (typeof value === 'number' || typeof value === 'bigint') return String(value);
      throw new ValueConversionError(`cannot use ${describeValue(value)} as a String`);
    case 'Boolean': {
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string') {
        const t = value.trim().toLowerCase();
        if (t === 'true') return true;
        if (t === 'false') return false;
      }
      if (value === 1 || value === 0) return value === 1;
      throw new ValueConversionError(`expected a Boolean ("True" or "False"), got ${describeValue(value)}`);
    }
    case 'Integer': {
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
      if (typeof value === 'string' && INTEGER.test(value.trim())) {
        const n = Number(value.trim());
        // Int64 values beyond 2^53 stay exact as decimal strings.
        return Number.isSafeInteger(n) ? n : BigInt(value.trim()).toString();
      }
      throw new ValueConversionError(`expected an Integer, got ${describeValue(value)}`);
    }
    case 'DateTime': {
      if (typeof value === 'string') {
        const t = value.trim();
        const m = ENTRA_DATE.exec(t);
        if (m) {
          let hour = Number(m[4]) % 12;
          if (m[7]!.toUpperCase() === 'PM') hour += 12;
          const date = new Date(Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]), hour, Number(m[5]), Number(m[6])));
          if (!Number.isNaN(date.getTime())) return toIsoString(date);
        }
        if (ISO_DATE.test(t)) {
          const date = new Date(/[T ]\d{2}:\d{2}/.test(t) && !/(Z|[+-]\d{2}:?\d{2})$/.test(t) ? `${t}Z` : t);
          if (!Number.isNaN(date.getTime())) return toIsoString(date);
        }
      }
      throw new ValueConversionError(`expected a DateTime, got ${describeValue(value)}`);
    }
    case 'Reference': {
      if (typeof value === 'string') return value;
      // Graph's manager shape: { id } (or [{ id }] from manager@delta).
      const first = Array.isArray(value) ? value[0] : value;
      if (first && typeof first === 'object' && typeof (first as { id?: unknown }).id === 'string') {
        return (first as { id: string }).id;
      }
      throw new ValueConversionError(`expected a reference (an object id), got ${describeValue(value)}`);
    }
  }
}

/**
 * Convert a mapped value to its target type. null/empty becomes null; a multi-valued value stays an
 * array of converted elements (empty elements dropped). Throws ValueConversionError.
 */
export function convertValue(value: unknown, type: TargetType): unknown {
  if (Array.isArray(value) && type !== 'Reference') {
    const items = value.filter((v) => !isNullOrEmpty(v)).map((v) => convertScalar(v, type));
    return items.length === 0 ? null : items;
  }
  return convertScalar(value, type);
}

/** A value as a comparable, type-normalized form: converted when it can be, raw otherwise. */
function normalizeForCompare(value: unknown, type: TargetType | undefined): unknown {
  if (isNullOrEmpty(value)) return null;
  if (!type) return value;
  try {
    return convertValue(value, type);
  } catch {
    return value;
  }
}

/** Whether two values mean the same to the target: exact after conversion to the target type. */
export function valuesEqual(a: unknown, b: unknown, type?: TargetType): boolean {
  const left = normalizeForCompare(a, type);
  const right = normalizeForCompare(b, type);
  if (left === right) return true;
  if (left === null || right === null) return false;
  return stableStringify(left) === stableStringify(right);
}

/** JSON with object keys sorted, so equal objects always serialize the same. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

/** A stable hash of a set of target attributes (Link.hash). */
export function attributesHash(attributes: Record<string, unknown>): string {
  return createHash('sha256').update(stableStringify(attributes)).digest('hex').slice(0, 32);
}

/** A short description of a value for error messages (type and a truncated rendering). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
