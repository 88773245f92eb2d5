import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../source/e2e-helpers.js';

describe('paging edge cases', () => {
  let h: Harness | undefined;
  afterEach(async () => { await h?.close(); h = undefined; });

  it('a big group split across pages keeps every member, and empty pages with a nextLink are followed', async () => {
    h = await startHarness({ tenant: { users: 60, groups: 3, membersPerGroup: 4, largeGroupMembers: 45, seed: 3 }, pageSize: 5, membersPerPage: 8, faults: { emptyPageRate: 0.3 } });
    const summary = await h.reader.read();
    const big = h.sim.tenant.groups()[0]!;
    expect(h.store.groupMembers(big.id).map((m) => m.id).sort()).toEqual([...h.sim.tenant.members(big.id)].sort());
    expect(h.sim.counters.faulted).toBeGreaterThan(0); // some pages were served empty
    expect(summary.users.items).toBeGreaterThanOrEqual(60);
    for (const g of h.sim.tenant.groups()) {
      expect(h.store.groupMembers(g.id).map((m) => m.id).sort()).toEqual([...h.sim.tenant.members(g.id)].sort());
    }
  });

  it('member additions and removals on a big group arrive as members@delta and are applied', async () => {
    h = await startHarness({ tenant: { users: 40, groups: 2, membersPerGroup: 3, largeGroupMembers: 30, seed: 5 }, pageSize: 4, membersPerPage: 6 });
    await h.reader.read();
    const big = h.sim.tenant.groups()[0]!;
    const members = h.sim.tenant.members(big.id);
    const outsider = h.sim.tenant.users().find((u) => !members.includes(u.id))!;
    h.sim.tenant.removeMember(big.id, members[0]!);
    h.sim.tenant.removeMember(big.id, members[10]!);
    h.sim.tenant.addMember(big.id, outsider.id);
    await h.reader.read();
    expect(h.store.groupMembers(big.id).map((m) => m.id).sort()).toEqual([...h.sim.tenant.members(big.id)].sort());
  });
});
