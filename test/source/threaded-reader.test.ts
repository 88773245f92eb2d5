// The reader on its worker thread, seen through the façade the runtime holds: a streamed read's chunks
// reach the parent's store as they are committed, one user read on demand comes back as a record, and the
// source file's WAL stays bounded through a long read.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThreadedSourceReader, readWorkerScript } from '../../src/source/threaded-reader.js';
import { openStateFiles, type StateFiles } from '../../src/state/files.js';
import { SourceStoreImpl } from '../../src/state/source-store.js';
import { SELECT, startHarness, type Harness } from './e2e-helpers.js';

describe('threaded source reader', () => {
  let h: Harness;
  const opened: { files: StateFiles; close: () => Promise<void> }[] = [];
  beforeAll(async () => { h = await startHarness({ tenant: { users: 400, groups: 4, membersPerGroup: 6, seed: 3 }, pageSize: 20 }); });
  afterAll(async () => {
    for (const o of opened) { await o.close(); o.files.close(); }
    await h?.close();
  });

  const open = (name: string, walLimitBytes?: number) => {
    const files = openStateFiles(path.join(h.dir, name, 'state.db'));
    const store = new SourceStoreImpl(files.sourceDb);
    const reader = createThreadedSourceReader(h.options, {
      store, sourceFile: files.sourceFile!, workerScript: readWorkerScript()!, select: SELECT, ...(walLimitBytes ? { walLimitBytes } : {}),
    });
    opened.push({ files, close: () => reader.close() });
    return { store, reader, wal: () => fs.statSync(`${files.sourceFile!}-wal`).size };
  };

  it('streams chunks: each one is in the parent store when it is announced, and the end is all of it', async () => {
    const { store, reader } = open('stream');
    const seen: number[] = [];
    let lived = 0;
    const summary = await reader.read({
      stream: { chunkUsers: 100, onLive: () => { lived++; }, onChunk: () => { seen.push([...store.allUsers()].length); } },
    });
    expect(lived).toBe(1);
    expect(seen).toHaveLength(summary.chunks);
    expect(summary.chunks).toBeGreaterThan(2);
    expect(seen[0]).toBeGreaterThanOrEqual(20); // the first chunk is a fifth of the others
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]!);
    expect([...store.allUsers()].map((u) => u.id).sort()).toEqual(h.sim.tenant.users().map((u) => u.id).sort());
    // One user read on demand: the record the parent's store now holds, fresh from Graph.
    const someone = h.sim.tenant.users()[5]!;
    h.sim.tenant.updateUser(someone.id, { jobTitle: 'Read On Demand' });
    const record = await reader.readUser(someone.userPrincipalName);
    expect(record).toMatchObject({ id: someone.id, attributes: { jobTitle: 'Read On Demand' } });
    await expect(reader.readUser('nobody@contoso.example')).rejects.toMatchObject({ code: 'SOURCE_USER_NOT_FOUND' });
  });

  it('starts the WAL over during a long read instead of letting it hold every page written', async () => {
    const whole = open('whole-wal');
    const trimmed = open('trimmed-wal', 64 * 1024);
    const stream = { chunkUsers: 50, onLive: () => undefined };
    await whole.reader.read({ full: true, stream });
    await trimmed.reader.read({ full: true, stream });
    expect(whole.wal()).toBeGreaterThan(4 * 64 * 1024);
    expect(trimmed.wal()).toBeLessThan(whole.wal() / 2);
    expect([...trimmed.store.allUsers()]).toEqual([...whole.store.allUsers()]);
  });
});
