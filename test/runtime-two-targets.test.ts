// Document360's parent/child projects: two targets with the document360 preset fed by one Graph read,
// each with its own links, cursor and failures; a dry run of one sends no mutating request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../src/runtime/runtime.js';
import type { CycleSummary } from '../src/sync/cycle.js';
import { startWorld, type World } from './runtime-world.js';

const EXTENSION = 'urn:ietf:params:scim:schemas:extension:document360:2.0:User';

describe('two Document360 projects from one Graph read', () => {
  let world: World;
  let runtime: Runtime;

  beforeAll(async () => {
    world = await startWorld({ targets: { parent: 'document360', child: 'document360' }, presets: { parent: 'document360', child: 'document360' }, targetYaml: { child: 'retry: { maxAttempts: 1 }' } });
    runtime = await world.open();
  });
  afterAll(async () => { await world?.close(); });

  it('a dry run plans both projects and sends neither a request that changes anything', async () => {
    const report = await runtime.sync({ dryRun: true });
    for (const name of ['parent', 'child']) {
      const s = report.targets.find((t) => t.target === name) as CycleSummary;
      expect(s.dryRun).toBe(true);
      expect(s.plan!.operations.filter((o) => o.kind === 'create').length).toBeGreaterThan(5);
      expect(world.scim[name]!.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
      expect(world.scim[name]!.users()).toHaveLength(0);
      expect(runtime.targets.cursor(name)).toBe(0); // nothing recorded as applied
    }
  });

  it('one read provisions both projects, each with its own links and cursor', async () => {
    world.graph.counters.reset();
    const report = await runtime.sync();
    expect(world.graph.counters.total).toBe(report.read.requests);
    const upns = world.inScope(runtime).map((u) => String(u.attributes.userPrincipalName)).sort();
    for (const name of ['parent', 'child']) {
      expect(world.scim[name]!.users().map((u) => u.userName).sort()).toEqual(upns);
      expect(runtime.targets.cursor(name)).toBe(runtime.source.currentSeq());
      expect(runtime.targets.linkedCount(name, 'user')).toBe(upns.length);
    }
    const parentIds = new Set(world.scim.parent!.users().map((u) => u.id));
    expect(world.scim.child!.users().some((u) => parentIds.has(u.id))).toBe(false); // separate objects, separate links
  });

  it('a job title change flips isTeamAccount in both projects; a failing child does not stop the parent and catches up later', async () => {
    const user = world.inScope(runtime)[0]!;
    world.graph.tenant.updateUser(user.id, { jobTitle: 'Team Lead' });
    world.scim.child!.faults.rate500 = 1;
    const report = await runtime.sync();
    const parent = report.targets.find((t) => t.target === 'parent') as CycleSummary;
    const child = report.targets.find((t) => t.target === 'child') as CycleSummary;
    expect(parent).toMatchObject({ status: 'success', counts: expect.objectContaining({ update: 1 }) });
    expect(world.scim.parent!.user(runtime.targets.link('parent', 'user', user.id)!.targetId)![EXTENSION]).toMatchObject({ isTeamAccount: true });
    expect(child.status).toBe('partial');
    expect(runtime.status({ target: 'child' }).targets[0]!.failures.total).toBe(1);

    world.scim.child!.faults.rate500 = 0;
    const retried = await runtime.sync({ target: 'child' }); // a transient failure is retried at the next cycle
    expect(retried.targets).toHaveLength(1);
    expect(runtime.status({ target: 'child' }).targets[0]!.failures.total).toBe(0);
    expect(world.scim.child!.user(runtime.targets.link('child', 'user', user.id)!.targetId)![EXTENSION]).toMatchObject({ isTeamAccount: true });
  });
});

describe('two targets in one sync', () => {
  it('are provisioned side by side, not one after the other, and each ends complete', async () => {
    const world = await startWorld({
      tenant: { seed: 12, users: 120, groups: 4, membersPerGroup: 8, nestedGroups: 0, assignedUserFraction: 0.6, assignedGroups: 2 },
      targets: { parent: 'document360', child: 'document360' },
      presets: { parent: 'document360', child: 'document360' },
      targetYaml: { parent: 'concurrency: 2', child: 'concurrency: 2' },
    });
    try {
      // Each answer takes 5 ms: one target's creates, two at a time, span well over a hundred milliseconds.
      for (const sim of Object.values(world.scim)) sim.faults.latencyMs = 5;
      const runtime = await world.open();
      const report = await runtime.sync();
      const creates = (name: string) => world.scim[name]!.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/Users')).map((r) => r.at);
      const parent = creates('parent');
      const child = creates('child');
      expect(parent.length).toBeGreaterThan(40);
      expect(child.length).toBe(parent.length);
      // Overlap: each target's first create is answered before the other's last.
      expect(Math.min(...child)).toBeLessThan(Math.max(...parent));
      expect(Math.min(...parent)).toBeLessThan(Math.max(...child));
      const upns = world.inScope(runtime).map((u) => String(u.attributes.userPrincipalName)).sort();
      for (const name of ['parent', 'child']) {
        expect(report.targets.find((t) => t.target === name)).toMatchObject({ status: 'success', failed: 0 });
        expect(world.scim[name]!.users().map((u) => u.userName).sort()).toEqual(upns);
      }
      expect(report.targets.map((t) => t.target)).toEqual(['parent', 'child']); // in configuration order
    } finally {
      await world.close();
    }
  });
});
