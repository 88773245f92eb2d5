// `between` is the daemon's pause point inside a cycle: awaited between batches, with nothing in flight for the
// target, so a queued provision runs there instead of after the whole cycle — and sees every earlier batch
// recorded, while the cycle after it sees what the provision wrote.
import { describe, expect, it } from 'vitest';
import { runCycle } from '../../src/sync/cycle.js';
import { harness, user } from './cycle-fixtures.js';

const HOLDER = 'daemon-host:1';

function withUsers(n: number) {
  const h = harness();
  for (let i = 1; i <= n; i++) user(h.source, `u${String(i).padStart(2, '0')}`);
  const created = () => h.connector.mutations('create').map((c) => (c.args as { externalId: string }).externalId);
  return { h, created };
}

describe('cycle: between batches', () => {
  it('is awaited between batches with nothing in flight, and a provision run inside it sees a consistent state', async () => {
    const { h, created } = withUsers(20);
    const seen: { pending: number; creates: number; links: number }[] = [];
    let provisioned: Awaited<ReturnType<typeof runCycle>> | undefined;
    const between = async () => {
      // Nothing in flight: no journal entry pending, and every create so far has its link.
      seen.push({ pending: h.store.pendingOperations('dw').length, creates: created().length, links: h.store.linkedCount('dw') });
      if (provisioned) return;
      // A provision on demand of a user the cycle has not reached yet, by the same holder (the daemon).
      provisioned = await runCycle({
        store: h.store, source: h.source, compiled: h.compiled, connector: h.connector, events: h.events, policy: h.policy,
        options: { now: h.now, holder: HOLDER, only: { users: ['u18'] } },
      });
    };
    const summary = await h.cycle({ between, holder: HOLDER }, { concurrency: 2, batchSize: 5 });

    // 20 users in batches of 5: a pause before each of the 3 later batches (and one after the last).
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (const s of seen) expect(s).toEqual({ pending: 0, creates: s.links, links: s.links });
    expect(seen[0]!.links).toBe(5);
    expect(provisioned).toMatchObject({ status: 'success', kind: 'provision', counts: { create: 1 } });
    // The cycle planned u18 after the provision linked it: nothing doubled, nothing missed.
    expect(summary.status).toBe('success');
    expect(summary.counts.create).toBe(19);
    expect(created().filter((id) => id === 'u18')).toHaveLength(1);
    expect(h.connector.objects.user.size).toBe(20);
    expect(h.store.cursor('dw')).toBe(h.source.currentSeq());
    // The provision inside did not release the cycle's lease.
    expect(h.store.leaseHolder('dw', h.now())).toBeUndefined();
  });

  it('does not pause (batches keep overlapping) where betweenWanted says no', async () => {
    const { h } = withUsers(20);
    let calls = 0;
    const summary = await h.cycle({ between: async () => { calls++; }, betweenWanted: () => false }, { concurrency: 2, batchSize: 5 });
    expect(summary.status).toBe('success');
    expect(calls).toBe(0);
  });

  it('a signal aborted inside between ends the cycle there', async () => {
    const { h, created } = withUsers(20);
    const controller = new AbortController();
    const summary = await h.cycle({ signal: controller.signal, between: async () => { controller.abort(); } }, { concurrency: 2, batchSize: 5 });
    expect(summary.status).toBe('aborted');
    expect(created()).toHaveLength(5);
    expect(h.store.cursor('dw')).toBe(0);
  });
});
