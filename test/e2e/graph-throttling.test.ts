import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../source/e2e-helpers.js';

describe('throttling: 429/503/504 are retried and Retry-After is honoured', () => {
  let h: Harness | undefined;
  afterEach(async () => { await h?.close(); h = undefined; });

  it('never sends the next request before a fractional Retry-After has passed', async () => {
    h = await startHarness({ tenant: { users: 25, groups: 3, membersPerGroup: 4, seed: 11 }, pageSize: 5, faults: { rate429: 0.35, retryAfterSeconds: 0.25 } });
    const summary = await h.reader.read();
    const graph = h.sim.requests.filter((r) => r.url.startsWith('/v1.0/'));
    const throttled = graph.filter((r) => r.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    // Assignments, users and groups are read side by side; each is its own sequence of pages.
    const sequence = (url: string) => url.split('?')[0]!.split('/').slice(0, 4).join('/');
    for (const t of throttled) {
      const i = graph.indexOf(t);
      const next = graph.slice(i + 1).find((r) => sequence(r.url) === sequence(t.url));
      if (next) {
        expect(next.at - t.at).toBeGreaterThanOrEqual(250);
        expect(next.url).toBe(t.url); // the same page is asked for again, not skipped
      }
      // The other sequences wait too: nothing new arrives during the pause beyond what was already on its way.
      const during = graph.slice(i + 1).filter((r) => r.at - t.at > 50 && r.at - t.at < 250);
      expect(during).toEqual([]);
    }
    expect([...h.store.allUsers()].length).toBe(h.sim.tenant.users().length);
    expect(summary.requests).toBeGreaterThanOrEqual(graph.length);
  });

  it('503 and 504 without Retry-After are retried with backoff and the read completes', async () => {
    h = await startHarness({ tenant: { users: 25, groups: 3, membersPerGroup: 4, seed: 12 }, pageSize: 5, faults: { rate503: 0.2, rate504: 0.2, retryAfterSeconds: 0 } });
    await h.reader.read();
    expect(h.sim.requests.some((r) => r.status === 503 || r.status === 504)).toBe(true);
    expect([...h.store.allUsers()].length).toBe(h.sim.tenant.users().length);
  });

  it('connection resets are retried', async () => {
    h = await startHarness({ tenant: { users: 20, groups: 2, membersPerGroup: 3, seed: 13 }, pageSize: 5, faults: { resetRate: 0.2 } });
    await h.reader.read();
    expect(h.sim.counters.faulted).toBeGreaterThan(0);
    expect([...h.store.allUsers()].length).toBe(h.sim.tenant.users().length);
  });

  it('a throttle that outlasts the retries fails the read and leaves the stored state as it was', async () => {
    h = await startHarness(undefined, {}, { policy: { maxRetries: 2, baseDelayMs: 5, maxDelayMs: 10 } });
    await h.reader.read();
    const link = h.store.deltaLink('users')?.link;
    h.sim.tenant.updateUser(h.sim.tenant.users()[0]!.id, { jobTitle: 'Never seen' });
    h.sim.faults.rate429 = 1;
    h.sim.faults.retryAfterSeconds = 0.01;
    h.sim.counters.reset();
    await expect(h.reader.read()).rejects.toMatchObject({ code: 'GRAPH_UNAVAILABLE', status: 429 });
    h.sim.faults.rate429 = 0;
    // 1 attempt + 2 retries of each URL (the assignments, users and groups rounds start side by side): the graph
    // client's own RetryHandler does not multiply them.
    const graphRequests = h.sim.requests.filter((r) => r.url.startsWith('/v1.0/'));
    const perUrl = new Map<string, number>();
    for (const r of graphRequests) perUrl.set(r.url, (perUrl.get(r.url) ?? 0) + 1);
    expect([...perUrl.values()].every((n) => n === 3)).toBe(true);
    expect([...perUrl.keys()].some((url) => url.startsWith('/v1.0/users/delta'))).toBe(true);
    expect(h.store.deltaLink('users')?.link).toBe(link);
    expect(h.store.user(h.sim.tenant.users()[0]!.id)?.attributes.jobTitle).not.toBe('Never seen');
    await h.reader.read();
    expect(h.store.user(h.sim.tenant.users()[0]!.id)?.attributes.jobTitle).toBe('Never seen');
  });
});
