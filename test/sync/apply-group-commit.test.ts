// Apply writes its state in group commits (journal entries of the next operations together, results riding
// along). What must hold whatever the grouping: an operation is sent only once its 'pending' journal entry is
// committed — visible to another connection, as after a crash — every result is recorded by the time apply
// returns, and operations journalled ahead but never sent (the target refused our credentials) leave nothing
// pending for recovery to chase. And the next window of entries is committed before the current one runs out.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyOperations } from '../../src/sync/apply.js';
import type { PlannedOperation } from '../../src/engine/types.js';
import { openDatabase } from '../../src/state/db.js';
import { TargetsStore } from '../../src/state/targets-store.js';
import type { ObjectType, TargetAttributes, TargetObject } from '../../src/targets/connector.js';
import { FakeConnector, targetError } from './apply-fakes.js';

const createUser = (id: string): PlannedOperation => ({
  kind: 'create', type: 'user', sourceId: id, displayName: id,
  attributes: { userName: id, active: true, externalId: id }, match: [{ path: 'userName', value: id }],
});

/** A target whose every create takes a turn of the event loop, as a request over the network does. */
class RoundTripConnector extends FakeConnector {
  override async create(type: ObjectType, attributes: TargetAttributes): Promise<TargetObject> {
    await new Promise((resolve) => setImmediate(resolve));
    return super.create(type, attributes);
  }
}

const stateFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'es-group-commit-')), 'state.db');

describe('apply: group commits', () => {
  it('sends each of 40 creates, 8 at a time, only after another connection sees its journal entry pending; all are recorded at the end', async () => {
    const file = stateFile();
    const store = new TargetsStore(openDatabase(file));
    const observer = new TargetsStore(openDatabase(file)); // what a restarted process would read
    const connector = new FakeConnector();
    const unjournalled: string[] = [];
    connector.intercept = (call) => {
      if (call.method !== 'create') return;
      const userName = (call.args as { userName: string }).userName;
      if (!observer.pendingOperations('t').some((e) => e.operation.sourceId === userName)) unjournalled.push(userName);
    };
    const ops = Array.from({ length: 40 }, (_, i) => createUser(`u${i}`));
    const result = await applyOperations(ops, { store, connector, target: 't', runId: 'r1', policy: { concurrency: 8 } });
    expect(unjournalled).toEqual([]);
    expect(result.counts.create).toBe(40);
    expect(observer.pendingOperations('t')).toEqual([]);
    expect(observer.linkedCount('t', 'user')).toBe(40);
    expect(observer.logEntries({ target: 't', runId: 'r1' })).toHaveLength(40);
    store.db.close();
    observer.db.close();
  });

  it('commits the next window of journal entries before the current one runs out, so later operations do not wait for a commit', async () => {
    const file = stateFile();
    const store = new TargetsStore(openDatabase(file));
    const observer = new TargetsStore(openDatabase(file));
    const connector = new RoundTripConnector();
    // Concurrency 8: a window is 4 × 8 = 32 entries (u0–u31). When u31, the last of it, is sent, u32's entry
    // must already be committed, or u32 would have to wait for a commit of its own.
    let nextWindowSeen: boolean | undefined;
    connector.intercept = (call) => {
      if (call.method === 'create' && (call.args as { userName: string }).userName === 'u31') {
        nextWindowSeen = observer.pendingOperations('t').some((e) => e.operation.sourceId === 'u32');
      }
    };
    const ops = Array.from({ length: 64 }, (_, i) => createUser(`u${i}`));
    const result = await applyOperations(ops, { store, connector, target: 't', runId: 'r1', policy: { concurrency: 8 } });
    expect(result.counts.create).toBe(64);
    expect(nextWindowSeen).toBe(true);
    expect(observer.pendingOperations('t')).toEqual([]);
    store.db.close();
    observer.db.close();
  });

  it('leaves no pending entry for operations journalled ahead but not sent once the target refuses our credentials', async () => {
    const store = new TargetsStore(openDatabase(':memory:'));
    const connector = new FakeConnector();
    let creates = 0;
    connector.intercept = (call) => {
      if (call.method === 'create' && ++creates === 3) throw targetError('unauthorized', 'token revoked', 401);
    };
    const ops = Array.from({ length: 30 }, (_, i) => createUser(`u${i}`));
    const result = await applyOperations(ops, { store, connector, target: 't', runId: 'r1', policy: { concurrency: 4 } });
    expect(result.stopped).toMatchObject({ reason: 'EncounteredQuarantineException' });
    expect(result.sent).toBeLessThan(30);
    expect(store.pendingOperations('t')).toEqual([]);
    expect(store.linkedCount('t', 'user')).toBe(result.counts.create);
    expect(connector.calls.filter((c) => c.method === 'create')).toHaveLength(result.sent);
  });
});
