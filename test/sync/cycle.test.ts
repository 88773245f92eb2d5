import { describe, expect, it } from 'vitest';
import { runCycle } from '../../src/sync/cycle.js';
import { targetError } from './apply-fakes.js';
import { harness, user } from './cycle-fixtures.js';

const HOUR = 3_600_000;

describe('cycle: initial and incremental', () => {
  it('provisions users, then groups with their members, and moves the cursor', async () => {
    const h = harness();
    user(h.source, 'alice');
    user(h.source, 'bob');
    h.source.putGroup('g1', { displayName: 'Sales' }, ['alice', 'bob']);
    const summary = await h.cycle();
    expect(summary).toMatchObject({ status: 'success', kind: 'sync', counts: { create: 3, addMembers: 1 }, cursor: { from: 0, to: 3 }, failed: 0 });
    expect(h.store.cursor('dw')).toBe(3);
    const alice = h.store.link('dw', 'user', 'alice')!;
    expect(h.connector.objects.user.get(alice.targetId)).toMatchObject({ userName: 'alice', active: true, externalId: 'alice', 'name.givenName': 'alice' });
    const g = h.store.link('dw', 'group', 'g1')!;
    expect(h.connector.members.get(g.targetId)?.size).toBe(2);
    expect(h.store.runs('dw')[0]).toMatchObject({ status: 'success', kind: 'sync' });
  });

  it('does nothing on a cycle without changes: no request at all', async () => {
    const h = harness();
    user(h.source, 'alice');
    await h.cycle();
    const before = h.connector.calls.length;
    const summary = await h.cycle();
    expect(summary).toMatchObject({ status: 'success', requests: 0, examined: { users: 0, groups: 0 } });
    expect(h.connector.calls.length).toBe(before);
  });

  it('maps and diffs only what changed, sending only the changed field', async () => {
    const h = harness();
    for (const id of ['alice', 'bob', 'carol']) user(h.source, id);
    await h.cycle();
    user(h.source, 'bob', { surname: 'Builder' });
    h.connector.calls.length = 0;
    const summary = await h.cycle();
    expect(summary.examined.users).toBe(1);
    expect(summary.counts.update).toBe(1);
    expect(h.connector.mutations().map((c) => (c.args as { changes: unknown }).changes)).toEqual([[{ path: 'name.familyName', before: 'Test', after: 'Builder' }]]);
  });

  it('disables a user whose sign-in is blocked and enables it again', async () => {
    const h = harness();
    user(h.source, 'alice');
    await h.cycle();
    user(h.source, 'alice', { accountEnabled: false });
    expect((await h.cycle()).counts.disable).toBe(1);
    expect(h.store.link('dw', 'user', 'alice')?.status).toBe('disabled');
    user(h.source, 'alice', { accountEnabled: true });
    expect((await h.cycle()).counts.enable).toBe(1);
    const id = h.store.link('dw', 'user', 'alice')!.targetId;
    expect(h.connector.objects.user.get(id)!.active).toBe(true);
  });

  it('serves two targets from one source, each with its own links and cursor', async () => {
    const h = harness();
    user(h.source, 'alice');
    const other = harness();
    const second = { ...other.compiled, name: 'dw2' };
    await h.cycle();
    const s2 = await runCycle({ store: h.store, source: h.source, compiled: second, connector: other.connector, options: { now: h.now } });
    expect(s2.counts.create).toBe(1);
    expect(h.store.link('dw', 'user', 'alice')).toBeDefined();
    expect(h.store.link('dw2', 'user', 'alice')).toBeDefined();
    user(h.source, 'bob');
    expect((await h.cycle()).counts.create).toBe(1);
    expect(h.store.cursor('dw')).toBe(2);
    expect(h.store.cursor('dw2')).toBe(1);
  });

  it('provisions one user on demand without moving the cursor', async () => {
    const h = harness();
    user(h.source, 'alice');
    user(h.source, 'bob');
    const summary = await h.cycle({ only: { users: ['bob@contoso.com'] } });
    expect(summary).toMatchObject({ kind: 'provision', counts: { create: 1 } });
    expect(h.store.link('dw', 'user', 'bob')).toBeDefined();
    expect(h.store.link('dw', 'user', 'alice')).toBeUndefined();
    expect(h.store.cursor('dw')).toBe(0);
    const log = h.store.logEntries({ sourceId: 'bob' })[0]!;
    expect(log.steps.map((s) => s.name)).toEqual(['import', 'scope', 'match', 'action', 'export']);
  });
});

describe('cycle: dry run', () => {
  it('returns the plan and writes nothing to the target, the links or the cursor', async () => {
    const h = harness();
    user(h.source, 'alice');
    const summary = await h.cycle({ dryRun: true });
    expect(summary.dryRun).toBe(true);
    expect(summary.plan?.operations.map((o) => `${o.kind}:${o.sourceId}`)).toEqual(['create:alice']);
    expect(h.connector.calls).toEqual([]);
    expect(h.store.link('dw', 'user', 'alice')).toBeUndefined();
    expect(h.store.cursor('dw')).toBe(0);
    expect(h.store.runs('dw')).toEqual([]);
  });
});

describe('cycle: failures and retries', () => {
  it('records a failing user, moves the cursor, and retries it when due on the schedule', async () => {
    const h = harness();
    user(h.source, 'alice');
    user(h.source, 'bob');
    h.connector.intercept = (call) => { if (call.method === 'create' && (call.args as { userName: string }).userName === 'bob') throw targetError('badRequest', 'rejected', 400); };
    const s1 = await h.cycle();
    expect(s1).toMatchObject({ status: 'partial', failed: 1, counts: { create: 1 } });
    expect(h.store.cursor('dw')).toBe(2);

    h.connector.intercept = undefined;
    h.advance(5 * HOUR);
    expect((await h.cycle()).examined.retries).toBe(0);
    expect(h.store.link('dw', 'user', 'bob')).toBeUndefined();

    h.advance(1 * HOUR);
    const s3 = await h.cycle();
    expect(s3).toMatchObject({ status: 'success', examined: { retries: 1 }, counts: { create: 1 } });
    expect(h.store.link('dw', 'user', 'bob')).toBeDefined();
    expect(h.store.failures('dw')).toEqual([]);
  });

  it('gives up on an object after the configured time', async () => {
    const h = harness('    failedObjectRetry: { after: [1h], thenEvery: 1h, giveUpAfter: 3h }\n');
    user(h.source, 'bob');
    h.connector.intercept = (call) => { if (call.method === 'create') throw targetError('badRequest', 'rejected', 400); };
    await h.cycle();
    h.advance(HOUR); await h.cycle();
    h.advance(HOUR); await h.cycle();
    expect(h.store.failure('dw', 'user', 'bob')?.attempts).toBe(3);
    h.advance(2 * HOUR);
    const s = await h.cycle();
    expect(s.examined.retries).toBe(0);
    expect(h.store.failures('dw')).toEqual([]);
    expect(h.store.logEntries({ sourceId: 'bob' })[0]!.steps[0]!.details).toMatch(/no more retries/);
  });
});

describe('cycle: deletion threshold', () => {
  it('stages disables over the threshold, proceeds with the rest, and applies them on approve', async () => {
    const { approveStaged } = await import('../../src/sync/staging.js');
    const h = harness('    deleteThreshold: { count: 2 }\n');
    for (let i = 0; i < 6; i++) user(h.source, `u${i}`);
    await h.cycle();
    for (let i = 0; i < 3; i++) h.source.putUser(`u${i}`, {}, { assigned: false });
    user(h.source, 'u5', { surname: 'Renamed' });
    const s = await h.cycle();
    expect(s).toMatchObject({ staged: 3, counts: { disable: 0, update: 1 } });
    expect(h.store.staged('dw')).toHaveLength(3);
    expect(h.store.logEntries({ action: 'staged' })).toHaveLength(3);
    expect(h.store.link('dw', 'user', 'u0')?.status).toBe('active');

    const approved = await approveStaged({ store: h.store, compiled: h.compiled, connector: h.connector, options: { now: h.now } });
    expect(approved.counts.disable).toBe(3);
    expect(h.store.link('dw', 'user', 'u0')?.status).toBe('disabled');
    expect(h.store.staged('dw')).toEqual([]);
  });

  it('drops staged operations on reject and logs it', async () => {
    const { rejectStaged } = await import('../../src/sync/staging.js');
    const h = harness('    deleteThreshold: { count: 0 }\n');
    user(h.source, 'u1');
    await h.cycle();
    h.source.putUser('u1', {}, { assigned: false });
    await h.cycle();
    expect(rejectStaged(h.store, 'dw').map((o) => o.sourceId)).toEqual(['u1']);
    expect(h.store.staged('dw')).toEqual([]);
    expect(h.store.link('dw', 'user', 'u1')?.status).toBe('active');
    expect(h.connector.mutations('setActive')).toEqual([]);
  });

  it('drops a staged disable when the user comes back before approval', async () => {
    const h = harness('    deleteThreshold: { count: 0 }\n');
    user(h.source, 'u1');
    await h.cycle();
    h.source.putUser('u1', {}, { assigned: false });
    await h.cycle();
    expect(h.store.staged('dw')).toHaveLength(1);
    h.source.putUser('u1', {}, { assigned: true });
    await h.cycle();
    expect(h.store.staged('dw')).toEqual([]);
  });
});

describe('cycle: quarantine', () => {
  it('quarantines a target that refuses our credentials, skips cycles until the next attempt, then recovers', async () => {
    const h = harness();
    user(h.source, 'alice');
    h.connector.intercept = (call) => { if (call.method === 'create' || call.method === 'find') throw targetError('unauthorized', 'HTTP 401', 401); };
    const s1 = await h.cycle();
    expect(s1).toMatchObject({ status: 'failed', quarantine: { reason: 'EncounteredQuarantineException', seriesCount: 1 } });
    expect(h.store.cursor('dw')).toBe(0);

    h.connector.intercept = undefined;
    const s2 = await h.cycle();
    expect(s2.status).toBe('quarantined');
    expect(s2.skippedReason).toMatch(/quarantined/);
    expect(h.connector.mutations()).toEqual([]);

    h.advance(HOUR);
    const s3 = await h.cycle();
    expect(s3).toMatchObject({ status: 'success', counts: { create: 1 }, quarantine: null });
    expect(h.store.quarantine('dw')).toBeUndefined();
    expect(h.store.cursor('dw')).toBe(1);
  });

  it('quarantines when too many operations of a cycle fail', async () => {
    const h = harness('    quarantine: { failureRatio: 0.5, minFailures: 3 }\n');
    for (let i = 0; i < 5; i++) user(h.source, `u${i}`);
    h.connector.intercept = (call) => { if (call.method === 'create' && (call.args as { userName: string }).userName !== 'u0') throw targetError('transient', 'HTTP 500', 500); };
    const s = await h.cycle();
    expect(s).toMatchObject({ status: 'quarantined', failed: 4, quarantine: { reason: 'EncounteredEscrowProportionThreshold' } });
  });
});

describe('cycle: lease', () => {
  it('refuses to run while another process holds the target', async () => {
    const h = harness();
    user(h.source, 'alice');
    expect(h.store.acquireLease('dw', 'other-process', 60_000, h.now())).toBe(true);
    await expect(h.cycle()).rejects.toMatchObject({ code: 'TARGET_LEASED' });
    expect(h.connector.calls).toEqual([]);
    h.store.releaseLease('dw', 'other-process');
    expect((await h.cycle()).counts.create).toBe(1);
    expect(h.store.leaseHolder('dw', h.now())).toBeUndefined();
  });
});
