// Values that went through Redact() are stored (journal, saved plans, links) only as salted-hash markers. To
// send one again — a saved plan applied, a drifted object repaired — it is mapped again from the source;
// when that is no longer possible the caller is told why (docs/engine.md, "Redacted values").
import type { DesiredObject, Link, PlannedOperation } from '../engine/types.js';
import { isRedactedMarker, redactedPathsOf } from '../engine/redaction.js';
import { isNullOrEmpty } from '../engine/values.js';
import type { ObjectType, TargetAttributes } from '../targets/connector.js';

/** An object's desired state mapped again from the source now; null without a source. */
export type MapAgain = (type: ObjectType, sourceId: string) => DesiredObject | null;

/**
 * A stored operation with its redacted values (sealed as hashes) mapped again from the source, ready to
 * send; a reason text when they cannot be (no source, the object or the value is gone).
 */
export function unseal(op: PlannedOperation, mapAgain: MapAgain): PlannedOperation | string {
  if (op.kind !== 'create' && op.kind !== 'update') return op;
  const paths = redactedPathsOf(op);
  if (paths.size === 0) return op;
  const desired = mapAgain(op.type, op.sourceId);
  const clear = (path: string, value: unknown): unknown => {
    if (!isRedactedMarker(value)) return value;
    const fresh = desired?.attributes[path];
    if (isNullOrEmpty(fresh)) throw new Error(`the redacted value of ${path} for ${op.type} ${op.sourceId} can no longer be mapped from the source`);
    return fresh;
  };
  const unsealAll = (attributes: TargetAttributes) => Object.fromEntries(Object.entries(attributes).map(([p, v]) => [p, clear(p, v)]));
  try {
    if (op.kind === 'create') return { ...op, attributes: unsealAll(op.attributes), match: op.match.map((m) => ({ path: m.path, value: clear(m.path, m.value) as string })) };
    return { ...op, changes: op.changes.map((c) => ({ path: c.path, before: c.before, after: clear(c.path, c.after) })), desired: unsealAll(op.desired) };
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * What we last wrote to `link`, with the redacted values (stored as hashes) mapped again from the source
 * so they can be sent; `dropped` lists the redacted paths that cannot be (no source, or no value now).
 */
export function clearWritten(type: ObjectType, link: Link, mapAgain: MapAgain): { attributes: TargetAttributes; dropped: string[]; redacted: string[] } {
  const redacted = Object.keys(link.written).filter((p) => isRedactedMarker(link.written[p]));
  if (redacted.length === 0) return { attributes: link.written, dropped: [], redacted };
  const desired = mapAgain(type, link.sourceId);
  const attributes: TargetAttributes = {};
  const dropped: string[] = [];
  for (const [path, value] of Object.entries(link.written)) {
    if (!isRedactedMarker(value)) { attributes[path] = value; continue; }
    const fresh = desired?.attributes[path];
    if (isNullOrEmpty(fresh)) dropped.push(path);
    else attributes[path] = fresh;
  }
  return { attributes, dropped, redacted };
}
