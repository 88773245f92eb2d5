// Mapping: one source object (the full cached Graph object) → the object a target should hold, per the
// target's attribute mappings. Decides the object's scope (assignment, removal, scoping filters,
// accountEnabled), computes `IsSoftDeleted`, evaluates direct/constant/expression mappings compiled once
// per configuration, converts results to the target attribute types, applies defaults on create only,
// resolves manager references (unresolved ones are returned as pendingReferences for the cycle's back-fill),
// marks paths whose expression used Redact() and collects the matching criteria. A user's app roles (from the
// source record) feed the role functions; their results become SCIM `roles` entries (see appRoleAssignmentsOf
// and roleEntries). Pure: the caller supplies the clock
// and reference lookups. A mapping failure never throws: the object is skipped with a reason.
import { EntraSyncError } from '../errors.js';
import { compileExpression, parseExpression } from '../expressions/index.js';
import type { CompiledExpression, EvaluateOptions } from '../expressions/types.js';
import type { TargetConfig } from '../config/schema.js';
import type { MatchCriterion, ObjectType, TargetAttributes } from '../targets/connector.js';
import type { SourceAppRole, SourceGroupRecord, SourceMember, SourceUserRecord } from '../source/types.js';
import type { DesiredObject, ScopeReason } from './types.js';
import { matchesScopingFilters, type ScopingFilter } from './scope.js';
import { convertValue, isNullOrEmpty, readSourceAttribute, type TargetType } from './values.js';
import type { PlanOptions } from './plan.js';

export interface CompiledAttributeMapping {
  /** Target attribute path as configured. */
  target: string;
  kind: 'direct' | 'constant' | 'expression' | 'none';
  source?: string;
  constant?: unknown;
  expression?: CompiledExpression;
  /** Default value if null (creation only), already converted to the target type. */
  defaultValue?: unknown;
  /** "Apply this mapping: only during object creation". */
  createOnly: boolean;
  type: TargetType;
  /** Where the mapping is in the config, for error messages: `targets[0].users.mappings[2]`. */
  configPath: string;
  /**
   * The expression's outermost function is a role list: AssertiveAppRoleAssignmentsComplex replaces the
   * target's roles (`assertive`), AppRoleAssignmentsComplex only ever adds to them (`additive`).
   */
  roles?: 'assertive' | 'additive';
}

export interface CompiledObjectMapping {
  enabled: boolean;
  mappings: CompiledAttributeMapping[];
  scopingFilters: ScopingFilter[];
  /** Matching attribute paths, highest priority first. */
  matchPaths: string[];
  /** Target type per path, for value comparison in the planner. */
  types: Record<string, TargetType>;
  /** Groups only: whether nested groups are provisioned as members. */
  nestedGroupMembers: boolean;
}

export interface CompiledTarget {
  name: string;
  users: CompiledObjectMapping;
  groups: CompiledObjectMapping;
  options: PlanOptions;
  /**
   * Graph user attributes referenced by mappings and filters, for $select. `appRoleAssignments` among them
   * tells the reader to read the app's role definitions; it never reaches $select.
   */
  sourceAttributes: string[];
  /** Graph group attributes referenced by group mappings and filters, for $select. */
  groupSourceAttributes: string[];
}

export interface MappingContext {
  now: Date;
  defaultDomain?: string;
  /** Target id of an already-provisioned source object (manager references), or null. */
  resolveReference(sourceId: string): string | null;
  /** SelectUniqueValue: does this value already exist on the target at this path? */
  valueExists?: (path: string, value: string) => boolean;
}

/** Attributes computed by the engine rather than read from Graph; never put in $select. */
const COMPUTED_ATTRIBUTES = new Set(['objectId', 'IsSoftDeleted']);

/** Entra's implicit "Default Access" role: it has no value, so it is never provisioned as a role. */
export const DEFAULT_ACCESS_ROLE_ID = '00000000-0000-0000-0000-000000000000';

/** Which role list an expression produces, from its outermost function (names are case-insensitive). */
function roleListKind(source: string): CompiledAttributeMapping['roles'] {
  const root = parseExpression(source);
  if (root.kind !== 'call') return undefined;
  const name = root.name.toLowerCase();
  if (name === 'assertiveapproleassignmentscomplex') return 'assertive';
  if (name === 'approleassignmentscomplex') return 'additive';
  return undefined;
}

/**
 * The user's app roles as the role functions take them (`EvaluateOptions.appRoleAssignments`). Like Entra, only
 * roles with a value are provisioned: the default-access role, roles defined without a value, disabled roles
 * and ids the app no longer defines are left out.
 */
export function appRoleAssignmentsOf(roles: readonly SourceAppRole[]): NonNullable<EvaluateOptions['appRoleAssignments']> {
  const out: NonNullable<EvaluateOptions['appRoleAssignments']> = [];
  for (const r of roles) {
    if (r.id === DEFAULT_ACCESS_ROLE_ID || !r.isEnabled || !r.value) continue;
    out.push(r.displayName ? { id: r.id, value: r.value, displayName: r.displayName } : { id: r.id, value: r.value });
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * A role function's result → SCIM `roles` entries (RFC 7643 §4.1.2: value, display, type, primary), the shape
 * Entra POSTs. The expression library names the display text `displayName`; SCIM servers ignore that name.
 */
function roleEntries(value: unknown): Record<string, unknown>[] {
  if (value === null || value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => {
    if (!isPlainObject(item)) throw new Error(`expected role objects from the role function, got ${typeof item}`);
    const { displayName, display, ...rest } = item;
    const text = display ?? displayName;
    return text === undefined || text === null ? rest : { ...rest, display: text };
  });
}

/** The path of one role entry: `roles[value eq "Admin"]`. */
function rolePath(target: string, value: unknown): string {
  return `${target}[value eq ${JSON.stringify(String(value))}]`;
}

export interface CompileProblem {
  path: (string | number)[];
  message: string;
}

function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${part}` : part;
  return out;
}

/** Entra's default non-gallery group mapping: displayName (matching) and externalId ← objectId. */
const DEFAULT_GROUP_MAPPINGS: TargetConfig['groups']['mappings'] = [
  { target: 'displayName', source: 'displayName', matchPriority: 1, apply: 'always' },
  { target: 'externalId', source: 'objectId', apply: 'always' },
];

/** SCIM's `active` is a Boolean and `manager` a Reference even when the mapping does not say so. */
function inferType(path: string, activeAttribute: string): TargetType {
  if (path.toLowerCase() === activeAttribute.toLowerCase()) return 'Boolean';
  if (/(^|[:.])manager(\.value)?$/i.test(path)) return 'Reference';
  return 'String';
}

function compileObjectMapping(
  section: TargetConfig['users'] | TargetConfig['groups'],
  kind: ObjectType,
  basePath: (string | number)[],
  activeAttribute: string,
  problems: CompileProblem[],
  referenced: Set<string>,
): CompiledObjectMapping {
  const mappings: CompiledAttributeMapping[] = [];
  const types: Record<string, TargetType> = {};
  const seenTargets = new Map<string, number>();
  const priorities: { path: string; priority: number }[] = [];
  // Entra's default group mapping, when a groups section gives none.
  const configured = kind === 'group' && section.mappings.length === 0 ? DEFAULT_GROUP_MAPPINGS : section.mappings;
  configured.forEach((m, i) => {
    const at = [...basePath, 'mappings', i];
    if (m.remove) return; // validated away by the loader; harmless here
    const key = m.target.toLowerCase();
    const dup = seenTargets.get(key);
    if (dup !== undefined) {
      problems.push({ path: [...at, 'target'], message: `"${m.target}" is already mapped by mappings[${dup}]; each target attribute takes one mapping` });
      return;
    }
    seenTargets.set(key, i);
    const type = m.type ?? inferType(m.target, activeAttribute);
    types[m.target] = type;
    const compiled: CompiledAttributeMapping = {
      target: m.target,
      kind: m.expression !== undefined ? 'expression' : m.source !== undefined ? 'direct' : m.constant !== undefined ? 'constant' : 'none',
      createOnly: m.apply === 'onCreate',
      type,
      configPath: formatPath(at),
    };
    if (m.source !== undefined) {
      compiled.source = m.source;
      referenced.add(m.source);
    }
    if (m.constant !== undefined) {
      try {
        compiled.constant = convertValue(m.constant, type);
      } catch (err) {
        problems.push({ path: [...at, 'constant'], message: `${(err as Error).message} (the target attribute is ${type})` });
      }
    }
    if (m.default !== undefined) {
      try {
        compiled.defaultValue = convertValue(m.default, type);
      } catch (err) {
        problems.push({ path: [...at, 'default'], message: `${(err as Error).message} (the target attribute is ${type})` });
      }
    }
    if (m.expression !== undefined) {
      try {
        compiled.expression = compileExpression(m.expression);
        for (const name of compiled.expression.references) referenced.add(name);
        const roles = roleListKind(m.expression);
        if (roles && /[[.]/.test(m.target.replace(/^urn:.*:/i, ''))) {
          problems.push({ path: [...at, 'target'], message: `${m.expression.trim().split('(')[0]} produces a list of role objects; map it to the multi-valued attribute itself (roles), not to "${m.target}"` });
        } else if (roles) {
          compiled.roles = roles;
        }
      } catch (err) {
        const where = err instanceof EntraSyncError ? err.where : {};
        const pos = where.line !== undefined ? ` (expression line ${where.line}, column ${where.column ?? 1})` : '';
        problems.push({ path: [...at, 'expression'], message: `${(err as Error).message}${pos && !(err as Error).message.includes('line') ? pos : ''}` });
      }
    }
    if (m.matchPriority !== undefined) priorities.push({ path: m.target, priority: m.matchPriority });
    mappings.push(compiled);
  });

  let matchPaths: string[];
  const groupsSection = kind === 'group' ? (section as TargetConfig['groups']) : undefined;
  const explicit = section.matching ?? (groupsSection?.matchBy ? [groupsSection.matchBy] : undefined);
  if (explicit) {
    matchPaths = [];
    explicit.forEach((p, i) => {
      const mapped = mappings.find((m) => m.target.toLowerCase() === p.toLowerCase());
      if (!mapped) {
        const field = section.matching ? ['matching', i] : ['matchBy'];
        problems.push({ path: [...basePath, ...field], message: `"${p}" is not a mapped target attribute; match on one of ${mappings.map((m) => m.target).join(', ') || '(no mappings)'}` });
      } else {
        matchPaths.push(mapped.target);
      }
    });
  } else {
    const seen = new Map<number, string>();
    for (const p of priorities) {
      const other = seen.get(p.priority);
      if (other !== undefined) {
        problems.push({ path: [...basePath, 'mappings'], message: `${other} and ${p.path} have the same matchPriority ${p.priority}; priorities must differ` });
      }
      seen.set(p.priority, p.path);
    }
    matchPaths = priorities.sort((a, b) => a.priority - b.priority).map((p) => p.path);
  }
  if (section.enabled && mappings.length === 0) {
    problems.push({ path: [...basePath, 'mappings'], message: `expected at least one ${kind} mapping (or a preset), found none` });
  } else if (section.enabled && matchPaths.length === 0 && !explicit) {
    problems.push({ path: [...basePath, 'mappings'], message: `expected a matching attribute: give one mapping matchPriority: 1${kind === 'group' ? ' (or set matchBy)' : ''}` });
  }
  const scopingFilters: ScopingFilter[] = section.scopingFilters.map((f) => ({
    ...(f.title !== undefined ? { title: f.title } : {}),
    clauses: f.clauses.map((c) => {
      referenced.add(c.attribute);
      return { attribute: c.attribute, operator: c.operator, ...(c.value !== undefined ? { value: c.value } : {}) };
    }),
  }));
  return {
    enabled: section.enabled,
    mappings,
    scopingFilters,
    matchPaths,
    types,
    nestedGroupMembers: groupsSection?.nestedGroups === 'members',
  };
}

function planOptionsOf(target: TargetConfig, users: CompiledObjectMapping, groups: CompiledObjectMapping): PlanOptions {
  const u = new Set(target.users.actions);
  const g = new Set(target.groups.actions);
  return {
    users: { create: u.has('create'), update: u.has('update'), disable: u.has('disable'), delete: u.has('delete') },
    groups: { create: g.has('create'), update: g.has('update'), delete: g.has('delete') },
    skipOutOfScopeDeletions: target.skipOutOfScopeDeletions,
    groupMembership: target.groups.membership,
    hardDeleteAction: target.hardDeleteAction ?? (u.has('delete') ? 'delete' : 'disable'),
    activeAttribute: target.activeAttribute,
    clearEmptiedValues: target.clearEmptiedValues,
    types: { user: users.types, group: groups.types },
  };
}

/** Compile a target, collecting every problem (for the config loader and `validate`). */
export function compileTargetReport(target: TargetConfig, basePath: (string | number)[] = []): { compiled?: CompiledTarget; errors: CompileProblem[] } {
  const problems: CompileProblem[] = [];
  const userRefs = new Set<string>();
  const groupRefs = new Set<string>();
  const users = compileObjectMapping(target.users, 'user', [...basePath, 'users'], target.activeAttribute, problems, userRefs);
  const groups = compileObjectMapping(target.groups, 'group', [...basePath, 'groups'], target.activeAttribute, problems, groupRefs);
  if (!users.enabled) problems.push({ path: [...basePath, 'users', 'enabled'], message: 'the users mapping cannot be switched off (as in Entra); switch groups off instead' });
  if (problems.length) return { errors: problems };
  const attributesToSelect = (refs: Set<string>) =>
    [...refs].filter((a) => !COMPUTED_ATTRIBUTES.has(a)).map((a) => (/^extensionAttribute([1-9]|1[0-5])$/.test(a) ? 'onPremisesExtensionAttributes' : a.split('.')[0]!));
  return {
    compiled: {
      name: target.name,
      users,
      groups,
      options: planOptionsOf(target, users, groups),
      sourceAttributes: [...new Set([...attributesToSelect(userRefs), 'accountEnabled'])].sort(),
      groupSourceAttributes: [...new Set([...attributesToSelect(groupRefs), 'displayName'])].sort(),
    },
    errors: [],
  };
}

/** Compile a target's mappings once. Throws EntraSyncError (CONFIG_INVALID) naming the first problem's config path. */
export function compileTarget(target: TargetConfig): CompiledTarget {
  const { compiled, errors } = compileTargetReport(target);
  if (!compiled) {
    const first = errors[0]!;
    const rest = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    throw new EntraSyncError('CONFIG_INVALID', `target ${target.name}: ${formatPath(first.path)}: ${first.message}${rest}`, { configPath: formatPath(first.path) });
  }
  return compiled;
}

function isFalse(value: unknown): boolean {
  return value === false || (typeof value === 'string' && value.trim().toLowerCase() === 'false');
}

/** Why a user is or is not in scope, in Entra's order of precedence. */
export function userScope(record: SourceUserRecord, filters: ScopingFilter[]): ScopeReason {
  if (record.removed === 'deleted') return 'hardDeleted';
  if (record.removed === 'changed') return 'softDeleted';
  if (!record.assigned) return 'unassigned';
  if (!matchesScopingFilters(filters, record.attributes)) return 'outOfScope';
  if (isFalse(record.attributes.accountEnabled)) return 'accountDisabled';
  return 'inScope';
}

export function groupScope(record: SourceGroupRecord, filters: ScopingFilter[]): ScopeReason {
  if (record.removed === 'deleted') return 'hardDeleted';
  if (record.removed === 'changed') return 'softDeleted';
  if (!record.assigned) return 'unassigned';
  if (!matchesScopingFilters(filters, record.attributes)) return 'outOfScope';
  return 'inScope';
}

interface MappedAttributes {
  attributes: TargetAttributes;
  createOnly: string[];
  pendingReferences: Record<string, string>;
  /** Paths whose expression used Redact(). */
  redacted: string[];
  skip?: string;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function mapAttributes(
  mapping: CompiledObjectMapping,
  sourceId: string,
  bag: Record<string, unknown>,
  scope: ScopeReason,
  ctx: MappingContext,
  appRoleAssignments?: EvaluateOptions['appRoleAssignments'],
): MappedAttributes {
  const out: MappedAttributes = { attributes: {}, createOnly: [], pendingReferences: {}, redacted: [] };
  const options: EvaluateOptions = { now: ctx.now };
  if (ctx.defaultDomain !== undefined) options.defaultDomain = ctx.defaultDomain;
  if (appRoleAssignments !== undefined) options.appRoleAssignments = appRoleAssignments;
  for (const m of mapping.mappings) {
    let raw: unknown;
    try {
      if (m.kind === 'direct') {
        raw = m.source === 'objectId' ? sourceId : readSourceAttribute(bag, m.source!);
      } else if (m.kind === 'constant') {
        raw = m.constant;
      } else if (m.kind === 'expression') {
        const valueExists = ctx.valueExists;
        const result = m.expression!.evaluate(bag, valueExists ? { ...options, valueExists: (v: string) => valueExists(m.target, v) } : options);
        if (result.flow === 'ignoreObject') {
          out.skip = `IgnoreObjectFlow in the mapping of ${m.target}`;
          return out;
        }
        if (result.flow === 'ignoreAttribute') continue; // IgnoreFlowIfNullOrEmpty: leave the attribute alone
        if (result.redacted) out.redacted.push(m.target);
        raw = result.value;
        if (m.roles === 'assertive') {
          // One list that replaces the target's roles; no roles left means clearing them.
          const entries = roleEntries(raw);
          out.attributes[m.target] = entries.length ? entries : null;
          if (m.createOnly) out.createOnly.push(m.target);
          continue;
        }
        if (m.roles === 'additive') {
          // One entry per role, each at its own `roles[value eq "…"]` path: a new role is a SCIM `add` of that
          // entry, and a role that goes away in Entra produces no change, so the target keeps it (Entra's rule).
          for (const entry of roleEntries(raw)) {
            const path = rolePath(m.target, entry.value);
            out.attributes[path] = entry;
            if (m.createOnly) out.createOnly.push(path);
          }
          continue;
        }
      } else {
        raw = null;
      }
      let value = convertValue(raw, m.type);
      let defaulted = false;
      if (value === null && m.defaultValue !== undefined && m.defaultValue !== null) {
        value = m.defaultValue;
        defaulted = true;
      }
      if (m.type === 'Reference' && value !== null) {
        const targetId = ctx.resolveReference(String(value));
        if (targetId === null) {
          // Back-filled once the referenced object is provisioned (Entra needs a restart for this).
          out.pendingReferences[m.target] = String(value);
          continue;
        }
        value = targetId;
      }
      out.attributes[m.target] = value;
      if (m.createOnly || defaulted) out.createOnly.push(m.target);
    } catch (err) {
      // The object leaves scope or is being disabled: the disable does not need this attribute.
      if (scope !== 'inScope') continue;
      out.skip = `mapping of ${m.target} failed: ${errorText(err)}`;
      return out;
    }
  }
  return out;
}

function matchCriteria(matchPaths: string[], attributes: TargetAttributes): MatchCriterion[] {
  const match: MatchCriterion[] = [];
  for (const path of matchPaths) {
    const value = attributes[path];
    if (isNullOrEmpty(value)) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') match.push({ path, value });
  }
  return match;
}

function displayNameOf(attributes: Record<string, unknown>, keys: string[], fallback: string): string {
  for (const key of keys) {
    const v = attributes[key];
    if (typeof v === 'string' && v) return v;
  }
  return fallback;
}

function finish(type: ObjectType, sourceId: string, displayName: string, scope: ScopeReason, mapped: MappedAttributes, matchPaths: string[]): DesiredObject {
  const desired: DesiredObject = {
    type,
    sourceId,
    displayName,
    scope,
    attributes: mapped.attributes,
    createOnly: mapped.createOnly,
    match: matchCriteria(matchPaths, mapped.attributes),
  };
  if (Object.keys(mapped.pendingReferences).length) desired.pendingReferences = mapped.pendingReferences;
  if (mapped.redacted.length) desired.redactedPaths = mapped.redacted;
  if (mapped.skip !== undefined) desired.skip = mapped.skip;
  return desired;
}

/** What `compiled`'s target should hold for this user. Never throws. */
export function desiredUser(record: SourceUserRecord, compiled: CompiledTarget, ctx: MappingContext): DesiredObject {
  const scope = userScope(record, compiled.users.scopingFilters);
  const displayName = displayNameOf(record.attributes, ['userPrincipalName', 'displayName', 'mail'], record.id);
  if (scope === 'hardDeleted') {
    // A purged user has no attributes left to map; the planner needs only the link.
    return { type: 'user', sourceId: record.id, displayName, scope, attributes: {}, createOnly: [], match: [] };
  }
  // Expressions always see the full cached object plus the computed attributes.
  const bag: Record<string, unknown> = { ...record.attributes, objectId: record.id, IsSoftDeleted: scope !== 'inScope' };
  // Stores that read the app's role definitions resolve them on the record; [appRoleAssignments] reads them.
  const roles = record.appRoles ? appRoleAssignmentsOf(record.appRoles) : undefined;
  const mapped = mapAttributes(compiled.users, record.id, bag, scope, ctx, roles);
  return finish('user', record.id, displayName, scope, mapped, compiled.users.matchPaths);
}

/** What `compiled`'s target should hold for this group, members included (source ids, no duplicates). Never throws. */
export function desiredGroup(record: SourceGroupRecord, members: SourceMember[], compiled: CompiledTarget, ctx: MappingContext): DesiredObject {
  const displayName = displayNameOf(record.attributes, ['displayName', 'mailNickname'], record.id);
  if (!compiled.groups.enabled) {
    return { type: 'group', sourceId: record.id, displayName, scope: 'inScope', attributes: {}, createOnly: [], match: [], skip: 'group provisioning is off for this target' };
  }
  const scope = groupScope(record, compiled.groups.scopingFilters);
  if (scope === 'hardDeleted') {
    return { type: 'group', sourceId: record.id, displayName, scope, attributes: {}, createOnly: [], match: [] };
  }
  const bag: Record<string, unknown> = { ...record.attributes, objectId: record.id, IsSoftDeleted: scope !== 'inScope' };
  const mapped = mapAttributes(compiled.groups, record.id, bag, scope, ctx);
  const desired = finish('group', record.id, displayName, scope, mapped, compiled.groups.matchPaths);
  const seen = new Set<string>();
  desired.members = [];
  for (const m of members) {
    if (m.id === record.id || seen.has(m.id)) continue;
    if (m.type === 'group' && !compiled.groups.nestedGroupMembers) continue;
    seen.add(m.id);
    desired.members.push(m.id);
  }
  return desired;
}
