// The contract between the Graph reader (which fills the source store) and the engine (which reads it).
// The reader streams Graph pages into SQLite; the engine never talks to Graph.
//
// Change tracking: every write that changes what the engine could produce for an object (its attributes,
// its removal, its assignment, a membership of a group it is in) gives that object a new, higher `seq`.
// Each target keeps its own cursor (the highest seq it has fully processed) and asks for
// `changedUsers(cursor)`; it moves the cursor only after it has applied or recorded every change up to
// it. A crash between read and apply therefore loses nothing: the change is still above the cursor.

export type RemovalState = null | 'changed' | 'deleted'; // null = live; 'changed' = soft-deleted; 'deleted' = hard-deleted

/**
 * One app role the enterprise app defines (its service principal's `appRoles`), read each round. Entra's
 * role functions (AppRoleAssignmentsComplex, SingleAppRoleAssignment) turn a user's assignments into these.
 */
export interface SourceAppRole {
  id: string;
  /** What the target receives as the role; null for roles defined without one (never emitted as a role). */
  value: string | null;
  displayName: string | null;
  isEnabled: boolean;
}

export interface SourceUserRecord {
  /** Entra object id. */
  id: string;
  /** The full cached Graph object, every property merged across delta rounds (never a partial delta). */
  attributes: Record<string, unknown>;
  removed: RemovalState;
  /** True when the user is in the app's assignment scope (assigned directly, through a group, or scope `all`). */
  assigned: boolean;
  /** appRoleIds the user holds in the app, directly or through groups (for the AppRoleAssignment functions). */
  appRoleIds: string[];
  /**
   * The definitions behind `appRoleIds`, in the same order, as far as the app defines them: the default-access
   * role (`00000000-…`) and ids the app no longer defines have none. Absent when the store does not read roles.
   */
  appRoles?: SourceAppRole[];
  seq: number;
}

export interface SourceGroupRecord {
  id: string;
  /** displayName, description, mailNickname, … as selected. */
  attributes: Record<string, unknown>;
  removed: RemovalState;
  /** True when the group itself is assigned to the app (only assigned groups are provisioned as groups). */
  assigned: boolean;
  seq: number;
}

export interface SourceMember {
  id: string;
  type: 'user' | 'group';
}

/**
 * A read still under way whose users are being committed in chunks (see ReadOptions.stream): a cycle can
 * apply what is committed while the rest is read.
 */
export interface LiveRead {
  /** 'reading' until the read ends; then 'done' (all of it committed) or 'failed' (the chunks committed stay). */
  readonly state: 'reading' | 'done' | 'failed';
  /** Settles at the next commit or when the read ends, whichever comes first; never rejects. */
  changed(): Promise<void>;
}

export interface SourceStore {
  /** Highest seq written so far (0 for an empty store). */
  currentSeq(): number;
  /** Users whose seq is greater than `sinceSeq`, in seq order, streamed from SQLite. */
  changedUsers(sinceSeq: number): IterableIterator<SourceUserRecord>;
  changedGroups(sinceSeq: number): IterableIterator<SourceGroupRecord>;
  /** Every user / group record (for full comparison, reconcile and resync). */
  allUsers(): IterableIterator<SourceUserRecord>;
  allGroups(): IterableIterator<SourceGroupRecord>;
  user(id: string): SourceUserRecord | undefined;
  userByPrincipalName(upn: string): SourceUserRecord | undefined;
  group(id: string): SourceGroupRecord | undefined;
  /** The app roles a user holds (as in `SourceUserRecord.appRoles`); optional for stores that do not read roles. */
  appRoles?(userId: string): SourceAppRole[];
  /** Members of a group; `transitive` follows nested groups (cycle-safe) and returns users only. */
  groupMembers(groupId: string, options?: { transitive?: boolean }): SourceMember[];
}
