// The runtime reads Graph on a worker thread, into a source state file of its own beside the state file.
// Seen from outside: the same errors and log lines as a read on the event loop, a clear error (and nothing
// sent or lost) when the thread cannot run, and a state file from before the split upgraded in place with
// its delta links, so the next sync is incremental.
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/observability/logger.js';
import { migrate, openDatabase, SqliteDatabase } from '../src/state/db.js';
import { SOURCE_MIGRATIONS } from '../src/state/source-store.js';
import { startWorld, userNameOf } from './runtime-world.js';

const tenant = { seed: 21, users: 120, groups: 4, membersPerGroup: 8, nestedGroups: 0, assignedUserFraction: 0.5, assignedGroups: 2 };

const tables = (file: string): string[] => {
  const db = new SqliteDatabase(file, { readonly: true });
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  } finally {
    db.close();
  }
};

describe('runtime: the Graph read on a worker thread', () => {
  it('keeps the source in its own 0600 file, logs through the runtime logger (redacted), and the next sync is incremental', async () => {
    const world = await startWorld({ tenant });
    try {
      const lines: string[] = [];
      const destination = new Writable({ write(chunk: Buffer, _e, done) { lines.push(chunk.toString('utf8')); done(); } });
      const runtime = await world.open({ logger: createLogger({ level: 'info', destination }), readChunkUsers: 20 });
      const report = await runtime.sync();
      expect(report.targets[0]).toMatchObject({ status: 'success', failed: 0 });
      expect(report.read.chunks).toBeGreaterThan(1);
      const expected = world.inScope(runtime).map((u) => userNameOf(String(u.attributes.userPrincipalName))).sort();
      expect(world.scim.docuware!.users().map((u) => u.userName).sort()).toEqual(expected);

      const state = path.join(world.dir, 'state.db');
      const source = path.join(world.dir, 'state.source.db');
      for (const f of [state, source]) expect(fs.statSync(f).mode & 0o777).toBe(0o600);
      expect(tables(state).filter((t) => t.startsWith('source_'))).toEqual([]);
      expect(tables(source)).toContain('source_users');

      // The worker's log line reached the runtime's logger, which redacts.
      const read = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'read Entra');
      expect(read).toMatchObject({ level: 30, component: 'source', users: { mode: 'full' } });
      expect(lines.join('')).not.toContain(world.graph.clientSecret);

      world.scim.docuware!.clearRequests();
      const again = await runtime.sync();
      expect(again.read.users.mode).toBe('incremental');
      expect(again.targets[0]).toMatchObject({ status: 'success', requests: 0 });
    } finally {
      await world.close();
    }
  });

  it('fails a sync with the same error as a read on the event loop', async () => {
    const world = await startWorld({ tenant });
    try {
      world.graph.faults.rate401 = 1;
      const inWorker = await (await world.open()).sync().catch((e: unknown) => e);
      const inProcess = await (await world.open({ readInWorker: false })).sync().catch((e: unknown) => e);
      const facts = (e: unknown) => {
        const err = e as { name: string; code: string; message: string; where: unknown; status: unknown };
        return { name: err.name, code: err.code, message: err.message, where: err.where, status: err.status };
      };
      expect(facts(inWorker)).toEqual(facts(inProcess));
      expect(facts(inWorker).code).toMatch(/^GRAPH_/);
      expect(world.scim.docuware!.requests).toEqual([]);
    } finally {
      await world.close();
    }
  });

  it('a worker thread that cannot start fails the sync clearly, sends nothing, and a working one then syncs everything', async () => {
    const world = await startWorld({ tenant });
    try {
      const missing = path.join(world.dir, 'missing', 'read-worker.js');
      const broken = await world.open({ readWorkerScript: missing });
      await expect(broken.sync()).rejects.toMatchObject({ code: 'SOURCE_READER_STOPPED', where: { file: missing } });
      expect(world.scim.docuware!.requests).toEqual([]);

      const runtime = await world.open();
      const report = await runtime.sync();
      expect(report.targets[0]).toMatchObject({ status: 'success', failed: 0 });
      expect(world.scim.docuware!.users().length).toBe(world.inScope(runtime).length);
    } finally {
      await world.close();
    }
  });

  it('moves the source tables out of a state file written before the split, keeping its delta links', async () => {
    const world = await startWorld({ tenant });
    try {
      const first = await world.open();
      await first.sync();
      const seq = first.source.currentSeq();
      await first.close();

      // The state file as an earlier version left it: the source tables inside it, no source file.
      const state = path.join(world.dir, 'state.db');
      const source = path.join(world.dir, 'state.source.db');
      const legacy = openDatabase(state);
      migrate(legacy, 'source', SOURCE_MIGRATIONS);
      legacy.prepare('ATTACH DATABASE ? AS s').run(source);
      for (const t of tables(source).filter((n) => n.startsWith('source_'))) legacy.exec(`INSERT INTO main."${t}" SELECT * FROM s."${t}"`);
      legacy.exec('DETACH DATABASE s');
      legacy.close();
      for (const suffix of ['', '-wal', '-shm']) fs.rmSync(source + suffix, { force: true });

      world.scim.docuware!.clearRequests();
      const upgraded = await world.open();
      expect(upgraded.source.currentSeq()).toBe(seq);
      const report = await upgraded.sync();
      expect(report.read.users.mode).toBe('incremental');
      expect(report.read.groups.mode).toBe('incremental');
      expect(report.targets[0]).toMatchObject({ status: 'success', requests: 0 });
      expect(tables(state).filter((t) => t.startsWith('source_'))).toEqual([]);
      expect(fs.statSync(source).mode & 0o777).toBe(0o600);

      // Changes after the upgrade still flow: one surname changed, one PATCH (the GET is the connector's discovery).
      const user = world.inScope(upgraded)[0]!;
      world.graph.tenant.updateUser(user.id, { surname: 'Upgraded' });
      const changed = await upgraded.sync();
      expect(changed.targets[0]).toMatchObject({ status: 'success', counts: { update: 1, create: 0 } });
      expect(world.scim.docuware!.requests.filter((r) => r.method !== 'GET').map((r) => r.method)).toEqual(['PATCH']);
    } finally {
      await world.close();
    }
  });
});
