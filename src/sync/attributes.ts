// Comparing and folding target attribute values: what differs between the target and what we want, and what
// a link holds once changes are written. Redaction markers (hashes stored instead of Redact()ed values)
// compare equal to the value they were made from.
import type { Link } from '../engine/types.js';
import { isRedactedMarker, markerMatches } from '../engine/redaction.js';
import type { AttributeChange, TargetAttributes } from '../targets/connector.js';

/**
 * Attributes in `desired` whose value on the target differs (deep, key-order-insensitive). A redaction
 * marker in `desired` (what we stored instead of a redacted value) equals the target value it was made
 * from; give `sourceId`, the marker's salt, for that.
 */
export function diffAttributes(current: TargetAttributes, desired: TargetAttributes, sourceId?: string): AttributeChange[] {
  const changes: AttributeChange[] = [];
  for (const [path, after] of Object.entries(desired)) {
    const before = current[path];
    if (isRedactedMarker(after) ? sourceId !== undefined && markerMatches(after, sourceId, path, before) : sameValue(before, after)) continue;
    changes.push({ path, before: before ?? null, after });
  }
  return changes;
}

export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** What we last wrote, once `changes` are written too (a null or undefined `after` removes the value). */
export function applyChanges(written: TargetAttributes, changes: readonly AttributeChange[]): TargetAttributes {
  const next = { ...written };
  for (const c of changes) {
    if (c.after === null || c.after === undefined) delete next[c.path];
    else next[c.path] = c.after;
  }
  return next;
}

/** A link's status from the attributes written: `active: false` is a disabled object. */
export function statusOf(attributes: TargetAttributes): Link['status'] {
  return attributes.active === false ? 'disabled' : 'active';
}
