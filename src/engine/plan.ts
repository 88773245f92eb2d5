// The planner: what one target should do about one source object, from what we want (DesiredObject) and
// what we last wrote (Link). Follows Entra's event → action matrix (docs/engine.md has it as a table):
// new in scope → create (the apply layer looks up the match criteria first and adopts a match);
// attribute change → update of the changed fields only; unassigned, out of scope, soft-deleted or blocked
// sign-in → disable; back in scope → enable (+ updates); hard-deleted → delete when asked, else disable.
// Pure and cheap: an unchanged object yields no operation at all.
import type { AttributeChange, TargetAttributes } from '../targets/connector.js';
import type { DesiredObject, Link, PlannedOperation, ScopeReason } from './types.js';
import { isNullOrEmpty, valuesEqual, type TargetType } from './values.js';
import { isRedactedMarker, markerMatches } from './redaction.js';

export interface PlanOptions {
  /** Target object actions for users. `disable` covers every soft deprovisioning. */
  users: { create: boolean; update: boolean; disable: boolean; delete: boolean };
  groups: { create: boolean; update: boolean; delete: boolean };
  /** Entra's SkipOutOfScopeDeletions: unassigned / filtered-out users (and groups) are left as they are. */
  skipOutOfScopeDeletions: boolean;
  /**
   * `exact` or `additive`. The planner's membership diff is the same in both (add desired − Link.members,
   * remove Link.members − desired); the mode decides what Link.members holds: in `additive` only members we
   * added, in `exact` every known member found on the target too (recorded at adoption and reconcile).
   */
  groupMembership: 'exact' | 'additive';
  /** What a user's hard delete in Entra becomes: `delete` (needs users.delete) or `disable`. */
  hardDeleteAction: 'delete' | 'disable';
  /** The attribute enable/disable sets; never diffed as an ordinary attribute (scope drives it). */
  activeAttribute: string;
  /** Send a removal when a mapped value becomes empty (Entra leaves the old value). */
  clearEmptiedValues: boolean;
  /** Target types per path, so values compare after type conversion. */
  types: { user: Record<string, TargetType>; group: Record<string, TargetType> };
}

export const DEFAULT_PLAN_OPTIONS: PlanOptions = {
  users: { create: true, update: true, disable: true, delete: false },
  groups: { create: true, update: true, delete: false },
  skipOutOfScopeDeletions: false,
  groupMembership: 'exact',
  hardDeleteAction: 'disable',
  activeAttribute: 'active',
  clearEmptiedValues: true,
  types: { user: {}, group: {} },
};

/** Plan options with defaults for whatever is not given (tests, library users). */
export function planOptions(overrides: Partial<Omit<PlanOptions, 'users' | 'groups'>> & { users?: Partial<PlanOptions['users']>; groups?: Partial<PlanOptions['groups']> } = {}): PlanOptions {
  return {
    ...DEFAULT_PLAN_OPTIONS,
    ...overrides,
    users: { ...DEFAULT_PLAN_OPTIONS.users, ...overrides.users },
    groups: { ...DEFAULT_PLAN_OPTIONS.groups, ...overrides.groups },
  };
}

const OUT_OF_SCOPE: ReadonlySet<ScopeReason> = new Set(['unassigned', 'outOfScope']);

const SCOPE_TEXT: Record<ScopeReason, string> = {
  inScope: 'in scope',
  unassigned: 'unassigned from the app',
  outOfScope: 'no longer matches a scoping filter',
  softDeleted: 'soft-deleted in Entra',
  hardDeleted: 'hard-deleted in Entra',
  accountDisabled: 'sign-in blocked (accountEnabled false)',
};

/** Attributes to send on create: everything mapped except empty values (nothing to set). */
function createAttributes(desired: DesiredObject): TargetAttributes {
  const out: TargetAttributes = {};
  for (const [path, value] of Object.entries(desired.attributes)) if (!isNullOrEmpty(value)) out[path] = value;
  return out;
}

/**
 * Changed fields only: create-only paths and the active attribute are never part of an update. A redacted
 * value was stored as a hash marker, so it is compared by hash; a redacted path still holding a clear value
 * (written before the mapping used Redact) counts as changed, so the next write replaces it by a marker.
 */
export function diffAttributes(desired: DesiredObject, written: TargetAttributes, options: PlanOptions): AttributeChange[] {
  const types = desired.type === 'user' ? options.types.user : options.types.group;
  const createOnly = new Set(desired.createOnly);
  const redacted = new Set(desired.redactedPaths ?? []);
  const active = options.activeAttribute.toLowerCase();
  const changes: AttributeChange[] = [];
  for (const [path, after] of Object.entries(desired.attributes)) {
    if (createOnly.has(path)) continue;
    if (desired.type === 'user' && path.toLowerCase() === active) continue;
    const before = written[path];
    if (isNullOrEmpty(after) && !options.clearEmptiedValues) continue;
    if (isRedactedMarker(before)) {
      if (markerMatches(before, desired.sourceId, path, after)) continue;
    } else if (valuesEqual(after, before, types[path]) && !(redacted.has(path) && !isNullOrEmpty(before))) {
      continue;
    }
    changes.push({ path, before: before ?? null, after: isNullOrEmpty(after) ? null : after });
  }
  return changes;
}

/** `{ redactedPaths }` for an operation when the desired object has any, else nothing. */
function redactedOf(desired: DesiredObject): { redactedPaths?: string[] } {
  return desired.redactedPaths?.length ? { redactedPaths: [...desired.redactedPaths] } : {};
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

function planUser(desired: DesiredObject, link: Link | undefined, options: PlanOptions): PlannedOperation[] {
  const base = { type: 'user' as const, sourceId: desired.sourceId, displayName: desired.displayName };
  if (desired.skip !== undefined) return [{ kind: 'skip', ...base, reason: desired.skip }];
  const live = link && link.status !== 'deleted' ? link : undefined;
  const scope = desired.scope;

  if (!live) {
    // Never provisioned (or deleted by us): only an in-scope user is created; a user disabled before it
    // was ever provisioned is not.
    if (scope !== 'inScope') return [];
    if (!options.users.create) return [{ kind: 'skip', ...base, reason: 'not on the target and the create action is off for users' }];
    if (desired.match.length === 0) return [{ kind: 'skip', ...base, reason: 'no value for any matching attribute (Entra: ImportSkipped)' }];
    return [{ kind: 'create', ...base, attributes: createAttributes(desired), match: desired.match, ...redactedOf(desired) }];
  }

  const targetId = live.targetId;
  if (scope === 'inScope') {
    const ops: PlannedOperation[] = [];
    // Enable undoes our own disable: allowed when either the update or the disable action is on.
    if (live.status === 'disabled' && (options.users.update || options.users.disable)) {
      ops.push({ kind: 'enable', ...base, targetId, reason: scope });
    }
    if (options.users.update) {
      const changes = diffAttributes(desired, live.written, options);
      if (changes.length) ops.push({ kind: 'update', ...base, targetId, changes, desired: desired.attributes, ...redactedOf(desired) });
    }
    return ops;
  }

  if (scope === 'hardDeleted') {
    if (options.hardDeleteAction === 'delete' && options.users.delete) {
      return [{ kind: 'delete', ...base, targetId, reason: scope }];
    }
    if (live.status === 'active' && options.users.disable) return [{ kind: 'disable', ...base, targetId, reason: scope }];
    return [];
  }

  // Unassigned, out of scope, soft-deleted, sign-in blocked: a soft deprovisioning.
  if (live.status !== 'active') return [];
  if (OUT_OF_SCOPE.has(scope) && options.skipOutOfScopeDeletions) {
    return [{ kind: 'skip', ...base, reason: `${SCOPE_TEXT[scope]}; not disabled because skipOutOfScopeDeletions is on` }];
  }
  if (!options.users.disable) return [];
  return [{ kind: 'disable', ...base, targetId, reason: scope }];
}

function planGroup(desired: DesiredObject, link: Link | undefined, options: PlanOptions): PlannedOperation[] {
  const base = { type: 'group' as const, sourceId: desired.sourceId, displayName: desired.displayName };
  if (desired.skip !== undefined) return [{ kind: 'skip', ...base, reason: desired.skip }];
  const live = link && link.status !== 'deleted' ? link : undefined;
  const scope = desired.scope;
  const members = unique(desired.members ?? []);

  if (!live) {
    if (scope !== 'inScope') return [];
    if (!options.groups.create) return [{ kind: 'skip', ...base, reason: 'not on the target and the create action is off for groups' }];
    if (desired.match.length === 0) return [{ kind: 'skip', ...base, reason: 'no value for any matching attribute (Entra: ImportSkipped)' }];
    // Created (or adopted) empty; members follow once the group has a target id.
    const ops: PlannedOperation[] = [{ kind: 'create', ...base, attributes: createAttributes(desired), match: desired.match, ...redactedOf(desired) }];
    if (members.length) ops.push({ kind: 'addMembers', ...base, targetId: null, memberSourceIds: members });
    return ops;
  }

  const targetId = live.targetId;
  if (scope === 'inScope') {
    if (!options.groups.update) return [];
    const ops: PlannedOperation[] = [];
    // The link holds the target id, so a rename in Entra renames the same target group.
    const changes = diffAttributes(desired, live.written, options);
    if (changes.length) ops.push({ kind: 'update', ...base, targetId, changes, desired: desired.attributes, ...redactedOf(desired) });
    const known = new Set(live.members ?? []);
    const wanted = new Set(members);
    const add = members.filter((id) => !known.has(id));
    const remove = unique(live.members ?? []).filter((id) => !wanted.has(id));
    if (add.length) ops.push({ kind: 'addMembers', ...base, targetId, memberSourceIds: add });
    if (remove.length) ops.push({ kind: 'removeMembers', ...base, targetId, memberSourceIds: remove });
    return ops;
  }

  if (OUT_OF_SCOPE.has(scope) && options.skipOutOfScopeDeletions) {
    return options.groups.delete
      ? [{ kind: 'skip', ...base, reason: `${SCOPE_TEXT[scope]}; not deleted because skipOutOfScopeDeletions is on` }]
      : [];
  }
  // Groups cannot be disabled: with the delete action on, leaving scope deletes the target group.
  if (options.groups.delete) return [{ kind: 'delete', ...base, targetId, reason: scope }];
  // Without the delete action the target group stays; once the Entra group is purged it can never come
  // back, so we stop tracking it.
  if (scope === 'hardDeleted') {
    return [{ kind: 'unlink', ...base, targetId, reason: `${SCOPE_TEXT[scope]}; the target group is kept because the delete action is off for groups` }];
  }
  return [];
}

/** The operations that bring one target object in line with one desired object. */
export function planObject(desired: DesiredObject, link: Link | undefined, options: PlanOptions): PlannedOperation[] {
  return desired.type === 'user' ? planUser(desired, link, options) : planGroup(desired, link, options);
}
