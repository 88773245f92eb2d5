// SCIM 2.0 resource semantics (RFC 7643/7644) for Users and Groups, independent of HTTP: create, read,
// list with filter/paging/attribute selection, replace, patch, delete — with uniqueness, ETags and each
// profile's quirks. The HTTP layer (server.ts) parses requests and turns results into responses.

import { randomUUID } from 'node:crypto';
import { ScimError } from './errors.js';
import { evaluate, getCI, isObject, rootScope } from './evaluate.js';
import { parseAttrPath, parseFilter, type AttrPath, type Filter } from './filter.js';
import { applyPatch, readPatchRequest, toMembers, type PatchContext } from './patch.js';
import type { ProfileBehaviour } from './profiles.js';
import { canonicalValue, lookupAttribute, resourceSchema, SCHEMAS, URN, type ResourceSchema } from './schema.js';
import type { Obj, ResourceStore, StoredMember } from './store.js';

export type ResourceKind = 'User' | 'Group';

const GROUP_SCHEMAS = [URN.group];

export interface ServiceSettings {
  profile: ProfileBehaviour;
  etag: boolean;
  patch: boolean;
  maxResults: number;
  pageSize: number;
  /** Overrides the profile's PATCH answer: 200 with the resource, or 204. */
  patchStatus?: 200 | 204;
  baseUrl: () => string;
}

export interface ServiceResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ListQuery {
  filter?: string;
  startIndex?: string;
  count?: string;
  attributes?: string;
  excludedAttributes?: string;
  /** DocuWare: include users that did not come from this identity provider. */
  allDocuWareUsers?: string;
}

export interface Preconditions {
  ifMatch?: string;
  ifNoneMatch?: string;
}

export class ScimService {
  readonly userSchema: ResourceSchema;
  readonly groupSchema: ResourceSchema;
  /** DocuWare: users that exist in the service but were not provisioned through this SCIM endpoint. */
  readonly foreignUsers = new Set<string>();

  constructor(
    readonly store: ResourceStore,
    readonly settings: ServiceSettings,
  ) {
    this.userSchema = resourceSchema(SCHEMAS.userCore, settings.profile.userExtensions);
    this.groupSchema = resourceSchema(SCHEMAS.groupCore, []);
  }

  schemaOf(kind: ResourceKind): ResourceSchema {
    return kind === 'User' ? this.userSchema : this.groupSchema;
  }

  private knownUrns(kind: ResourceKind): string[] {
    const rs = this.schemaOf(kind);
    return [rs.core.id, ...rs.extensions.map((e) => e.id)];
  }

  // ---- views -------------------------------------------------------------------------------------

  /** The user as a client sees it: stored attributes plus the read-only `groups`. */
  userView(user: Obj): Obj {
    const view: Obj = { ...user };
    delete view.password;
    const groupIds = this.store.memberOf.get(user.id as string);
    if (groupIds && groupIds.size > 0) {
      view.groups = [...groupIds].map((gid) => {
        const g = this.store.groups.get(gid);
        const ref: Obj = { value: gid, $ref: `${this.settings.baseUrl()}/Groups/${encodeURIComponent(gid)}`, type: 'direct' };
        if (g && typeof g.resource.displayName === 'string') ref.display = g.resource.displayName;
        return ref;
      });
    }
    view.meta = this.metaView(view.meta, 'User', user.id as string);
    return view;
  }

  private metaView(stored: unknown, kind: ResourceKind, id: string): Obj {
    const meta: Obj = { ...(isObject(stored) ? stored : {}), location: this.location(kind, id) };
    if (!this.settings.etag) delete meta.version;
    return meta;
  }

  groupView(id: string, withMembers: boolean): Obj | undefined {
    const rec = this.store.groups.get(id);
    if (!rec) return undefined;
    const view: Obj = { ...rec.resource };
    if (withMembers) {
      view.members = [...rec.members.values()].map((m) => this.memberView(m));
    }
    view.meta = this.metaView(view.meta, 'Group', id);
    return view;
  }

  private memberView(m: StoredMember): Obj {
    const isGroup = m.type === 'Group' || (m.type === undefined && this.store.groups.has(m.value));
    const out: Obj = { value: m.value, $ref: `${this.settings.baseUrl()}/${isGroup ? 'Groups' : 'Users'}/${encodeURIComponent(m.value)}`, type: isGroup ? 'Group' : 'User' };
    if (m.display !== undefined) out.display = m.display;
    return out;
  }

  private headersFor(resource: Obj, kind: ResourceKind): Record<string, string> {
    const headers: Record<string, string> = { Location: this.location(kind, resource.id as string) };
    const version = isObject(resource.meta) ? resource.meta.version : undefined;
    if (this.settings.etag && typeof version === 'string') headers.ETag = version;
    return headers;
  }

  private location(kind: ResourceKind, id: string): string {
    return `${this.settings.baseUrl()}/${kind}s/${encodeURIComponent(id)}`;
  }

  private meta(kind: ResourceKind, id: string, created?: unknown): Obj {
    const now = new Date().toISOString();
    // `location` is added when the resource is shown: storing it would cost ~100 bytes a user at 100,000 users.
    const meta: Obj = { resourceType: kind, created: typeof created === 'string' ? created : now, lastModified: now };
    if (this.settings.etag) meta.version = this.store.nextVersion();
    return meta;
  }

  // ---- input -------------------------------------------------------------------------------------

  /**
   * A resource body as written by a client → canonical stored form. `schemas` must list the core schema
   * and every extension whose URN appears as a key (RFC 7643 §3); unknown attributes are ignored.
   */
  private readResource(body: unknown, kind: ResourceKind): Obj {
    if (!isObject(body)) throw new ScimError(400, 'body must be a JSON object', 'invalidSyntax');
    const rs = this.schemaOf(kind);
    const schemas = getCI(body, 'schemas');
    if (!Array.isArray(schemas)) throw new ScimError(400, `"schemas" must be an array listing ${rs.core.id}`, 'invalidSyntax');
    const listed = new Set(schemas.filter((s): s is string => typeof s === 'string').map((s) => s.toLowerCase()));
    if (!listed.has(rs.core.id.toLowerCase())) throw new ScimError(400, `"schemas" must list ${rs.core.id}`, 'invalidSyntax');
    const out: Obj = {};
    for (const [key, value] of Object.entries(body)) {
      const lowerKey = key.toLowerCase();
      if (lowerKey === 'schemas' || lowerKey === 'id' || lowerKey === 'meta') continue;
      if (lowerKey.startsWith('urn:')) {
        if (!listed.has(lowerKey)) throw new ScimError(400, `extension ${key} is used but not listed in "schemas"`, 'invalidValue');
        const ext = rs.extensionByUrn.get(lowerKey);
        if (!ext || value === null) continue;
        if (kind === 'User' && this.settings.profile.honouredUserAttributes && !this.settings.profile.honouredUserAttributes.has(lowerKey)) continue;
        if (!isObject(value)) throw new ScimError(400, `${key} must be an object`, 'invalidValue');
        const extOut: Obj = {};
        for (const [attr, v] of Object.entries(value)) {
          const def = ext.attributes.find((d) => d.name.toLowerCase() === attr.toLowerCase());
          if (!def || def.mutability === 'readOnly') continue;
          const cv = canonicalValue(def, v, `${ext.id}:${def.name}`);
          if (cv !== undefined) extOut[def.name] = cv;
        }
        if (Object.keys(extOut).length > 0) out[ext.id] = extOut;
        continue;
      }
      const def = rs.byName.get(lowerKey);
      if (!def || def.mutability === 'readOnly') continue;
      if (kind === 'User' && this.settings.profile.honouredUserAttributes && !this.settings.profile.honouredUserAttributes.has(lowerKey)) continue;
      const cv = canonicalValue(def, value, def.name);
      if (cv !== undefined) out[def.name] = cv;
    }
    return out;
  }

  private readonly internedSchemas = new Map<string, string[]>();

  /** `schemas` lists the core schema and the extensions present; arrays are shared (never mutated) to save memory. */
  private schemasFor(resource: Obj, kind: ResourceKind): string[] {
    const rs = this.schemaOf(kind);
    const list = [rs.core.id, ...rs.extensions.filter((e) => resource[e.id] !== undefined).map((e) => e.id)];
    const key = list.join(' ');
    let shared = this.internedSchemas.get(key);
    if (!shared) this.internedSchemas.set(key, (shared = list));
    return shared;
  }

  private requireString(resource: Obj, name: string): string {
    const v = resource[name];
    if (typeof v !== 'string' || v.trim() === '') throw new ScimError(400, `${name} is required`, 'invalidValue');
    return v;
  }

  private checkUserNameFree(userName: string, selfId?: string): void {
    const holder = this.store.userNames.get(userName.toLowerCase());
    if (holder !== undefined && holder !== selfId) throw new ScimError(409, `userName "${userName}" is already taken`, 'uniqueness');
  }

  private checkGroupNameFree(displayName: string, selfId?: string): void {
    const holder = this.store.groupNames.get(displayName.toLowerCase());
    if (holder !== undefined && holder !== selfId) throw new ScimError(409, `a group named "${displayName}" already exists`, 'uniqueness');
  }

  private checkPreconditions(resource: Obj, pre: Preconditions): void {
    if (!this.settings.etag || pre.ifMatch === undefined) return;
    const version = isObject(resource.meta) ? resource.meta.version : undefined;
    const wanted = pre.ifMatch.split(',').map((s) => s.trim());
    if (wanted.includes('*') || wanted.includes(String(version))) return;
    throw new ScimError(412, `If-Match ${pre.ifMatch} does not match the current version ${String(version)}`);
  }

  private applyDefaults(resource: Obj): void {
    const profile = this.settings.profile;
    if (profile.defaultTeamAccount !== undefined) {
      const ext = isObject(resource[URN.document360]) ? (resource[URN.document360] as Obj) : {};
      // A Boolean attribute (legacy "True"/"False" strings are already read as Booleans): anything else is
      // the client's bug, refused rather than read as false.
      if (ext.isTeamAccount !== undefined && ext.isTeamAccount !== null && typeof ext.isTeamAccount !== 'boolean') {
        throw new ScimError(400, `${URN.document360}:isTeamAccount must be a JSON boolean, not ${JSON.stringify(ext.isTeamAccount)}`, 'invalidValue');
      }
      if (typeof ext.isTeamAccount !== 'boolean') resource[URN.document360] = { ...ext, isTeamAccount: profile.defaultTeamAccount };
    }
  }

  // ---- users -------------------------------------------------------------------------------------

  createUser(body: unknown): ServiceResult {
    const resource = this.readResource(body, 'User');
    const userName = this.requireString(resource, 'userName');
    this.checkUserNameFree(userName);
    if (resource.active === undefined) resource.active = true;
    this.applyDefaults(resource);
    const id = randomUUID();
    const stored: Obj = { schemas: this.schemasFor(resource, 'User'), id, ...resource, meta: this.meta('User', id) };
    this.store.putUser(stored);
    return { status: 201, body: this.userView(stored), headers: this.headersFor(stored, 'User') };
  }

  getUser(id: string, query: ListQuery, pre: Preconditions = {}): ServiceResult {
    const user = this.requireUser(id);
    if (this.settings.etag && pre.ifNoneMatch !== undefined && isObject(user.meta) && pre.ifNoneMatch.split(',').map((s) => s.trim()).includes(String(user.meta.version))) {
      return { status: 304, headers: this.headersFor(user, 'User') };
    }
    return { status: 200, body: this.project(this.userView(user), 'User', query), headers: this.headersFor(user, 'User') };
  }

  replaceUser(id: string, body: unknown, pre: Preconditions = {}): ServiceResult {
    const existing = this.requireUser(id);
    this.checkPreconditions(existing, pre);
    const resource = this.readResource(body, 'User');
    const userName = this.requireString(resource, 'userName');
    this.checkUserNameFree(userName, id);
    if (resource.active === undefined) resource.active = true;
    this.applyDefaults(resource);
    const created = isObject(existing.meta) ? existing.meta.created : undefined;
    const stored: Obj = { schemas: this.schemasFor(resource, 'User'), id, ...resource, meta: this.meta('User', id, created) };
    this.store.putUser(stored);
    return { status: 200, body: this.userView(stored), headers: this.headersFor(stored, 'User') };
  }

  patchUser(id: string, body: unknown, pre: Preconditions = {}): ServiceResult {
    if (!this.settings.patch) throw new ScimError(501, 'PATCH is not supported by this service provider');
    const existing = this.requireUser(id);
    this.checkPreconditions(existing, pre);
    const ops = readPatchRequest(body, this.userSchema);
    const draft = structuredClone(existing);
    applyPatch(draft, ops, this.patchContext('User'));
    const userName = this.requireString(draft, 'userName');
    this.checkUserNameFree(userName, id);
    draft.schemas = this.schemasFor(draft, 'User');
    draft.meta = this.meta('User', id, isObject(existing.meta) ? existing.meta.created : undefined);
    this.store.putUser(draft);
    return this.patchResult(draft, 'User');
  }

  deleteUser(id: string, pre: Preconditions = {}): ServiceResult {
    const existing = this.requireUser(id);
    this.checkPreconditions(existing, pre);
    if (this.settings.profile.deleteUserDeactivates) {
      // Document360: "Deleting a user in Entra does not remove the user profile … the status changes to Inactive."
      this.store.putUser({ ...existing, active: false, meta: this.meta('User', id, isObject(existing.meta) ? existing.meta.created : undefined) });
    } else {
      this.store.deleteUser(id);
      this.foreignUsers.delete(id);
    }
    return { status: 204 };
  }

  private requireUser(id: string): Obj {
    const user = this.store.users.get(id);
    if (!user) throw new ScimError(404, `User ${id} not found`);
    return user;
  }

  private patchContext(kind: ResourceKind): PatchContext {
    const profile = this.settings.profile;
    const ctx: PatchContext = { rs: this.schemaOf(kind), isGroup: kind === 'Group', upsertFilteredReplace: profile.upsertFilteredReplace };
    const honoured = profile.honouredUserAttributes;
    if (kind === 'User' && honoured) ctx.honoured = (urn, attr) => urn === undefined && honoured.has(attr.toLowerCase());
    return ctx;
  }

  private patchResult(resource: Obj, kind: ResourceKind): ServiceResult {
    const status = this.settings.patchStatus ?? (kind === 'User' ? this.settings.profile.patchStatus.user : this.settings.profile.patchStatus.group);
    const headers = this.headersFor(resource, kind);
    if (status === 204) return { status: 204, headers };
    const view = kind === 'User' ? this.userView(resource) : this.groupView(resource.id as string, true)!;
    return { status: 200, body: view, headers };
  }

  // ---- groups ------------------------------------------------------------------------------------

  /** Resolve requested members: unknown ids are a 400 or dropped, per profile. */
  private resolveMembers(members: { value: string; type?: string; display?: string }[], groupId: string | undefined): StoredMember[] {
    const out: StoredMember[] = [];
    const unknown: string[] = [];
    for (const m of members) {
      const isUser = this.store.users.has(m.value);
      const isGroup = !isUser && this.store.groups.has(m.value);
      if ((!isUser && !isGroup) || m.value === groupId) {
        unknown.push(m.value);
        continue;
      }
      const stored: StoredMember = { value: m.value, type: isUser ? 'User' : 'Group' };
      if (m.display !== undefined) stored.display = m.display;
      out.push(stored);
    }
    if (unknown.length > 0 && this.settings.profile.unknownMembers === 'reject') {
      const shown = unknown.slice(0, 5).join(', ');
      throw new ScimError(400, `members reference ${unknown.length} unknown resource(s): ${shown}${unknown.length > 5 ? ', …' : ''}`, 'invalidValue');
    }
    return out;
  }

  private readGroup(body: unknown): { resource: Obj; members: StoredMember[] | undefined } {
    const resource = this.readResource(body, 'Group');
    const raw = resource.members;
    delete resource.members;
    this.requireString(resource, 'displayName');
    return { resource, members: raw === undefined ? undefined : toMembers(raw) as StoredMember[] };
  }

  createGroup(body: unknown): ServiceResult {
    const { resource, members } = this.readGroup(body);
    const displayName = resource.displayName as string;
    const holder = this.store.groupNames.get(displayName.toLowerCase());
    if (holder !== undefined && this.settings.profile.groupCreateMergesByDisplayName) {
      // DocuWare looks groups up by displayName: an existing one is updated and new members are added.
      const rec = this.store.groups.get(holder)!;
      const updated: Obj = { ...rec.resource, ...resource, meta: this.meta('Group', holder, isObject(rec.resource.meta) ? rec.resource.meta.created : undefined) };
      this.store.putGroup(updated);
      for (const m of this.resolveMembers(members ?? [], holder)) this.store.addMember(holder, m);
      return { status: 200, body: this.groupView(holder, true), headers: this.headersFor(updated, 'Group') };
    }
    this.checkGroupNameFree(displayName);
    const id = randomUUID();
    const resolved = this.resolveMembers(members ?? [], id);
    const stored: Obj = { schemas: GROUP_SCHEMAS, id, ...resource, meta: this.meta('Group', id) };
    this.store.putGroup(stored, new Map(resolved.map((m) => [m.value, m])));
    return { status: 201, body: this.groupView(id, true), headers: this.headersFor(stored, 'Group') };
  }

  getGroup(id: string, query: ListQuery, pre: Preconditions = {}): ServiceResult {
    const rec = this.requireGroup(id);
    if (this.settings.etag && pre.ifNoneMatch !== undefined && isObject(rec.resource.meta) && pre.ifNoneMatch.split(',').map((s) => s.trim()).includes(String(rec.resource.meta.version))) {
      return { status: 304, headers: this.headersFor(rec.resource, 'Group') };
    }
    const view = this.groupView(id, this.wantsAttribute(query, 'members'))!;
    return { status: 200, body: this.project(view, 'Group', query), headers: this.headersFor(rec.resource, 'Group') };
  }

  replaceGroup(id: string, body: unknown, pre: Preconditions = {}): ServiceResult {
    const rec = this.requireGroup(id);
    this.checkPreconditions(rec.resource, pre);
    const { resource, members } = this.readGroup(body);
    this.checkGroupNameFree(resource.displayName as string, id);
    const resolved = this.resolveMembers(members ?? [], id);
    const stored: Obj = { schemas: GROUP_SCHEMAS, id, ...resource, meta: this.meta('Group', id, isObject(rec.resource.meta) ? rec.resource.meta.created : undefined) };
    this.store.putGroup(stored);
    if (this.settings.profile.membersAddOnly) {
      for (const m of resolved) this.store.addMember(id, m);
    } else {
      this.store.setMembers(id, new Map(resolved.map((m) => [m.value, m])));
    }
    return { status: 200, body: this.groupView(id, true), headers: this.headersFor(stored, 'Group') };
  }

  patchGroup(id: string, body: unknown, pre: Preconditions = {}): ServiceResult {
    if (!this.settings.patch) throw new ScimError(501, 'PATCH is not supported by this service provider');
    const rec = this.requireGroup(id);
    this.checkPreconditions(rec.resource, pre);
    const ops = readPatchRequest(body, this.groupSchema);
    const draft = structuredClone(rec.resource);
    const changes = applyPatch(draft, ops, this.patchContext('Group'));
    this.requireString(draft, 'displayName');
    this.checkGroupNameFree(draft.displayName as string, id);

    // Membership changes are computed as an overlay first, so a bad member fails the whole PATCH (atomic).
    let cleared = false;
    const pending = new Map<string, StoredMember | null>();
    const isMember = (v: string): boolean => (pending.has(v) ? pending.get(v) !== null : !cleared && rec.members.has(v));
    for (const change of changes) {
      switch (change.kind) {
        case 'add':
          for (const m of this.resolveMembers(change.members, id)) pending.set(m.value, m);
          break;
        case 'remove':
          for (const v of change.values) pending.set(v, null);
          break;
        case 'clear':
          // DocuWare keeps existing members when a group is "updated"; an explicit remove-all still clears.
          if (this.settings.profile.membersAddOnly && change.byReplace) break;
          cleared = true;
          pending.clear();
          break;
        case 'removeWhere': {
          const candidates = new Set<string>([...(cleared ? [] : rec.members.keys()), ...pending.keys()]);
          for (const v of candidates) {
            if (!isMember(v)) continue;
            const member = pending.get(v) ?? rec.members.get(v)!;
            if (evaluate(change.filter, this.memberView(member), rootScopeFor(this.groupSchema, 'members'))) pending.set(v, null);
          }
          break;
        }
      }
    }

    draft.meta = this.meta('Group', id, isObject(rec.resource.meta) ? rec.resource.meta.created : undefined);
    this.store.putGroup(draft);
    if (cleared) for (const v of [...rec.members.keys()]) if (!pending.has(v)) this.store.removeMember(id, v);
    for (const [v, m] of pending) {
      if (m === null) this.store.removeMember(id, v);
      else this.store.addMember(id, m);
    }
    return this.patchResult(draft, 'Group');
  }

  deleteGroup(id: string, pre: Preconditions = {}): ServiceResult {
    const rec = this.requireGroup(id);
    this.checkPreconditions(rec.resource, pre);
    this.store.deleteGroup(id);
    return { status: 204 };
  }

  private requireGroup(id: string): { resource: Obj; members: Map<string, StoredMember> } {
    const rec = this.store.groups.get(id);
    if (!rec) throw new ScimError(404, `Group ${id} not found`);
    return rec;
  }

  // ---- list --------------------------------------------------------------------------------------

  list(kind: ResourceKind, query: ListQuery): ServiceResult {
    const rs = this.schemaOf(kind);
    const filter = query.filter !== undefined && query.filter !== '' ? parseFilter(query.filter, this.knownUrns(kind)) : undefined;
    if (filter) this.checkFilterSupported(kind, filter);
    const startIndex = parsePositive(query.startIndex, 'startIndex') ?? 1;
    const requested = parsePositive(query.count, 'count', true);
    const count = Math.min(requested ?? this.settings.pageSize, this.settings.maxResults);
    const hideForeign = kind === 'User' && this.settings.profile.hideForeignUsers && this.foreignUsers.size > 0 && query.allDocuWareUsers?.toLowerCase() !== 'true';
    const withMembers = kind === 'Group' && this.wantsAttribute(query, 'members');

    let ids: string[];
    if (!filter && !hideForeign) {
      ids = kind === 'User' ? this.store.userIds() : this.store.groupIds();
    } else {
      const candidates = filter ? (this.indexCandidates(kind, filter) ?? (kind === 'User' ? this.store.userIds() : this.store.groupIds())) : this.store.userIds();
      const scope = rootScope(rs);
      const filterNeedsMembers = filter !== undefined && mentions(filter, kind === 'User' ? 'groups' : 'members');
      ids = [];
      for (const id of candidates) {
        if (hideForeign && this.foreignUsers.has(id)) continue;
        if (filter) {
          const subject = kind === 'User' ? this.store.users.get(id) : this.store.groups.get(id)?.resource;
          if (!subject) continue;
          const view = filterNeedsMembers ? (kind === 'User' ? this.userView(subject) : this.groupView(id, true)!) : subject;
          if (!evaluate(filter, view, scope)) continue;
        }
        ids.push(id);
      }
    }
    const page = ids.slice(startIndex - 1, startIndex - 1 + count);
    const resources = page.map((id) => {
      const view = kind === 'User' ? this.userView(this.store.users.get(id)!) : this.groupView(id, withMembers)!;
      return this.project(view, kind, query);
    });
    return {
      status: 200,
      body: { schemas: [URN.listResponse], totalResults: ids.length, startIndex, itemsPerPage: resources.length, Resources: resources },
    };
  }

  /** Services that only look up by a few attributes (DocuWare) answer anything else with 400 invalidFilter. */
  private checkFilterSupported(kind: ResourceKind, filter: Filter): void {
    const allowed = kind === 'User' ? this.settings.profile.filterableUsers : this.settings.profile.filterableGroups;
    if (!allowed) return;
    const walk = (f: Filter): void => {
      if (f.kind === 'and') {
        walk(f.left);
        walk(f.right);
        return;
      }
      if (f.kind === 'compare' && f.op === 'eq' && f.path.sub === undefined && allowed.has(f.path.attr.toLowerCase())) return;
      throw new ScimError(400, `this service filters ${kind}s only with eq on ${[...allowed].join(', ')}`, 'invalidFilter');
    };
    walk(filter);
  }

  /** Ids an indexed `eq` (or an `and`/`or` of them) can only match; null when the filter needs a scan. */
  private indexCandidates(kind: ResourceKind, filter: Filter): string[] | null {
    const rs = this.schemaOf(kind);
    switch (filter.kind) {
      case 'compare': {
        const p = filter.path;
        if (filter.op !== 'eq' || typeof filter.value !== 'string' || p.sub !== undefined) return null;
        if (p.urn !== undefined && p.urn.toLowerCase() !== rs.core.id.toLowerCase()) return null;
        const attr = p.attr.toLowerCase();
        const v = filter.value;
        if (attr === 'id') return (kind === 'User' ? this.store.users.has(v) : this.store.groups.has(v)) ? [v] : [];
        if (attr === 'externalid') return [...((kind === 'User' ? this.store.userExternalIds : this.store.groupExternalIds).get(v) ?? [])];
        if (kind === 'User' && attr === 'username') return oneOrNone(this.store.userNames.get(v.toLowerCase()));
        if (kind === 'Group' && attr === 'displayname') return oneOrNone(this.store.groupNames.get(v.toLowerCase()));
        return null;
      }
      case 'and': {
        const left = this.indexCandidates(kind, filter.left);
        const right = this.indexCandidates(kind, filter.right);
        if (left && right) return left.length <= right.length ? left : right;
        return left ?? right;
      }
      case 'or': {
        const left = this.indexCandidates(kind, filter.left);
        const right = this.indexCandidates(kind, filter.right);
        return left && right ? [...new Set([...left, ...right])] : null;
      }
      default:
        return null;
    }
  }

  private wantsAttribute(query: ListQuery, attr: string): boolean {
    const lower = attr.toLowerCase();
    const names = (s: string | undefined): string[] => (s ?? '').split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
    if (names(query.excludedAttributes).some((n) => n === lower || n.startsWith(lower + '.'))) return false;
    const attrs = names(query.attributes);
    return attrs.length === 0 || attrs.some((n) => n === lower || n.startsWith(lower + '.') || n.endsWith(':' + lower));
  }

  /** `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5); `id` and `schemas` are always returned. */
  project(view: Obj, kind: ResourceKind, query: Pick<ListQuery, 'attributes' | 'excludedAttributes'>): Obj {
    const urns = this.knownUrns(kind);
    const rs = this.schemaOf(kind);
    const parseList = (s: string | undefined): AttrPath[] =>
      (s ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
        .map((x) => {
          try {
            return parseAttrPath(x, urns);
          } catch {
            throw new ScimError(400, `"${x}" is not an attribute path`, 'invalidValue');
          }
        });
    const include = parseList(query.attributes);
    const exclude = parseList(query.excludedAttributes);
    let out: Obj = view;
    if (include.length > 0) {
      out = { schemas: view.schemas, id: view.id };
      for (const p of include) copyPath(view, out, p, rs);
    }
    if (exclude.length > 0) {
      if (out === view) out = { ...view };
      for (const p of exclude) removePath(out, p, rs);
    }
    return out;
  }
}

function rootScopeFor(rs: ResourceSchema, multiValuedAttr: string): ReturnType<typeof rootScope> {
  // Filters inside `members[…]` name sub-attributes of one member.
  const def = lookupAttribute(rs, undefined, multiValuedAttr);
  return {
    def: (path) => def?.subAttributes?.find((d) => d.name.toLowerCase() === path.attr.toLowerCase()),
    container: (obj, path) => (path.urn === undefined ? obj : undefined),
  };
}

function oneOrNone(id: string | undefined): string[] {
  return id === undefined ? [] : [id];
}

function mentions(filter: Filter, attr: string): boolean {
  switch (filter.kind) {
    case 'and':
    case 'or':
      return mentions(filter.left, attr) || mentions(filter.right, attr);
    case 'not':
      return mentions(filter.filter, attr);
    default:
      return filter.path.attr.toLowerCase() === attr;
  }
}

function parsePositive(raw: string | undefined, name: string, allowZero = false): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new ScimError(400, `${name} must be an integer, got "${raw}"`, 'invalidValue');
  // RFC 7644 §3.4.2.4: values below 1 are treated as 1 (startIndex) or 0 (count).
  if (allowZero) return Math.max(0, n);
  return Math.max(1, n);
}

function containerOf(obj: Obj, p: AttrPath, rs: ResourceSchema): Obj | undefined {
  if (p.urn === undefined || p.urn.toLowerCase() === rs.core.id.toLowerCase()) return obj;
  const ext = rs.extensionByUrn.get(p.urn.toLowerCase());
  const v = ext ? obj[ext.id] : undefined;
  return isObject(v) ? v : undefined;
}

function keyIn(obj: Obj, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === lower);
}

function copyPath(from: Obj, to: Obj, p: AttrPath, rs: ResourceSchema): void {
  const src = containerOf(from, p, rs);
  if (!src) return;
  let dst = to;
  const ext = p.urn !== undefined && p.urn.toLowerCase() !== rs.core.id.toLowerCase() ? rs.extensionByUrn.get(p.urn.toLowerCase()) : undefined;
  if (ext) dst = isObject(to[ext.id]) ? (to[ext.id] as Obj) : (to[ext.id] = {}) as Obj;
  if (p.attr === '' && ext) {
    to[ext.id] = from[ext.id];
    return;
  }
  const key = keyIn(src, p.attr);
  if (key === undefined) return;
  if (p.sub === undefined) {
    dst[key] = src[key];
    return;
  }
  const value = src[key];
  if (Array.isArray(value)) {
    dst[key] = value.map((item) => {
      const subKey = isObject(item) ? keyIn(item, p.sub!) : undefined;
      return subKey === undefined ? {} : { [subKey]: (item as Obj)[subKey] };
    });
  } else if (isObject(value)) {
    const subKey = keyIn(value, p.sub);
    if (subKey !== undefined) dst[key] = { ...(isObject(dst[key]) ? (dst[key] as Obj) : {}), [subKey]: value[subKey] };
  }
}

function removePath(obj: Obj, p: AttrPath, rs: ResourceSchema): void {
  if (p.urn === undefined && ['id', 'schemas'].includes(p.attr.toLowerCase())) return;
  const ext = p.urn !== undefined && p.urn.toLowerCase() !== rs.core.id.toLowerCase() ? rs.extensionByUrn.get(p.urn.toLowerCase()) : undefined;
  if (ext && p.attr === '') {
    delete obj[ext.id];
    return;
  }
  let container: Obj = obj;
  if (ext) {
    if (!isObject(obj[ext.id])) return;
    container = { ...(obj[ext.id] as Obj) };
    obj[ext.id] = container;
  }
  const key = keyIn(container, p.attr);
  if (key === undefined) return;
  if (p.sub === undefined) {
    delete container[key];
    return;
  }
  const value = container[key];
  if (Array.isArray(value)) {
    container[key] = value.map((item) => {
      if (!isObject(item)) return item;
      const copy = { ...item };
      const subKey = keyIn(copy, p.sub!);
      if (subKey !== undefined) delete copy[subKey];
      return copy;
    });
  } else if (isObject(value)) {
    const copy = { ...value };
    const subKey = keyIn(copy, p.sub);
    if (subKey !== undefined) delete copy[subKey];
    container[key] = copy;
  }
}
