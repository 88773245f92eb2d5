// `sync` applies a long users round while Graph is still paging it: chunks of users are committed as they
// are read and the cycle plans each one as it lands. Seen from outside: users reach the target before the
// read ends, the target ends as a read-then-apply sync leaves it, and a read that fails half-way loses
// nothing and sends nothing twice.
import { describe, expect, it } from 'vitest';
import type { RuntimeProgress } from '../src/runtime/runtime.js';
import type { CycleSummary } from '../src/sync/cycle.js';
import { startWorld, userNameOf, type World } from './runtime-world.js';

// 300 users in pages of 25 (12 pages); chunks of 50 users: a commit every two pages once the groups are in.
const tenant = { seed: 9, users: 300, groups: 6, membersPerGroup: 12, nestedGroups: 0, assignedUserFraction: 0.5, assignedGroups: 3 };
const CHUNK = 50;

const userNames = (world: World) => world.scim.docuware!.users().map((u) => u.userName).sort();
const groupsOf = (world: World) => world.scim.docuware!.groups()
  .map((g) => `${String(g.displayName)}:${(g.members as unknown[] | undefined)?.length ?? 0}`).sort();
const userPosts = (world: World) => world.scim.docuware!.requests.filter((r) => r.method === 'POST' && /\/Users$/.test(r.path)).length;

describe('runtime.sync applies a long users round while it is still being read', () => {
  it('users reach the target before the last users page is read, and the target ends as a read-then-apply sync leaves it', async () => {
    const streamed = await startWorld({ tenant });
    const whole = await startWorld({ tenant });
    try {
      const seen: string[] = [];
      const note = (p: RuntimeProgress) => seen.push(p.stage === 'read' ? `read ${p.phase}` : `apply ${p.sent}`);
      const runtime = await streamed.open({ readChunkUsers: CHUNK, onProgress: note });
      const report = await runtime.sync();
      const summary = report.targets[0] as CycleSummary;
      expect(summary).toMatchObject({ status: 'success', failed: 0 });
      const firstSend = seen.findIndex((s) => s.startsWith('apply') && s !== 'apply 0');
      expect(firstSend).toBeGreaterThan(-1);
      expect(firstSend).toBeLessThan(seen.lastIndexOf('read users'));

      const reference = await whole.open({ readChunkUsers: 0 });
      const referenceReport = await reference.sync();
      expect(report.read.users).toEqual(referenceReport.read.users);
      expect(report.read.chunks).toBeGreaterThan(1);
      expect(referenceReport.read.chunks).toBe(0);
      expect(userNames(streamed)).toEqual(userNames(whole));
      expect(userNames(streamed)).toEqual(streamed.inScope(runtime).map((u) => userNameOf(String(u.attributes.userPrincipalName))).sort());
      expect(groupsOf(streamed)).toEqual(groupsOf(whole));
      // The same operations. (`unchanged` may differ: a user assigned through a group is examined once before
      // the groups round is committed, out of scope then, and again after.)
      const { unchanged: _u1, ...ops } = summary.counts;
      const { unchanged: _u2, ...referenceOps } = (referenceReport.targets[0] as CycleSummary).counts;
      expect(ops).toEqual(referenceOps);
      expect(userPosts(streamed)).toBe(streamed.scim.docuware!.users().length);
      // The cursor took the read's last commit: nothing is left for the next cycle.
      expect(summary.cursor.to).toBe(runtime.source.currentSeq());
      streamed.scim.docuware!.clearRequests();
      const again = await runtime.sync();
      expect(again.targets[0]).toMatchObject({ status: 'success', requests: 0 });
    } finally {
      await streamed.close();
      await whole.close();
    }
  });

  it('a read that fails after chunks were applied keeps them, and the next sync reads the round again and sends each remaining user once', async () => {
    const world = await startWorld({ tenant });
    try {
      let failing = true;
      const runtime = await world.open({
        readChunkUsers: CHUNK,
        // In the first sync, from the sixth users page on, Graph refuses every request.
        onProgress: (p) => { if (failing && p.stage === 'read' && p.phase === 'users' && p.pages === 6) world.graph.faults.rate401 = 1; },
      });
      await expect(runtime.sync()).rejects.toThrow();
      const applied = world.scim.docuware!.users().length;
      expect(applied).toBeGreaterThan(0);

      failing = false;
      world.graph.faults.rate401 = 0;
      const report = await runtime.sync();
      // The failed round left no delta link behind: the round is read again from its start.
      expect(report.read.full).toBe(true);
      expect(report.targets[0]).toMatchObject({ status: 'success', failed: 0 });
      const expected = world.inScope(runtime).map((u) => userNameOf(String(u.attributes.userPrincipalName))).sort();
      expect(applied).toBeLessThan(expected.length);
      expect(userNames(world)).toEqual(expected);
      // Over both syncs, one POST per user: none lost, none sent twice.
      expect(userPosts(world)).toBe(expected.length);
    } finally {
      await world.close();
    }
  });
});
