import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../source/e2e-helpers.js';

describe('provision on demand: fresh reads of one user or group', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.reader.read();
  });
  afterAll(async () => { await h?.close(); });

  it('readUser by userPrincipalName fetches the current object, stores it and bumps its seq', async () => {
    const u = h.sim.tenant.users()[4]!;
    h.sim.tenant.updateUser(u.id, { jobTitle: 'Senior Manager', department: null });
    const cursor = h.store.currentSeq();
    const record = await h.reader.readUser(u.userPrincipalName);
    expect(record).toMatchObject({ id: u.id, removed: null, attributes: { jobTitle: 'Senior Manager', userPrincipalName: u.userPrincipalName } });
    expect(record.attributes.department).toBeNull();
    expect([...h.store.changedUsers(cursor)].map((x) => x.id)).toEqual([u.id]);
    // The delta round that follows sees the same change and does not bump again.
    await h.reader.read();
    expect([...h.store.changedUsers(cursor)].map((x) => x.id)).toEqual([u.id]);
  });

  it('readUser reflects a fresh assignment at once', async () => {
    const outsider = h.sim.tenant.users().find((x) => !h.store.user(x.id)?.assigned)!;
    h.sim.tenant.assign(outsider.id, h.sim.appRoleIds.default);
    const record = await h.reader.readUser(outsider.id);
    expect(record.assigned).toBe(true);
    expect(record.appRoleIds).toContain(h.sim.appRoleIds.default);
  });

  it('readUser of an unknown user is a clear not-found error', async () => {
    await expect(h.reader.readUser('nobody@contoso.example')).rejects.toMatchObject({ code: 'SOURCE_USER_NOT_FOUND' });
  });

  it('readGroup fetches attributes and the full member list', async () => {
    const g = h.sim.tenant.groups()[0]!;
    const extra = h.sim.tenant.users().find((u) => !h.sim.tenant.members(g.id).includes(u.id))!;
    h.sim.tenant.addMember(g.id, extra.id);
    h.sim.tenant.renameGroup(g.id, 'sg-Renamed-On-Demand');
    const record = await h.reader.readGroup(g.id);
    expect(record.attributes.displayName).toBe('sg-Renamed-On-Demand');
    expect(h.store.groupMembers(g.id).map((m) => m.id).sort()).toEqual([...h.sim.tenant.members(g.id)].sort());
  });
});
