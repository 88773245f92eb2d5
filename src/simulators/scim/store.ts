// The simulator's in-memory data: users and groups by id, with the indexes that keep create, get-by-id and
// `eq` lookups on userName / externalId / displayName O(1) at 100,000 users, and a reverse membership
// index so a user's `groups` and the clean-up on user deletion never scan every group.

export type Obj = Record<string, unknown>;

/** A member as stored: the referenced id, and the optional type/display the client sent. */
export interface StoredMember {
  value: string;
  type?: string;
  display?: string;
}

/** Groups keep their members in a Map so adding or removing one of 100,000 members is O(1). */
export interface GroupRecord {
  resource: Obj;
  members: Map<string, StoredMember>;
}

function addToSetIndex(index: Map<string, Set<string>>, key: unknown, id: string): void {
  if (typeof key !== 'string') return;
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(id);
}

function removeFromSetIndex(index: Map<string, Set<string>>, key: unknown, id: string): void {
  if (typeof key !== 'string') return;
  const set = index.get(key);
  if (!set) return;
  set.delete(id);
  if (set.size === 0) index.delete(key);
}

const lower = (v: unknown): string | undefined => (typeof v === 'string' ? v.toLowerCase() : undefined);

export class ResourceStore {
  readonly users = new Map<string, Obj>();
  readonly groups = new Map<string, GroupRecord>();
  /** Lower-cased userName → id (userName is unique and caseExact=false). */
  readonly userNames = new Map<string, string>();
  readonly userExternalIds = new Map<string, Set<string>>();
  /** Lower-cased group displayName → id. */
  readonly groupNames = new Map<string, string>();
  readonly groupExternalIds = new Map<string, Set<string>>();
  /** member id (user or group) → ids of groups it is a direct member of. */
  readonly memberOf = new Map<string, Set<string>>();
  private versionCounter = 0;
  private userOrder: string[] | null = null;
  private groupOrder: string[] | null = null;

  nextVersion(): string {
    this.versionCounter++;
    return `W/"${this.versionCounter}"`;
  }

  /** Ids in creation order, cached between inserts/deletes so paging 100,000 users stays cheap. */
  userIds(): string[] {
    return (this.userOrder ??= [...this.users.keys()]);
  }

  groupIds(): string[] {
    return (this.groupOrder ??= [...this.groups.keys()]);
  }

  putUser(user: Obj): void {
    const id = user.id as string;
    const old = this.users.get(id);
    if (old) {
      if (lower(old.userName) !== lower(user.userName)) {
        const key = lower(old.userName);
        if (key !== undefined && this.userNames.get(key) === id) this.userNames.delete(key);
      }
      if (old.externalId !== user.externalId) removeFromSetIndex(this.userExternalIds, old.externalId, id);
    } else {
      // Appending keeps the cached order valid, so creates interleaved with list pages stay O(1).
      this.userOrder?.push(id);
    }
    this.users.set(id, user);
    const key = lower(user.userName);
    if (key !== undefined) this.userNames.set(key, id);
    addToSetIndex(this.userExternalIds, user.externalId, id);
  }

  deleteUser(id: string): boolean {
    const old = this.users.get(id);
    if (!old) return false;
    this.users.delete(id);
    this.userOrder = null;
    const key = lower(old.userName);
    if (key !== undefined && this.userNames.get(key) === id) this.userNames.delete(key);
    removeFromSetIndex(this.userExternalIds, old.externalId, id);
    this.dropFromAllGroups(id);
    return true;
  }

  putGroup(resource: Obj, members?: Map<string, StoredMember>): void {
    const id = resource.id as string;
    const old = this.groups.get(id);
    if (old) {
      if (lower(old.resource.displayName) !== lower(resource.displayName)) {
        const key = lower(old.resource.displayName);
        if (key !== undefined && this.groupNames.get(key) === id) this.groupNames.delete(key);
      }
      if (old.resource.externalId !== resource.externalId) removeFromSetIndex(this.groupExternalIds, old.resource.externalId, id);
      old.resource = resource;
      if (members) this.setMembers(id, members);
    } else {
      this.groupOrder?.push(id);
      this.groups.set(id, { resource, members: new Map() });
      if (members) this.setMembers(id, members);
    }
    const key = lower(resource.displayName);
    if (key !== undefined) this.groupNames.set(key, id);
    addToSetIndex(this.groupExternalIds, resource.externalId, id);
  }

  deleteGroup(id: string): boolean {
    const old = this.groups.get(id);
    if (!old) return false;
    for (const memberId of old.members.keys()) removeFromSetIndex(this.memberOf, memberId, id);
    this.groups.delete(id);
    this.groupOrder = null;
    const key = lower(old.resource.displayName);
    if (key !== undefined && this.groupNames.get(key) === id) this.groupNames.delete(key);
    removeFromSetIndex(this.groupExternalIds, old.resource.externalId, id);
    this.dropFromAllGroups(id);
    return true;
  }

  addMember(groupId: string, member: StoredMember): void {
    const group = this.groups.get(groupId);
    if (!group) return;
    const existing = group.members.get(member.value);
    group.members.set(member.value, existing ? { ...existing, ...member } : member);
    addToSetIndex(this.memberOf, member.value, groupId);
  }

  removeMember(groupId: string, memberId: string): boolean {
    const group = this.groups.get(groupId);
    if (!group || !group.members.delete(memberId)) return false;
    removeFromSetIndex(this.memberOf, memberId, groupId);
    return true;
  }

  setMembers(groupId: string, members: Map<string, StoredMember>): void {
    const group = this.groups.get(groupId);
    if (!group) return;
    for (const memberId of group.members.keys()) if (!members.has(memberId)) removeFromSetIndex(this.memberOf, memberId, groupId);
    group.members = new Map(members);
    for (const memberId of members.keys()) addToSetIndex(this.memberOf, memberId, groupId);
  }

  reset(): void {
    this.users.clear();
    this.groups.clear();
    this.userNames.clear();
    this.userExternalIds.clear();
    this.groupNames.clear();
    this.groupExternalIds.clear();
    this.memberOf.clear();
    this.userOrder = null;
    this.groupOrder = null;
  }

  private dropFromAllGroups(memberId: string): void {
    const groupIds = this.memberOf.get(memberId);
    if (!groupIds) return;
    for (const groupId of groupIds) this.groups.get(groupId)?.members.delete(memberId);
    this.memberOf.delete(memberId);
  }
}
