// The match index: one page-through of the target instead of one lookup per create, when a cycle creates
// many objects of a type on a target that can list (ApplyPolicy.matchIndexThreshold). Built at most once
// per cycle (ApplySession) and kept current as the cycle creates and deletes.
import type { PlannedOperation } from '../engine/types.js';
import type { MatchCriterion, ObjectType, TargetAttributes, TargetConnector, TargetObject } from '../targets/connector.js';

/**
 * A page-through of the target indexed by the values of the match paths (strings compared case-insensitively,
 * like SCIM userName). It lives for a whole cycle: what this cycle creates or deletes is noted, and a lookup
 * that lands on such an object answers 'unknown' so the caller asks the target (only its id is kept, to keep
 * the index small on an initial sync of a large tenant).
 */
export class MatchIndex {
  private readonly deletedIds = new Set<string>();
  /** 31-bit hashes of the match values this cycle created (small integers: no strings kept per created object). */
  private readonly createdHashes = new Map<string, Set<number>>();

  private constructor(private readonly byPath: Map<string, Map<string, TargetObject | 'ambiguous' | 'unknown'>>) {}

  static async build(connector: TargetConnector, type: ObjectType, ops: readonly PlannedOperation[]): Promise<MatchIndex> {
    const paths = new Set<string>();
    for (const op of ops) if (op.kind === 'create' && op.type === type) for (const m of op.match) paths.add(m.path);
    const byPath = new Map<string, Map<string, TargetObject | 'ambiguous' | 'unknown'>>([...paths].map((p) => [p, new Map()]));
    for await (const object of connector.list(type)) {
      for (const [path, values] of byPath) {
        const value = object.attributes[path];
        if (value === undefined || value === null) continue;
        const key = normalize(value as string | number | boolean);
        values.set(key, values.has(key) ? 'ambiguous' : { id: object.id, attributes: object.attributes });
      }
    }
    return new MatchIndex(byPath);
  }

  covers(path: string): boolean {
    return this.byPath.has(path);
  }

  lookup(criterion: MatchCriterion): TargetObject | null | 'ambiguous' | 'unknown' {
    const key = normalize(criterion.value);
    // Created this cycle (or a hash collision with such a key): ask the target.
    if (this.createdHashes.get(criterion.path)?.has(hashKey(key))) return 'unknown';
    const found = this.byPath.get(criterion.path)?.get(key) ?? null;
    return found !== null && typeof found === 'object' && this.deletedIds.has(found.id) ? 'unknown' : found;
  }

  /** This cycle created an object with these attributes: a later create with the same match value must find it. */
  created(attributes: TargetAttributes): void {
    for (const path of this.byPath.keys()) {
      const value = attributes[path];
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue;
      let hashes = this.createdHashes.get(path);
      if (!hashes) this.createdHashes.set(path, hashes = new Set());
      hashes.add(hashKey(normalize(value)));
    }
  }

  deleted(targetId: string): void {
    this.deletedIds.add(targetId);
  }
}

/** FNV-1a over UTF-16 code units, folded to 31 bits (a V8 small integer). */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 1;
}

function normalize(value: string | number | boolean): string {
  return typeof value === 'string' ? value.toLowerCase() : String(value);
}
