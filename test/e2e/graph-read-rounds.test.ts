import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphSimulator } from '../../src/simulators/graph/index.js';
import type { SourceStoreImpl } from '../../src/state/source-store.js';
import { startHarness, changeTracker, type Harness } from '../source/e2e-helpers.js';

/** Entra's rule computed from the simulator's own truth: direct assignment or direct member of an assigned group. */
function expectedAssigned(sim: GraphSimulator): string[] {
  const live = new Set(sim.tenant.users().filter((u) => !sim.tenant.isSoftDeleted(u.id)).map((u) => u.id));
  const out = new Set<string>();
  for (const a of sim.tenant.assignments()) {
    if (a.principalType === 'User') out.add(a.principalId);
    if (a.principalType === 'Group') for (const m of sim.tenant.members(a.principalId)) out.add(m);
  }
  return [...out].filter((id) => live.has(id)).sort();
}

function storedAssigned(store: SourceStoreImpl): string[] {
  return [...store.allUsers()].filter((u) => u.assigned && !u.removed).map((u) => u.id).sort();
}

describe('Graph read rounds against the simulator (HTTPS, real MSAL and graph client)', () => {
  let h: Harness;
  const changedSince = changeTracker(() => h.store);
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.close(); });

  it('initial round stores every user and group, and scope matches the app assignments', async () => {
    const summary = await h.reader.read();
    expect(summary.full).toBe(true);
    const users = [...h.store.allUsers()];
    expect(users.map((u) => u.id).sort()).toEqual(h.sim.tenant.users().map((u) => u.id).sort());
    expect([...h.store.allGroups()].length).toBe(h.sim.tenant.groups().length);
    expect(storedAssigned(h.store)).toEqual(expectedAssigned(h.sim));
    expect(summary.users.pages).toBeGreaterThan(1); // page size 7
    const sample = h.sim.tenant.users()[3]!;
    expect(h.store.user(sample.id)?.attributes).toMatchObject({ userPrincipalName: sample.userPrincipalName, displayName: sample.displayName });
    expect(h.store.user(sample.id)?.attributes).not.toHaveProperty('city'); // not selected
    changedSince();
  });

  it('an incremental round with no changes changes nothing and costs a handful of requests', async () => {
    const summary = await h.reader.read();
    expect(summary).toMatchObject({ full: false, usersChanged: 0, groupsChanged: 0 });
    expect(summary.users).toMatchObject({ mode: 'incremental', pages: 1, items: 0 });
    expect(summary.requests).toBeLessThanOrEqual(2 + Math.ceil(h.sim.tenant.assignments().length / h.options.pageSize) + 1);
    expect(changedSince()).toEqual([]);
  });

  it('new user, directly assigned, comes in scope', async () => {
    const u = h.sim.tenant.createUser({ userPrincipalName: 'zoe.new@contoso.example', displayName: 'Zoë New', jobTitle: 'Team Lead' });
    h.sim.tenant.assign(u.id);
    await h.reader.read();
    expect(h.store.user(u.id)).toMatchObject({ assigned: true, removed: null, attributes: { displayName: 'Zoë New', jobTitle: 'Team Lead' } });
    expect(changedSince()).toEqual([u.id]);
  });

  it('attribute update and cleared attribute (explicit null) are merged', async () => {
    const u = h.sim.tenant.users().find((x) => x.department && x.jobTitle)!;
    h.sim.tenant.updateUser(u.id, { department: null, jobTitle: 'Senior Manager' });
    await h.reader.read();
    const stored = h.store.user(u.id)!;
    expect(stored.attributes.department).toBeNull();
    expect(stored.attributes.jobTitle).toBe('Senior Manager');
    expect(stored.attributes.displayName).toBe(u.displayName);
    expect(changedSince()).toEqual([u.id]);
  });

  it('disable, soft delete, restore and hard delete', async () => {
    const enabled = h.sim.tenant.users().filter((x) => x.accountEnabled);
    const [a, b, c] = [enabled[5]!, enabled[6]!, enabled[7]!];
    h.sim.tenant.disableUser(a.id);
    h.sim.tenant.softDeleteUser(b.id);
    h.sim.tenant.hardDeleteUser(c.id);
    const summary = await h.reader.read();
    expect(h.store.user(a.id)?.attributes.accountEnabled).toBe(false);
    expect(h.store.user(b.id)?.removed).toBe('changed');
    expect(h.store.user(c.id)?.removed).toBe('deleted');
    expect(summary.usersRemoved).toBe(2);
    expect(changedSince().sort()).toEqual([a.id, b.id, c.id].sort());
    h.sim.tenant.restoreUser(b.id);
    await h.reader.read();
    expect(h.store.user(b.id)?.removed).toBeNull();
    expect(changedSince()).toEqual([b.id]);
  });

  it('group created, assigned and given a member brings the member in scope; removal takes them out', async () => {
    const outsider = h.sim.tenant.users().find((x) => !h.store.user(x.id)?.assigned && !h.sim.tenant.isSoftDeleted(x.id))!;
    const g = h.sim.tenant.createGroup({ displayName: 'sg-New-Team' });
    h.sim.tenant.addMember(g.id, outsider.id);
    h.sim.tenant.assign(g.id, h.sim.appRoleIds.default);
    await h.reader.read();
    expect(h.store.group(g.id)).toMatchObject({ assigned: true, attributes: { displayName: 'sg-New-Team' } });
    expect(h.store.groupMembers(g.id)).toEqual([{ id: outsider.id, type: 'user' }]);
    expect(h.store.user(outsider.id)?.assigned).toBe(true);
    expect(changedSince()).toEqual([outsider.id]);

    h.sim.tenant.renameGroup(g.id, 'sg-Renamed');
    h.sim.tenant.removeMember(g.id, outsider.id);
    const groupCursor = h.store.currentSeq();
    await h.reader.read();
    expect(h.store.group(g.id)?.attributes.displayName).toBe('sg-Renamed');
    expect(h.store.groupMembers(g.id)).toEqual([]);
    expect(h.store.user(outsider.id)?.assigned).toBe(false);
    expect([...h.store.changedGroups(groupCursor)].map((x) => x.id)).toEqual([g.id]);
    expect(changedSince()).toEqual([outsider.id]);

    h.sim.tenant.deleteGroup(g.id);
    await h.reader.read();
    expect(h.store.group(g.id)?.removed).not.toBeNull();
  });

  it('unassigning a user takes them out of scope without touching their attributes', async () => {
    const direct = h.sim.tenant.assignments().find((a) => a.principalType === 'User' && !h.sim.tenant.isSoftDeleted(a.principalId))!;
    const before = h.store.user(direct.principalId)!;
    h.sim.tenant.unassign(direct.principalId);
    await h.reader.read();
    const after = h.store.user(direct.principalId)!;
    expect(after.attributes).toEqual(before.attributes);
    expect(storedAssigned(h.store)).toEqual(expectedAssigned(h.sim));
    expect(changedSince()).toEqual(after.assigned ? (before.appRoleIds.join() === after.appRoleIds.join() ? [] : [after.id]) : [after.id]);
  });

  it('the store matches the tenant after all rounds', () => {
    expect(storedAssigned(h.store)).toEqual(expectedAssigned(h.sim));
    for (const u of h.sim.tenant.users()) {
      expect(h.store.user(u.id)?.attributes.userPrincipalName).toBe(u.userPrincipalName);
    }
  });
});
