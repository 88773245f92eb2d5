import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '../src/state/db.js';

describe('state database', () => {
  it('creates the state file readable by its owner only', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-db-'));
    const file = path.join(dir, 'sub', 'state.db');
    const db = openDatabase(file);
    db.close();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('runs each module migration once, in version order', () => {
    const db = openDatabase(':memory:');
    const calls: number[] = [];
    const steps = [
      { version: 2, up: () => { calls.push(2); } },
      { version: 1, up: (d: typeof db) => { calls.push(1); d.exec('CREATE TABLE t (x)'); } },
    ];
    migrate(db, 'demo', steps);
    migrate(db, 'demo', steps);
    expect(calls).toEqual([1, 2]);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 't'").get()).toEqual({ n: 1 });
  });

  it('rolls back a failing migration so it runs again next time', () => {
    const db = openDatabase(':memory:');
    expect(() => migrate(db, 'bad', [{ version: 1, up: (d) => { d.exec('CREATE TABLE y (x)'); throw new Error('boom'); } }])).toThrow('boom');
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'y'").get()).toEqual({ n: 0 });
  });
});
