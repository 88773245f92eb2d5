// Opens the SQLite state file (WAL, 0600) and runs versioned migrations.
// Each table group (source, targets, runs …) owns its own migration list, keyed by module name, so
// modules evolve independently: `schema_migrations(module, version)` records what has run.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { EntraSyncError } from '../errors.js';
import { AUTOCHECKPOINT_PAGES, checkpointInBackground } from './checkpointer.js';

export type Db = BetterSqlite3.Database;

// better-sqlite3 12 wraps its objects in node::ObjectWrap, which on Node 24 aborts the process when the
// garbage collector finalizes a statement outside a Node context (WiseLibs/better-sqlite3#1515). Version 13
// is built on Node-API and fixes that, but needs Node 22+ (on Node 20 it crashes). Same JavaScript API:
// load 13 (installed as the alias better-sqlite3-napi) on Node 22+, 12 on Node 20.
const require = createRequire(import.meta.url);
const nodeMajor = Number(process.versions.node.split('.')[0]);
const driverName = nodeMajor >= 22 ? 'better-sqlite3-napi' : 'better-sqlite3';
const Database = require(driverName) as typeof BetterSqlite3;

/** Which SQLite driver this process loaded (for `status` and bug reports). */
export const sqliteDriver = nodeMajor >= 22 ? 'better-sqlite3@13 (Node-API)' : 'better-sqlite3@12';

export interface Migration {
  /** 1, 2, 3 … in order; never renumber a released migration. */
  version: number;
  up: (db: Db) => void;
}

export interface OpenOptions {
  /**
   * Checkpoint the WAL on a worker thread, leaving the commits on the event loop only a rare, short checkpoint
   * of their own (see checkpointer.ts): for the long-running runtime, whose event loop reads target answers
   * while it commits.
   */
  backgroundCheckpoint?: boolean | { intervalMs?: number; inlineEveryPages?: number };
}

export function openDatabase(file: string, options: OpenOptions = {}): Db {
  if (file !== ':memory:') {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    // Create the file ourselves so its mode is 0600 before SQLite writes a byte into it.
    if (!fs.existsSync(file)) fs.closeSync(fs.openSync(file, 'a', 0o600));
  }
  let db: Db;
  try {
    db = new Database(file);
  } catch (err) {
    throw new EntraSyncError('STATE_OPEN_FAILED', `cannot open state file: ${(err as Error).message}`, { file }, { cause: err });
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // Checkpoint every 32 MB of WAL rather than every 4 MB (SQLite's default): in WAL mode with synchronous
  // NORMAL a commit does not wait for the disk, a checkpoint does (it syncs the database file), and it runs
  // inside whichever commit crosses the limit, on the event loop. Fewer, larger checkpoints also write a page
  // changed many times between them only once.
  db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // SQLite's own default page cache (2 MB) rather than better-sqlite3's build default (16 MB): the state
  // file's hot pages stay in the operating system's cache anyway, and a daemon's resident memory is budgeted.
  db.pragma('cache_size = -2000');
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    module TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL,
    PRIMARY KEY (module, version))`);
  if (file !== ':memory:') {
    for (const suffix of ['', '-wal', '-shm']) {
      try { fs.chmodSync(file + suffix, 0o600); } catch { /* the -wal/-shm files may not exist yet */ }
    }
    if (options.backgroundCheckpoint) {
      checkpointInBackground(db, path.resolve(file), require.resolve(driverName), options.backgroundCheckpoint === true ? {} : options.backgroundCheckpoint);
    }
  }
  return db;
}

/** Runs the module's migrations that have not run yet, each in its own transaction. */
export function migrate(db: Db, module: string, migrations: readonly Migration[]): void {
  const done = new Set(
    (db.prepare('SELECT version FROM schema_migrations WHERE module = ?').all(module) as { version: number }[]).map((r) => r.version),
  );
  const record = db.prepare('INSERT INTO schema_migrations (module, version, applied_at) VALUES (?, ?, ?)');
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue;
    db.transaction(() => {
      m.up(db);
      record.run(module, m.version, new Date().toISOString());
    })();
  }
}

/** The driver's Database class, for the rare caller that needs a raw connection (tests reading the file). */
export { Database as SqliteDatabase };
