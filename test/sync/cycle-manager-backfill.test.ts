// Manager back-fill: a user written before its manager had a link gets its manager reference once the
// manager is on the target — in the same cycle or the next — without a restart (Entra needs one).
import { describe, expect, it } from 'vitest';
import { harness, user } from './cycle-fixtures.js';

const MANAGER = `    users:
      mappings:
        - { target: manager, source: manager }
`;

function managerOf(h: ReturnType<typeof harness>, sourceId: string): unknown {
  return h.connector.objects.user.get(h.store.link('dw', 'user', sourceId)!.targetId)!.manager;
}

describe('cycle: manager back-fill', () => {
  it('writes the manager in the same cycle when the manager is created after its report', async () => {
    const h = harness(MANAGER);
    user(h.source, 'ann', { manager: 'bob' }); // ann is read (and planned) before bob
    user(h.source, 'bob');
    const summary = await h.cycle({}, { batchSize: 1 });
    expect(summary).toMatchObject({ status: 'success', counts: { create: 2, update: 1 }, backfilled: 1, examined: { users: 2 } });
    expect(managerOf(h, 'ann')).toBe(h.store.link('dw', 'user', 'bob')!.targetId);
    expect(h.connector.mutations('update').map((c) => (c.args as { changes: unknown }).changes)).toEqual([
      [{ path: 'manager', before: null, after: h.store.link('dw', 'user', 'bob')!.targetId }],
    ]);
    expect(h.store.pendingReferences('dw', 'user', 'ann')).toEqual({});
    const log = h.store.logEntries({ sourceId: 'ann', action: 'update' })[0]!;
    expect(log.steps[0]!.details).toContain('a reference it was waiting for is now on the target');
    // Nothing is left to do: the next cycle sends nothing.
    expect((await h.cycle()).requests).toBe(0);
  });

  it('also within one batch: the back-fill runs after the batch that linked the manager', async () => {
    const h = harness(MANAGER);
    user(h.source, 'ann', { manager: 'bob' });
    user(h.source, 'bob');
    const summary = await h.cycle();
    expect(summary.counts).toMatchObject({ create: 2, update: 1 });
    expect(managerOf(h, 'ann')).toBe(h.store.link('dw', 'user', 'bob')!.targetId);
  });

  it('writes the manager in a later cycle when the manager is assigned only then, although the report did not change', async () => {
    const h = harness(MANAGER);
    user(h.source, 'ann', { manager: 'bob' });
    h.source.putUser('bob', { userPrincipalName: 'bob@contoso.com', mail: 'bob@contoso.com', accountEnabled: true }, { assigned: false });
    await h.cycle();
    expect(managerOf(h, 'ann')).toBeUndefined();
    expect(h.store.pendingReferences('dw', 'user', 'ann')).toEqual({ manager: 'bob' });
    // A cycle where nothing happens to bob leaves ann alone (no re-plan, no request).
    expect((await h.cycle()).requests).toBe(0);

    h.source.putUser('bob', {}, { assigned: true });
    const summary = await h.cycle();
    expect(summary).toMatchObject({ counts: { create: 1, update: 1 }, backfilled: 1 });
    expect(managerOf(h, 'ann')).toBe(h.store.link('dw', 'user', 'bob')!.targetId);
  });

  it('back-fills in the next cycle when the manager was provisioned on demand', async () => {
    const h = harness(MANAGER);
    user(h.source, 'ann', { manager: 'bob' });
    h.source.putUser('bob', { userPrincipalName: 'bob@contoso.com', mail: 'bob@contoso.com', accountEnabled: true }, { assigned: false });
    await h.cycle();
    h.source.putUser('bob', {}, { assigned: true });
    await h.cycle({ only: { users: ['bob'] } }); // provision on demand touches only bob
    expect(managerOf(h, 'ann')).toBeUndefined();
    h.connector.calls.length = 0;
    const summary = await h.cycle();
    expect(summary).toMatchObject({ backfilled: 1, counts: { create: 0, update: 1 } });
    expect(managerOf(h, 'ann')).toBe(h.store.link('dw', 'user', 'bob')!.targetId);
    expect(h.connector.mutations().length).toBe(1);
  });

  it('does not record a reference for a user that is not written (out of scope)', async () => {
    const h = harness(MANAGER);
    user(h.source, 'ann', { manager: 'bob', accountEnabled: false });
    await h.cycle();
    expect(h.store.pendingReferences('dw', 'user', 'ann')).toEqual({});
    expect(h.store.link('dw', 'user', 'ann')).toBeUndefined();
  });
});
