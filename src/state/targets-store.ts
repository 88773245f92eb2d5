// Per-target state: what each target holds (links), how far it has read the source (cursor), what is in
// flight (journal), what failed and when to retry it, what the deletion threshold held back (staged),
// saved plans, runs, the provisioning log, quarantine and the lease that keeps two processes apart.
// Every table is keyed by target name, so one source read serves several targets independently.
// Nothing secret is ever written here: operations carry mapped attributes, never connector credentials, and
// values that went through Redact() are stored as hash markers only (every operation is sealed on the way in).
import { createHash, randomUUID } from 'node:crypto';
import type { Link, LinkStatus, PlannedOperation, ProvisioningAction, ProvisioningLogEntry } from '../engine/types.js';
import type { ObjectType, TargetAttributes } from '../targets/connector.js';
import { sealOperation } from '../engine/redaction.js';
import { migrate, type Db, type Migration } from './db.js';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: (db) => {
      db.exec(`
        CREATE TABLE target_links (
          target TEXT NOT NULL, type TEXT NOT NULL, source_id TEXT NOT NULL, target_id TEXT NOT NULL,
          status TEXT NOT NULL, written TEXT NOT NULL, hash TEXT NOT NULL, members TEXT, updated_at TEXT NOT NULL,
          PRIMARY KEY (target, type, source_id));
        CREATE INDEX target_links_by_target_id ON target_links (target, type, target_id);
        CREATE TABLE target_cursors (
          target TEXT PRIMARY KEY, seq INTEGER NOT NULL DEFAULT 0, links_version INTEGER NOT NULL DEFAULT 0,
          updated_at TEXT NOT NULL);
        CREATE TABLE target_journal (
          id TEXT PRIMARY KEY, target TEXT NOT NULL, run_id TEXT NOT NULL, type TEXT NOT NULL, source_id TEXT NOT NULL,
          kind TEXT NOT NULL, operation TEXT NOT NULL, state TEXT NOT NULL, result TEXT,
          created_at TEXT NOT NULL, finished_at TEXT);
        CREATE INDEX target_journal_pending ON target_journal (target, state);
        CREATE TABLE target_failures (
          target TEXT NOT NULL, type TEXT NOT NULL, source_id TEXT NOT NULL, attempts INTEGER NOT NULL,
          first_failed_at TEXT NOT NULL, last_failed_at TEXT NOT NULL, next_retry_at TEXT NOT NULL,
          code TEXT NOT NULL, message TEXT NOT NULL, counts_for_quarantine INTEGER NOT NULL DEFAULT 1,
          PRIMARY KEY (target, type, source_id));
        CREATE INDEX target_failures_due ON target_failures (target, next_retry_at);
        CREATE TABLE target_staged (
          target TEXT NOT NULL, type TEXT NOT NULL, source_id TEXT NOT NULL, run_id TEXT NOT NULL,
          operation TEXT NOT NULL, created_at TEXT NOT NULL,
          PRIMARY KEY (target, type, source_id));
        CREATE TABLE target_deferred_members (
          target TEXT NOT NULL, group_source_id TEXT NOT NULL, member_source_id TEXT NOT NULL,
          PRIMARY KEY (target, group_source_id, member_source_id));
        CREATE INDEX target_deferred_by_member ON target_deferred_members (target, member_source_id);
        CREATE TABLE target_plans (
          id TEXT PRIMARY KEY, target TEXT NOT NULL, created_at TEXT NOT NULL, source_seq INTEGER NOT NULL,
          cursor_seq INTEGER NOT NULL, links_version INTEGER NOT NULL, full_cycle INTEGER NOT NULL,
          operations TEXT NOT NULL, staged TEXT NOT NULL, diff TEXT NOT NULL, status TEXT NOT NULL, applied_at TEXT);
        CREATE TABLE target_runs (
          id TEXT PRIMARY KEY, target TEXT NOT NULL, kind TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT,
          status TEXT NOT NULL, summary TEXT);
        CREATE INDEX target_runs_by_target ON target_runs (target, started_at);
        CREATE TABLE target_log (
          id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, target TEXT NOT NULL, type TEXT NOT NULL,
          source_id TEXT NOT NULL, target_id TEXT, action TEXT NOT NULL, status TEXT NOT NULL, at TEXT NOT NULL,
          entry TEXT NOT NULL);
        CREATE INDEX target_log_by_source ON target_log (target, source_id);
        CREATE INDEX target_log_by_target_id ON target_log (target, target_id);
        CREATE INDEX target_log_by_run ON target_log (run_id);
        CREATE TABLE target_quarantine (
          target TEXT PRIMARY KEY, reason TEXT NOT NULL, message TEXT NOT NULL, series_began TEXT NOT NULL,
          current_began TEXT NOT NULL, next_attempt TEXT NOT NULL, series_count INTEGER NOT NULL);
        CREATE TABLE target_leases (
          target TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at TEXT NOT NULL);
      `);
    },
  },
  {
    // Objects written without a reference (manager) because the referenced object had no link yet.
    version: 2,
    up: (db) => {
      db.exec(`
        CREATE TABLE target_pending_references (
          target TEXT NOT NULL, type TEXT NOT NULL, source_id TEXT NOT NULL, path TEXT NOT NULL, referenced_id TEXT NOT NULL,
          PRIMARY KEY (target, type, source_id, path));
        CREATE INDEX target_pending_by_referenced ON target_pending_references (target, referenced_id);
      `);
    },
  },
  {
    // One index entry less per logged object: lookups by target id are rare (an admin's query) and scan
    // instead; the log is read by source id (one object's history) and by run. Journal entries now end by
    // removal, so finished ones that earlier versions left (they pruned them at the end of each run) go.
    version: 3,
    up: (db) => {
      db.exec(`DROP INDEX IF EXISTS target_log_by_target_id;
        DELETE FROM target_journal WHERE state != 'pending'`);
    },
  },
];

/** A stable hash of written attributes: keys sorted at every level, so field order never matters. */
export function attributesHash(attributes: TargetAttributes): string {
  return createHash('sha256').update(stableStringify(attributes)).digest('hex').slice(0, 32);
}

function stableStringify(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj).sort().filter((k) => obj[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stableStringify(obj[k])}`).join(',')}}`;
}

export type JournalState = 'pending' | 'done' | 'failed';

export interface JournalEntry {
  id: string;
  target: string;
  runId: string;
  operation: PlannedOperation;
  state: JournalState;
  result: unknown;
  createdAt: string;
}

export interface FailureRecord {
  target: string;
  type: ObjectType;
  sourceId: string;
  attempts: number;
  firstFailedAt: string;
  lastFailedAt: string;
  nextRetryAt: string;
  code: string;
  message: string;
  /** Member-reference failures are kept but, as in Entra, not counted toward quarantine. */
  countsForQuarantine: boolean;
}

export interface StagedOperation {
  target: string;
  runId: string;
  operation: PlannedOperation;
  createdAt: string;
}

export interface SavedPlan {
  id: string;
  target: string;
  createdAt: string;
  /** SourceStore seq the plan was built up to; applying it moves the cursor here. */
  sourceSeq: number;
  /** The target cursor when the plan was built. */
  cursorSeq: number;
  /** The target's links version when the plan was built: any link write since then makes the plan stale. */
  linksVersion: number;
  full: boolean;
  operations: PlannedOperation[];
  staged: PlannedOperation[];
  diff: string;
  status: 'pending' | 'applied' | 'refused';
  appliedAt: string | null;
}

/**
 * `interrupted`: the process running it ended before it finished (killed, crashed); found by the next holder of the state lock.
 * `aborted`: stopped by its signal (the daemon's shutdown) after finishing what it had sent; the cursor stayed.
 */
export type RunStatus = 'running' | 'success' | 'partial' | 'failed' | 'quarantined' | 'skipped' | 'interrupted' | 'aborted';

export interface RunRecord {
  id: string;
  target: string;
  kind: string;
  startedAt: string;
  endedAt: string | null;
  status: RunStatus;
  summary: unknown;
}

export interface QuarantineState {
  target: string;
  /** Entra's reasons where they fit: EncounteredQuarantineException, EncounteredEscrowProportionThreshold … */
  reason: string;
  message: string;
  seriesBegan: string;
  currentBegan: string;
  nextAttempt: string;
  seriesCount: number;
}

export interface LogQuery {
  target?: string;
  sourceId?: string;
  targetId?: string;
  runId?: string;
  action?: ProvisioningAction;
  limit?: number;
}

interface LinkRow {
  target: string; type: ObjectType; source_id: string; target_id: string; status: LinkStatus;
  written: string; hash: string; members: string | null; updated_at: string;
}

function rowToLink(row: LinkRow): Link {
  const link: Link = {
    target: row.target, type: row.type, sourceId: row.source_id, targetId: row.target_id, status: row.status,
    written: JSON.parse(row.written) as TargetAttributes, hash: row.hash, updatedAt: row.updated_at,
  };
  if (row.members !== null) link.members = JSON.parse(row.members) as string[];
  return link;
}

interface LogRow {
  run_id: string; target: string; type: ObjectType; source_id: string; target_id: string | null;
  action: ProvisioningLogEntry['action']; status: ProvisioningLogEntry['status']; at: string; entry: string;
}

interface FailureRow {
  target: string; type: ObjectType; source_id: string; attempts: number; first_failed_at: string; last_failed_at: string;
  next_retry_at: string; code: string; message: string; counts_for_quarantine: number;
}

function rowToFailure(r: FailureRow): FailureRecord {
  return {
    target: r.target, type: r.type, sourceId: r.source_id, attempts: r.attempts, firstFailedAt: r.first_failed_at,
    lastFailedAt: r.last_failed_at, nextRetryAt: r.next_retry_at, code: r.code, message: r.message,
    countsForQuarantine: r.counts_for_quarantine === 1,
  };
}

const HOUR = 3_600_000;
/** Entra's escrow schedule: 6 h, 12 h, 24 h, then every 24 h (the last step repeats). */
export const ENTRA_RETRY_SCHEDULE_MS: readonly number[] = [6 * HOUR, 12 * HOUR, 24 * HOUR];

/** The state of every target in one SQLite file. Synchronous (better-sqlite3): each call is one statement or one transaction. */
export class TargetsStore {
  readonly db: Db;
  private readonly s;
  private journalSeq = 0;

  constructor(db: Db) {
    this.db = db;
    migrate(db, 'targets', MIGRATIONS);
    this.s = {
      link: db.prepare('SELECT * FROM target_links WHERE target = ? AND type = ? AND source_id = ?'),
      memberRef: db.prepare('SELECT type, target_id, status FROM target_links WHERE target = ? AND type = ? AND source_id = ?'),
      linkByTargetId: db.prepare('SELECT * FROM target_links WHERE target = ? AND type = ? AND target_id = ?'),
      putLink: db.prepare(`INSERT INTO target_links (target, type, source_id, target_id, status, written, hash, members, updated_at)
        VALUES (@target, @type, @sourceId, @targetId, @status, @written, @hash, @members, @updatedAt)
        ON CONFLICT (target, type, source_id) DO UPDATE SET target_id = excluded.target_id, status = excluded.status,
        written = excluded.written, hash = excluded.hash, members = excluded.members, updated_at = excluded.updated_at`),
      deleteLink: db.prepare('DELETE FROM target_links WHERE target = ? AND type = ? AND source_id = ?'),
      countLinks: db.prepare("SELECT count(*) AS n FROM target_links WHERE target = ? AND status != 'deleted'"),
      countLinksByType: db.prepare("SELECT count(*) AS n FROM target_links WHERE target = ? AND type = ? AND status != 'deleted'"),
      linksOf: db.prepare('SELECT * FROM target_links WHERE target = ? AND type = ? ORDER BY source_id'),
      linksPage: db.prepare('SELECT * FROM target_links WHERE target = ? AND type = ? AND source_id > ? ORDER BY source_id LIMIT ?'),
      ensureCursor: db.prepare("INSERT INTO target_cursors (target, seq, links_version, updated_at) VALUES (?, 0, 0, ?) ON CONFLICT (target) DO NOTHING"),
      cursor: db.prepare('SELECT seq, links_version FROM target_cursors WHERE target = ?'),
      setCursor: db.prepare('UPDATE target_cursors SET seq = ?, updated_at = ? WHERE target = ?'),
      bumpLinks: db.prepare('UPDATE target_cursors SET links_version = links_version + 1 WHERE target = ?'),
      journalBegin: db.prepare(`INSERT INTO target_journal (id, target, run_id, type, source_id, kind, operation, state, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)`),
      journalEnd: db.prepare('DELETE FROM target_journal WHERE id = ?'),
      journalDiscard: db.prepare("DELETE FROM target_journal WHERE id = ? AND state = 'pending'"),
      journalPending: db.prepare("SELECT * FROM target_journal WHERE target = ? AND state = 'pending' ORDER BY created_at, rowid"),
      journalGet: db.prepare('SELECT * FROM target_journal WHERE id = ?'),
      failure: db.prepare('SELECT * FROM target_failures WHERE target = ? AND type = ? AND source_id = ?'),
      putFailure: db.prepare(`INSERT INTO target_failures (target, type, source_id, attempts, first_failed_at, last_failed_at, next_retry_at, code, message, counts_for_quarantine)
        VALUES (@target, @type, @sourceId, @attempts, @firstFailedAt, @lastFailedAt, @nextRetryAt, @code, @message, @countsForQuarantine)
        ON CONFLICT (target, type, source_id) DO UPDATE SET attempts = excluded.attempts, last_failed_at = excluded.last_failed_at,
        next_retry_at = excluded.next_retry_at, code = excluded.code, message = excluded.message, counts_for_quarantine = excluded.counts_for_quarantine`),
      clearFailure: db.prepare('DELETE FROM target_failures WHERE target = ? AND type = ? AND source_id = ?'),
      dueFailures: db.prepare('SELECT * FROM target_failures WHERE target = ? AND next_retry_at <= ? ORDER BY next_retry_at'),
      failures: db.prepare('SELECT * FROM target_failures WHERE target = ? ORDER BY type, source_id'),
      clearFailures: db.prepare('DELETE FROM target_failures WHERE target = ?'),
      retryFailuresNow: db.prepare('UPDATE target_failures SET next_retry_at = ? WHERE target = ?'),
      putStaged: db.prepare(`INSERT INTO target_staged (target, type, source_id, run_id, operation, created_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (target, type, source_id) DO UPDATE SET run_id = excluded.run_id, operation = excluded.operation, created_at = excluded.created_at`),
      dropStaged: db.prepare('DELETE FROM target_staged WHERE target = ? AND type = ? AND source_id = ?'),
      staged: db.prepare('SELECT * FROM target_staged WHERE target = ? ORDER BY created_at, type, source_id'),
      clearStaged: db.prepare('DELETE FROM target_staged WHERE target = ?'),
      putDeferred: db.prepare('INSERT OR IGNORE INTO target_deferred_members (target, group_source_id, member_source_id) VALUES (?, ?, ?)'),
      clearDeferredGroup: db.prepare('DELETE FROM target_deferred_members WHERE target = ? AND group_source_id = ?'),
      dropDeferred: db.prepare('DELETE FROM target_deferred_members WHERE target = ? AND group_source_id = ? AND member_source_id = ?'),
      // The member may be a user or a nested group: naming both types lets each probe use the primary key.
      deferredReady: db.prepare(`SELECT d.group_source_id AS g, d.member_source_id AS m FROM target_deferred_members d
        WHERE d.target = ? AND EXISTS (SELECT 1 FROM target_links l WHERE l.target = d.target AND l.type IN ('user', 'group')
          AND l.source_id = d.member_source_id AND l.status = 'active')
        ORDER BY d.group_source_id`),
      deferredCount: db.prepare('SELECT count(*) AS n FROM target_deferred_members WHERE target = ?'),
      deferredOfGroup: db.prepare('SELECT member_source_id AS m FROM target_deferred_members WHERE target = ? AND group_source_id = ? ORDER BY member_source_id'),
      clearPendingRefs: db.prepare('DELETE FROM target_pending_references WHERE target = ? AND type = ? AND source_id = ?'),
      putPendingRef: db.prepare('INSERT OR REPLACE INTO target_pending_references (target, type, source_id, path, referenced_id) VALUES (?, ?, ?, ?, ?)'),
      pendingRefs: db.prepare('SELECT path, referenced_id AS r FROM target_pending_references WHERE target = ? AND type = ? AND source_id = ? ORDER BY path'),
      pendingRefHolders: db.prepare('SELECT DISTINCT source_id AS id FROM target_pending_references WHERE target = ? AND type = ?'),
      // Holders that are on the target and wait for a reference whose own (user) link now exists.
      pendingRefsReady: db.prepare(`SELECT DISTINCT p.source_id AS id FROM target_pending_references p
        JOIN target_links holder ON holder.target = p.target AND holder.type = p.type AND holder.source_id = p.source_id AND holder.status != 'deleted'
        JOIN target_links ref ON ref.target = p.target AND ref.type = 'user' AND ref.source_id = p.referenced_id AND ref.status != 'deleted'
        WHERE p.target = ? AND p.type = ? ORDER BY p.source_id`),
      putPlan: db.prepare(`INSERT INTO target_plans (id, target, created_at, source_seq, cursor_seq, links_version, full_cycle, operations, staged, diff, status)
        VALUES (@id, @target, @createdAt, @sourceSeq, @cursorSeq, @linksVersion, @full, @operations, @staged, @diff, 'pending')`),
      plan: db.prepare('SELECT * FROM target_plans WHERE id = ?'),
      plans: db.prepare('SELECT * FROM target_plans WHERE target = ? ORDER BY created_at DESC'),
      setPlanStatus: db.prepare('UPDATE target_plans SET status = ?, applied_at = ? WHERE id = ?'),
      startRun: db.prepare("INSERT INTO target_runs (id, target, kind, started_at, status) VALUES (?, ?, ?, ?, 'running')"),
      endRun: db.prepare('UPDATE target_runs SET ended_at = ?, status = ?, summary = ? WHERE id = ?'),
      runningRuns: db.prepare("SELECT * FROM target_runs WHERE status = 'running' ORDER BY started_at, rowid"),
      run: db.prepare('SELECT * FROM target_runs WHERE id = ?'),
      runs: db.prepare('SELECT * FROM target_runs WHERE target = ? ORDER BY started_at DESC, rowid DESC LIMIT ?'),
      putLog: db.prepare(`INSERT INTO target_log (run_id, target, type, source_id, target_id, action, status, at, entry)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      quarantine: db.prepare('SELECT * FROM target_quarantine WHERE target = ?'),
      putQuarantine: db.prepare(`INSERT INTO target_quarantine (target, reason, message, series_began, current_began, next_attempt, series_count)
        VALUES (@target, @reason, @message, @seriesBegan, @currentBegan, @nextAttempt, @seriesCount)
        ON CONFLICT (target) DO UPDATE SET reason = excluded.reason, message = excluded.message, current_began = excluded.current_began,
        next_attempt = excluded.next_attempt, series_count = excluded.series_count`),
      clearQuarantine: db.prepare('DELETE FROM target_quarantine WHERE target = ?'),
      lease: db.prepare('SELECT * FROM target_leases WHERE target = ?'),
      putLease: db.prepare('INSERT INTO target_leases (target, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (target) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at'),
      releaseLease: db.prepare('DELETE FROM target_leases WHERE target = ? AND holder = ?'),
    };
  }

  /** Runs `fn` in one SQLite transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /**
   * A few statements that belong together, for the hot per-object writes: inside a caller's transaction
   * they simply join it (a savepoint per link write costs more than the write; a failure still rolls back
   * the caller's whole transaction), alone they get their own.
   */
  private atomically(fn: () => void): void {
    if (this.db.inTransaction) fn();
    else this.transaction(fn);
  }

  // ── links ────────────────────────────────────────────────────────────────────────────────────────

  link(target: string, type: ObjectType, sourceId: string): Link | undefined {
    const row = this.s.link.get(target, type, sourceId) as LinkRow | undefined;
    return row && rowToLink(row);
  }

  linkByTargetId(target: string, type: ObjectType, targetId: string): Link | undefined {
    const row = this.s.linkByTargetId.get(target, type, targetId) as LinkRow | undefined;
    return row && rowToLink(row);
  }

  /**
   * A member source id may be a user or a nested group; users win if both exist. Two primary-key lookups:
   * a query on (target, source_id) alone cannot use the (target, type, source_id) key and scans every link.
   */
  linkOfMember(target: string, sourceId: string): Pick<Link, 'type' | 'targetId' | 'status'> | undefined {
    // Only what a member reference needs: no JSON of written attributes to parse for each of a group's members.
    const row = (this.s.memberRef.get(target, 'user', sourceId) ?? this.s.memberRef.get(target, 'group', sourceId)) as
      | { type: ObjectType; target_id: string; status: LinkStatus } | undefined;
    return row && { type: row.type, targetId: row.target_id, status: row.status };
  }

  /** Writes a link; `hash` is computed from `written`. Every link write moves the target's links version. */
  putLink(link: Omit<Link, 'hash' | 'updatedAt'> & { updatedAt?: string }): Link {
    const full: Link = { ...link, hash: attributesHash(link.written), updatedAt: link.updatedAt ?? new Date().toISOString() };
    this.atomically(() => {
      this.ensureTarget(link.target);
      this.s.putLink.run({
        target: full.target, type: full.type, sourceId: full.sourceId, targetId: full.targetId, status: full.status,
        written: JSON.stringify(full.written), hash: full.hash, members: full.members ? JSON.stringify(full.members) : null,
        updatedAt: full.updatedAt,
      });
      this.s.bumpLinks.run(link.target);
    });
    return full;
  }

  deleteLink(target: string, type: ObjectType, sourceId: string): void {
    this.atomically(() => {
      this.ensureTarget(target);
      if (this.s.deleteLink.run(target, type, sourceId).changes > 0) this.s.bumpLinks.run(target);
    });
  }

  /** Linked objects that still exist on the target (status active or disabled): the base of the threshold percent. */
  linkedCount(target: string, type?: ObjectType): number {
    const row = (type ? this.s.countLinksByType.get(target, type) : this.s.countLinks.get(target)) as { n: number };
    return row.n;
  }

  *links(target: string, type: ObjectType): IterableIterator<Link> {
    for (const row of this.s.linksOf.iterate(target, type) as IterableIterator<LinkRow>) yield rowToLink(row);
  }

  /** One page of links in source-id order (keyset paging), so callers can await between pages without holding a statement open. */
  linksPage(target: string, type: ObjectType, afterSourceId: string, limit: number): Link[] {
    return (this.s.linksPage.all(target, type, afterSourceId, limit) as LinkRow[]).map(rowToLink);
  }

  /** Whether some linked object of the target was written with attribute `path` = `value` (for uniqueness checks). */
  writtenValueExists(target: string, type: ObjectType, path: string, value: string): boolean {
    // json_each rather than a JSON path: target paths contain quotes and brackets that JSON paths cannot escape.
    const row = this.db.prepare(`SELECT 1 FROM target_links l, json_each(l.written) j
      WHERE l.target = ? AND l.type = ? AND j.key = ? AND j.value = ? LIMIT 1`).get(target, type, path, value);
    return row !== undefined;
  }

  // ── cursor and links version ─────────────────────────────────────────────────────────────────────

  private ensureTarget(target: string): void {
    this.s.ensureCursor.run(target, new Date().toISOString());
  }

  /** The highest SourceStore seq this target has fully processed. */
  cursor(target: string): number {
    const row = this.s.cursor.get(target) as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  setCursor(target: string, seq: number): void {
    this.transaction(() => {
      this.ensureTarget(target);
      this.s.setCursor.run(seq, new Date().toISOString(), target);
    });
  }

  /** Grows by one with every link write: a saved plan built at version N is stale once this is not N. */
  linksVersion(target: string): number {
    const row = this.s.cursor.get(target) as { links_version: number } | undefined;
    return row?.links_version ?? 0;
  }

  // ── operation journal ───────────────────────────────────────────────────────────────────────────

  /** Records an operation as pending BEFORE it is sent; returns its operation id. */
  journalBegin(target: string, runId: string, operation: PlannedOperation, now = new Date()): string {
    // Ids that grow with time: each new entry lands at the end of the primary-key index instead of on a
    // random page of it (a random UUID made every journal write dirty one more index page).
    const id = `${Date.now().toString(36).padStart(9, '0')}-${(this.journalSeq++ % 1_679_616).toString(36).padStart(4, '0')}-${randomUUID().slice(0, 8)}`;
    this.s.journalBegin.run(id, target, runId, operation.type, operation.sourceId, operation.kind, JSON.stringify(sealOperation(operation)), now.toISOString());
    return id;
  }

  /**
   * Ends an entry once its result is recorded (in the same transaction as the link, the failure and the
   * provisioning-log entry, which keep the outcome). The entry is removed rather than marked: the journal
   * then only ever holds the operations in flight, a few pages that stay in cache, instead of growing by
   * one row per operation until the end of the cycle.
   */
  journalEnd(id: string): void {
    this.s.journalEnd.run(id);
  }

  /** Forgets a pending entry whose operation was never sent (journalled ahead, then the cycle stopped). */
  journalDiscard(id: string): void {
    this.s.journalDiscard.run(id);
  }

  journalEntry(id: string): JournalEntry | undefined {
    const row = this.s.journalGet.get(id) as JournalRow | undefined;
    return row && rowToJournal(row);
  }

  /** Operations that were sent (or about to be) when the process stopped. */
  pendingOperations(target: string): JournalEntry[] {
    return (this.s.journalPending.all(target) as JournalRow[]).map(rowToJournal);
  }

  // ── failures and retries ─────────────────────────────────────────────────────────────────────────

  failure(target: string, type: ObjectType, sourceId: string): FailureRecord | undefined {
    const row = this.s.failure.get(target, type, sourceId) as FailureRow | undefined;
    return row && rowToFailure(row);
  }

  /**
   * Records one more failed attempt; the next retry follows `scheduleMs` (the last step repeats).
   * `retryAt` overrides the schedule (e.g. "next cycle" for a member reference or an unsent operation).
   */
  recordFailure(init: {
    target: string; type: ObjectType; sourceId: string; code: string; message: string; now: Date;
    scheduleMs?: readonly number[]; retryAt?: Date; countsForQuarantine?: boolean;
  }): FailureRecord {
    const previous = this.failure(init.target, init.type, init.sourceId);
    const attempts = (previous?.attempts ?? 0) + 1;
    const schedule = init.scheduleMs ?? ENTRA_RETRY_SCHEDULE_MS;
    const delay = schedule.length === 0 ? 0 : schedule[Math.min(attempts - 1, schedule.length - 1)]!;
    const record: FailureRecord = {
      target: init.target, type: init.type, sourceId: init.sourceId, attempts,
      firstFailedAt: previous?.firstFailedAt ?? init.now.toISOString(), lastFailedAt: init.now.toISOString(),
      nextRetryAt: (init.retryAt ?? new Date(init.now.getTime() + delay)).toISOString(),
      code: init.code, message: init.message, countsForQuarantine: init.countsForQuarantine ?? true,
    };
    this.s.putFailure.run({ ...record, countsForQuarantine: record.countsForQuarantine ? 1 : 0 });
    return record;
  }

  clearFailure(target: string, type: ObjectType, sourceId: string): void {
    this.s.clearFailure.run(target, type, sourceId);
  }

  /** Failed objects whose next retry is due: they join the next cycle even if the cursor has passed them. */
  dueFailures(target: string, now: Date): FailureRecord[] {
    return (this.s.dueFailures.all(target, now.toISOString()) as FailureRow[]).map(rowToFailure);
  }

  failures(target: string): FailureRecord[] {
    return (this.s.failures.all(target) as FailureRow[]).map(rowToFailure);
  }

  /** Makes every failed object of the target due for retry at `now` (`resume`); returns how many. */
  retryFailuresNow(target: string, now: Date): number {
    return this.s.retryFailuresNow.run(now.toISOString(), target).changes;
  }

  /** Stop retrying (Entra's restart with `Escrows`). */
  clearFailures(target: string): void {
    this.s.clearFailures.run(target);
  }

  // ── deferred group members ──────────────────────────────────────────────────────────────────────

  /** Replaces the deferred members of a group: members not yet provisioned, added once their link exists. */
  setDeferredMembers(target: string, groupSourceId: string, memberSourceIds: readonly string[]): void {
    this.transaction(() => {
      this.s.clearDeferredGroup.run(target, groupSourceId);
      for (const m of memberSourceIds) this.s.putDeferred.run(target, groupSourceId, m);
    });
  }

  addDeferredMembers(target: string, groupSourceId: string, memberSourceIds: readonly string[]): void {
    this.transaction(() => { for (const m of memberSourceIds) this.s.putDeferred.run(target, groupSourceId, m); });
  }

  dropDeferredMembers(target: string, groupSourceId: string, memberSourceIds: readonly string[]): void {
    this.transaction(() => { for (const m of memberSourceIds) this.s.dropDeferred.run(target, groupSourceId, m); });
  }

  /** Deferred members whose own link now exists, grouped by group source id. */
  readyDeferredMembers(target: string): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const row of this.s.deferredReady.iterate(target) as IterableIterator<{ g: string; m: string }>) {
      const list = out.get(row.g) ?? [];
      list.push(row.m);
      out.set(row.g, list);
    }
    return out;
  }

  deferredMemberCount(target: string): number {
    return (this.s.deferredCount.get(target) as { n: number }).n;
  }

  /** Members of one group waiting for their own link (they are wanted in the group, just not on the target yet). */
  deferredMembersOf(target: string, groupSourceId: string): string[] {
    return (this.s.deferredOfGroup.all(target, groupSourceId) as { m: string }[]).map((r) => r.m);
  }

  // ── pending references (manager back-fill) ───────────────────────────────────────────────────

  /**
   * Replaces the references an object could not resolve when it was last planned (path → referenced source
   * id). An empty record forgets them. The cycle re-plans the object once the referenced object is linked.
   */
  setPendingReferences(target: string, type: ObjectType, sourceId: string, references: Readonly<Record<string, string>>): void {
    this.transaction(() => {
      this.s.clearPendingRefs.run(target, type, sourceId);
      for (const [path, referenced] of Object.entries(references)) this.s.putPendingRef.run(target, type, sourceId, path, referenced);
    });
  }

  pendingReferences(target: string, type: ObjectType, sourceId: string): Record<string, string> {
    return Object.fromEntries((this.s.pendingRefs.all(target, type, sourceId) as { path: string; r: string }[]).map((row) => [row.path, row.r]));
  }

  /** Source ids of objects with unresolved references (a cycle loads them once to know whom to forget). */
  pendingReferenceHolders(target: string, type: ObjectType): Set<string> {
    return new Set((this.s.pendingRefHolders.all(target, type) as { id: string }[]).map((r) => r.id));
  }

  /** Linked objects waiting for a reference whose referenced object is now linked: due for re-planning. */
  readyPendingReferences(target: string, type: ObjectType): string[] {
    return (this.s.pendingRefsReady.all(target, type) as { id: string }[]).map((r) => r.id);
  }

  // ── staged operations (deletion threshold) ──────────────────────────────────────────────────────

  /** Holds a disable/delete back until an admin approves; one staged operation per object (the newest wins). */
  stage(target: string, runId: string, operation: PlannedOperation, now = new Date()): void {
    this.s.putStaged.run(target, operation.type, operation.sourceId, runId, JSON.stringify(sealOperation(operation)), now.toISOString());
  }

  /** A newer plan for the object supersedes whatever was staged for it. */
  unstage(target: string, type: ObjectType, sourceId: string): void {
    this.s.dropStaged.run(target, type, sourceId);
  }

  staged(target: string): StagedOperation[] {
    return (this.s.staged.all(target) as { target: string; run_id: string; operation: string; created_at: string }[]).map((r) => ({
      target: r.target, runId: r.run_id, operation: JSON.parse(r.operation) as PlannedOperation, createdAt: r.created_at,
    }));
  }

  /** Releases every staged operation of the target (they are returned for applying and removed). */
  approve(target: string): PlannedOperation[] {
    return this.transaction(() => {
      const ops = this.staged(target).map((s) => s.operation);
      this.s.clearStaged.run(target);
      return ops;
    });
  }

  /** Drops every staged operation of the target; returns how many were dropped. */
  reject(target: string): PlannedOperation[] {
    return this.transaction(() => {
      const ops = this.staged(target).map((s) => s.operation);
      this.s.clearStaged.run(target);
      return ops;
    });
  }

  // ── saved plans ────────────────────────────────────────────────────────────────────────────────

  savePlan(plan: Omit<SavedPlan, 'id' | 'createdAt' | 'status' | 'appliedAt'> & { id?: string; createdAt?: string }): SavedPlan {
    const saved: SavedPlan = {
      ...plan, id: plan.id ?? randomUUID().slice(0, 8), createdAt: plan.createdAt ?? new Date().toISOString(), status: 'pending', appliedAt: null,
      operations: plan.operations.map(sealOperation), staged: plan.staged.map(sealOperation),
    };
    this.s.putPlan.run({
      id: saved.id, target: saved.target, createdAt: saved.createdAt, sourceSeq: saved.sourceSeq, cursorSeq: saved.cursorSeq,
      linksVersion: saved.linksVersion, full: saved.full ? 1 : 0, operations: JSON.stringify(saved.operations),
      staged: JSON.stringify(saved.staged), diff: saved.diff,
    });
    return saved;
  }

  plan(id: string): SavedPlan | undefined {
    const row = this.s.plan.get(id) as PlanRow | undefined;
    return row && rowToPlan(row);
  }

  plans(target: string): SavedPlan[] {
    return (this.s.plans.all(target) as PlanRow[]).map(rowToPlan);
  }

  setPlanStatus(id: string, status: SavedPlan['status'], now = new Date()): void {
    this.s.setPlanStatus.run(status, status === 'applied' ? now.toISOString() : null, id);
  }

  // ── runs ───────────────────────────────────────────────────────────────────────────────────────

  startRun(target: string, kind: string, now = new Date(), id: string = randomUUID()): string {
    this.s.startRun.run(id, target, kind, now.toISOString());
    return id;
  }

  endRun(id: string, status: Exclude<RunStatus, 'running'>, summary: unknown, now = new Date()): void {
    this.s.endRun.run(now.toISOString(), status, JSON.stringify(summary), id);
  }

  /**
   * What a process that ended without finishing left behind: its runs still marked running become interrupted
   * and every target lease is released. Only for the holder of the state lock, just after taking it: no other
   * process may write the state then, so whatever is running or leased belongs to one that is gone.
   */
  interruptAbandoned(reason: string, now = new Date()): { runs: RunRecord[]; leases: number } {
    return this.transaction(() => {
      const runs = (this.s.runningRuns.all() as RunRow[]).map(rowToRun);
      for (const r of runs) this.s.endRun.run(now.toISOString(), 'interrupted', JSON.stringify({ interrupted: reason }), r.id);
      const leases = this.db.prepare('DELETE FROM target_leases').run().changes;
      return { runs: runs.map((r) => ({ ...r, status: 'interrupted' as const, endedAt: now.toISOString(), summary: { interrupted: reason } })), leases };
    });
  }

  run(id: string): RunRecord | undefined {
    const row = this.s.run.get(id) as RunRow | undefined;
    return row && rowToRun(row);
  }

  runs(target: string, limit = 20): RunRecord[] {
    return (this.s.runs.all(target, limit) as RunRow[]).map(rowToRun);
  }

  // ── provisioning log ───────────────────────────────────────────────────────────────────────────

  /** Writes one entry; what has a column of its own is not repeated in the entry's JSON. */
  log(entry: ProvisioningLogEntry): void {
    const { runId, target, type, sourceId, targetId, action, status, at, ...rest } = entry;
    this.s.putLog.run(runId, target, type, sourceId, targetId, action, status, at, JSON.stringify(rest));
  }

  /** Newest first. Filter by source id, target id, run, action. */
  logEntries(query: LogQuery = {}): ProvisioningLogEntry[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (query.target !== undefined) { where.push('target = ?'); args.push(query.target); }
    if (query.sourceId !== undefined) { where.push('source_id = ?'); args.push(query.sourceId); }
    if (query.targetId !== undefined) { where.push('target_id = ?'); args.push(query.targetId); }
    if (query.runId !== undefined) { where.push('run_id = ?'); args.push(query.runId); }
    if (query.action !== undefined) { where.push('action = ?'); args.push(query.action); }
    const sql = `SELECT run_id, target, type, source_id, target_id, action, status, at, entry FROM target_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    args.push(query.limit ?? 1000);
    return (this.db.prepare(sql).all(...args) as LogRow[]).map((r) => ({
      ...(JSON.parse(r.entry) as Pick<ProvisioningLogEntry, 'displayName' | 'steps' | 'modifiedProperties' | 'error'>),
      runId: r.run_id, target: r.target, type: r.type, sourceId: r.source_id, targetId: r.target_id, action: r.action, status: r.status, at: r.at,
    }));
  }

  // ── quarantine ─────────────────────────────────────────────────────────────────────────────────

  quarantine(target: string): QuarantineState | undefined {
    const r = this.s.quarantine.get(target) as
      | { target: string; reason: string; message: string; series_began: string; current_began: string; next_attempt: string; series_count: number }
      | undefined;
    return r && {
      target: r.target, reason: r.reason, message: r.message, seriesBegan: r.series_began, currentBegan: r.current_began,
      nextAttempt: r.next_attempt, seriesCount: r.series_count,
    };
  }

  /**
   * Puts the target in quarantine (or extends it): the next attempt backs off along `backoffMs`
   * (the last step repeats), as Entra reduces a quarantined job to once a day.
   */
  enterQuarantine(target: string, reason: string, message: string, now: Date, backoffMs: readonly number[]): QuarantineState {
    const previous = this.quarantine(target);
    const seriesCount = (previous?.seriesCount ?? 0) + 1;
    const delay = backoffMs.length === 0 ? 0 : backoffMs[Math.min(seriesCount - 1, backoffMs.length - 1)]!;
    const state: QuarantineState = {
      target, reason, message, seriesBegan: previous?.seriesBegan ?? now.toISOString(), currentBegan: now.toISOString(),
      nextAttempt: new Date(now.getTime() + delay).toISOString(), seriesCount,
    };
    this.s.putQuarantine.run(state);
    return state;
  }

  clearQuarantine(target: string): void {
    this.s.clearQuarantine.run(target);
  }

  // ── lease ──────────────────────────────────────────────────────────────────────────────────────

  /** Takes the target's lease if it is free, expired, or already ours. Returns whether we hold it now. */
  acquireLease(target: string, holder: string, ttlMs: number, now = new Date()): boolean {
    return this.db.transaction(() => {
      const row = this.s.lease.get(target) as { holder: string; expires_at: string } | undefined;
      if (row && row.holder !== holder && new Date(row.expires_at).getTime() > now.getTime()) return false;
      this.s.putLease.run(target, holder, new Date(now.getTime() + ttlMs).toISOString());
      return true;
    }).immediate();
  }

  /** Extends our lease; false if someone else holds it (ours expired and was taken). */
  renewLease(target: string, holder: string, ttlMs: number, now = new Date()): boolean {
    return this.db.transaction(() => {
      const row = this.s.lease.get(target) as { holder: string; expires_at: string } | undefined;
      if (!row || row.holder !== holder) return false;
      this.s.putLease.run(target, holder, new Date(now.getTime() + ttlMs).toISOString());
      return true;
    }).immediate();
  }

  releaseLease(target: string, holder: string): void {
    this.s.releaseLease.run(target, holder);
  }

  leaseHolder(target: string, now = new Date()): string | undefined {
    const row = this.s.lease.get(target) as { holder: string; expires_at: string } | undefined;
    return row && new Date(row.expires_at).getTime() > now.getTime() ? row.holder : undefined;
  }
}

interface JournalRow {
  id: string; target: string; run_id: string; operation: string; state: JournalState; result: string | null; created_at: string;
}

function rowToJournal(r: JournalRow): JournalEntry {
  return {
    id: r.id, target: r.target, runId: r.run_id, operation: JSON.parse(r.operation) as PlannedOperation, state: r.state,
    result: r.result === null ? null : (JSON.parse(r.result) as unknown), createdAt: r.created_at,
  };
}

interface PlanRow {
  id: string; target: string; created_at: string; source_seq: number; cursor_seq: number; links_version: number; full_cycle: number;
  operations: string; staged: string; diff: string; status: SavedPlan['status']; applied_at: string | null;
}

function rowToPlan(r: PlanRow): SavedPlan {
  return {
    id: r.id, target: r.target, createdAt: r.created_at, sourceSeq: r.source_seq, cursorSeq: r.cursor_seq, linksVersion: r.links_version,
    full: r.full_cycle === 1, operations: JSON.parse(r.operations) as PlannedOperation[], staged: JSON.parse(r.staged) as PlannedOperation[],
    diff: r.diff, status: r.status, appliedAt: r.applied_at,
  };
}

interface RunRow { id: string; target: string; kind: string; started_at: string; ended_at: string | null; status: RunStatus; summary: string | null }

function rowToRun(r: RunRow): RunRecord {
  return {
    id: r.id, target: r.target, kind: r.kind, startedAt: r.started_at, endedAt: r.ended_at, status: r.status,
    summary: r.summary === null ? null : (JSON.parse(r.summary) as unknown),
  };
}
