// PATCH operations (RFC 7644 §3.5.2) from a field-level diff, and the member add/remove operations.
// Dialects:
//   rfc7644      lower-case ops, JSON booleans, filtered member removal `members[value eq "id"]`
//   entraLegacy  capitalised ops, booleans as "True"/"False", member removal as a value array — what servers
//                built against Entra's default (non-`aadOptscim062020`) client expect.
import type { AttributeChange } from '../connector.js';
import { formatContainerPath, formatScimPath, memberFilterPath, parseScimPath } from './path.js';

export type ScimDialect = 'rfc7644' | 'entraLegacy';

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export interface PatchOperation {
  op: string;
  path?: string;
  value?: unknown;
}

export interface PatchRequest {
  schemas: [typeof PATCH_OP_SCHEMA];
  Operations: PatchOperation[];
}

function opName(op: 'add' | 'replace' | 'remove', dialect: ScimDialect): string {
  return dialect === 'entraLegacy' ? op[0]!.toUpperCase() + op.slice(1) : op;
}

function wireValue(value: unknown, dialect: ScimDialect): unknown {
  if (dialect === 'entraLegacy' && typeof value === 'boolean') return value ? 'True' : 'False';
  return value;
}

/** A cleared value: mappings produce null/undefined (and Entra treats an empty string the same way). */
function isCleared(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/**
 * One operation per changed path. A value that appears is `add` (a `replace` on a filtered path that matches
 * nothing is a 400 noTarget, RFC 7644 §3.5.2.3), a value that changes is `replace`, a value that disappears is
 * `remove` with its path — never a `null` value.
 */
export function buildPatchOperations(changes: AttributeChange[], dialect: ScimDialect = 'rfc7644'): PatchOperation[] {
  const ops: PatchOperation[] = [];
  for (const change of changes) {
    const p = parseScimPath(change.path);
    const path = formatScimPath(p);
    if (isCleared(change.after)) {
      if (isCleared(change.before)) continue;
      ops.push({ op: opName('remove', dialect), path });
      continue;
    }
    const value = wireValue(change.after, dialect);
    if (!isCleared(change.before)) {
      ops.push({ op: opName('replace', dialect), path, value });
    } else if (p.filter) {
      const element: Record<string, unknown> = { [p.filter.attribute]: p.filter.value };
      if (p.subAttribute) element[p.subAttribute] = value;
      else if (value && typeof value === 'object') Object.assign(element, value);
      ops.push({ op: opName('add', dialect), path: formatContainerPath(p), value: [element] });
    } else {
      ops.push({ op: opName('add', dialect), path, value });
    }
  }
  return ops;
}

export function patchRequest(operations: PatchOperation[]): PatchRequest {
  return { schemas: [PATCH_OP_SCHEMA], Operations: operations };
}

/** Split ids into chunks of at most `size`. */
export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Add members: one `add` on `members` carrying the chunk's values. */
export function addMembersOperations(memberIds: string[], dialect: ScimDialect = 'rfc7644'): PatchOperation[] {
  if (memberIds.length === 0) return [];
  return [{ op: opName('add', dialect), path: 'members', value: memberIds.map((value) => ({ value })) }];
}

/**
 * Remove members, never all of them: RFC form is one filtered `remove` per member; the legacy form names
 * every member in a value array (a `remove` on `members` without a value would clear the group).
 */
export function removeMembersOperations(memberIds: string[], dialect: ScimDialect = 'rfc7644'): PatchOperation[] {
  if (memberIds.length === 0) return [];
  if (dialect === 'entraLegacy') {
    return [{ op: opName('remove', dialect), path: 'members', value: memberIds.map((value) => ({ value })) }];
  }
  return memberIds.map((id) => ({ op: 'remove', path: memberFilterPath(id) }));
}
