// End to end, over real HTTP (Graph simulator → reader → runCycle → SCIM simulator): the safety nets.
// The deletion threshold stages a mass disable until approved; a saved plan is refused once the tenant
// moved; a process that stops after its POST landed (or before it left) loses and doubles nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/sync/cycle.js';
import { applySavedPlan, buildPlan } from '../../src/sync/saved-plans.js';
import { approveStaged } from '../../src/sync/staging.js';
import { startScimSimulator, type ScimSimulator } from '../../src/simulators/scim/index.js';
import { openDatabase } from '../../src/state/db.js';
import { TargetsStore } from '../../src/state/targets-store.js';
import type { TargetConnector } from '../../src/targets/connector.js';
import { ScimConnector } from '../../src/targets/scim/connector.js';
import { scimTargetOptionsSchema } from '../../src/targets/scim/options.js';
import { compiledTarget } from '../sync/cycle-fixtures.js';
import { startHarness, type Harness } from '../source/e2e-helpers.js';

describe('sync safety nets against the simulators', () => {
  let graph: Harness;
  let scim: ScimSimulator;
  let connector: ScimConnector;
  const { compiled, policy } = compiledTarget('    deleteThreshold: { count: 3 }\n', 'docuware');

  beforeEach(async () => {
    graph = await startHarness({ tenant: { users: 20, groups: 2, membersPerGroup: 4, seed: 5 }, pageSize: 50 });
    scim = await startScimSimulator({ profile: 'docuware' });
    connector = new ScimConnector('docuware', scimTargetOptionsSchema.parse({ baseUrl: scim.baseUrl, auth: { type: 'bearer', token: 'scim-token' } }));
    await graph.reader.read();
  });

  afterEach(async () => {
    await connector.close();
    await scim.close();
    await graph.close();
  });

  const inScope = () => [...graph.store.allUsers()].filter((u) => u.assigned && !u.removed && u.attributes.accountEnabled !== false).map((u) => u.id);

  it('stages a mass disable over the threshold and disables only after approval', async () => {
    const store = new TargetsStore(graph.store.db);
    await runCycle({ store, source: graph.store, compiled, connector, policy });
    const victims = inScope().slice(0, 4);
    for (const id of victims) graph.sim.tenant.disableUser(id); // sign-in blocked: four disables, over the threshold of 3
    await graph.reader.read();
    scim.clearRequests();
    const summary = await runCycle({ store, source: graph.store, compiled, connector, policy });
    expect(summary.staged).toBe(4);
    expect(scim.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
    for (const id of victims) expect(scim.user(store.link('docuware', 'user', id)!.targetId)?.active).toBe(true);

    const approved = await approveStaged({ store, compiled, connector, policy });
    expect(approved.counts.disable).toBe(4);
    for (const id of victims) expect(scim.user(store.link('docuware', 'user', id)!.targetId)?.active).toBe(false);
  });

  it('refuses a saved plan once the tenant changed, and applies a fresh one exactly', async () => {
    const store = new TargetsStore(graph.store.db);
    const { plan } = await buildPlan({ store, source: graph.store, compiled, connector, policy });
    expect(scim.users()).toHaveLength(0);
    const someone = inScope()[0]!;
    graph.sim.tenant.updateUser(someone, { surname: 'Moved' });
    await graph.reader.read();
    await expect(applySavedPlan({ store, source: graph.store, compiled, connector, policy, planId: plan.id })).rejects.toMatchObject({ code: 'PLAN_STALE' });
    expect(scim.users()).toHaveLength(0);

    const fresh = await buildPlan({ store, source: graph.store, compiled, connector, policy });
    const summary = await applySavedPlan({ store, source: graph.store, compiled, connector, policy, planId: fresh.plan.id });
    expect(summary.counts.create + summary.counts.adopt).toBe(fresh.plan.operations.filter((o) => o.kind === 'create').length);
    expect(summary.failed).toBe(0);
    expect(scim.users().find((u) => u.externalId === someone)).toMatchObject({ name: expect.objectContaining({ familyName: 'Moved' }) });
  });

  for (const when of ['before the POST left', 'after the POST landed'] as const) {
    it(`restarts after a crash ${when}: every user exactly once on the target`, async () => {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'es-e2e-crash-')), 'targets.db');
      const victim = inScope()[2]!;
      const victimName = String(graph.store.user(victim)!.attributes.userPrincipalName).split('@')[0];
      // The first process's connector: the victim's create hangs forever, before or after reaching the target.
      let hanging = false;
      const dying: TargetConnector = new Proxy(connector, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver) as unknown;
          if (prop === 'create') {
            return async (type: 'user' | 'group', attributes: Record<string, unknown>) => {
              if (attributes.userName !== victimName) return target.create(type, attributes);
              if (when === 'after the POST landed') await target.create(type, attributes);
              hanging = true;
              return new Promise(() => undefined);
            };
          }
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      const first = new TargetsStore(openDatabase(file));
      void runCycle({ store: first, source: graph.store, compiled, connector: dying, policy: { ...policy, concurrency: 1, leaseTtlMs: 1 } });
      // Wait until the victim's request hangs and the results of the users before it are recorded. Entries are
      // journalled ahead, so the victim's is not the only one pending: the next ones were written, not sent.
      const before = new Set(inScope().slice(0, 2));
      const pending = () => first.pendingOperations('docuware').map((e) => e.operation.sourceId);
      for (let i = 0; i < 400 && !(hanging && !pending().some((id) => before.has(id))); i++) await new Promise((r) => setTimeout(r, 10));
      const left = pending();
      expect(left).toContain(victim);
      expect(left.some((id) => before.has(id))).toBe(false);
      first.db.close();
      await new Promise((r) => setTimeout(r, 5));

      const restarted = new TargetsStore(openDatabase(file));
      const summary = await runCycle({ store: restarted, source: graph.store, compiled, connector, policy });
      expect(summary.status).toBe('success');
      // Only the victim's create reached the target; every other pending entry was never sent.
      expect(summary.recovered).toEqual(when === 'after the POST landed' ? { landed: 1, replanned: left.length - 1 } : { landed: 0, replanned: left.length });
      const names = scim.users().map((u) => u.userName);
      expect(names.filter((n) => n === victimName)).toHaveLength(1);
      expect(new Set(names).size).toBe(names.length);
      expect(restarted.link('docuware', 'user', victim)?.targetId).toBe(scim.users().find((u) => u.userName === victimName)!.id);
      const again = await runCycle({ store: restarted, source: graph.store, compiled, connector, policy, options: { full: true } });
      expect(again.counts).toMatchObject({ create: 0, adopt: 0, update: 0 });
      restarted.db.close();
    });
  }
});
