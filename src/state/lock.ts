// One writer per state: a lock on the state file and its source file, held for a command's or the daemon's
// whole life. It is a row in a small SQLite file beside the state file (`entra-sync.lock.db` beside
// `entra-sync.db`, 0600), taken in a BEGIN IMMEDIATE transaction, so two processes started in the same instant
// are ordered by SQLite and exactly one of them finds the row free.
//
// The row says who holds it: host, pid, the process's start time, command, since when, a heartbeat, and the
// daemon's HTTP address once it listens (the CLI finds a running daemon from it). A holder on this host whose
// pid is gone, or whose pid now belongs to a process started at another time (PID 1 in a restarted container),
// is dead and taken over at once. A holder on another host is judged by its heartbeat alone.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { EntraSyncError } from '../errors.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { SqliteDatabase } from './db.js';

/** Who holds the state lock, as recorded in its row. */
export interface StateLockHolder {
  host: string;
  pid: number;
  /** When the holding process started (ISO), as that process computed it. */
  processStartedAt: string;
  /** The command holding it: sync, resync, plan … or run (the daemon). */
  command: string;
  acquiredAt: string;
  /** Renewed every few seconds while the holder runs; other hosts judge the holder by it alone. */
  heartbeatAt: string;
  /** The daemon's HTTP address, once its listener is up (null for commands and for a daemon without `http`). */
  http: string | null;
}

export interface StateLockStatus {
  holder: StateLockHolder;
  /** False when the holder is known dead (its process is gone) or, on another host, its heartbeat is stale. */
  alive: boolean;
}

export interface AcquireStateLockOptions {
  /** What takes the lock (shown to whoever finds it taken). */
  command: string;
  /** How long to wait for a live holder: 0 (default) refuses at once, Infinity waits for ever. */
  waitSeconds?: number;
  logger?: Logger;
  /** How often the heartbeat is renewed (default 10 s). */
  heartbeatMs?: number;
  /** A holder on another host whose heartbeat is older than this is dead (default 60 s). */
  staleAfterMs?: number;
}

export interface StateLock {
  /** The lock file; undefined for an in-memory state (nothing to share, nothing locked). */
  readonly file: string | undefined;
  readonly holder: StateLockHolder;
  /** The dead holder this lock was taken over from, if it was. */
  readonly tookOverFrom: StateLockHolder | null;
  /** True once the heartbeat found the row taken by someone else: stop writing. */
  readonly lost: boolean;
  onLost(callback: (by: StateLockHolder | null) => void): void;
  /** Records the daemon's HTTP address (null: none) so the CLI can reach it. */
  setHttp(url: string | null): void;
  /** Gives the lock up. Safe to call more than once. */
  release(): void;
}

export const DEFAULT_HEARTBEAT_MS = 10_000;
export const DEFAULT_STALE_AFTER_MS = 60_000;
/** How often a waiting process looks at the row again. */
const POLL_MS = 250;

/** `/data/entra-sync.db` → `/data/entra-sync.lock.db`; a name without `.db` gets `.lock` appended. */
export function stateLockPath(stateFile: string): string | undefined {
  if (stateFile === ':memory:') return undefined;
  return stateFile.endsWith('.db') ? `${stateFile.slice(0, -3)}.lock.db` : `${stateFile}.lock`;
}

/**
 * Takes the state lock, waiting up to `waitSeconds` for a live holder; throws EntraSyncError STATE_LOCKED
 * naming the holder when it is still held then. A dead holder is taken over at once, with a warning.
 */
export async function acquireStateLock(statePath: string, options: AcquireStateLockOptions): Promise<StateLock> {
  const file = stateLockPath(statePath);
  const self = thisProcess(options.command);
  if (!file) return new InMemoryStateLock(self);
  const logger = options.logger ?? silentLogger;
  const waitSeconds = options.waitSeconds ?? 0;
  if (!(waitSeconds >= 0)) throw new EntraSyncError('CLI_USAGE', `the time to wait for the state lock must be 0 or more seconds, not ${waitSeconds}`);
  const deadline = Date.now() + waitSeconds * 1000;
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const db = openLockFile(file);
  const token = randomUUID();
  let waitingLogged = false;
  try {
    for (;;) {
      const attempt = takeRow(db, token, self, staleAfterMs);
      if (attempt.taken) {
        if (attempt.from) {
          logger.warn({ holder: attempt.from, lockFile: file }, `took over the state lock from ${describeHolder(attempt.from)}, which is no longer running`);
        }
        return new SqliteStateLock(db, file, token, self, attempt.from, logger, options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
      }
      if (Date.now() >= deadline) throw lockedError(statePath, file, attempt.holder, waitSeconds);
      if (!waitingLogged) {
        waitingLogged = true;
        logger.warn({ holder: attempt.holder, lockFile: file }, `waiting for the state lock held by ${describeHolder(attempt.holder)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))));
    }
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Who holds the state lock and whether it is alive; null when nobody does (or the lock file does not exist). */
export function readStateLock(statePath: string, options: { staleAfterMs?: number } = {}): StateLockStatus | null {
  const file = stateLockPath(statePath);
  if (!file || !fs.existsSync(file)) return null;
  let db: BetterSqlite3.Database;
  try {
    db = new SqliteDatabase(file, { readonly: true, fileMustExist: true, timeout: 5000 });
  } catch (err) {
    throw new EntraSyncError('STATE_OPEN_FAILED', `cannot read the state lock: ${(err as Error).message}`, { file }, { cause: err });
  }
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'state_lock'").get();
    if (!table) return null;
    const row = db.prepare('SELECT * FROM state_lock WHERE id = 1').get() as LockRow | undefined;
    if (!row) return null;
    return { holder: rowToHolder(row), alive: isAlive(row, options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS) };
  } finally {
    db.close();
  }
}

/** "`entra-sync sync` (pid 4242 on host1, since 2025-01-01T10:00:00.000Z)" */
export function describeHolder(holder: StateLockHolder): string {
  return `\`entra-sync ${holder.command}\` (pid ${holder.pid} on ${holder.host}, since ${holder.acquiredAt})`;
}

// ── the row ───────────────────────────────────────────────────────────────────────────────────────

interface LockRow {
  id: 1;
  token: string;
  host: string;
  /** Linux's boot id: the same host name with another boot id is another machine (or this one rebooted). */
  boot_id: string | null;
  pid: number;
  /** Linux: the process's start time in clock ticks since boot (/proc/<pid>/stat field 22). */
  start_ticks: string | null;
  process_started_at: string;
  command: string;
  acquired_at: string;
  heartbeat_at: string;
  http: string | null;
}

interface ThisProcess extends StateLockHolder {
  bootId: string | null;
  startTicks: string | null;
}

function thisProcess(command: string): ThisProcess {
  const now = new Date().toISOString();
  return {
    host: hostname(), pid: process.pid, bootId: bootId(), startTicks: startTicks(process.pid),
    processStartedAt: new Date(Date.now() - Math.round(process.uptime() * 1000)).toISOString(),
    command, acquiredAt: now, heartbeatAt: now, http: null,
  };
}

function rowToHolder(row: LockRow): StateLockHolder {
  return {
    host: row.host, pid: row.pid, processStartedAt: row.process_started_at, command: row.command,
    acquiredAt: row.acquired_at, heartbeatAt: row.heartbeat_at, http: row.http,
  };
}

function openLockFile(file: string): BetterSqlite3.Database {
  try {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    // Created here so its mode is 0600 before SQLite writes a byte; SQLite gives its journal the same mode.
    fs.closeSync(fs.openSync(file, 'a', 0o600));
    const db = new SqliteDatabase(file, { timeout: 5000 });
    // A rollback journal, not WAL: `readStateLock` opens the file read-only, which WAL makes fragile.
    db.pragma('journal_mode = DELETE');
    db.exec(`CREATE TABLE IF NOT EXISTS state_lock (
      id INTEGER PRIMARY KEY CHECK (id = 1), token TEXT NOT NULL, host TEXT NOT NULL, boot_id TEXT, pid INTEGER NOT NULL,
      start_ticks TEXT, process_started_at TEXT NOT NULL, command TEXT NOT NULL, acquired_at TEXT NOT NULL,
      heartbeat_at TEXT NOT NULL, http TEXT)`);
    return db;
  } catch (err) {
    if (err instanceof EntraSyncError) throw err;
    throw new EntraSyncError('STATE_OPEN_FAILED', `cannot open the state lock file: ${(err as Error).message}`, { file }, { cause: err });
  }
}

type Attempt = { taken: true; from: StateLockHolder | null } | { taken: false; holder: StateLockHolder };

/** One look at the row, in a BEGIN IMMEDIATE transaction: SQLite lets one process at a time in here. */
function takeRow(db: BetterSqlite3.Database, token: string, self: ThisProcess, staleAfterMs: number): Attempt {
  return db.transaction((): Attempt => {
    const row = db.prepare('SELECT * FROM state_lock WHERE id = 1').get() as LockRow | undefined;
    if (row && isAlive(row, staleAfterMs)) return { taken: false, holder: rowToHolder(row) };
    const now = new Date().toISOString();
    db.prepare(`INSERT OR REPLACE INTO state_lock (id, token, host, boot_id, pid, start_ticks, process_started_at, command, acquired_at, heartbeat_at, http)
      VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`)
      .run(token, self.host, self.bootId, self.pid, self.startTicks, self.processStartedAt, self.command, now, now);
    self.acquiredAt = now;
    self.heartbeatAt = now;
    return { taken: true, from: row ? rowToHolder(row) : null };
  }).immediate();
}

/**
 * On this host (same host name, same boot): alive while its pid runs and started when the row says (a pid
 * reused by another process, as PID 1 is in a restarted container, is not the holder). Elsewhere: alive while
 * its heartbeat is fresh, since another host's processes cannot be looked at.
 */
export function isAlive(row: Pick<LockRow, 'host' | 'boot_id' | 'pid' | 'start_ticks' | 'heartbeat_at'>, staleAfterMs: number): boolean {
  const ourBoot = bootId();
  const sameMachine = row.host === hostname() && (row.boot_id === null || ourBoot === null || row.boot_id === ourBoot);
  if (!sameMachine) return Date.now() - new Date(row.heartbeat_at).getTime() < staleAfterMs;
  if (procAvailable()) {
    const ticks = startTicks(row.pid);
    if (ticks === null) return false;
    return row.start_ticks === null || ticks === row.start_ticks;
  }
  return pidExists(row.pid);
}

// ── processes ─────────────────────────────────────────────────────────────────────────────────────

let cachedBootId: string | null | undefined;

function bootId(): string | null {
  if (cachedBootId === undefined) {
    try { cachedBootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null; } catch { cachedBootId = null; }
  }
  return cachedBootId;
}

function procAvailable(): boolean {
  return process.platform === 'linux' && fs.existsSync(`/proc/${process.pid}/stat`);
}

/**
 * /proc/<pid>/stat field 22, the start time in clock ticks since boot; null when no such process runs (a
 * zombie, killed and not yet reaped, counts as gone) or /proc cannot tell.
 */
export function startTicks(pid: number): string | null {
  let stat: string;
  try { stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return null; }
  // Field 2 is the command name in parentheses and may hold spaces and parentheses itself.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  if (state === 'Z' || state === 'X') return null;
  return fields[22 - 3] ?? null;
}

/** Elsewhere than Linux: signal 0 tells whether the pid exists (EPERM: it does, owned by someone else). */
function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function lockedError(statePath: string, file: string, holder: StateLockHolder, waitSeconds: number): EntraSyncError {
  const waited = waitSeconds > 0 ? `waited ${waitSeconds} s for ` : '';
  const what = holder.command === 'run'
    ? `the daemon ${describeHolder(holder)} is running on it${holder.http ? ` (its admin API: ${holder.http})` : ''}: use the daemon, or stop it first`
    : `${describeHolder(holder)} is writing it: run again when it ends, or add --wait[=seconds] to wait for it`;
  return new EntraSyncError('STATE_LOCKED', `the state ${statePath} is in use (${waited}one process at a time may write it): ${what}`, { file });
}

// ── the held lock ─────────────────────────────────────────────────────────────────────────────────

class SqliteStateLock implements StateLock {
  private lostFlag = false;
  private released = false;
  private readonly callbacks: ((by: StateLockHolder | null) => void)[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly db: BetterSqlite3.Database,
    readonly file: string,
    private readonly token: string,
    private readonly self: ThisProcess,
    readonly tookOverFrom: StateLockHolder | null,
    private readonly logger: Logger,
    heartbeatMs: number,
  ) {
    // The heartbeat must never keep a finished command alive: unref'd.
    this.timer = setInterval(() => this.beat(), heartbeatMs);
    this.timer.unref();
  }

  get holder(): StateLockHolder {
    const { bootId: _b, startTicks: _s, ...holder } = this.self;
    return { ...holder };
  }

  get lost(): boolean {
    return this.lostFlag;
  }

  onLost(callback: (by: StateLockHolder | null) => void): void {
    this.callbacks.push(callback);
  }

  setHttp(url: string | null): void {
    if (this.released || this.lostFlag) return;
    const changed = this.db.prepare('UPDATE state_lock SET http = ? WHERE id = 1 AND token = ?').run(url, this.token).changes;
    if (changed === 0) this.markLost();
    else this.self.http = url;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    try {
      if (!this.lostFlag) this.db.prepare('DELETE FROM state_lock WHERE id = 1 AND token = ?').run(this.token);
    } catch (err) {
      // The row stays; the next process finds this one gone and takes over.
      this.logger.warn({ err: (err as Error).message, lockFile: this.file }, 'releasing the state lock failed');
    } finally {
      this.db.close();
    }
  }

  private beat(): void {
    if (this.released || this.lostFlag) return;
    const now = new Date().toISOString();
    try {
      if (this.db.prepare('UPDATE state_lock SET heartbeat_at = ? WHERE id = 1 AND token = ?').run(now, this.token).changes === 0) this.markLost();
      else this.self.heartbeatAt = now;
    } catch (err) {
      // A busy or unreadable lock file: try again at the next beat (another host waits for a stale heartbeat).
      this.logger.warn({ err: (err as Error).message, lockFile: this.file }, 'renewing the state lock failed');
    }
  }

  private markLost(): void {
    if (this.lostFlag) return;
    this.lostFlag = true;
    clearInterval(this.timer);
    let by: StateLockHolder | null = null;
    try {
      const row = this.db.prepare('SELECT * FROM state_lock WHERE id = 1').get() as LockRow | undefined;
      by = row ? rowToHolder(row) : null;
    } catch { /* who took it is only for the message */ }
    this.logger.error({ lockFile: this.file, by }, `lost the state lock${by ? ` to ${describeHolder(by)}` : ''}: another process judged this one dead (its heartbeat was late); stop writing`);
    for (const callback of this.callbacks) {
      try { callback(by); } catch (err) { this.logger.error({ err: (err as Error).message }, 'a state-lock-lost callback failed'); }
    }
  }
}

/** An in-memory state is this process's alone: the lock holds nothing. */
class InMemoryStateLock implements StateLock {
  readonly file = undefined;
  readonly tookOverFrom = null;
  readonly lost = false;
  private readonly self: StateLockHolder;

  constructor(self: ThisProcess) {
    const { bootId: _b, startTicks: _s, ...holder } = self;
    this.self = holder;
  }

  get holder(): StateLockHolder {
    return { ...this.self };
  }

  onLost(): void { /* never lost */ }
  setHttp(url: string | null): void { this.self.http = url; }
  release(): void { /* nothing held */ }
}
