// An initial sync against a target that can list matches new objects against one page-through of the target
// for the whole cycle, however many batches the cycle applies (not one page-through per batch), and still
// adopts an object created earlier in the same cycle rather than creating it twice.
import { describe, expect, it } from 'vitest';
import { runCycle } from '../../src/sync/cycle.js';
import { openDatabase } from '../../src/state/db.js';
import { TargetsStore } from '../../src/state/targets-store.js';
import { FakeConnector, MemorySourceStore } from './apply-fakes.js';
import { compiledTarget, user } from './cycle-fixtures.js';

describe('cycle: matching new objects against the target', () => {
  it('pages through the target once per cycle across batches, adopting what exists and what this cycle created', async () => {
    const { compiled, policy } = compiledTarget();
    const store = new TargetsStore(openDatabase(':memory:'));
    const source = new MemorySourceStore();
    const connector = new FakeConnector({ list: true });
    for (let i = 0; i < 150; i++) user(source, `u${i}`);
    // Already on the target (by hand): matched by userName and adopted, in the third batch.
    const existing = connector.seed('user', { userName: 'u120', active: true });
    // A second Entra user whose userName (the UPN's local part) equals u3's: planned in a later batch than u3.
    user(source, 'u3-elsewhere', { userPrincipalName: 'u3@fabrikam.com' });

    const summary = await runCycle({ store, source, compiled, connector, policy: { ...policy, batchSize: 50 } });

    expect(summary).toMatchObject({ status: 'success', counts: { create: 149, adopt: 2 }, failed: 0 });
    expect(connector.calls.filter((c) => c.method === 'list')).toHaveLength(1);
    // Only the object created in this cycle is looked up again (the index keeps just its id); no POST is refused.
    expect(connector.calls.filter((c) => c.method === 'find')).toHaveLength(1);
    expect(connector.calls.filter((c) => c.method === 'create')).toHaveLength(149);
    expect(connector.objects.user.size).toBe(150);
    expect(store.link('dw', 'user', 'u120')?.targetId).toBe(existing);
    expect(store.link('dw', 'user', 'u3-elsewhere')?.targetId).toBe(store.link('dw', 'user', 'u3')?.targetId);
  });
});
