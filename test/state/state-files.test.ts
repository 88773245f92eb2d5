// openStateFiles: the state file and, beside it, the source file, both created 0600; an in-memory state
// keeps both table groups on one connection.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStateFiles, sourceStatePath } from '../../src/state/files.js';
import { SourceStoreImpl } from '../../src/state/source-store.js';
import { TargetsStore } from '../../src/state/targets-store.js';

describe('state files', () => {
  it('names the source file beside the state file', () => {
    expect(sourceStatePath('/data/entra-sync.db')).toBe('/data/entra-sync.source.db');
    expect(sourceStatePath('/data/state')).toBe('/data/state.source');
    expect(sourceStatePath(':memory:')).toBeUndefined();
  });

  it('creates both files readable by their owner only, each with its own tables', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'state-files-'));
    try {
      const files = openStateFiles(path.join(dir, 'nested', 'es.db'));
      new SourceStoreImpl(files.sourceDb);
      new TargetsStore(files.db);
      const names = (db: typeof files.db) => (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
      expect(names(files.db).some((n) => n.startsWith('source_'))).toBe(false);
      expect(names(files.db)).toContain('target_links');
      expect(names(files.sourceDb)).toContain('source_users');
      expect(names(files.sourceDb).some((n) => n.startsWith('target_'))).toBe(false);
      files.close();
      for (const f of ['es.db', 'es.source.db']) expect(fs.statSync(path.join(dir, 'nested', f)).mode & 0o777).toBe(0o600);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps an in-memory state on one connection', () => {
    const files = openStateFiles(':memory:');
    expect(files.sourceDb).toBe(files.db);
    expect(files.sourceFile).toBeUndefined();
    files.close();
    expect(files.db.open).toBe(false);
  });
});
