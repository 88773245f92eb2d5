// An aborted signal (the daemon's shutdown) stops a cycle without losing or doubling anything: every operation
// that was journalled is sent and recorded, nothing is journalled after the abort, the cursor stays, and the
// next cycle sends exactly what was left.
import { describe, expect, it } from 'vitest';
import type { PlannedOperation } from '../../src/engine/types.js';
import { harness, user } from './cycle-fixtures.js';

const USERS = 30;

function withUsers(n = USERS) {
  const h = harness();
  for (let i = 1; i <= n; i++) user(h.source, `u${String(i).padStart(2, '0')}`);
  // Written to the journal, in order (the journal exists only while an operation is in flight).
  const journalled: string[] = [];
  const begin = h.store.journalBegin.bind(h.store);
  h.store.journalBegin = (target: string, runId: string, op: PlannedOperation, now?: Date) => { journalled.push(op.sourceId); return begin(target, runId, op, now); };
  const created = () => h.connector.mutations('create').map((c) => (c.args as { externalId: string }).externalId);
  return { h, journalled, created };
}

describe('cycle: abort', () => {
  it('sends and records every journalled operation, journals nothing after the abort, and leaves the cursor', async () => {
    const { h, journalled, created } = withUsers();
    const controller = new AbortController();
    let journalledAtAbort = -1;
    h.connector.intercept = (call) => {
      if (call.method === 'create' && h.connector.mutations('create').length === 7) {
        controller.abort();
        journalledAtAbort = journalled.length;
      }
    };
    const summary = await h.cycle({ signal: controller.signal }, { concurrency: 1, batchSize: 5 });

    expect(summary.status).toBe('aborted');
    // Nothing was journalled once the signal was aborted …
    expect(journalled.length).toBe(journalledAtAbort);
    // … what was journalled was sent (each exactly once) and recorded, the one in flight at the abort included.
    expect(created().sort()).toEqual([...journalled].sort());
    expect(new Set(created()).size).toBe(created().length);
    for (const id of journalled) expect(h.store.link('dw', 'user', id)?.status).toBe('active');
    expect(h.store.pendingOperations('dw')).toEqual([]);
    expect(summary.counts.create).toBe(journalled.length);
    // Some were left for later, and the cursor says so.
    expect(created().length).toBeLessThan(USERS);
    expect(h.store.cursor('dw')).toBe(0);
    expect(h.store.runs('dw')[0]).toMatchObject({ status: 'aborted' });
  });

  it('the next cycle sends the rest, nothing doubled, and moves the cursor', async () => {
    const { h, created } = withUsers();
    const controller = new AbortController();
    h.connector.intercept = (call) => { if (call.method === 'create' && h.connector.mutations('create').length === 7) controller.abort(); };
    await h.cycle({ signal: controller.signal }, { concurrency: 1, batchSize: 5 });
    const sentBefore = created().length;
    h.connector.intercept = undefined;

    const next = await h.cycle({}, { concurrency: 1, batchSize: 5 });
    expect(next.status).toBe('success');
    expect(next.counts.create).toBe(USERS - sentBefore);
    expect(created().length).toBe(USERS);
    expect(new Set(created()).size).toBe(USERS);
    expect(h.connector.objects.user.size).toBe(USERS);
    expect(h.store.cursor('dw')).toBe(h.source.currentSeq());
  });

  it('an already aborted signal sends nothing at all', async () => {
    const { h, journalled } = withUsers(5);
    const summary = await h.cycle({ signal: AbortSignal.abort() });
    expect(summary.status).toBe('aborted');
    expect(journalled).toEqual([]);
    expect(h.connector.mutations()).toEqual([]);
    expect(h.store.cursor('dw')).toBe(0);
  });

  it('holds back no disable or delete when aborted: they are planned again, not staged or sent', async () => {
    const { h } = withUsers(5);
    await h.cycle();
    for (let i = 1; i <= 5; i++) user(h.source, `u0${i}`, { accountEnabled: false });
    const summary = await h.cycle({ signal: AbortSignal.abort() });
    expect(summary).toMatchObject({ status: 'aborted', staged: 0 });
    expect(h.connector.mutations('setActive')).toEqual([]);
    expect((await h.cycle()).counts.disable).toBe(5);
  });

  it('approve stops on the signal and keeps what it did not send staged', async () => {
    const { approveStaged } = await import('../../src/sync/staging.js');
    const { h } = withUsers(12);
    await h.cycle();
    for (let i = 1; i <= 12; i++) h.source.putUser(`u${String(i).padStart(2, '0')}`, {}, { removed: 'deleted' });
    const held = await h.cycle({}, { deleteThreshold: { count: 2 } });
    expect(held.staged).toBe(12);
    const controller = new AbortController();
    h.connector.intercept = (call) => { if (call.method === 'setActive' && h.connector.mutations('setActive').length === 3) controller.abort(); };
    const summary = await approveStaged({ store: h.store, compiled: h.compiled, connector: h.connector, events: h.events, policy: { ...h.policy, concurrency: 1, batchSize: 4 }, options: { now: h.now, signal: controller.signal } });
    expect(summary.status).toBe('aborted');
    const sent = h.connector.mutations('setActive').length + h.connector.mutations('delete').length;
    expect(sent).toBeLessThan(12);
    expect(h.store.staged('dw').length).toBe(12 - sent);
  });
});
