import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../source/e2e-helpers.js';

describe('expired or reset delta state → automatic full round', () => {
  let h: Harness | undefined;
  afterEach(async () => { await h?.close(); h = undefined; });

  it('expired delta tokens (400 syncStateNotFound) give a full round that detects deletions made meanwhile', async () => {
    h = await startHarness();
    await h.reader.read();
    const [gone, changed] = h.sim.tenant.users().slice(2, 4);
    h.sim.tenant.hardDeleteUser(gone!.id);
    h.sim.tenant.updateUser(changed!.id, { jobTitle: 'Manager' });
    h.sim.tenant.expireDeltaTokens();
    const cursor = h.store.currentSeq();
    const summary = await h.reader.read();
    expect(summary.users).toMatchObject({ mode: 'full', resynced: true });
    expect(summary.groups).toMatchObject({ mode: 'full', resynced: true });
    expect(h.store.user(gone!.id)?.removed).toBe('deleted');
    expect(h.store.user(changed!.id)?.attributes.jobTitle).toBe('Manager');
    // Only what really changed is handed to the engine, even though everything was read again.
    expect([...h.store.changedUsers(cursor)].map((u) => u.id).sort()).toEqual([gone!.id, changed!.id].sort());
    expect(h.sim.requests.some((r) => r.route === 'users/delta' && r.status === 400)).toBe(true);
    // The next round is incremental again.
    expect((await h.reader.read()).full).toBe(false);
  });

  it('410 Gone on the delta link (synchronization reset) also restarts from our own initial query', async () => {
    h = await startHarness();
    await h.reader.read();
    h.sim.faults.rate410 = 1;
    h.sim.counters.reset();
    const pending = h.reader.read();
    // The first deltaLink request gets the 410; the fresh round has no $deltatoken, so no more 410s.
    const summary = await pending;
    h.sim.faults.rate410 = 0;
    expect(summary.users.resynced).toBe(true);
    const usersRequests = h.sim.requests.filter((r) => r.route === 'users/delta');
    expect(usersRequests[0]!.status).toBe(410);
    // Restarted with our $select, not the Location header's bare URL.
    expect(decodeURIComponent(usersRequests[1]!.url)).toContain('$select=id,userPrincipalName,accountEnabled');
    expect(summary.usersChanged).toBe(0);
  });

  it('a changed $select list (new mapping attributes) forces a full round that fills them in', async () => {
    h = await startHarness();
    await h.reader.read();
    const wider = h.newReader({ select: ['city'] });
    const summary = await wider.read();
    expect(summary.users.mode).toBe('full');
    expect(summary.users.resynced).toBe(false);
    const someone = h.sim.tenant.users().find((u) => u.city)!;
    expect(h.store.user(someone.id)?.attributes.city).toBe(someone.city);
  });

  it('resetDeltaLinks makes the next read a full one', async () => {
    h = await startHarness();
    await h.reader.read();
    h.reader.resetDeltaLinks();
    expect((await h.reader.read()).full).toBe(true);
  });
});
