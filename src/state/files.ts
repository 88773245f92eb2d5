// The state lives in two SQLite files: the state file the configuration names (targets: links, journal,
// failures, plans, runs, the provisioning log) and, beside it, the source file (what was read from Entra:
// users, groups, memberships, assignments, delta links). Two files because two threads write them: the
// Graph reader on its worker thread writes the source file while the event loop commits target results,
// and SQLite lets one connection at a time write a file. Both are created 0600 and hold no secret.
import { migrate, openDatabase, type Db, type OpenOptions } from './db.js';
import { SOURCE_MIGRATIONS } from './source-store.js';

export interface StateFiles {
  /** The state file (the targets' tables). */
  db: Db;
  /** The source file's connection; the same as `db` for an in-memory state. */
  sourceDb: Db;
  /** The source file's path; undefined for an in-memory state. */
  sourceFile: string | undefined;
  close(): void;
}

/** `/data/entra-sync.db` → `/data/entra-sync.source.db`; a name without `.db` gets `.source` appended. */
export function sourceStatePath(stateFile: string): string | undefined {
  if (stateFile === ':memory:') return undefined;
  return stateFile.endsWith('.db') ? `${stateFile.slice(0, -3)}.source.db` : `${stateFile}.source`;
}

/**
 * Opens both files, creating them (0600) as needed. A state file from before the split, which held the
 * source tables too, has them moved into the source file first, so its delta links and the targets'
 * cursors into the source's sequence stay valid (no full read follows the upgrade).
 */
export function openStateFiles(stateFile: string, options: OpenOptions = {}): StateFiles {
  const db = openDatabase(stateFile, options);
  const sourceFile = sourceStatePath(stateFile);
  if (!sourceFile) return { db, sourceDb: db, sourceFile, close: () => db.close() };
  let sourceDb: Db;
  try {
    sourceDb = openDatabase(sourceFile);
    migrate(sourceDb, 'source', SOURCE_MIGRATIONS);
  } catch (err) {
    db.close();
    throw err;
  }
  try {
    moveSourceTables(db, sourceFile);
  } catch (err) {
    sourceDb.close();
    db.close();
    throw err;
  }
  return { db, sourceDb, sourceFile, close: () => { try { sourceDb.close(); } finally { db.close(); } } };
}

/**
 * Moves the source tables of a state file written before the split into the source file. Copy, then drop,
 * in two transactions: a process stopped between them copies again on the next open (rows are replaced,
 * not doubled), and none stopped anywhere loses the source state.
 */
function moveSourceTables(db: Db, sourceFile: string): void {
  if (!db.prepare("SELECT 1 FROM schema_migrations WHERE module = 'source' LIMIT 1").get()) return;
  // Bring the old tables to the current version first, so their columns line up with the new file's.
  migrate(db, 'source', SOURCE_MIGRATIONS);
  const tables = (db.prepare(String.raw`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'source\_%' ESCAPE '\'`).all() as { name: string }[])
    .map((r) => r.name);
  db.prepare('ATTACH DATABASE ? AS moving').run(sourceFile);
  try {
    db.transaction(() => {
      for (const t of tables) db.exec(`INSERT OR REPLACE INTO moving."${t}" SELECT * FROM main."${t}"`);
    })();
    db.transaction(() => {
      for (const t of tables) db.exec(`DROP TABLE main."${t}"`);
      db.prepare("DELETE FROM schema_migrations WHERE module = 'source'").run();
    })();
  } finally {
    db.exec('DETACH DATABASE moving');
  }
}
