// Values that went through the expression language's Redact() must reach the target and nothing else:
// no plan, diff, provisioning-log entry, event, error message or row of the state file may hold them.
// In memory an operation carries the clear value (apply must send it) and names the redacted paths; before
// anything is stored or shown, the value is replaced by a marker holding a salted hash, so the planner can
// still tell "changed" from "unchanged" by comparing hashes. Shown to a person, a marker reads `[redacted]`.
import { createHash } from 'node:crypto';
import type { AttributeChange, MatchCriterion, TargetAttributes } from '../targets/connector.js';
import type { PlannedOperation } from './types.js';
import { isNullOrEmpty, stableStringify } from './values.js';

/** What a person sees instead of a redacted value (plans, diffs, provisioning log, reconcile fixes). */
export const REDACTED = '[redacted]';

const MARKER = /^\[redacted sha256:[0-9a-f]{32}\]$/;

/** Whether a stored value is a redaction marker (the hash of a value we never store). */
export function isRedactedMarker(value: unknown): value is string {
  return typeof value === 'string' && MARKER.test(value);
}

function canonical(value: unknown): string {
  return typeof value === 'string' ? value : stableStringify(value);
}

/**
 * The marker stored for `value` at `path` of source object `sourceId`. Salted with the object and path so
 * equal values of different users do not share a hash. An unkeyed hash of a guessable value (a short
 * number) can still be guessed by trying candidates; it keeps the value out of sight, it is not encryption.
 */
export function redactedMarker(sourceId: string, path: string, value: unknown): string {
  const hash = createHash('sha256').update(`entra-sync redact\u0000${sourceId}\u0000${path}\u0000${canonical(value)}`).digest('hex').slice(0, 32);
  return `[redacted sha256:${hash}]`;
}

/** Whether a marker was made from `value` (so a target or source value equals what we wrote). */
export function markerMatches(marker: string, sourceId: string, path: string, value: unknown): boolean {
  return !isNullOrEmpty(value) && redactedMarker(sourceId, path, value) === marker;
}

/** Replaces the non-empty values at `paths` by their markers (markers and empty values are kept). */
export function sealAttributes(attributes: TargetAttributes, paths: ReadonlySet<string>, sourceId: string): TargetAttributes {
  if (paths.size === 0) return attributes;
  const out: TargetAttributes = { ...attributes };
  for (const path of paths) {
    const value = out[path];
    if (value !== undefined && !isNullOrEmpty(value) && !isRedactedMarker(value)) out[path] = redactedMarker(sourceId, path, value);
  }
  return out;
}

/** Paths an operation carries redacted values for. */
export function redactedPathsOf(op: PlannedOperation): ReadonlySet<string> {
  return new Set((op.kind === 'create' || op.kind === 'update') && op.redactedPaths ? op.redactedPaths : []);
}

/**
 * The operation as it may be stored (journal, saved plans, staging) or handed to event listeners: every
 * value at a redacted path replaced by its marker. Operations without redacted paths are returned as is.
 */
export function sealOperation<T extends PlannedOperation>(op: T): T {
  const paths = redactedPathsOf(op);
  if (paths.size === 0) return op;
  const seal = (path: string, value: unknown) => (paths.has(path) && !isNullOrEmpty(value) && !isRedactedMarker(value) ? redactedMarker(op.sourceId, path, value) : value);
  if (op.kind === 'create') {
    return {
      ...op,
      attributes: sealAttributes(op.attributes, paths, op.sourceId),
      match: op.match.map((m): MatchCriterion => (paths.has(m.path) ? { path: m.path, value: seal(m.path, m.value) as string } : m)),
    };
  }
  if (op.kind === 'update') {
    return {
      ...op,
      changes: op.changes.map((c): AttributeChange => ({ path: c.path, before: seal(c.path, c.before), after: seal(c.path, c.after) })),
      desired: sealAttributes(op.desired, paths, op.sourceId),
    };
  }
  return op;
}

/** How a value reads in a plan or a log: `[redacted]` for a redacted path or a stored marker. */
export function shownValue(path: string, value: unknown, redacted: ReadonlySet<string>): unknown {
  if (isRedactedMarker(value)) return REDACTED;
  if (redacted.has(path) && !isNullOrEmpty(value)) return REDACTED;
  return value;
}

/** Text (an error message from the target) with every clear redacted value of `op` cut out. */
export function scrubText(text: string, op: PlannedOperation): string {
  const paths = redactedPathsOf(op);
  if (paths.size === 0) return text;
  const values = new Set<string>();
  const add = (path: string, value: unknown) => {
    if (!paths.has(path) || isNullOrEmpty(value) || isRedactedMarker(value)) return;
    for (const v of Array.isArray(value) ? value : [value]) if (!isNullOrEmpty(v)) values.add(canonical(v));
  };
  if (op.kind === 'create') for (const [p, v] of Object.entries(op.attributes)) add(p, v);
  if (op.kind === 'update') {
    for (const c of op.changes) { add(c.path, c.before); add(c.path, c.after); }
    for (const [p, v] of Object.entries(op.desired)) add(p, v);
  }
  let out = text;
  // Longest first, so a value containing another is cut out whole.
  for (const v of [...values].sort((a, b) => b.length - a.length)) out = out.split(v).join(REDACTED);
  return out;
}

/** Attributes with every marker left out: for sending what we last wrote when the clear value is not at hand. */
export function withoutMarkers(attributes: TargetAttributes): { attributes: TargetAttributes; dropped: string[] } {
  const out: TargetAttributes = {};
  const dropped: string[] = [];
  for (const [path, value] of Object.entries(attributes)) {
    if (isRedactedMarker(value)) dropped.push(path);
    else out[path] = value;
  }
  return { attributes: out, dropped };
}
