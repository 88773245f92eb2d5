// A streamed users round does not run ahead of its consumer: while two committed chunks wait to be planned,
// the read holds its next page (at most holdMaxMs at a time), and it goes on as the consumer moves or lets go.
import { afterEach, describe, expect, it } from 'vitest';
import type { LiveRead } from '../../src/source/types.js';
import { startHarness, type Harness } from './e2e-helpers.js';

let h: Harness | undefined;
afterEach(async () => { await h?.close(); h = undefined; });

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Polls until `ok` holds (a loaded machine reads slowly); fails the test after 10 s. */
async function until(ok: () => boolean): Promise<void> {
  for (const started = Date.now(); !ok(); await settle(20)) if (Date.now() - started > 10_000) throw new Error('condition not reached in 10 s');
}
const tenant = { users: 300, groups: 2, membersPerGroup: 5, nestedGroups: 0, assignedUserFraction: 0, assignedGroups: 1, seed: 5 };

describe('reader: a streamed users round stays a chunk or two ahead of its consumer', () => {
  it('holds while two chunks wait, moves on as the consumer plans them or waits for more, and finishes once released', async () => {
    h = await startHarness({ tenant, pageSize: 10 });
    const store = h.store;
    let live: LiveRead | undefined;
    const reading = h.reader.read({ stream: { chunkUsers: 50, onLive: (l) => { live = l; }, holdMaxMs: 60_000 } });
    const committed = () => [...store.changedUsers(0)].length;
    // Nobody has planned anything: two chunks (the small first one, 10+ users, and one of 50+), then the read waits.
    await until(() => committed() >= 60);
    await settle(300);
    const held = [...store.changedUsers(0)].map((u) => u.seq);
    expect(held.length).toBeLessThan(300);
    await settle(200);
    expect(committed()).toBe(held.length);

    // The consumer plans the first chunk: one more chunk is read, then the read waits again.
    live!.consumed(Math.min(...held));
    await until(() => committed() > held.length);
    await settle(300);
    expect(committed()).toBeLessThan(300);

    // The consumer, having planned what it saw, waits for the next commit: a held read must go on and make it.
    const before = committed();
    const woke = await Promise.race([live!.changed().then(() => true), settle(5_000).then(() => false)]);
    expect(woke).toBe(true);
    expect(committed()).toBeGreaterThan(before);

    // The consumer is done: the read runs to the end.
    live!.release();
    const summary = await reading;
    expect(summary.users.items).toBe(300);
    expect([...store.changedUsers(0)]).toHaveLength(300);
  });

  it('never holds a page longer than holdMaxMs: with no consumer at all, the round still ends', async () => {
    h = await startHarness({ tenant, pageSize: 10 });
    const summary = await h.reader.read({ stream: { chunkUsers: 50, onLive: () => undefined, holdMaxMs: 20 } });
    expect(summary.users.items).toBe(300);
    expect([...h.store.changedUsers(0)]).toHaveLength(300);
  });
});
