// The source store: what the reader has seen in Entra (users, groups, memberships, app role assignments,
// the app's role definitions, delta links), in SQLite. Graph pages are first written to stage tables, one transaction per page, and only
// a completed round is applied to the main tables, together with its delta link, in one transaction. A failed
// or interrupted round therefore leaves the stored state exactly as it was, and memory stays flat however big
// the tenant is. Every applied change that alters what the engine could produce gives the object a new seq
// (see src/source/types.ts), so a crash between read and apply loses nothing.
import type { Db, Migration } from './db.js';
import { migrate } from './db.js';
import type {
  RemovalState,
  SourceAppRole,
  SourceGroupRecord,
  SourceMember,
  SourceStore,
  SourceUserRecord,
} from '../source/types.js';

export const SOURCE_MIGRATIONS: Migration[] = [
  {
    version: 1,
    up: (db) => {
      db.exec(`
        CREATE TABLE source_users (
          id TEXT PRIMARY KEY, upn TEXT, attributes TEXT NOT NULL, removed TEXT,
          assigned INTEGER NOT NULL DEFAULT 0, app_role_ids TEXT NOT NULL DEFAULT '[]', seq INTEGER NOT NULL);
        CREATE INDEX source_users_seq ON source_users(seq);
        CREATE INDEX source_users_upn ON source_users(upn);
        CREATE TABLE source_groups (
          id TEXT PRIMARY KEY, attributes TEXT NOT NULL, removed TEXT,
          assigned INTEGER NOT NULL DEFAULT 0, seq INTEGER NOT NULL);
        CREATE INDEX source_groups_seq ON source_groups(seq);
        CREATE TABLE source_memberships (
          group_id TEXT NOT NULL, member_id TEXT NOT NULL, member_type TEXT NOT NULL,
          PRIMARY KEY (group_id, member_id)) WITHOUT ROWID;
        CREATE INDEX source_memberships_member ON source_memberships(member_id);
        CREATE TABLE source_assignments (
          principal_id TEXT NOT NULL, principal_type TEXT NOT NULL, app_role_id TEXT NOT NULL,
          PRIMARY KEY (principal_id, app_role_id)) WITHOUT ROWID;
        CREATE TABLE source_delta_links (
          kind TEXT PRIMARY KEY, link TEXT NOT NULL, select_signature TEXT NOT NULL, updated_at TEXT NOT NULL);
        CREATE TABLE source_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

        CREATE TABLE source_stage_users (id TEXT PRIMARY KEY, patch TEXT NOT NULL, removed TEXT);
        CREATE TABLE source_stage_groups (id TEXT PRIMARY KEY, patch TEXT NOT NULL, removed TEXT);
        CREATE TABLE source_stage_members (
          group_id TEXT NOT NULL, member_id TEXT NOT NULL, member_type TEXT NOT NULL, removed INTEGER NOT NULL,
          PRIMARY KEY (group_id, member_id)) WITHOUT ROWID;
        CREATE TABLE source_stage_assignments (
          principal_id TEXT NOT NULL, principal_type TEXT NOT NULL, app_role_id TEXT NOT NULL,
          PRIMARY KEY (principal_id, app_role_id)) WITHOUT ROWID;
      `);
    },
  },
  {
    // The enterprise app's role definitions (servicePrincipal.appRoles), replaced on every read.
    version: 2,
    up: (db) => {
      db.exec(`CREATE TABLE source_app_roles (
        id TEXT PRIMARY KEY, value TEXT, display_name TEXT, is_enabled INTEGER NOT NULL) WITHOUT ROWID;`);
    },
  },
  {
    // Whether a delta round has listed the group yet. A group known only from an on-demand read (snapshot)
    // and then seen by an incremental round was created after the stored delta link, so that round lists
    // every member it has now (and nothing about members who came and went): its members are replaced,
    // not merged. Groups already stored came from delta rounds.
    version: 3,
    up: (db) => {
      db.exec('ALTER TABLE source_groups ADD COLUMN delta_seen INTEGER NOT NULL DEFAULT 1');
    },
  },
  {
    // When each staged user was last staged (a counter that only grows): a long users round is applied in
    // chunks as it is read, each chunk being the rows staged since the last one; the stage itself stays
    // whole until the round ends, since a full round's deletions are what it did not list.
    version: 4,
    up: (db) => {
      db.exec(`ALTER TABLE source_stage_users ADD COLUMN staged_n INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX source_stage_users_n ON source_stage_users(staged_n)`);
    },
  },
];

export type DeltaKind = 'users' | 'groups';

/** How a staged round is applied. */
export type ApplyMode =
  /** Incremental delta round: merge properties into the cached objects (absent = unchanged). */
  | 'incremental'
  /** Full round: staged objects are complete; anything not seen is gone (marked 'deleted'). */
  | 'full'
  /** Single objects read on demand: replace the staged objects, leave every other object alone. */
  | 'snapshot';

export interface StagedRound {
  mode: ApplyMode;
  /**
   * Users only: the pages read so far of a round that is still being read. They are applied, and the stage
   * is kept: the round's delta link and (for a full round) its deletions wait for the commit that ends it.
   */
  partial?: boolean;
  /** Stored with the round (not for 'snapshot'). */
  deltaLink?: string;
  /** The query the delta link tracks (e.g. the $select list); a different one forces a full round. */
  selectSignature?: string;
}

export interface CommitInput {
  users?: StagedRound;
  groups?: StagedRound;
  /** The staged assignments are a complete fresh read and replace the stored ones. */
  assignments?: boolean;
  /** The app's role definitions, freshly read in full: they replace the stored ones. */
  appRoles?: SourceAppRole[];
}

export interface CommitSummary {
  usersChanged: number;
  usersRemoved: number;
  groupsChanged: number;
  groupsRemoved: number;
  /** Users whose scope or app roles changed (included in usersChanged). */
  scopeChanges: number;
}

export interface ScopeSettings {
  scope: 'assigned' | 'all';
  flattenNestedGroups: boolean;
}

export interface StagedAssignment {
  principalId: string;
  principalType: 'User' | 'Group';
  appRoleId: string;
}

interface UserRow { id: string; attributes: string; removed: string | null; assigned: number; app_role_ids: string; seq: number }
interface AppRoleRow { id: string; value: string | null; display_name: string | null; is_enabled: number }
interface StagedUserRow { id: string; patch: string; removed: string | null; staged_n: number }
interface GroupRow { id: string; attributes: string; removed: string | null; assigned: number; seq: number; delta_seen: number }

const BATCH = 500;

/** JSON with object keys sorted at every level, so equal objects compare equal whatever the key order. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
    }
    return v;
  });
}

/**
 * Graph item → stored properties. Annotations (`@odata.*`, `x@delta`) are dropped; `manager@delta` becomes a
 * `manager` property holding the manager's id (null once removed), the only navigation users/delta returns.
 */
export function itemProperties(item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) {
    if (key.includes('@')) continue;
    out[key] = value;
  }
  const manager = item['manager@delta'];
  if (Array.isArray(manager) && manager.length > 0) {
    const last = manager[manager.length - 1] as { id?: unknown; '@removed'?: unknown };
    out.manager = last['@removed'] ? null : typeof last.id === 'string' ? last.id : null;
  }
  return out;
}

/** `@removed.reason` → our removal state; an unknown reason is taken as the milder, restorable one. */
export function removalOf(item: Record<string, unknown>): RemovalState {
  const removed = item['@removed'] as { reason?: unknown } | undefined;
  if (!removed) return null;
  return removed.reason === 'deleted' ? 'deleted' : 'changed';
}

export class SourceStoreImpl implements SourceStore {
  private readonly stmt;
  /** Role definitions by id: a handful per app, read into memory so every user record can carry its roles. */
  private roleDefinitions = new Map<string, SourceAppRole>();
  /** Counts every user staged (the stage's `staged_n`); staged rows above `usersAppliedN` are not applied yet. */
  private stagedN = 0;
  private usersAppliedN = 0;
  /** A partial commit has applied part of the users stage (so the rest is what was staged since). */
  private usersPartlyApplied = false;

  constructor(readonly db: Db, private settings: ScopeSettings = { scope: 'assigned', flattenNestedGroups: false }) {
    migrate(db, 'source', SOURCE_MIGRATIONS);
    db.exec(`
      CREATE TEMP TABLE IF NOT EXISTS source_bump_users (n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
      CREATE TEMP TABLE IF NOT EXISTS source_bump_groups (n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
      CREATE TEMP TABLE IF NOT EXISTS source_scope_pairs (user_id TEXT NOT NULL, app_role_id TEXT NOT NULL, PRIMARY KEY (user_id, app_role_id)) WITHOUT ROWID;
      CREATE TEMP TABLE IF NOT EXISTS source_scope_new (user_id TEXT PRIMARY KEY, roles TEXT NOT NULL) WITHOUT ROWID;
      CREATE TEMP TABLE IF NOT EXISTS source_scope_changed (id TEXT PRIMARY KEY) WITHOUT ROWID;
      CREATE TEMP TABLE IF NOT EXISTS source_roles_new (id TEXT PRIMARY KEY, value TEXT, display_name TEXT, is_enabled INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TEMP TABLE IF NOT EXISTS source_roles_changed (id TEXT PRIMARY KEY) WITHOUT ROWID;
    `);
    this.stmt = {
      user: db.prepare<[string], UserRow>('SELECT * FROM source_users WHERE id = ?'),
      userByUpn: db.prepare<[string], UserRow>('SELECT * FROM source_users WHERE upn = ? ORDER BY removed IS NOT NULL, seq DESC LIMIT 1'),
      group: db.prepare<[string], GroupRow>('SELECT * FROM source_groups WHERE id = ?'),
      usersAfterSeq: db.prepare<[number, number], UserRow>('SELECT * FROM source_users WHERE seq > ? ORDER BY seq LIMIT ?'),
      groupsAfterSeq: db.prepare<[number, number], GroupRow>('SELECT * FROM source_groups WHERE seq > ? ORDER BY seq LIMIT ?'),
      usersAfterId: db.prepare<[string, number], UserRow>('SELECT * FROM source_users WHERE id > ? ORDER BY id LIMIT ?'),
      groupsAfterId: db.prepare<[string, number], GroupRow>('SELECT * FROM source_groups WHERE id > ? ORDER BY id LIMIT ?'),
      directMembers: db.prepare<[string], { member_id: string; member_type: string }>('SELECT member_id, member_type FROM source_memberships WHERE group_id = ? ORDER BY member_type DESC, member_id'),
      transitiveUsers: db.prepare<[{ p: string }], { member_id: string }>(`
        WITH RECURSIVE reach(gid) AS (
          SELECT @p
          UNION
          SELECT m.member_id FROM reach r
            JOIN source_memberships m ON m.group_id = r.gid AND m.member_type = 'group'
            JOIN source_groups g ON g.id = m.member_id AND g.removed IS NULL)
        SELECT DISTINCT m.member_id FROM reach r
          JOIN source_memberships m ON m.group_id = r.gid AND m.member_type = 'user' ORDER BY m.member_id`),
      meta: db.prepare<[string], { value: string }>('SELECT value FROM source_meta WHERE key = ?'),
      setMeta: db.prepare('INSERT INTO source_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      stageUserGet: db.prepare<[string], { patch: string; removed: string | null }>('SELECT patch, removed FROM source_stage_users WHERE id = ?'),
      stageUserPut: db.prepare(`INSERT INTO source_stage_users (id, patch, removed, staged_n) VALUES (?, ?, ?, ?)
        ON CONFLICT(id) DO UPDATE SET patch = excluded.patch, removed = excluded.removed, staged_n = excluded.staged_n`),
      stageGroupGet: db.prepare<[string], { patch: string; removed: string | null }>('SELECT patch, removed FROM source_stage_groups WHERE id = ?'),
      stageGroupPut: db.prepare('INSERT INTO source_stage_groups (id, patch, removed) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET patch = excluded.patch, removed = excluded.removed'),
      stageMemberPut: db.prepare('INSERT INTO source_stage_members (group_id, member_id, member_type, removed) VALUES (?, ?, ?, ?) ON CONFLICT(group_id, member_id) DO UPDATE SET member_type = excluded.member_type, removed = excluded.removed'),
      stageAssignmentPut: db.prepare('INSERT OR IGNORE INTO source_stage_assignments (principal_id, principal_type, app_role_id) VALUES (?, ?, ?)'),
      bumpUser: db.prepare('INSERT OR IGNORE INTO source_bump_users (id) VALUES (?)'),
      bumpGroup: db.prepare('INSERT OR IGNORE INTO source_bump_groups (id) VALUES (?)'),
      upsertUser: db.prepare(`INSERT INTO source_users (id, upn, attributes, removed, seq) VALUES (?, ?, ?, ?, 0)
        ON CONFLICT(id) DO UPDATE SET upn = excluded.upn, attributes = excluded.attributes, removed = excluded.removed`),
      setUserRemoved: db.prepare('UPDATE source_users SET removed = ? WHERE id = ?'),
      upsertGroup: db.prepare(`INSERT INTO source_groups (id, attributes, removed, seq, delta_seen) VALUES (?, ?, ?, 0, ?)
        ON CONFLICT(id) DO UPDATE SET attributes = excluded.attributes, removed = excluded.removed,
          delta_seen = MAX(source_groups.delta_seen, excluded.delta_seen)`),
      markGroupDeltaSeen: db.prepare('UPDATE source_groups SET delta_seen = 1 WHERE id = ? AND delta_seen = 0'),
      setGroupRemoved: db.prepare('UPDATE source_groups SET removed = ? WHERE id = ?'),
      addMember: db.prepare('INSERT OR IGNORE INTO source_memberships (group_id, member_id, member_type) VALUES (?, ?, ?)'),
      removeMember: db.prepare('DELETE FROM source_memberships WHERE group_id = ? AND member_id = ?'),
      stagedMembers: db.prepare<[string], { member_id: string; member_type: string; removed: number }>('SELECT member_id, member_type, removed FROM source_stage_members WHERE group_id = ?'),
      replaceMembersDelete: db.prepare(`DELETE FROM source_memberships WHERE group_id = @p
        AND member_id NOT IN (SELECT member_id FROM source_stage_members WHERE group_id = @p AND removed = 0)`),
      replaceMembersInsert: db.prepare(`INSERT OR IGNORE INTO source_memberships (group_id, member_id, member_type)
        SELECT group_id, member_id, member_type FROM source_stage_members WHERE group_id = ? AND removed = 0`),
      dropMembershipsOf: db.prepare('DELETE FROM source_memberships WHERE group_id = @p OR member_id = @p'),
      stageUsersAfter: db.prepare<[string, number], StagedUserRow>('SELECT id, patch, removed, staged_n FROM source_stage_users WHERE id > ? ORDER BY id LIMIT ?'),
      stageUsersStagedAfter: db.prepare<[number, number], StagedUserRow>('SELECT id, patch, removed, staged_n FROM source_stage_users WHERE staged_n > ? ORDER BY staged_n LIMIT ?'),
      stageGroupsAfter: db.prepare<[string, number], { id: string; patch: string; removed: string | null }>('SELECT id, patch, removed FROM source_stage_groups WHERE id > ? ORDER BY id LIMIT ?'),
      deltaLink: db.prepare<[string], { link: string; select_signature: string; updated_at: string }>('SELECT link, select_signature, updated_at FROM source_delta_links WHERE kind = ?'),
      appRoles: db.prepare<[], AppRoleRow>('SELECT id, value, display_name, is_enabled FROM source_app_roles ORDER BY id'),
      stageRole: db.prepare('INSERT OR REPLACE INTO source_roles_new (id, value, display_name, is_enabled) VALUES (?, ?, ?, ?)'),
      setDeltaLink: db.prepare(`INSERT INTO source_delta_links (kind, link, select_signature, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT(kind) DO UPDATE SET link = excluded.link, select_signature = excluded.select_signature, updated_at = excluded.updated_at`),
    };
    this.loadRoleDefinitions();
  }

  /** Scope settings come from configuration; a change takes effect (and bumps seqs) at the next commit. */
  configure(settings: ScopeSettings): void {
    this.settings = { ...settings };
  }

  // ---- SourceStore (read side, used by the engine) ----

  currentSeq(): number {
    return Number(this.stmt.meta.get('seq')?.value ?? 0);
  }

  /** Batches of rows by keyset, so no statement stays open across a yield (the caller may write meanwhile). */
  *changedUsers(sinceSeq: number): IterableIterator<SourceUserRecord> {
    for (let after = sinceSeq; ;) {
      const rows = this.stmt.usersAfterSeq.all(after, BATCH);
      for (const row of rows) yield this.toUser(row);
      if (rows.length < BATCH) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  *changedGroups(sinceSeq: number): IterableIterator<SourceGroupRecord> {
    for (let after = sinceSeq; ;) {
      const rows = this.stmt.groupsAfterSeq.all(after, BATCH);
      for (const row of rows) yield toGroup(row);
      if (rows.length < BATCH) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  *allUsers(): IterableIterator<SourceUserRecord> {
    for (let after = ''; ;) {
      const rows = this.stmt.usersAfterId.all(after, BATCH);
      for (const row of rows) yield this.toUser(row);
      if (rows.length < BATCH) return;
      after = rows[rows.length - 1]!.id;
    }
  }

  *allGroups(): IterableIterator<SourceGroupRecord> {
    for (let after = ''; ;) {
      const rows = this.stmt.groupsAfterId.all(after, BATCH);
      for (const row of rows) yield toGroup(row);
      if (rows.length < BATCH) return;
      after = rows[rows.length - 1]!.id;
    }
  }

  user(id: string): SourceUserRecord | undefined {
    const row = this.stmt.user.get(id);
    return row ? this.toUser(row) : undefined;
  }

  userByPrincipalName(upn: string): SourceUserRecord | undefined {
    const row = this.stmt.userByUpn.get(upn.toLowerCase());
    return row ? this.toUser(row) : undefined;
  }

  group(id: string): SourceGroupRecord | undefined {
    const row = this.stmt.group.get(id);
    return row ? toGroup(row) : undefined;
  }

  /** The app's role definitions as last read, by id. */
  appRoleDefinitions(): SourceAppRole[] {
    return [...this.roleDefinitions.values()];
  }

  appRoles(userId: string): SourceAppRole[] {
    return this.user(userId)?.appRoles ?? [];
  }

  groupMembers(groupId: string, options: { transitive?: boolean } = {}): SourceMember[] {
    if (options.transitive) return this.stmt.transitiveUsers.all({ p: groupId }).map((r) => ({ id: r.member_id, type: 'user' }));
    return this.stmt.directMembers.all(groupId).map((r) => ({ id: r.member_id, type: r.member_type === 'group' ? 'group' : 'user' }));
  }

  // ---- delta links ----

  /** The stored delta link; `updatedAt` (ISO time it was stored) gives the metrics its age. */
  deltaLink(kind: DeltaKind): { link: string; selectSignature: string; updatedAt: string } | undefined {
    const row = this.stmt.deltaLink.get(kind);
    return row ? { link: row.link, selectSignature: row.select_signature, updatedAt: row.updated_at } : undefined;
  }

  /** Forget every delta link: the next read is a full round, which also detects deletions. */
  resetDeltaLinks(): void {
    this.db.prepare('DELETE FROM source_delta_links').run();
  }

  // ---- staging (write side, used by the reader) ----

  /** Empties the stage of the given kinds (an interrupted round leaves leftovers; they are never applied). */
  clearStage(kinds: ('users' | 'groups' | 'assignments')[] = ['users', 'groups', 'assignments']): void {
    this.db.transaction(() => {
      if (kinds.includes('users')) { this.db.exec('DELETE FROM source_stage_users'); this.usersAppliedN = this.stagedN; this.usersPartlyApplied = false; }
      if (kinds.includes('groups')) this.db.exec('DELETE FROM source_stage_groups; DELETE FROM source_stage_members');
      if (kinds.includes('assignments')) this.db.exec('DELETE FROM source_stage_assignments');
    })();
  }

  /** One page of users/delta (or single users read on demand), in one transaction. Later items win. */
  stageUsers(items: Record<string, unknown>[]): void {
    this.db.transaction(() => {
      for (const item of items) {
        const id = item.id as string;
        const removed = removalOf(item);
        const prev = this.stmt.stageUserGet.get(id);
        if (removed) {
          this.stmt.stageUserPut.run(id, prev?.patch ?? '{}', removed, ++this.stagedN);
        } else {
          // The patch accumulates over the round even once a chunk applied it: a full round's object is complete.
          const patch = { ...(prev ? (JSON.parse(prev.patch) as Record<string, unknown>) : {}), ...itemProperties(item) };
          this.stmt.stageUserPut.run(id, JSON.stringify(patch), null, ++this.stagedN);
        }
      }
    })();
  }

  /** One page of groups/delta; `members@delta` slices of the same group accumulate across pages. */
  stageGroups(items: Record<string, unknown>[]): void {
    this.db.transaction(() => {
      for (const item of items) {
        const id = item.id as string;
        const removed = removalOf(item);
        const prev = this.stmt.stageGroupGet.get(id);
        if (removed) {
          this.stmt.stageGroupPut.run(id, prev?.patch ?? '{}', removed);
          continue;
        }
        const patch = { ...(prev ? (JSON.parse(prev.patch) as Record<string, unknown>) : {}), ...itemProperties(item) };
        this.stmt.stageGroupPut.run(id, JSON.stringify(patch), null);
        const members = item['members@delta'];
        if (Array.isArray(members)) {
          for (const m of members as Record<string, unknown>[]) {
            const type = memberType(m['@odata.type']);
            if (!type || typeof m.id !== 'string') continue; // devices, contacts, service principals are not provisioned
            this.stmt.stageMemberPut.run(id, m.id, type, m['@removed'] ? 1 : 0);
          }
        }
      }
    })();
  }

  /** Full member list of one group read on demand (snapshot mode replaces the stored membership). */
  stageGroupMembers(groupId: string, members: SourceMember[]): void {
    this.db.transaction(() => {
      for (const m of members) this.stmt.stageMemberPut.run(groupId, m.id, m.type, 0);
    })();
  }

  stageAssignments(items: StagedAssignment[]): void {
    this.db.transaction(() => {
      for (const a of items) this.stmt.stageAssignmentPut.run(a.principalId, a.principalType, a.appRoleId);
    })();
  }

  /**
   * Applies the staged rounds in one transaction: objects, memberships, assignments, scope, seqs and the
   * delta links all commit together or not at all. Clears the stages it consumed (a partial users commit
   * keeps the users stage for the commit that ends the round).
   */
  commit(input: CommitInput): CommitSummary {
    const partialUsers = input.users?.partial === true;
    const result = this.db.transaction(() => {
      this.db.exec('DELETE FROM source_bump_users; DELETE FROM source_bump_groups');
      const summary: CommitSummary = { usersChanged: 0, usersRemoved: 0, groupsChanged: 0, groupsRemoved: 0, scopeChanges: 0 };
      const now = new Date().toISOString();
      if (input.users) {
        summary.usersRemoved += this.applyUsers(input.users.mode, partialUsers);
        if (!partialUsers) {
          if (input.users.mode !== 'snapshot' && input.users.deltaLink) {
            this.stmt.setDeltaLink.run('users', input.users.deltaLink, input.users.selectSignature ?? '', now);
          }
          this.db.exec('DELETE FROM source_stage_users');
        }
      }
      if (input.groups) {
        summary.groupsRemoved += this.applyGroups(input.groups.mode);
        if (input.groups.mode !== 'snapshot' && input.groups.deltaLink) {
          this.stmt.setDeltaLink.run('groups', input.groups.deltaLink, input.groups.selectSignature ?? '', now);
        }
        this.db.exec('DELETE FROM source_stage_groups; DELETE FROM source_stage_members');
      }
      if (input.assignments) {
        this.db.exec(`DELETE FROM source_assignments;
          INSERT INTO source_assignments SELECT principal_id, principal_type, app_role_id FROM source_stage_assignments;
          DELETE FROM source_stage_assignments`);
      }
      if (input.appRoles) this.replaceRoleDefinitions(input.appRoles);
      // A chunk of users alone (assignments and groups unchanged since the last commit) can change the scope of
      // its own users only.
      summary.scopeChanges = this.recomputeScope(partialUsers && !input.groups && !input.assignments && !input.appRoles);
      const seq = this.currentSeq();
      const u = this.db.prepare(`UPDATE source_users SET seq = @p + (SELECT n FROM source_bump_users b WHERE b.id = source_users.id)
        WHERE id IN (SELECT id FROM source_bump_users)`).run({ p: seq });
      const usersBumped = Number((this.db.prepare('SELECT COALESCE(MAX(n), 0) AS n FROM source_bump_users').get() as { n: number }).n);
      const g = this.db.prepare(`UPDATE source_groups SET seq = @p + (SELECT n FROM source_bump_groups b WHERE b.id = source_groups.id)
        WHERE id IN (SELECT id FROM source_bump_groups)`).run({ p: seq + usersBumped });
      const groupsBumped = Number((this.db.prepare('SELECT COALESCE(MAX(n), 0) AS n FROM source_bump_groups').get() as { n: number }).n);
      summary.usersChanged = u.changes;
      summary.groupsChanged = g.changes;
      this.stmt.setMeta.run('seq', String(seq + usersBumped + groupsBumped));
      return summary;
    })();
    if (input.users) { this.usersAppliedN = this.stagedN; this.usersPartlyApplied = partialUsers; }
    if (input.appRoles) this.loadRoleDefinitions();
    return result;
  }

  /** Users staged (or staged again) since the stage was last applied: what a partial commit would apply now. */
  stagedUsersPending(): number {
    return this.stagedN - this.usersAppliedN;
  }

  /**
   * Replaces the stored role definitions. A role whose value, display name or enabled flag changed (or that
   * appeared or went away) changes what its holders map to, so each holder gets a seq bump.
   */
  private replaceRoleDefinitions(roles: SourceAppRole[]): void {
    const db = this.db;
    db.exec('DELETE FROM source_roles_new; DELETE FROM source_roles_changed');
    for (const r of roles) this.stmt.stageRole.run(r.id, r.value, r.displayName, r.isEnabled ? 1 : 0);
    const columns = 'id, value, display_name, is_enabled';
    db.exec(`INSERT OR IGNORE INTO source_roles_changed SELECT id FROM (
        SELECT ${columns} FROM source_app_roles EXCEPT SELECT ${columns} FROM source_roles_new);
      INSERT OR IGNORE INTO source_roles_changed SELECT id FROM (
        SELECT ${columns} FROM source_roles_new EXCEPT SELECT ${columns} FROM source_app_roles);
      INSERT OR IGNORE INTO source_bump_users (id)
        SELECT DISTINCT u.id FROM source_users u, json_each(u.app_role_ids) j
        WHERE j.value IN (SELECT id FROM source_roles_changed);
      DELETE FROM source_app_roles;
      INSERT INTO source_app_roles (${columns}) SELECT ${columns} FROM source_roles_new;
      DELETE FROM source_roles_new; DELETE FROM source_roles_changed`);
  }

  /**
   * Re-reads the app's role definitions, which every user record carries. For a connection that reads what
   * another one commits (the runtime's, beside the reader's worker thread): after each of its commits.
   */
  reloadRoleDefinitions(): void {
    this.loadRoleDefinitions();
  }

  private loadRoleDefinitions(): void {
    this.roleDefinitions = new Map(this.stmt.appRoles.all().map((r) => [r.id, {
      id: r.id, value: r.value, displayName: r.display_name, isEnabled: r.is_enabled === 1,
    }]));
  }

  private toUser(row: UserRow): SourceUserRecord {
    const record = toUser(row);
    const roles: SourceAppRole[] = [];
    for (const id of record.appRoleIds) {
      const role = this.roleDefinitions.get(id);
      if (role) roles.push(role);
    }
    record.appRoles = roles;
    return record;
  }

  /**
   * Applies the staged users not applied yet (all of them, unless a partial commit of this round came before)
   * and, when a full round ends, marks whoever it did not list as deleted. Returns how many became removed.
   */
  private applyUsers(mode: ApplyMode, partial: boolean): number {
    let removedCount = 0;
    const sinceN = this.usersAppliedN;
    // The whole stage in id order; after a partial commit, the rows staged since, in the order they came.
    const next = (after: StagedUserRow | undefined) => (!this.usersPartlyApplied
      ? this.stmt.stageUsersAfter.all(after?.id ?? '', BATCH)
      : this.stmt.stageUsersStagedAfter.all(after?.staged_n ?? sinceN, BATCH));
    for (let after: StagedUserRow | undefined; ;) {
      const staged = next(after);
      for (const s of staged) {
        const existing = this.stmt.user.get(s.id);
        if (s.removed) {
          // An @removed for an id we never stored (allowed even in the first round) changes nothing.
          if (!existing || existing.removed === s.removed) continue;
          if (existing.removed === null) removedCount++;
          this.stmt.setUserRemoved.run(s.removed, s.id);
          this.stmt.bumpUser.run(s.id);
          continue;
        }
        const patch = JSON.parse(s.patch) as Record<string, unknown>;
        const base = mode === 'incremental' && existing ? (JSON.parse(existing.attributes) as Record<string, unknown>) : {};
        // Graph leaves navigation properties out of plain reads; keep the manager we learnt from delta.
        if (mode === 'snapshot' && existing && !('manager' in patch)) {
          const old = JSON.parse(existing.attributes) as Record<string, unknown>;
          if ('manager' in old) base.manager = old.manager;
        }
        const merged: Record<string, unknown> = { ...base, ...patch, id: s.id };
        const attributes = stableStringify(merged);
        if (existing && existing.attributes === attributes && existing.removed === null) continue; // a replay
        const upn = typeof merged.userPrincipalName === 'string' ? merged.userPrincipalName.toLowerCase() : null;
        this.stmt.upsertUser.run(s.id, upn, attributes, null);
        this.stmt.bumpUser.run(s.id);
      }
      if (staged.length < BATCH) break;
      after = staged[staged.length - 1]!;
    }
    if (mode === 'full' && !partial) {
      // Not in a complete full round = no longer in the directory.
      this.db.exec(`INSERT OR IGNORE INTO source_bump_users (id)
        SELECT id FROM source_users u WHERE (u.removed IS NULL OR u.removed <> 'deleted')
          AND NOT EXISTS (SELECT 1 FROM source_stage_users s WHERE s.id = u.id)`);
      removedCount += this.db.prepare(`UPDATE source_users SET removed = 'deleted'
        WHERE removed IS NULL AND NOT EXISTS (SELECT 1 FROM source_stage_users s WHERE s.id = source_users.id)`).run().changes;
      this.db.exec(`UPDATE source_users SET removed = 'deleted'
        WHERE removed = 'changed' AND NOT EXISTS (SELECT 1 FROM source_stage_users s WHERE s.id = source_users.id)`);
    }
    return removedCount;
  }

  private applyGroups(mode: ApplyMode): number {
    let removedCount = 0;
    for (let after = ''; ;) {
      const staged = this.stmt.stageGroupsAfter.all(after, BATCH);
      for (const s of staged) {
        const existing = this.stmt.group.get(s.id);
        if (s.removed) {
          if (!existing || existing.removed === s.removed) continue;
          if (existing.removed === null) removedCount++;
          this.stmt.setGroupRemoved.run(s.removed, s.id);
          // A hard-deleted group has no members and is nobody's member; a soft-deleted one keeps its links.
          if (s.removed === 'deleted') this.stmt.dropMembershipsOf.run({ p: s.id });
          this.stmt.bumpGroup.run(s.id);
          continue;
        }
        const patch = JSON.parse(s.patch) as Record<string, unknown>;
        const base = mode === 'incremental' && existing ? (JSON.parse(existing.attributes) as Record<string, unknown>) : {};
        const attributes = stableStringify({ ...base, ...patch, id: s.id });
        let changed = !existing || existing.attributes !== attributes || existing.removed !== null;
        const fromDelta = mode === 'snapshot' ? 0 : 1;
        if (changed) this.stmt.upsertGroup.run(s.id, attributes, null, fromDelta);
        else if (fromDelta) this.stmt.markGroupDeltaSeen.run(s.id);
        // An incremental round lists a group it has not listed before with all its current members.
        if (mode === 'incremental' && existing?.delta_seen !== 0) {
          for (const m of this.stmt.stagedMembers.all(s.id)) {
            const r = m.removed ? this.stmt.removeMember.run(s.id, m.member_id) : this.stmt.addMember.run(s.id, m.member_id, m.member_type);
            if (r.changes > 0) changed = true;
          }
        } else {
          // Full and snapshot reads, and an incremental round's first sight of a group, list every member:
          // the staged set replaces the stored one.
          const del = this.stmt.replaceMembersDelete.run({ p: s.id }).changes;
          const ins = this.stmt.replaceMembersInsert.run(s.id).changes;
          if (del + ins > 0) changed = true;
        }
        if (changed) this.stmt.bumpGroup.run(s.id);
      }
      if (staged.length < BATCH) break;
      after = staged[staged.length - 1]!.id;
    }
    if (mode === 'full') {
      this.db.exec(`INSERT OR IGNORE INTO source_bump_groups (id)
        SELECT id FROM source_groups g WHERE (g.removed IS NULL OR g.removed <> 'deleted')
          AND NOT EXISTS (SELECT 1 FROM source_stage_groups s WHERE s.id = g.id)`);
      removedCount += this.db.prepare(`UPDATE source_groups SET removed = 'deleted'
        WHERE removed IS NULL AND NOT EXISTS (SELECT 1 FROM source_stage_groups s WHERE s.id = source_groups.id)`).run().changes;
      this.db.exec(`UPDATE source_groups SET removed = 'deleted'
          WHERE removed = 'changed' AND NOT EXISTS (SELECT 1 FROM source_stage_groups s WHERE s.id = source_groups.id);
        DELETE FROM source_memberships WHERE group_id IN (SELECT id FROM source_groups WHERE removed = 'deleted')
          OR member_id IN (SELECT id FROM source_groups WHERE removed = 'deleted')`);
    }
    return removedCount;
  }

  /**
   * Recomputes `assigned` and `appRoleIds` for every user and `assigned` for every group, in SQL (no tenant in
   * memory), and marks the ones that changed for a seq bump. Returns the number of users whose scope changed.
   * `onlyBumped`: assignments, groups and memberships are as at the last commit, so only the users this
   * commit bumped (a chunk of a users round) can have changed; the rest is not looked at.
   */
  private recomputeScope(onlyBumped = false): number {
    const all = this.settings.scope === 'all' ? 1 : 0;
    const db = this.db;
    const users = onlyBumped ? ' AND m.member_id IN (SELECT id FROM source_bump_users)' : '';
    db.exec('DELETE FROM source_scope_pairs; DELETE FROM source_scope_new; DELETE FROM source_scope_changed');
    db.exec(`INSERT OR IGNORE INTO source_scope_pairs
      SELECT principal_id, app_role_id FROM source_assignments WHERE principal_type = 'User'
      ${onlyBumped ? 'AND principal_id IN (SELECT id FROM source_bump_users)' : ''}`);
    if (this.settings.flattenNestedGroups) {
      // UNION (not UNION ALL) drops rows already reached, so membership cycles terminate.
      db.exec(`WITH RECURSIVE reach(root, gid) AS (
          SELECT DISTINCT a.principal_id, a.principal_id FROM source_assignments a
            LEFT JOIN source_groups g ON g.id = a.principal_id
            WHERE a.principal_type = 'Group' AND g.removed IS NULL
          UNION
          SELECT r.root, m.member_id FROM reach r
            JOIN source_memberships m ON m.group_id = r.gid AND m.member_type = 'group'
            JOIN source_groups g ON g.id = m.member_id AND g.removed IS NULL)
        INSERT OR IGNORE INTO source_scope_pairs
          SELECT m.member_id, a.app_role_id FROM reach r
            JOIN source_assignments a ON a.principal_id = r.root AND a.principal_type = 'Group'
            JOIN source_memberships m ON m.group_id = r.gid AND m.member_type = 'user'${users}`);
    } else {
      // Entra's rule: direct members of an assigned group only.
      db.exec(`INSERT OR IGNORE INTO source_scope_pairs
        SELECT m.member_id, a.app_role_id FROM source_assignments a
          JOIN source_memberships m ON m.group_id = a.principal_id AND m.member_type = 'user'
          LEFT JOIN source_groups g ON g.id = a.principal_id
          WHERE a.principal_type = 'Group' AND g.removed IS NULL${users}`);
    }
    db.exec(`INSERT INTO source_scope_new
      SELECT user_id, json_group_array(app_role_id ORDER BY app_role_id) FROM source_scope_pairs GROUP BY user_id`);
    db.prepare(`INSERT INTO source_scope_changed
      SELECT u.id FROM ${onlyBumped ? 'source_bump_users b JOIN source_users u ON u.id = b.id' : 'source_users u'}
      LEFT JOIN source_scope_new s ON s.user_id = u.id
      WHERE u.assigned <> (CASE WHEN @p = 1 OR s.user_id IS NOT NULL THEN 1 ELSE 0 END)
         OR u.app_role_ids <> COALESCE(s.roles, '[]')`).run({ p: all });
    db.prepare(`UPDATE source_users SET
        assigned = CASE WHEN @p = 1 OR EXISTS (SELECT 1 FROM source_scope_new s WHERE s.user_id = source_users.id) THEN 1 ELSE 0 END,
        app_role_ids = COALESCE((SELECT roles FROM source_scope_new s WHERE s.user_id = source_users.id), '[]')
      WHERE id IN (SELECT id FROM source_scope_changed)`).run({ p: all });
    const scopeChanged = Number((db.prepare('SELECT COUNT(*) AS c FROM source_scope_changed').get() as { c: number }).c);
    db.exec('INSERT OR IGNORE INTO source_bump_users (id) SELECT id FROM source_scope_changed');
    db.exec('DELETE FROM source_scope_changed');
    if (onlyBumped) return scopeChanged;
    db.prepare(`INSERT INTO source_scope_changed
      SELECT g.id FROM source_groups g WHERE g.assigned <> (CASE WHEN @p = 1 OR EXISTS (
        SELECT 1 FROM source_assignments a WHERE a.principal_id = g.id AND a.principal_type = 'Group') THEN 1 ELSE 0 END)`).run({ p: all });
    db.exec(`UPDATE source_groups SET assigned = 1 - assigned WHERE id IN (SELECT id FROM source_scope_changed);
      INSERT OR IGNORE INTO source_bump_groups (id) SELECT id FROM source_scope_changed;
      DELETE FROM source_scope_changed`);
    return scopeChanged;
  }
}

function memberType(odataType: unknown): 'user' | 'group' | undefined {
  if (odataType === '#microsoft.graph.user') return 'user';
  if (odataType === '#microsoft.graph.group') return 'group';
  return undefined;
}

function toUser(row: UserRow): SourceUserRecord {
  return {
    id: row.id,
    attributes: JSON.parse(row.attributes) as Record<string, unknown>,
    removed: row.removed as RemovalState,
    assigned: row.assigned === 1,
    appRoleIds: JSON.parse(row.app_role_ids) as string[],
    seq: row.seq,
  };
}

function toGroup(row: GroupRow): SourceGroupRecord {
  return {
    id: row.id,
    attributes: JSON.parse(row.attributes) as Record<string, unknown>,
    removed: row.removed as RemovalState,
    assigned: row.assigned === 1,
    seq: row.seq,
  };
}
