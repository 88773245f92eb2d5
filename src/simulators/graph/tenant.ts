// The simulated Entra tenant: users, groups, memberships and the enterprise app's role assignments, plus the
// change log that users/delta and groups/delta are served from.
//
// Storage is compact and append-only: objects live in arrays in creation order (a purged object stays as a
// tombstone so paging positions never shift), and every mutation appends one ChangeEntry to the kind's log with
// a global, increasing `seq`. Each entry links to the previous entry of the same object and learns the seq of the
// next one, so an incremental round can coalesce an object's changes by walking only those entries: its cost is
// proportional to the changes, not to the tenant. Generated objects are written without log entries.
import { createHash } from 'node:crypto';
import type { SeededRandom } from './random.js';
import type { AppRoleAssignment, GraphGroup, GraphUser } from './types.js';

export type UserState = 'live' | 'softDeleted' | 'purged';

export interface UserEntry {
  kind: 'user';
  data: GraphUser;
  state: UserState;
  last: ChangeEntry | undefined;
}

export interface GroupEntry {
  kind: 'group';
  data: GraphGroup;
  state: 'live' | 'purged';
  last: ChangeEntry | undefined;
  /** Direct members in the order they were added; a removed member leaves `undefined` so positions stay put. */
  members: (string | undefined)[];
  memberIndex: Map<string, number>;
}

export type DirectoryEntry = UserEntry | GroupEntry;

export interface MemberChange {
  id: string;
  type: 'user' | 'group';
  added: boolean;
}

export interface ChangeEntry {
  seq: number;
  target: DirectoryEntry;
  /** Properties this change touched (may include `manager`); empty for membership-only changes and removals. */
  props: readonly string[];
  /** Created or restored: served as the full object even in minimal mode. */
  full: boolean;
  prev: ChangeEntry | undefined;
  /** Seq of the next change to the same object; Infinity while this is its latest. */
  nextSeq: number;
  /** The manager before this change, when `manager` is in `props`. */
  managerBefore?: string | null;
  members?: MemberChange[];
}

interface AssignmentRow {
  id: string;
  principalId: string;
  principalType: AppRoleAssignment['principalType'];
  appRoleId: string;
  createdDateTime: string;
}

/** An error from a tenant mutation: `code` decides the admin API's HTTP status. */
export class SimulatedTenantError extends Error {
  constructor(
    readonly code: 'notFound' | 'badRequest' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'SimulatedTenantError';
  }
}

export const DEFAULT_APP_ROLE_ID = '00000000-0000-0000-0000-000000000000';

const USER_STRING_PROPERTIES = [
  'userPrincipalName',
  'displayName',
  'givenName',
  'surname',
  'mail',
  'mailNickname',
  'jobTitle',
  'department',
  'employeeId',
  'companyName',
  'officeLocation',
  'city',
  'country',
  'usageLocation',
  'preferredLanguage',
  'mobilePhone',
  'createdDateTime',
] as const;

/** Every user property the simulator stores (besides extensions), i.e. what `$select` may name. */
export const USER_PROPERTIES: ReadonlySet<string> = new Set([
  'id',
  ...USER_STRING_PROPERTIES,
  'accountEnabled',
  'businessPhones',
  'userType',
  'manager',
]);

export const GROUP_PROPERTIES: ReadonlySet<string> = new Set([
  'id',
  'displayName',
  'description',
  'mailNickname',
  'mail',
  'mailEnabled',
  'securityEnabled',
  'groupTypes',
  'createdDateTime',
  'members',
]);

export interface SimulatedTenant {
  createUser(init: Partial<GraphUser> & { userPrincipalName: string }): GraphUser;
  /** `null` clears a property; `undefined` leaves it alone. */
  updateUser(id: string, patch: Partial<GraphUser>): GraphUser;
  disableUser(id: string): void;
  softDeleteUser(id: string): void;
  restoreUser(id: string): void;
  hardDeleteUser(id: string): void;
  createGroup(init: { displayName: string; description?: string; mailNickname?: string }): GraphGroup;
  renameGroup(id: string, displayName: string): void;
  deleteGroup(id: string): void;
  addMember(groupId: string, memberId: string): void;
  removeMember(groupId: string, memberId: string): void;
  assign(principalId: string, appRoleId?: string): void;
  unassign(principalId: string): void;
  /** Every outstanding delta/skip token now gets 400 syncStateNotFound. */
  expireDeltaTokens(): void;
  user(id: string): GraphUser | undefined;
  users(): GraphUser[];
  groups(): GraphGroup[];
  assignments(): AppRoleAssignment[];
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

function assignmentId(principalId: string, appRoleId: string, resourceId: string): string {
  // Entra's assignment ids are opaque ~43-character base64url strings, not GUIDs.
  return createHash('sha256').update(`${resourceId}|${principalId}|${appRoleId}`).digest('base64url').slice(0, 43);
}

export interface TenantIdentity {
  servicePrincipalId: string;
  resourceDisplayName: string;
  appRoleIds: Record<string, string>;
}

export class Tenant implements SimulatedTenant {
  /** Highest seq handed out; generated objects are at 0. */
  seq = 0;
  /** Bumped by expireDeltaTokens(): tokens carry the epoch they were issued in. */
  deltaEpoch = 0;
  readonly userList: UserEntry[] = [];
  readonly groupList: GroupEntry[] = [];
  readonly userLog: ChangeEntry[] = [];
  readonly groupLog: ChangeEntry[] = [];
  private readonly byId = new Map<string, DirectoryEntry>();
  private readonly servicePrincipals = new Map<string, string>();
  private readonly assignmentRows: (AssignmentRow | undefined)[] = [];
  private readonly assignmentsByPrincipal = new Map<string, number[]>();
  private liveAssignments = 0;

  constructor(
    readonly identity: TenantIdentity,
    private readonly random: SeededRandom,
    private readonly now: () => Date = () => new Date(),
  ) {}

  // ---- lookups used by the HTTP layer ----------------------------------------------------------------------

  entry(id: string): DirectoryEntry | undefined {
    return this.byId.get(id);
  }

  liveUser(idOrUpn: string): UserEntry | undefined {
    const byId = this.byId.get(idOrUpn);
    if (byId) return byId.kind === 'user' && byId.state === 'live' ? byId : undefined;
    if (!idOrUpn.includes('@')) return undefined;
    const upn = idOrUpn.toLowerCase();
    return this.userList.find((u) => u.state === 'live' && u.data.userPrincipalName.toLowerCase() === upn);
  }

  liveGroup(id: string): GroupEntry | undefined {
    const entry = this.byId.get(id);
    return entry?.kind === 'group' && entry.state === 'live' ? entry : undefined;
  }

  memberType(id: string): 'user' | 'group' | undefined {
    return this.byId.get(id)?.kind;
  }

  get assignmentSlots(): number {
    return this.assignmentRows.length;
  }

  get assignmentCount(): number {
    return this.liveAssignments;
  }

  assignmentAt(position: number): AppRoleAssignment | undefined {
    const row = this.assignmentRows[position];
    return row && this.toAssignment(row);
  }

  // ---- bulk loading for the generator (no change log) -------------------------------------------------------

  seedUser(data: GraphUser): UserEntry {
    const entry: UserEntry = { kind: 'user', data, state: 'live', last: undefined };
    this.userList.push(entry);
    this.byId.set(data.id, entry);
    return entry;
  }

  seedGroup(data: GraphGroup, memberIds: readonly string[]): GroupEntry {
    const entry: GroupEntry = { kind: 'group', data, state: 'live', last: undefined, members: [], memberIndex: new Map() };
    for (const id of memberIds) {
      if (entry.memberIndex.has(id)) continue;
      entry.memberIndex.set(id, entry.members.length);
      entry.members.push(id);
    }
    this.groupList.push(entry);
    this.byId.set(data.id, entry);
    return entry;
  }

  seedServicePrincipal(id: string, displayName: string): void {
    this.servicePrincipals.set(id, displayName);
  }

  seedAssignment(principalId: string, appRoleId: string, createdDateTime: string): void {
    this.addAssignment(principalId, appRoleId, createdDateTime);
  }

  // ---- change log -------------------------------------------------------------------------------------------

  private record(target: DirectoryEntry, props: readonly string[], full: boolean, extra?: Partial<ChangeEntry>): ChangeEntry {
    const entry: ChangeEntry = { seq: ++this.seq, target, props, full, prev: target.last, nextSeq: Infinity, ...extra };
    if (target.last) target.last.nextSeq = entry.seq;
    target.last = entry;
    (target.kind === 'user' ? this.userLog : this.groupLog).push(entry);
    return entry;
  }

  // ---- users ------------------------------------------------------------------------------------------------

  private userEntry(id: string, allowSoftDeleted = false): UserEntry {
    const entry = this.byId.get(id);
    if (entry?.kind !== 'user' || (entry.state === 'softDeleted' && !allowSoftDeleted)) {
      throw new SimulatedTenantError('notFound', `No user with id ${id}`);
    }
    return entry;
  }

  private groupEntry(id: string): GroupEntry {
    const entry = this.byId.get(id);
    if (entry?.kind !== 'group') throw new SimulatedTenantError('notFound', `No group with id ${id}`);
    return entry;
  }

  private assertUniqueUpn(upn: string, exceptId?: string): void {
    const lower = upn.toLowerCase();
    const clash = this.userList.find(
      (u) => u.state !== 'purged' && u.data.id !== exceptId && u.data.userPrincipalName.toLowerCase() === lower,
    );
    if (clash) throw new SimulatedTenantError('conflict', `userPrincipalName ${upn} is already used by ${clash.data.id}`);
  }

  createUser(init: Partial<GraphUser> & { userPrincipalName: string }): GraphUser {
    if (!init.userPrincipalName) throw new SimulatedTenantError('badRequest', 'userPrincipalName is required');
    this.assertUniqueUpn(init.userPrincipalName);
    const id = init.id ?? this.random.guid();
    if (this.byId.has(id)) throw new SimulatedTenantError('conflict', `An object with id ${id} already exists`);
    const guest = init.userPrincipalName.includes('#EXT#');
    const data: GraphUser = {
      id,
      userPrincipalName: init.userPrincipalName,
      displayName: null,
      givenName: null,
      surname: null,
      mail: null,
      mailNickname: null,
      jobTitle: null,
      department: null,
      accountEnabled: true,
      employeeId: null,
      companyName: null,
      officeLocation: null,
      city: null,
      country: null,
      usageLocation: null,
      preferredLanguage: null,
      mobilePhone: null,
      businessPhones: [],
      userType: guest ? 'Guest' : 'Member',
      createdDateTime: this.now().toISOString().replace(/\.\d+Z$/, 'Z'),
      manager: null,
    };
    const entry = this.seedUser(data);
    this.applyUserPatch(entry, { ...init, id: undefined, userPrincipalName: undefined });
    this.record(entry, [], true);
    return { ...data };
  }

  /** Apply a patch to the stored user; returns the properties that really changed. */
  private applyUserPatch(entry: UserEntry, patch: Partial<GraphUser>): { changed: string[]; managerBefore: string | null } {
    const data = entry.data as unknown as Record<string, unknown>;
    const changed: string[] = [];
    const managerBefore = entry.data.manager;
    for (const [key, raw] of Object.entries(patch)) {
      if (raw === undefined) continue;
      if (key === 'id') throw new SimulatedTenantError('badRequest', 'id cannot be changed');
      if (!USER_PROPERTIES.has(key) && !key.startsWith('extension_')) {
        throw new SimulatedTenantError('badRequest', `Unknown user property ${key}`);
      }
      let value: unknown = raw;
      if (key === 'businessPhones') value = raw ?? [];
      else if (key === 'accountEnabled') {
        if (typeof raw !== 'boolean') throw new SimulatedTenantError('badRequest', 'accountEnabled must be true or false');
      } else if (key === 'userType') {
        if (raw !== 'Member' && raw !== 'Guest') throw new SimulatedTenantError('badRequest', 'userType must be Member or Guest');
      } else if (key === 'userPrincipalName') {
        if (typeof raw !== 'string' || raw === '') throw new SimulatedTenantError('badRequest', 'userPrincipalName cannot be cleared');
        this.assertUniqueUpn(raw, entry.data.id);
      } else if (key === 'manager') {
        if (raw !== null) {
          const manager = this.byId.get(String(raw));
          if (manager?.kind !== 'user' || raw === entry.data.id) {
            throw new SimulatedTenantError('badRequest', `manager ${String(raw)} is not another user`);
          }
        }
      }
      const current = data[key] ?? null;
      if (sameValue(current, value)) continue;
      // An unset extension is stored as undefined (not deleted) so the object keeps its shape.
      data[key] = key.startsWith('extension_') && value === null ? undefined : Array.isArray(value) ? [...(value as unknown[])] : value;
      changed.push(key);
    }
    return { changed, managerBefore };
  }

  updateUser(id: string, patch: Partial<GraphUser>): GraphUser {
    const entry = this.userEntry(id);
    const { changed, managerBefore } = this.applyUserPatch(entry, patch);
    if (changed.length > 0) {
      this.record(entry, changed, false, changed.includes('manager') ? { managerBefore } : undefined);
    }
    return { ...entry.data };
  }

  disableUser(id: string): void {
    this.updateUser(id, { accountEnabled: false });
  }

  softDeleteUser(id: string): void {
    const entry = this.userEntry(id);
    entry.state = 'softDeleted';
    // Soft-deleted users keep their memberships and assignments until purged, as in Entra.
    this.record(entry, [], false);
  }

  restoreUser(id: string): void {
    const entry = this.userEntry(id, true);
    if (entry.state !== 'softDeleted') throw new SimulatedTenantError('badRequest', `User ${id} is not soft-deleted`);
    entry.state = 'live';
    this.record(entry, [], true);
  }

  hardDeleteUser(id: string): void {
    const entry = this.userEntry(id, true);
    this.removeFromAllGroups(id);
    this.unassign(id);
    for (const other of this.userList) {
      if (other.state !== 'purged' && other.data.manager === id) {
        other.data.manager = null;
        this.record(other, ['manager'], false, { managerBefore: id });
      }
    }
    entry.state = 'purged';
    this.byId.delete(id);
    this.record(entry, [], false);
  }

  private removeFromAllGroups(memberId: string): void {
    for (const group of this.groupList) {
      if (group.state === 'live' && group.memberIndex.has(memberId)) this.removeMember(group.data.id, memberId);
    }
  }

  // ---- groups -----------------------------------------------------------------------------------------------

  createGroup(init: { displayName: string; description?: string; mailNickname?: string; id?: string }): GraphGroup {
    if (!init.displayName) throw new SimulatedTenantError('badRequest', 'displayName is required');
    const id = init.id ?? this.random.guid();
    if (this.byId.has(id)) throw new SimulatedTenantError('conflict', `An object with id ${id} already exists`);
    const data: GraphGroup = {
      id,
      displayName: init.displayName,
      description: init.description ?? null,
      mailNickname: init.mailNickname ?? mailNicknameFor(init.displayName),
      mail: null,
      mailEnabled: false,
      securityEnabled: true,
      groupTypes: [],
      createdDateTime: this.now().toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    const entry = this.seedGroup(data, []);
    this.record(entry, [], true);
    return { ...data, groupTypes: [...data.groupTypes] };
  }

  renameGroup(id: string, displayName: string): void {
    this.updateGroup(id, { displayName });
  }

  updateGroup(id: string, patch: Partial<Pick<GraphGroup, 'displayName' | 'description' | 'mailNickname'>>): void {
    const entry = this.groupEntry(id);
    const changed: string[] = [];
    for (const key of ['displayName', 'description', 'mailNickname'] as const) {
      const value = patch[key];
      if (value === undefined || entry.data[key] === value) continue;
      if (value === null && key !== 'description') throw new SimulatedTenantError('badRequest', `${key} cannot be cleared`);
      (entry.data as unknown as Record<string, unknown>)[key] = value;
      changed.push(key);
    }
    if (changed.length > 0) this.record(entry, changed, false);
  }

  deleteGroup(id: string): void {
    const entry = this.groupEntry(id);
    this.removeFromAllGroups(id);
    this.unassign(id);
    // Security groups cannot be restored, so Graph reports them with reason `deleted` straight away.
    entry.state = 'purged';
    this.byId.delete(id);
    this.record(entry, [], false);
  }

  addMember(groupId: string, memberId: string): void {
    const group = this.groupEntry(groupId);
    const member = this.byId.get(memberId);
    if (!member) throw new SimulatedTenantError('notFound', `No user or group with id ${memberId}`);
    if (memberId === groupId) throw new SimulatedTenantError('badRequest', 'A group cannot be a member of itself');
    if (group.memberIndex.has(memberId)) return;
    group.memberIndex.set(memberId, group.members.length);
    group.members.push(memberId);
    this.record(group, [], false, { members: [{ id: memberId, type: member.kind, added: true }] });
  }

  removeMember(groupId: string, memberId: string): void {
    const group = this.groupEntry(groupId);
    const position = group.memberIndex.get(memberId);
    if (position === undefined) throw new SimulatedTenantError('notFound', `${memberId} is not a member of ${groupId}`);
    group.members[position] = undefined;
    group.memberIndex.delete(memberId);
    const type = this.byId.get(memberId)?.kind ?? 'user';
    this.record(group, [], false, { members: [{ id: memberId, type, added: false }] });
  }

  // ---- assignments ------------------------------------------------------------------------------------------

  private principalType(principalId: string): AppRoleAssignment['principalType'] {
    const entry = this.byId.get(principalId);
    if (entry?.kind === 'user') return 'User';
    if (entry?.kind === 'group') return 'Group';
    if (this.servicePrincipals.has(principalId)) return 'ServicePrincipal';
    throw new SimulatedTenantError('notFound', `No user, group or service principal with id ${principalId}`);
  }

  private addAssignment(principalId: string, appRoleId: string, createdDateTime: string): void {
    const principalType = this.principalType(principalId);
    const positions = this.assignmentsByPrincipal.get(principalId) ?? [];
    if (positions.some((p) => this.assignmentRows[p]?.appRoleId === appRoleId)) return;
    positions.push(this.assignmentRows.length);
    this.assignmentsByPrincipal.set(principalId, positions);
    this.assignmentRows.push({
      id: assignmentId(principalId, appRoleId, this.identity.servicePrincipalId),
      principalId,
      principalType,
      appRoleId,
      createdDateTime,
    });
    this.liveAssignments++;
  }

  assign(principalId: string, appRoleId: string = this.identity.appRoleIds.default ?? DEFAULT_APP_ROLE_ID): void {
    const known = Object.values(this.identity.appRoleIds);
    if (!known.includes(appRoleId)) throw new SimulatedTenantError('badRequest', `The app defines no role ${appRoleId}`);
    this.addAssignment(principalId, appRoleId, this.now().toISOString().replace('Z', '0000Z'));
  }

  unassign(principalId: string): void {
    for (const position of this.assignmentsByPrincipal.get(principalId) ?? []) {
      if (this.assignmentRows[position]) this.liveAssignments--;
      this.assignmentRows[position] = undefined;
    }
    this.assignmentsByPrincipal.delete(principalId);
  }

  private principalDisplayName(principalId: string): string | null {
    const entry = this.byId.get(principalId);
    if (entry) return entry.data.displayName;
    return this.servicePrincipals.get(principalId) ?? null;
  }

  private toAssignment(row: AssignmentRow): AppRoleAssignment {
    return {
      id: row.id,
      deletedDateTime: null,
      appRoleId: row.appRoleId,
      createdDateTime: row.createdDateTime,
      principalDisplayName: this.principalDisplayName(row.principalId),
      principalId: row.principalId,
      principalType: row.principalType,
      resourceDisplayName: this.identity.resourceDisplayName,
      resourceId: this.identity.servicePrincipalId,
    };
  }

  // ---- misc -------------------------------------------------------------------------------------------------

  expireDeltaTokens(): void {
    this.deltaEpoch++;
  }

  user(id: string): GraphUser | undefined {
    const entry = this.byId.get(id);
    return entry?.kind === 'user' ? { ...entry.data, businessPhones: [...entry.data.businessPhones] } : undefined;
  }

  /** Live and soft-deleted users (not purged ones). */
  users(): GraphUser[] {
    return this.userList.filter((u) => u.state !== 'purged').map((u) => ({ ...u.data, businessPhones: [...u.data.businessPhones] }));
  }

  groups(): GraphGroup[] {
    return this.groupList.filter((g) => g.state === 'live').map((g) => ({ ...g.data, groupTypes: [...g.data.groupTypes] }));
  }

  /** Direct member ids of a group, in the order they were added. */
  members(groupId: string): string[] {
    return this.groupEntry(groupId).members.filter((m): m is string => m !== undefined);
  }

  /** True for a soft-deleted (restorable) user. */
  isSoftDeleted(id: string): boolean {
    const entry = this.byId.get(id);
    return entry?.kind === 'user' && entry.state === 'softDeleted';
  }

  assignments(): AppRoleAssignment[] {
    return this.assignmentRows.filter((r): r is AssignmentRow => r !== undefined).map((r) => this.toAssignment(r));
  }
}

export function mailNicknameFor(displayName: string): string {
  const ascii = displayName
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase();
  return ascii || 'group';
}
