// A streamed users round (`sync` on a long round) commits its first chunk after a fifth of the chunk size, so
// the targets start receiving users after a few pages instead of a whole chunk's worth.
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './e2e-helpers.js';

let h: Harness | undefined;
afterEach(async () => { await h?.close(); h = undefined; });

describe('reader: the first chunk of a streamed users round is small', () => {
  it('commits the first chunk once a fifth of the chunk size is staged, the others at the full size', async () => {
    // 200 users in pages of 10, one group assignment (read in one request, beside the first users pages).
    h = await startHarness({ tenant: { users: 200, groups: 2, membersPerGroup: 5, nestedGroups: 0, assignedUserFraction: 0, assignedGroups: 1, seed: 5 }, pageSize: 10 });
    const store = h.store;
    const committedAtEachChunk: number[] = [];
    let live: unknown;
    const summary = await h.reader.read({
      stream: {
        chunkUsers: 50,
        onLive: (l) => { live = l; },
      },
      onProgress: () => {
        const committed = [...store.changedUsers(0)].length;
        if (committed > (committedAtEachChunk.at(-1) ?? 0)) committedAtEachChunk.push(committed);
      },
    });
    expect(live).toBeDefined();
    expect(summary.chunks).toBeGreaterThan(1);
    const [first, second] = committedAtEachChunk;
    // The first chunk: at least 10 users (a fifth of 50), fewer than 50.
    expect(first).toBeGreaterThanOrEqual(10);
    expect(first).toBeLessThan(50);
    // The next: 50 more.
    expect(second! - first!).toBeGreaterThanOrEqual(50);
    expect([...store.changedUsers(0)]).toHaveLength(200);
  });
});
