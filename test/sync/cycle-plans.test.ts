import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCycle } from '../../src/sync/cycle.js';
import { reconcileTarget } from '../../src/sync/reconcile.js';
import { applySavedPlan, buildPlan } from '../../src/sync/saved-plans.js';
import { openDatabase } from '../../src/state/db.js';
import { TargetsStore } from '../../src/state/targets-store.js';
import { MemorySourceStore } from './apply-fakes.js';
import { compiledTarget, harness, user } from './cycle-fixtures.js';
import { FakeConnector } from './apply-fakes.js';

describe('saved plans', () => {
  it('saves a readable plan, applies exactly it and moves the cursor', async () => {
    const h = harness();
    user(h.source, 'alice');
    const { plan } = await buildPlan({ store: h.store, source: h.source, compiled: h.compiled, connector: h.connector, options: { now: h.now } });
    expect(plan.operations.map((o) => o.kind)).toEqual(['create']);
    expect(plan.diff).toContain('+ create user alice@contoso.com (alice), unless one matches userName="alice"');
    expect(plan.diff).toContain('    userName: "alice"');
    expect(h.connector.calls).toEqual([]);

    const summary = await applySavedPlan({ store: h.store, source: h.source, compiled: h.compiled, connector: h.connector, planId: plan.id, options: { now: h.now } });
    expect(summary).toMatchObject({ kind: 'apply-plan', counts: { create: 1 } });
    expect(h.store.cursor('dw')).toBe(1);
    expect(h.store.plan(plan.id)?.status).toBe('applied');
    await expect(applySavedPlan({ store: h.store, source: h.source, compiled: h.compiled, connector: h.connector, planId: plan.id })).rejects.toMatchObject({ code: 'PLAN_ALREADY_USED' });
  });

  it('refuses, saying why, when the source changed after the plan was built', async () => {
    const h = harness();
    user(h.source, 'alice');
    const { plan } = await buildPlan({ store: h.store, source: h.source, compiled: h.compiled, connector: h.connector });
    user(h.source, 'alice', { surname: 'Changed' });
    await expect(applySavedPlan({ store: h.store, source: h.source, compiled: h.compiled, connector: h.connector, planId: plan.id }))
      .rejects.toMatchObject({ code: 'PLAN_STALE', message: expect.stringMatching(/source has changed since it was built \(source seq 1 → 2\)/) });
    expect(h.connector.mutations()).toEqual([]);
    expect(h.store.plan(plan.id)?.status).toBe('refused');
  });

  it('refuses when a cycle ran for the target after the plan was built', async () => {
    const h = harness();
    user(h.source, 'alice');
    const { plan } = await buildPlan({ store: h.store, source: h.source, compiled: h.compiled, connector: h.connector });
    await h.cycle();
    await expect(applySavedPlan({ store: h.store, source: h.source, compiled: h.compiled, connector: h.connector, planId: plan.id }))
      .rejects.toMatchObject({ code: 'PLAN_STALE', message: expect.stringMatching(/another cycle has run/) });
    expect(h.connector.mutations('create')).toHaveLength(1);
  });

  it('refuses when the links moved (e.g. an on-demand provision) and says so', async () => {
    const h = harness();
    user(h.source, 'alice');
    const { plan } = await buildPlan({ store: h.store, source: h.source, compiled: h.compiled, connector: h.connector });
    await h.cycle({ only: { users: ['alice'] } });
    await expect(applySavedPlan({ store: h.store, source: h.source, compiled: h.compiled, connector: h.connector, planId: plan.id }))
      .rejects.toMatchObject({ code: 'PLAN_STALE', message: expect.stringMatching(/links version/) });
  });

  it('keeps the threshold decision of the plan: held-back operations are staged on apply', async () => {
    const h = harness('    deleteThreshold: { count: 0 }\n');
    user(h.source, 'alice');
    await h.cycle();
    h.source.putUser('alice', {}, { assigned: false });
    const { plan } = await buildPlan({ store: h.store, source: h.source, compiled: h.compiled, connector: h.connector, policy: h.policy });
    expect(plan.staged.map((o) => o.kind)).toEqual(['disable']);
    expect(plan.diff).toMatch(/held back by the deletion threshold/);
    const summary = await applySavedPlan({ store: h.store, source: h.source, compiled: h.compiled, connector: h.connector, policy: h.policy, planId: plan.id });
    expect(summary.staged).toBe(1);
    expect(h.connector.mutations()).toHaveLength(1); // only the initial create
    expect(h.store.staged('dw')).toHaveLength(1);
  });
});

describe('reconcile', () => {
  it('repairs attributes, the active flag and members changed by hand on the target, reporting each fix', async () => {
    const h = harness();
    user(h.source, 'alice');
    user(h.source, 'bob');
    h.source.putGroup('g1', { displayName: 'Sales' }, ['alice', 'bob']);
    await h.cycle();
    const alice = h.store.link('dw', 'user', 'alice')!.targetId;
    const bob = h.store.link('dw', 'user', 'bob')!.targetId;
    const g = h.store.link('dw', 'group', 'g1')!.targetId;
    h.connector.objects.user.get(alice)!['name.familyName'] = 'Edited';
    h.connector.objects.user.get(bob)!.active = false;
    h.connector.members.get(g)!.delete(alice);

    const report = await reconcileTarget({ store: h.store, compiled: h.compiled, connector: h.connector, options: { now: h.now } });
    expect(report.fixes.map((f) => `${f.fix}:${f.sourceId}`).sort()).toEqual(['attributes:alice', 'enable:bob', 'members:g1']);
    expect(report.fixes.find((f) => f.fix === 'attributes')!.details).toBe('name.familyName: "Edited" → "Test"');
    expect(h.connector.objects.user.get(alice)!['name.familyName']).toBe('Test');
    expect(h.connector.objects.user.get(bob)!.active).toBe(true);
    expect(h.connector.members.get(g)!.has(alice)).toBe(true);

    const again = await reconcileTarget({ store: h.store, compiled: h.compiled, connector: h.connector });
    expect(again.fixes).toEqual([]);
  });

  it('creates again an object deleted by hand, and only reports in a dry run', async () => {
    const h = harness();
    user(h.source, 'alice');
    await h.cycle();
    const old = h.store.link('dw', 'user', 'alice')!.targetId;
    h.connector.objects.user.delete(old);
    const dry = await reconcileTarget({ store: h.store, compiled: h.compiled, connector: h.connector, options: { dryRun: true } });
    expect(dry.fixes.map((f) => f.fix)).toEqual(['recreate']);
    expect(h.connector.objects.user.size).toBe(0);
    await reconcileTarget({ store: h.store, compiled: h.compiled, connector: h.connector });
    expect(h.connector.objects.user.size).toBe(1);
    expect(h.store.link('dw', 'user', 'alice')!.targetId).not.toBe(old);
  });
});

describe('crash in the middle of a cycle', () => {
  const file = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'es-cycle-crash-')), 'state.db');

  for (const when of ['hang', 'land-then-hang'] as const) {
    it(`loses and doubles nothing when the process stops ${when === 'hang' ? 'after the journal entry, before the request' : 'after the request landed, before it was recorded'}`, async () => {
      const stateFile = file();
      const { compiled } = compiledTarget();
      const source = new MemorySourceStore();
      const connector = new FakeConnector();
      user(source, 'alice');
      user(source, 'bob');
      connector.intercept = (call) => (call.method === 'create' && (call.args as { userName: string }).userName === 'bob' ? when : undefined);
      const first = new TargetsStore(openDatabase(stateFile));
      void runCycle({ store: first, source, compiled, connector, policy: { concurrency: 1, leaseTtlMs: 1 } });
      // Entries are journalled ahead; wait until alice's result is recorded and bob's request is in flight.
      const pendingNow = () => first.pendingOperations('dw').map((e) => e.operation.sourceId).join();
      for (let i = 0; i < 200 && pendingNow() !== 'bob'; i++) await new Promise((r) => setTimeout(r, 5));
      expect(first.pendingOperations('dw').map((e) => e.operation.sourceId)).toEqual(['bob']);
      first.db.close();

      connector.intercept = undefined;
      const restarted = new TargetsStore(openDatabase(stateFile));
      expect(restarted.cursor('dw')).toBe(0);
      await new Promise((r) => setTimeout(r, 5)); // the dead process's lease (1 ms) has expired
      const summary = await runCycle({ store: restarted, source, compiled, connector });
      expect(summary.recovered).toEqual(when === 'hang' ? { landed: 0, replanned: 1 } : { landed: 1, replanned: 0 });
      expect(summary.status).toBe('success');
      const userNames = [...connector.objects.user.values()].map((a) => a.userName).sort();
      expect(userNames).toEqual(['alice', 'bob']);
      expect(connector.calls.filter((c) => c.method === 'create' && (c.args as { userName: string }).userName === 'bob')).toHaveLength(when === 'hang' ? 2 : 1);
      expect(restarted.cursor('dw')).toBe(2);
      expect(restarted.pendingOperations('dw')).toEqual([]);
    });
  }
});
