import { describe, expect, it } from 'vitest';
import { applyOperations, type ApplyContext } from '../../src/sync/apply.js';
import { SyncEvents } from '../../src/observability/events.js';
import type { PlannedOperation } from '../../src/engine/types.js';
import { openDatabase } from '../../src/state/db.js';
import { TargetsStore } from '../../src/state/targets-store.js';
import { FakeConnector, targetError } from './apply-fakes.js';

const NOW = new Date('2025-03-01T12:00:00Z');

function setup(caps: ConstructorParameters<typeof FakeConnector>[0] = {}) {
  const store = new TargetsStore(openDatabase(':memory:'));
  const connector = new FakeConnector(caps);
  const events = new SyncEvents();
  const ctx: ApplyContext = { store, connector, target: 't', runId: 'run1', events, now: () => NOW };
  return { store, connector, events, ctx };
}

const createUser = (id: string, extra: Record<string, unknown> = {}): PlannedOperation => ({
  kind: 'create', type: 'user', sourceId: id, displayName: `${id}@contoso.com`,
  attributes: { userName: id, active: true, externalId: id, ...extra },
  match: [{ path: 'userName', value: id }],
});

describe('apply: create and match', () => {
  it('creates an unmatched user, links it with what was written and logs each step', async () => {
    const { store, connector, ctx } = setup();
    const result = await applyOperations([createUser('alice')], ctx);
    expect(result.counts.create).toBe(1);
    expect(connector.mutations().map((c) => c.method)).toEqual(['create']);
    const link = store.link('t', 'user', 'alice')!;
    expect(link).toMatchObject({ status: 'active', written: { userName: 'alice', active: true, externalId: 'alice' } });
    expect(connector.objects.user.get(link.targetId)).toMatchObject({ userName: 'alice' });
    const [entry] = store.logEntries({ sourceId: 'alice' });
    expect(entry).toMatchObject({ action: 'create', status: 'success', targetId: link.targetId });
    expect(entry!.steps.map((s) => s.name)).toEqual(['match', 'action', 'export']);
    expect(entry!.modifiedProperties).toContainEqual({ path: 'userName', before: null, after: 'alice' });
    expect(store.pendingOperations('t')).toEqual([]);
  });

  it('adopts an existing user found by the second matching attribute and updates only what differs', async () => {
    const { store, connector, ctx } = setup();
    const existing = connector.seed('user', { userName: 'ALICE.old', externalId: 'alice', active: true });
    const op: PlannedOperation = { ...createUser('alice'), match: [{ path: 'userName', value: 'alice' }, { path: 'externalId', value: 'alice' }] } as PlannedOperation;
    const result = await applyOperations([op], ctx);
    expect(result.counts).toMatchObject({ adopt: 1, create: 0 });
    const update = connector.mutations('update')[0]!;
    expect(update.id).toBe(existing);
    expect((update.args as { changes: unknown[] }).changes).toEqual([{ path: 'userName', before: 'ALICE.old', after: 'alice' }]);
    expect(store.link('t', 'user', 'alice')?.targetId).toBe(existing);
    expect(store.logEntries({ sourceId: 'alice' })[0]!.steps[0]!.details).toMatch(/matched .* by externalId/);
  });

  it('adopts without any write when the matched user already holds the desired values', async () => {
    const { connector, ctx } = setup();
    connector.seed('user', { userName: 'alice', active: true, externalId: 'alice' });
    const result = await applyOperations([createUser('alice')], ctx);
    expect(result.counts.adopt).toBe(1);
    expect(connector.mutations()).toEqual([]);
  });

  it('adopts after a conflict on create (the object appeared between lookup and POST)', async () => {
    const { store, connector, ctx } = setup();
    const realFind = connector.find.bind(connector);
    let first = true;
    connector.find = async (type, match) => {
      if (!first) return realFind(type, match);
      // The first lookup misses; someone creates the user right after it.
      first = false;
      const miss = await realFind(type, match);
      connector.seed('user', { userName: 'alice' });
      return miss;
    };
    const result = await applyOperations([createUser('alice')], ctx);
    expect(result.failures).toEqual([]);
    expect(result.counts.adopt).toBe(1);
    expect(connector.calls.filter((c) => c.method === 'create')).toHaveLength(1); // the refused POST
    expect(connector.objects.user.size).toBe(1);
    expect(store.link('t', 'user', 'alice')).toBeDefined();
  });

  it('matches against one page-through of the target when many creates are planned and the target can list', async () => {
    const { connector, ctx } = setup({ list: true });
    connector.seed('user', { userName: 'u3' });
    const ops = Array.from({ length: 60 }, (_, i) => createUser(`u${i}`));
    const result = await applyOperations(ops, { ...ctx, policy: { matchIndexThreshold: 50 } });
    expect(result.counts).toMatchObject({ create: 59, adopt: 1 });
    expect(connector.calls.filter((c) => c.method === 'find')).toHaveLength(0);
    expect(connector.calls.filter((c) => c.method === 'list')).toHaveLength(1);
  });

  it('sends plain creates through bulk() when the target advertises /Bulk', async () => {
    const { store, connector, ctx } = setup({ bulk: { supported: true, maxOperations: 10, maxPayloadSize: 1_000_000 } });
    const ops = Array.from({ length: 25 }, (_, i) => createUser(`u${i}`));
    const result = await applyOperations(ops, ctx);
    expect(result.counts.create).toBe(25);
    expect(connector.calls.filter((c) => c.method === 'bulk').map((c) => c.args)).toEqual([10, 10, 5]);
    expect(connector.calls.filter((c) => c.method === 'create')).toHaveLength(0);
    expect(store.linkedCount('t', 'user')).toBe(25);
  });
});

describe('apply: errors', () => {
  it('records a bad request on that object, retries it on the schedule, and goes on with the others', async () => {
    const { store, connector, ctx, events } = setup();
    connector.intercept = (call) => { if (call.method === 'create' && (call.args as { userName: string }).userName === 'bob') throw targetError('badRequest', 'userName is invalid', 400); };
    const failed: string[] = [];
    events.on('operation:failed', (e) => failed.push(e.operation.sourceId));
    const result = await applyOperations([createUser('alice'), createUser('bob'), createUser('carol')], ctx);
    expect(result.counts.create).toBe(2);
    expect(result.failures).toEqual([expect.objectContaining({ sourceId: 'bob', kind: 'badRequest', code: 'BadRequest', retryAt: '2025-03-01T18:00:00.000Z' })]);
    expect(failed).toEqual(['bob']);
    expect(store.link('t', 'user', 'bob')).toBeUndefined();
    expect(store.failure('t', 'user', 'bob')).toMatchObject({ attempts: 1, message: 'userName is invalid' });
    expect(store.logEntries({ sourceId: 'bob' })[0]).toMatchObject({ status: 'failure', error: { code: 'BadRequest', message: 'userName is invalid' } });
  });

  it('retries a transient failure at the next cycle first, then on the schedule', async () => {
    const { store, connector, ctx } = setup();
    connector.intercept = (call) => { if (call.method === 'create') throw targetError('transient', 'HTTP 503', 503); };
    const r1 = await applyOperations([createUser('alice')], ctx);
    expect(r1.failures[0]).toMatchObject({ kind: 'transient', code: 'InternalServerError', retryAt: NOW.toISOString() });
    await applyOperations([createUser('alice')], ctx);
    const r3 = await applyOperations([createUser('alice')], ctx);
    expect(r3.failures[0]!.retryAt).toBe('2025-03-01T18:00:00.000Z'); // two next-cycle retries used up: the schedule starts at 6 h
    expect(store.failure('t', 'user', 'alice')?.attempts).toBe(3);
  });

  it('clears the failure once the object succeeds', async () => {
    const { store, connector, ctx } = setup();
    connector.intercept = () => { throw targetError('transient', 'timeout'); };
    await applyOperations([createUser('alice')], ctx);
    expect(store.failure('t', 'user', 'alice')).toBeDefined();
    connector.intercept = undefined;
    await applyOperations([createUser('alice')], ctx);
    expect(store.failure('t', 'user', 'alice')).toBeUndefined();
  });

  it('stops the target at the first refused credential: nothing more is sent and no object is blamed', async () => {
    const { store, connector, ctx } = setup();
    connector.intercept = (call) => { if (call.method === 'create') throw targetError('unauthorized', 'HTTP 401 invalid token', 401); };
    const ops = Array.from({ length: 5 }, (_, i) => createUser(`u${i}`));
    const result = await applyOperations(ops, { ...ctx, policy: { concurrency: 1 } });
    expect(result.stopped).toEqual({ reason: 'EncounteredQuarantineException', message: 'HTTP 401 invalid token' });
    expect(connector.calls.filter((c) => c.method === 'create')).toHaveLength(1);
    expect(store.failures('t')).toEqual([]);
  });

  it('recreates an object deleted by hand when an update finds it gone (policy recreate)', async () => {
    const { store, connector, ctx } = setup();
    await applyOperations([createUser('alice')], ctx);
    const old = store.link('t', 'user', 'alice')!.targetId;
    connector.objects.user.delete(old);
    const update: PlannedOperation = { kind: 'update', type: 'user', sourceId: 'alice', displayName: 'alice', targetId: old, changes: [{ path: 'title', before: null, after: 'CEO' }], desired: { userName: 'alice', active: true, title: 'CEO' } };
    const result = await applyOperations([update], ctx);
    expect(result.counts.create).toBe(1);
    const link = store.link('t', 'user', 'alice')!;
    expect(link.targetId).not.toBe(old);
    expect(connector.objects.user.get(link.targetId)).toMatchObject({ title: 'CEO' });
  });

  it('forgets the link instead when the policy says unlink', async () => {
    const { store, connector, ctx } = setup();
    await applyOperations([createUser('alice')], ctx);
    const old = store.link('t', 'user', 'alice')!.targetId;
    connector.objects.user.delete(old);
    const update: PlannedOperation = { kind: 'update', type: 'user', sourceId: 'alice', displayName: 'alice', targetId: old, changes: [{ path: 'title', before: null, after: 'CEO' }], desired: { title: 'CEO' } };
    const result = await applyOperations([update], { ...ctx, policy: { onNotFound: 'unlink' } });
    expect(result.counts.unlink).toBe(1);
    expect(store.link('t', 'user', 'alice')).toBeUndefined();
    expect(connector.objects.user.size).toBe(0);
  });
});

describe('apply: updates, disables, deletes', () => {
  it('sends only the changed fields and keeps the link in step', async () => {
    const { store, connector, ctx } = setup();
    await applyOperations([createUser('alice', { title: 'Dev' })], ctx);
    const link = store.link('t', 'user', 'alice')!;
    await applyOperations([{ kind: 'update', type: 'user', sourceId: 'alice', displayName: 'alice', targetId: link.targetId, changes: [{ path: 'title', before: 'Dev', after: 'Lead' }], desired: { ...link.written, title: 'Lead' } }], ctx);
    expect(store.link('t', 'user', 'alice')!.written.title).toBe('Lead');
    expect(store.logEntries({ sourceId: 'alice', action: 'update' })[0]!.modifiedProperties).toEqual([{ path: 'title', before: 'Dev', after: 'Lead' }]);
    expect(connector.objects.user.get(link.targetId)!.title).toBe('Lead');
  });

  it('disables, enables and deletes, keeping the link status (deleted links stay as history)', async () => {
    const { store, connector, ctx } = setup();
    await applyOperations([createUser('alice')], ctx);
    const id = store.link('t', 'user', 'alice')!.targetId;
    await applyOperations([{ kind: 'disable', type: 'user', sourceId: 'alice', displayName: 'alice', targetId: id, reason: 'unassigned' }], ctx);
    expect(store.link('t', 'user', 'alice')).toMatchObject({ status: 'disabled', written: { active: false } });
    expect(connector.objects.user.get(id)!.active).toBe(false);
    await applyOperations([{ kind: 'enable', type: 'user', sourceId: 'alice', displayName: 'alice', targetId: id, reason: 'inScope' }], ctx);
    expect(store.link('t', 'user', 'alice')?.status).toBe('active');
    await applyOperations([{ kind: 'delete', type: 'user', sourceId: 'alice', displayName: 'alice', targetId: id, reason: 'hardDeleted' }], ctx);
    expect(store.link('t', 'user', 'alice')?.status).toBe('deleted');
    expect(connector.objects.user.size).toBe(0);
    expect(store.linkedCount('t')).toBe(0);
  });

  it('treats a delete of something already gone as done', async () => {
    const { store, ctx } = setup();
    store.putLink({ target: 't', type: 'user', sourceId: 'alice', targetId: 'gone', status: 'disabled', written: {} });
    const result = await applyOperations([{ kind: 'delete', type: 'user', sourceId: 'alice', displayName: 'alice', targetId: 'gone', reason: 'hardDeleted' }], ctx);
    expect(result.failures).toEqual([]);
    expect(store.link('t', 'user', 'alice')?.status).toBe('deleted');
  });

  it('logs skips and unlinks without sending anything', async () => {
    const { store, connector, ctx } = setup();
    store.putLink({ target: 't', type: 'user', sourceId: 'bob', targetId: 'B', status: 'active', written: {} });
    const result = await applyOperations([
      { kind: 'skip', type: 'user', sourceId: 'alice', displayName: 'alice', reason: 'disabled before it was ever provisioned' },
      { kind: 'unlink', type: 'user', sourceId: 'bob', displayName: 'bob', targetId: 'B', reason: 'out of scope, deletions skipped' },
    ], ctx);
    expect(result.counts).toMatchObject({ skip: 1, unlink: 1 });
    expect(connector.calls).toEqual([]);
    expect(store.link('t', 'user', 'bob')).toBeUndefined();
    expect(store.logEntries({ sourceId: 'alice' })[0]).toMatchObject({ action: 'skip', status: 'skipped' });
  });
});

describe('apply: groups and members', () => {
  it('creates users before groups and adds members after the group exists, mapped to target ids', async () => {
    const { store, connector, ctx } = setup();
    const ops: PlannedOperation[] = [
      { kind: 'create', type: 'group', sourceId: 'g1', displayName: 'Sales', attributes: { displayName: 'Sales' }, match: [{ path: 'displayName', value: 'Sales' }], members: ['alice', 'bob'] },
      createUser('alice'),
      createUser('bob'),
    ];
    const result = await applyOperations(ops, ctx);
    expect(connector.mutations().map((c) => `${c.method}:${c.type}`)).toEqual(['create:user', 'create:user', 'create:group', 'addMembers:group']);
    const group = store.link('t', 'group', 'g1')!;
    expect([...connector.members.get(group.targetId)!].sort()).toEqual([store.link('t', 'user', 'alice')!.targetId, store.link('t', 'user', 'bob')!.targetId].sort());
    expect(group.members?.sort()).toEqual(['alice', 'bob']);
    expect(result.counts).toMatchObject({ create: 3, addMembers: 1 });
  });

  it('defers members not provisioned yet and adds them once they are, without duplicates', async () => {
    const { store, connector, ctx } = setup();
    connector.intercept = (call) => { if (call.method === 'create' && (call.args as { userName?: string }).userName === 'bob') throw targetError('transient', 'timeout'); };
    const group: PlannedOperation = { kind: 'create', type: 'group', sourceId: 'g1', displayName: 'Sales', attributes: { displayName: 'Sales' }, match: [], members: ['alice', 'bob'] };
    const r1 = await applyOperations([createUser('alice'), createUser('bob'), group], ctx);
    expect(r1.deferredMembers).toBe(1);
    const gid = store.link('t', 'group', 'g1')!.targetId;
    expect(connector.members.get(gid)!.size).toBe(1);

    connector.intercept = undefined;
    const r2 = await applyOperations([createUser('bob')], ctx); // bob's retry, with no group change at all
    expect(r2.counts).toMatchObject({ create: 1, addMembers: 1 });
    expect(connector.members.get(gid)!.size).toBe(2);
    expect(store.link('t', 'group', 'g1')!.members?.sort()).toEqual(['alice', 'bob']);
    expect(store.deferredMemberCount('t')).toBe(0);

    // The planner asking again for members already added sends nothing.
    const before = connector.mutations().length;
    await applyOperations([{ kind: 'addMembers', type: 'group', sourceId: 'g1', displayName: 'Sales', targetId: gid, memberSourceIds: ['alice', 'bob'] }], ctx);
    expect(connector.mutations().length).toBe(before);
  });

  it('removes only the members asked for', async () => {
    const { store, connector, ctx } = setup();
    await applyOperations([createUser('alice'), createUser('bob'), { kind: 'create', type: 'group', sourceId: 'g1', displayName: 'Sales', attributes: { displayName: 'Sales' }, match: [], members: ['alice', 'bob'] }], ctx);
    const gid = store.link('t', 'group', 'g1')!.targetId;
    await applyOperations([{ kind: 'removeMembers', type: 'group', sourceId: 'g1', displayName: 'Sales', targetId: gid, memberSourceIds: ['bob'] }], ctx);
    expect([...connector.members.get(gid)!]).toEqual([store.link('t', 'user', 'alice')!.targetId]);
    expect(store.link('t', 'group', 'g1')!.members).toEqual(['alice']);
  });

  it('records a member failure without counting it toward quarantine', async () => {
    const { store, connector, ctx } = setup();
    await applyOperations([createUser('alice'), { kind: 'create', type: 'group', sourceId: 'g1', displayName: 'Sales', attributes: { displayName: 'Sales' }, match: [] }], ctx);
    connector.intercept = (call) => { if (call.method === 'addMembers') throw targetError('badRequest', 'member rejected', 400); };
    const gid = store.link('t', 'group', 'g1')!.targetId;
    const result = await applyOperations([{ kind: 'addMembers', type: 'group', sourceId: 'g1', displayName: 'Sales', targetId: gid, memberSourceIds: ['alice'] }], ctx);
    expect(result.failures).toHaveLength(1);
    expect(store.failure('t', 'group', 'g1')?.countsForQuarantine).toBe(false);
  });
});
