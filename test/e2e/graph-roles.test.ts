// The enterprise app's role definitions over real HTTPS: every read round fetches the service principal's
// appRoles (one request, Graph's $select shape), stores them, and each user record carries the roles it holds,
// directly or through an assigned group. A role renamed in Entra reaches exactly its holders.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SELECT, startHarness, changeTracker, type Harness } from '../source/e2e-helpers.js';

describe('app role definitions and a user\'s roles, read from the Graph simulator', () => {
  let h: Harness;
  const changedSince = changeTracker(() => h.store);
  const definition = (name: string) => {
    const r = h.sim.appRoles.find((x) => x.value === name)!;
    return { id: r.id, value: r.value, displayName: r.displayName, isEnabled: r.isEnabled };
  };

  // A mapping reading [appRoleAssignments] is what makes the reader fetch the role definitions.
  beforeAll(async () => { h = await startHarness(undefined, {}, undefined, [...SELECT, 'appRoleAssignments']); });
  afterAll(async () => { await h?.close(); });

  it('a read round stores the app\'s role definitions with one request in Graph\'s $select shape', async () => {
    const summary = await h.reader.read();
    expect(summary.appRoles).toBe(2);
    expect(h.store.appRoleDefinitions()).toEqual([definition('User'), definition('Admin')].sort((a, b) => a.id.localeCompare(b.id)));
    const sp = h.sim.requests.filter((r) => r.route === 'servicePrincipals/{id}');
    expect(sp).toHaveLength(1);
    expect(decodeURIComponent(sp[0]!.url)).toBe(`/v1.0/servicePrincipals/${h.sim.servicePrincipalId}?$select=appRoles`);
    changedSince();
  });

  it('a user holds the roles assigned to it and to its assigned groups; default access is no role', async () => {
    const users = [...h.store.allUsers()].filter((u) => u.assigned);
    const roleNames = (id: string) => (h.store.user(id)?.appRoles ?? []).map((r) => r.value).sort();
    // Truth from the simulator: direct assignments plus those of groups the user is a direct member of.
    for (const u of users) {
      const expected = new Set<string>();
      for (const a of h.sim.tenant.assignments()) {
        const holds = a.principalId === u.id || (a.principalType === 'Group' && h.sim.tenant.members(a.principalId).includes(u.id));
        const name = h.sim.appRoles.find((r) => r.id === a.appRoleId)?.value;
        if (holds && name) expected.add(name);
      }
      expect(roleNames(u.id)).toEqual([...expected].sort());
      expect(h.store.appRoles(u.id)).toEqual(h.store.user(u.id)!.appRoles);
    }
    // The generated tenant has holders of each kind, so the loop above checked something.
    expect(users.some((u) => u.appRoles!.length > 0)).toBe(true);
    expect(users.some((u) => u.appRoleIds.includes('00000000-0000-0000-0000-000000000000') && u.appRoles!.length === 0)).toBe(true);
  });

  it('a new user assigned Admin and added to a group assigned User holds both; unassigning it leaves User', async () => {
    const group = h.sim.tenant.createGroup({ displayName: 'Role holders' });
    h.sim.tenant.assign(group.id, h.sim.appRoleIds.User);
    const u = h.sim.tenant.createUser({ userPrincipalName: 'rhea.roles@contoso.example', displayName: 'Rhea Roles' });
    h.sim.tenant.addMember(group.id, u.id);
    h.sim.tenant.assign(u.id, h.sim.appRoleIds.Admin);
    await h.reader.read();
    expect(h.store.appRoles(u.id)).toEqual([definition('User'), definition('Admin')].sort((a, b) => a.id.localeCompare(b.id)));
    expect(changedSince()).toEqual([u.id]);
    h.sim.tenant.unassign(u.id);
    await h.reader.read();
    expect(h.store.user(u.id)).toMatchObject({ assigned: true, appRoles: [definition('User')] });
    expect(changedSince()).toEqual([u.id]);
  });

  it('renaming a role in Entra changes exactly its holders; an unchanged read changes nobody', async () => {
    await h.reader.read();
    expect(changedSince()).toEqual([]);
    const admin = h.sim.appRoles.find((r) => r.value === 'Admin')!;
    admin.displayName = 'Tenant administrator';
    await h.reader.read();
    const holders = [...h.store.allUsers()].filter((u) => u.appRoleIds.includes(admin.id)).map((u) => u.id).sort();
    expect(holders.length).toBeGreaterThan(0);
    expect(changedSince().sort()).toEqual(holders);
    expect(h.store.user(holders[0]!)!.appRoles).toContainEqual({ id: admin.id, value: 'Admin', displayName: 'Tenant administrator', isEnabled: true });
  });

  it('a malformed appRoles answer fails the round and leaves the stored state as it was', async () => {
    const seqBefore = h.store.currentSeq();
    const definitions = h.store.appRoleDefinitions();
    const admin = h.sim.appRoles.find((r) => r.value === 'Admin')!;
    const saved = admin.id;
    (admin as { id: unknown }).id = 42;
    await expect(h.reader.read()).rejects.toMatchObject({ code: 'GRAPH_BAD_RESPONSE', message: expect.stringContaining('appRoles[1]') });
    admin.id = saved;
    expect(h.store.currentSeq()).toBe(seqBefore);
    expect(h.store.appRoleDefinitions()).toEqual(definitions);
  });

  it('without a mapping that reads roles, no role definitions are requested', async () => {
    const plain = await startHarness();
    try {
      const summary = await plain.reader.read();
      expect(summary.appRoles).toBeUndefined();
      expect(plain.sim.requests.filter((r) => r.route === 'servicePrincipals/{id}')).toEqual([]);
      expect(plain.store.appRoleDefinitions()).toEqual([]);
    } finally {
      await plain.close();
    }
  });
});
