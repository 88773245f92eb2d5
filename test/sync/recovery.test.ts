// A process that stops mid-apply leaves 'pending' journal entries. These tests stop it at each journal
// step (after 'pending' is written but before the request leaves; after the request landed but before
// 'done' is written), reopen the state file as a new process would, and check nothing is lost or doubled.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyOperations } from '../../src/sync/apply.js';
import { recoverInFlight } from '../../src/sync/recovery.js';
import type { PlannedOperation } from '../../src/engine/types.js';
import { openDatabase } from '../../src/state/db.js';
import { TargetsStore } from '../../src/state/targets-store.js';
import { FakeConnector } from './apply-fakes.js';

const createAlice: PlannedOperation = {
  kind: 'create', type: 'user', sourceId: 'alice', displayName: 'alice', attributes: { userName: 'alice', active: true },
  match: [{ path: 'userName', value: 'alice' }],
};

function stateFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'es-recover-')), 'state.db');
}

/** Starts an apply that will never finish (the connector hangs) and waits until its journal entry is pending. */
async function crashDuring(file: string, connector: FakeConnector, ops: PlannedOperation[]): Promise<void> {
  const store = new TargetsStore(openDatabase(file));
  void applyOperations(ops, { store, connector, target: 't', runId: 'crashed' });
  for (let i = 0; i < 100 && store.pendingOperations('t').length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  expect(store.pendingOperations('t')).toHaveLength(1);
  store.db.close(); // the process is gone
}

describe('recovery of in-flight operations', () => {
  it('re-plans a create that never left (crash after pending was written): it is sent exactly once later', async () => {
    const file = stateFile();
    const connector = new FakeConnector();
    connector.intercept = (call) => (call.method === 'create' ? 'hang' : undefined);
    await crashDuring(file, connector, [createAlice]);
    expect(connector.objects.user.size).toBe(0);

    connector.intercept = undefined;
    const store = new TargetsStore(openDatabase(file));
    const report = await recoverInFlight({ store, connector, target: 't' });
    expect(report).toEqual({ landed: [], replanned: [createAlice] });
    expect(store.pendingOperations('t')).toEqual([]);
    // Due now, so the next cycle includes it whatever the cursor says.
    expect(store.dueFailures('t', new Date()).map((f) => f.sourceId)).toEqual(['alice']);

    await applyOperations([createAlice], { store, connector, target: 't', runId: 'next' });
    expect(connector.objects.user.size).toBe(1);
    expect(store.link('t', 'user', 'alice')).toBeDefined();
    expect(store.failures('t')).toEqual([]);
  });

  it('links a create that landed before the crash (crash after send, before done): it is never sent again', async () => {
    const file = stateFile();
    const connector = new FakeConnector();
    connector.intercept = (call) => (call.method === 'create' ? 'land-then-hang' : undefined);
    await crashDuring(file, connector, [createAlice]);
    expect(connector.objects.user.size).toBe(1);
    const [targetId] = [...connector.objects.user.keys()];

    connector.intercept = undefined;
    const store = new TargetsStore(openDatabase(file));
    const report = await recoverInFlight({ store, connector, target: 't' });
    expect(report.landed).toEqual([createAlice]);
    expect(store.link('t', 'user', 'alice')).toMatchObject({ targetId, written: { userName: 'alice', active: true } });
    expect(store.failures('t')).toEqual([]);
    expect(connector.mutations('create')).toHaveLength(1);
  });

  it('checks whether an interrupted update landed and records what the target holds', async () => {
    const file = stateFile();
    const connector = new FakeConnector();
    const setupStore = new TargetsStore(openDatabase(file));
    await applyOperations([createAlice], { store: setupStore, connector, target: 't', runId: 'r0' });
    const id = setupStore.link('t', 'user', 'alice')!.targetId;
    setupStore.db.close();
    const update: PlannedOperation = { kind: 'update', type: 'user', sourceId: 'alice', displayName: 'alice', targetId: id, changes: [{ path: 'title', before: null, after: 'CEO' }], desired: { userName: 'alice', active: true, title: 'CEO' } };

    connector.intercept = (call) => (call.method === 'update' ? 'land-then-hang' : undefined);
    await crashDuring(file, connector, [update]);
    connector.intercept = undefined;
    const store = new TargetsStore(openDatabase(file));
    expect((await recoverInFlight({ store, connector, target: 't' })).landed).toHaveLength(1);
    expect(store.link('t', 'user', 'alice')!.written).toEqual({ userName: 'alice', active: true, title: 'CEO' });

    connector.intercept = (call) => (call.method === 'update' ? 'hang' : undefined);
    await crashDuring(file, connector, [{ ...update, changes: [{ path: 'title', before: 'CEO', after: 'CTO' }] }]);
    connector.intercept = undefined;
    const store2 = new TargetsStore(openDatabase(file));
    expect((await recoverInFlight({ store: store2, connector, target: 't' })).replanned).toHaveLength(1);
    expect(store2.link('t', 'user', 'alice')!.written.title).toBe('CEO');
    expect(store2.failure('t', 'user', 'alice')?.code).toBe('INTERRUPTED');
  });

  it('checks an interrupted member add against the target group', async () => {
    const file = stateFile();
    const connector = new FakeConnector();
    const s0 = new TargetsStore(openDatabase(file));
    await applyOperations([createAlice, { kind: 'create', type: 'group', sourceId: 'g1', displayName: 'Sales', attributes: { displayName: 'Sales' }, match: [] }], { store: s0, connector, target: 't', runId: 'r0' });
    const gid = s0.link('t', 'group', 'g1')!.targetId;
    s0.db.close();
    connector.intercept = (call) => (call.method === 'addMembers' ? 'land-then-hang' : undefined);
    await crashDuring(file, connector, [{ kind: 'addMembers', type: 'group', sourceId: 'g1', displayName: 'Sales', targetId: gid, memberSourceIds: ['alice'] }]);
    connector.intercept = undefined;
    const store = new TargetsStore(openDatabase(file));
    expect((await recoverInFlight({ store, connector, target: 't' })).landed).toHaveLength(1);
    expect(store.link('t', 'group', 'g1')!.members).toEqual(['alice']);
  });
});
