// The one interface every target implements (SCIM, REST). The engine never knows which one it talks to.
//
// Attributes are keyed by *target attribute path* exactly as written in a mapping:
//   `userName`, `active`, `name.givenName`, `emails[type eq "work"].value`,
//   `urn:ietf:params:scim:schemas:extension:document360:2.0:User:isTeamAccount`, `members` is not used here.
// Values are already typed by the mapping (string, boolean, number, ISO date string, or a reference id).
// Connectors translate paths to their wire format (SCIM resources and PATCH ops, REST body templates).
//
// Pacing (concurrency cap, requests per second, Retry-After) lives inside the connector: the engine may
// call concurrently and the connector decides when each request leaves. In dry-run mode the connector's
// HTTP layer refuses every mutating request (throws TargetError kind 'dryRun').

export type ObjectType = 'user' | 'group';

export type TargetAttributes = Record<string, unknown>;

export interface TargetObject {
  id: string;
  /** The object's current values, keyed by the same paths as the mapping (only the paths the connector could read). */
  attributes: TargetAttributes;
  /** Present when the server supports ETags. */
  etag?: string;
}

export interface AttributeChange {
  path: string;
  before: unknown;
  /** `null` or `undefined` means: remove the value on the target. */
  after: unknown;
}

export interface MatchCriterion {
  /** Target attribute path, e.g. `userName` or `externalId`. */
  path: string;
  value: string | number | boolean;
}

export interface TargetCapabilities {
  patch: boolean;
  bulk: { supported: boolean; maxOperations: number; maxPayloadSize: number };
  filter: { supported: boolean; maxResults: number };
  etag: boolean;
  /** Whether `list()` can page through all objects (for building a bulk match index). */
  list: boolean;
}

export interface ConnectionReport {
  ok: boolean;
  /** Human-readable lines: endpoint reached, auth accepted, capabilities discovered. */
  details: string[];
}

/** One mutating operation for `bulk()`: the connector may send it in a /Bulk batch or one by one. */
export type BulkOperation =
  | { op: 'create'; type: ObjectType; ref: string; attributes: TargetAttributes }
  | { op: 'update'; type: ObjectType; ref: string; id: string; changes: AttributeChange[]; desired: TargetAttributes }
  | { op: 'delete'; type: ObjectType; ref: string; id: string };

export type BulkResult =
  | { ref: string; ok: true; object?: TargetObject }
  | { ref: string; ok: false; error: TargetError };

export interface TargetConnector {
  readonly name: string;
  readonly kind: 'scim' | 'rest';
  testConnection(): Promise<ConnectionReport>;
  capabilities(): Promise<TargetCapabilities>;

  /** Look up one object by a matching attribute; null when nothing matches. Several matches → TargetError 'conflict'. */
  find(type: ObjectType, match: MatchCriterion): Promise<TargetObject | null>;
  /** Page through every object of a type (excluding group members). Only when capabilities().list. */
  list(type: ObjectType): AsyncIterable<TargetObject>;
  /** Read one object by target id; null when it is gone (404). */
  get(type: ObjectType, id: string): Promise<TargetObject | null>;

  create(type: ObjectType, attributes: TargetAttributes): Promise<TargetObject>;
  /** Field-level update: only `changes` are sent (PATCH), or the whole `desired` object where PATCH is unsupported (PUT). */
  update(type: ObjectType, id: string, changes: AttributeChange[], desired: TargetAttributes): Promise<void>;
  /** Disable (active=false) or enable a user. */
  setActive(id: string, active: boolean): Promise<void>;
  delete(type: ObjectType, id: string): Promise<void>;

  /** Member ids are target ids. Sent in chunks; never a remove-all. */
  addMembers(groupId: string, memberIds: string[]): Promise<void>;
  removeMembers(groupId: string, memberIds: string[]): Promise<void>;
  /** Current member ids of a target group (for reconcile). */
  listMembers(groupId: string): Promise<string[]>;

  /** Several creates/updates/deletes at once; uses /Bulk where advertised. One result per operation, in any order. */
  bulk(operations: BulkOperation[]): Promise<BulkResult[]>;

  close(): Promise<void>;
}

/**
 * What happened, classified by what the engine should do next (authentik's taxonomy):
 * transient → retry later; notFound → recreate or unlink; conflict → look up and adopt;
 * badRequest → record on the object and go on; unauthorized → quarantine the target; dryRun → a bug upstream;
 * bug → an exception nobody classified (a TypeError, a programming error): logged loudly with its stack,
 * retried once at the next cycle, then parked (docs/state.md).
 */
export type TargetErrorKind = 'transient' | 'notFound' | 'conflict' | 'badRequest' | 'unauthorized' | 'dryRun' | 'bug';

export class TargetError extends Error {
  readonly kind: TargetErrorKind;
  readonly status: number | undefined;
  readonly scimType: string | undefined;
  readonly target: string;
  readonly request: string | undefined;

  constructor(init: {
    kind: TargetErrorKind;
    message: string;
    target: string;
    status?: number;
    scimType?: string;
    /** `METHOD path` without query secrets, e.g. `PATCH /Users/123`. */
    request?: string;
    cause?: unknown;
  }) {
    super(init.message, { cause: init.cause });
    this.name = 'TargetError';
    this.kind = init.kind;
    this.status = init.status;
    this.scimType = init.scimType;
    this.target = init.target;
    this.request = init.request;
  }
}

/**
 * Any exception as a TargetError: a TargetError as it is; a network or system fault (an error carrying a
 * string `code` such as ECONNRESET or SQLITE_BUSY, here or in its causes, or a timeout/abort) as 'transient';
 * anything else — a TypeError, a plain Error from our own code — as 'bug'.
 */
export function toTargetError(err: unknown, target: string): TargetError {
  if (err instanceof TargetError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TargetError({ kind: isEnvironmentFault(err) ? 'transient' : 'bug', message, target, cause: err });
}

function isEnvironmentFault(err: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e !== null && typeof e === 'object' && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const { code, name } = e as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && code !== '') return true;
    if (name === 'AbortError' || name === 'TimeoutError') return true;
  }
  return false;
}

/**
 * Runs bulk operations one by one, all at once: the connector's HTTP layer paces them. For connectors (or
 * servers) without a batch endpoint. An unexpected exception becomes that operation's failure (`toTargetError`).
 */
export function bulkOneByOne(
  connector: Pick<TargetConnector, 'name' | 'create' | 'update' | 'delete'>,
  operations: BulkOperation[],
): Promise<BulkResult[]> {
  return Promise.all(
    operations.map(async (op): Promise<BulkResult> => {
      try {
        if (op.op === 'create') return { ref: op.ref, ok: true, object: await connector.create(op.type, op.attributes) };
        if (op.op === 'update') await connector.update(op.type, op.id, op.changes, op.desired);
        else await connector.delete(op.type, op.id);
        return { ref: op.ref, ok: true };
      } catch (err) {
        return { ref: op.ref, ok: false, error: toTargetError(err, connector.name) };
      }
    }),
  );
}
