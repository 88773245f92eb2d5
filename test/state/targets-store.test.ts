import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/state/db.js';
import { attributesHash, TargetsStore } from '../../src/state/targets-store.js';
import type { PlannedOperation } from '../../src/engine/types.js';

const HOUR = 3_600_000;
const store = () => new TargetsStore(openDatabase(':memory:'));
const disable = (sourceId: string): Extract<PlannedOperation, { kind: 'disable' | 'enable' }> => ({ kind: 'disable', type: 'user', sourceId, displayName: sourceId, targetId: `t-${sourceId}`, reason: 'unassigned' });

describe('targets store: links', () => {
  it('keeps links per target, finds them by source id and by target id, and hashes written attributes stably', () => {
    const s = store();
    s.putLink({ target: 'a', type: 'user', sourceId: 'u1', targetId: 'T1', status: 'active', written: { userName: 'x', active: true } });
    s.putLink({ target: 'b', type: 'user', sourceId: 'u1', targetId: 'B1', status: 'disabled', written: { userName: 'x' } });
    expect(s.link('a', 'user', 'u1')?.targetId).toBe('T1');
    expect(s.link('b', 'user', 'u1')?.status).toBe('disabled');
    expect(s.linkByTargetId('a', 'user', 'T1')?.sourceId).toBe('u1');
    expect(s.link('a', 'group', 'u1')).toBeUndefined();
    expect(attributesHash({ a: 1, b: { c: 2, d: 3 } })).toBe(attributesHash({ b: { d: 3, c: 2 }, a: 1 }));
    expect(s.link('a', 'user', 'u1')?.hash).toBe(attributesHash({ active: true, userName: 'x' }));
    expect(s.linkedCount('a')).toBe(1);
  });

  it('stores group members we added and moves the links version on every write', () => {
    const s = store();
    const v0 = s.linksVersion('a');
    s.putLink({ target: 'a', type: 'group', sourceId: 'g1', targetId: 'G1', status: 'active', written: { displayName: 'Sales' }, members: ['u1', 'u2'] });
    expect(s.link('a', 'group', 'g1')?.members).toEqual(['u1', 'u2']);
    expect(s.linksVersion('a')).toBe(v0 + 1);
    s.deleteLink('a', 'group', 'g1');
    expect(s.link('a', 'group', 'g1')).toBeUndefined();
    expect(s.linksVersion('a')).toBe(v0 + 2);
    expect(s.linksVersion('other')).toBe(0);
  });

  it('answers whether a written value is already taken', () => {
    const s = store();
    s.putLink({ target: 'a', type: 'user', sourceId: 'u1', targetId: 'T1', status: 'active', written: { userName: 'jdoe', 'emails[type eq "work"].value': 'j@x' } });
    expect(s.writtenValueExists('a', 'user', 'userName', 'jdoe')).toBe(true);
    expect(s.writtenValueExists('a', 'user', 'emails[type eq "work"].value', 'j@x')).toBe(true);
    expect(s.writtenValueExists('a', 'user', 'userName', 'other')).toBe(false);
  });
});

describe('targets store: cursor', () => {
  it('starts at 0 and is kept per target', () => {
    const s = store();
    expect(s.cursor('a')).toBe(0);
    s.setCursor('a', 42);
    expect(s.cursor('a')).toBe(42);
    expect(s.cursor('b')).toBe(0);
  });
});

describe('targets store: journal', () => {
  it('records an operation pending before it is sent and finished after; pending ones survive a reopen', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-journal-'));
    const file = path.join(dir, 'state.db');
    const s1 = new TargetsStore(openDatabase(file));
    const op: PlannedOperation = { kind: 'create', type: 'user', sourceId: 'u1', displayName: 'u1', attributes: { userName: 'u1' }, match: [{ path: 'userName', value: 'u1' }] };
    const pending = s1.journalBegin('a', 'run1', op);
    const done = s1.journalBegin('a', 'run1', { ...op, sourceId: 'u2' });
    s1.journalEnd(done);
    s1.db.close();

    const s2 = new TargetsStore(openDatabase(file));
    const left = s2.pendingOperations('a');
    expect(left.map((e) => e.id)).toEqual([pending]);
    expect(left[0]!.operation).toEqual(op);
    expect(s2.journalEntry(done)).toBeUndefined();
    expect(s2.pendingOperations('a')).toHaveLength(1);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('migration 3 drops the finished entries earlier versions left, and keeps the pending ones', () => {
    const s1 = store();
    const op: PlannedOperation = { kind: 'create', type: 'user', sourceId: 'u1', displayName: 'u1', attributes: { userName: 'u1' }, match: [{ path: 'userName', value: 'u1' }] };
    const pending = s1.journalBegin('a', 'run1', op);
    const done = s1.journalBegin('a', 'run1', { ...op, sourceId: 'u2' });
    // As an earlier version finished an entry, then the state file before migration 3.
    s1.db.prepare("UPDATE target_journal SET state = 'done', result = '{}' WHERE id = ?").run(done);
    s1.db.prepare("DELETE FROM schema_migrations WHERE module = 'targets' AND version = 3").run();
    const s2 = new TargetsStore(s1.db);
    expect(s2.journalEntry(done)).toBeUndefined();
    expect(s2.pendingOperations('a').map((e) => e.id)).toEqual([pending]);
  });
});

describe('targets store: failures', () => {
  it('schedules retries 6 h, 12 h, 24 h, then daily, and lists only due ones', () => {
    const s = store();
    const t0 = new Date('2025-01-01T00:00:00Z');
    const at = (h: number) => new Date(t0.getTime() + h * HOUR);
    const r1 = s.recordFailure({ target: 'a', type: 'user', sourceId: 'u1', code: 'BadRequest', message: 'no', now: t0 });
    expect(r1.nextRetryAt).toBe(at(6).toISOString());
    const r2 = s.recordFailure({ target: 'a', type: 'user', sourceId: 'u1', code: 'BadRequest', message: 'no', now: at(6) });
    expect(r2.nextRetryAt).toBe(at(18).toISOString());
    const r3 = s.recordFailure({ target: 'a', type: 'user', sourceId: 'u1', code: 'BadRequest', message: 'no', now: at(18) });
    expect(r3.nextRetryAt).toBe(at(42).toISOString());
    const r4 = s.recordFailure({ target: 'a', type: 'user', sourceId: 'u1', code: 'BadRequest', message: 'still no', now: at(42) });
    expect(r4).toMatchObject({ attempts: 4, nextRetryAt: at(66).toISOString(), firstFailedAt: t0.toISOString(), message: 'still no' });
    expect(s.dueFailures('a', at(65))).toEqual([]);
    expect(s.dueFailures('a', at(66)).map((f) => f.sourceId)).toEqual(['u1']);
    s.clearFailure('a', 'user', 'u1');
    expect(s.failures('a')).toEqual([]);
  });

  it('takes a configured schedule and an explicit retry time', () => {
    const s = store();
    const t0 = new Date('2025-01-01T00:00:00Z');
    expect(s.recordFailure({ target: 'a', type: 'user', sourceId: 'u1', code: 'x', message: 'x', now: t0, scheduleMs: [60_000] }).nextRetryAt).toBe('2025-01-01T00:01:00.000Z');
    expect(s.recordFailure({ target: 'a', type: 'group', sourceId: 'g1', code: 'x', message: 'x', now: t0, retryAt: t0, countsForQuarantine: false }))
      .toMatchObject({ nextRetryAt: t0.toISOString(), countsForQuarantine: false });
  });
});

describe('targets store: staged operations', () => {
  it('keeps one staged operation per object; approve returns and clears them, reject drops them', () => {
    const s = store();
    s.stage('a', 'r1', disable('u1'));
    s.stage('a', 'r1', disable('u2'));
    s.stage('a', 'r2', { ...disable('u2'), reason: 'softDeleted' });
    s.stage('b', 'r3', disable('u9'));
    expect(s.staged('a').map((x) => x.operation.sourceId).sort()).toEqual(['u1', 'u2']);
    expect(s.staged('a').find((x) => x.operation.sourceId === 'u2')?.operation).toMatchObject({ reason: 'softDeleted' });
    s.unstage('a', 'user', 'u1');
    expect(s.approve('a').map((o) => o.sourceId)).toEqual(['u2']);
    expect(s.staged('a')).toEqual([]);
    expect(s.reject('b').map((o) => o.sourceId)).toEqual(['u9']);
    expect(s.staged('b')).toEqual([]);
  });
});

describe('targets store: group members of either type', () => {
  it('resolves a member source id to its user link, else its nested group link, and never to another target', () => {
    const s = store();
    s.putLink({ target: 'a', type: 'group', sourceId: 'x', targetId: 'G-x', status: 'active', written: {} });
    s.putLink({ target: 'a', type: 'group', sourceId: 'g2', targetId: 'G2', status: 'active', written: {} });
    s.putLink({ target: 'b', type: 'user', sourceId: 'g2', targetId: 'B-g2', status: 'active', written: {} });
    expect(s.linkOfMember('a', 'x')?.targetId).toBe('G-x');
    s.putLink({ target: 'a', type: 'user', sourceId: 'x', targetId: 'U-x', status: 'active', written: {} });
    expect(s.linkOfMember('a', 'x')?.targetId).toBe('U-x');
    expect(s.linkOfMember('a', 'g2')?.targetId).toBe('G2');
    expect(s.linkOfMember('a', 'nobody')).toBeUndefined();
  });

  it('releases a deferred member linked as a nested group, once even when a user link shares its id', () => {
    const s = store();
    s.addDeferredMembers('a', 'g1', ['g2', 'x', 'u9']);
    s.putLink({ target: 'a', type: 'group', sourceId: 'g2', targetId: 'G2', status: 'active', written: {} });
    s.putLink({ target: 'a', type: 'group', sourceId: 'x', targetId: 'G-x', status: 'active', written: {} });
    s.putLink({ target: 'a', type: 'user', sourceId: 'x', targetId: 'U-x', status: 'active', written: {} });
    s.putLink({ target: 'a', type: 'user', sourceId: 'u9', targetId: 'U9', status: 'disabled', written: {} });
    expect([...s.readyDeferredMembers('a')]).toEqual([['g1', ['g2', 'x']]]);
  });
});

describe('targets store: deferred members', () => {
  it('releases a deferred member once its own link exists', () => {
    const s = store();
    s.addDeferredMembers('a', 'g1', ['u1', 'u2']);
    expect(s.readyDeferredMembers('a').size).toBe(0);
    s.putLink({ target: 'a', type: 'user', sourceId: 'u2', targetId: 'T2', status: 'active', written: {} });
    expect([...s.readyDeferredMembers('a')]).toEqual([['g1', ['u2']]]);
    s.dropDeferredMembers('a', 'g1', ['u2']);
    expect(s.deferredMemberCount('a')).toBe(1);
  });
});

describe('targets store: saved plans, runs, log', () => {
  it('saves a plan with what it was built on and marks it applied', () => {
    const s = store();
    const plan = s.savePlan({ target: 'a', sourceSeq: 10, cursorSeq: 4, linksVersion: 3, full: false, operations: [disable('u1')], staged: [], diff: '- u1' });
    expect(s.plan(plan.id)).toMatchObject({ target: 'a', sourceSeq: 10, linksVersion: 3, status: 'pending', operations: [disable('u1')] });
    s.setPlanStatus(plan.id, 'applied');
    expect(s.plan(plan.id)?.status).toBe('applied');
    expect(s.plans('a')).toHaveLength(1);
  });

  it('records runs with their summary, newest first', () => {
    const s = store();
    const r1 = s.startRun('a', 'sync', new Date('2025-01-01T00:00:00Z'));
    const r2 = s.startRun('a', 'sync', new Date('2025-01-01T01:00:00Z'));
    s.endRun(r1, 'success', { created: 1 });
    expect(s.run(r1)).toMatchObject({ status: 'success', summary: { created: 1 } });
    expect(s.runs('a').map((r) => r.id)).toEqual([r2, r1]);
    expect(s.run(r2)?.status).toBe('running');
  });

  it('queries provisioning-log entries by source id, target id and run', () => {
    const s = store();
    const base = { target: 'a', type: 'user' as const, displayName: 'x', status: 'success' as const, steps: [], modifiedProperties: [], at: '2025-01-01T00:00:00Z' };
    s.log({ ...base, runId: 'r1', sourceId: 'u1', targetId: 'T1', action: 'create' });
    s.log({ ...base, runId: 'r2', sourceId: 'u1', targetId: 'T1', action: 'update' });
    s.log({ ...base, runId: 'r2', sourceId: 'u2', targetId: 'T2', action: 'create' });
    expect(s.logEntries({ sourceId: 'u1' }).map((e) => e.action)).toEqual(['update', 'create']);
    expect(s.logEntries({ targetId: 'T2' }).map((e) => e.sourceId)).toEqual(['u2']);
    expect(s.logEntries({ runId: 'r2' })).toHaveLength(2);
    expect(s.logEntries({ target: 'a', action: 'create', limit: 1 })).toHaveLength(1);
    expect(s.logEntries({ runId: 'r1' })).toEqual([{ ...base, runId: 'r1', sourceId: 'u1', targetId: 'T1', action: 'create' }]);
  });

  it('reads entries written by earlier versions, which kept every field in the entry JSON', () => {
    const s = store();
    const entry = { runId: 'r0', target: 'a', type: 'user', sourceId: 'u9', targetId: 'T9', displayName: 'old', action: 'disable', status: 'success', steps: [{ name: 'action', status: 'success', details: 'disable (unassigned)' }], modifiedProperties: [{ path: 'active', before: true, after: false }], at: '2024-12-31T00:00:00Z' };
    s.db.prepare('INSERT INTO target_log (run_id, target, type, source_id, target_id, action, status, at, entry) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run('r0', 'a', 'user', 'u9', 'T9', 'disable', 'success', entry.at, JSON.stringify(entry));
    expect(s.logEntries({ sourceId: 'u9' })).toEqual([entry]);
  });
});

describe('targets store: quarantine', () => {
  it('backs off along the schedule while the series goes on, and clears', () => {
    const s = store();
    const t0 = new Date('2025-01-01T00:00:00Z');
    const q1 = s.enterQuarantine('a', 'EncounteredQuarantineException', '401', t0, [HOUR, 24 * HOUR]);
    expect(q1).toMatchObject({ seriesCount: 1, nextAttempt: '2025-01-01T01:00:00.000Z' });
    const q2 = s.enterQuarantine('a', 'EncounteredQuarantineException', '401', new Date(t0.getTime() + HOUR), [HOUR, 24 * HOUR]);
    expect(q2).toMatchObject({ seriesCount: 2, seriesBegan: t0.toISOString(), nextAttempt: '2025-01-02T01:00:00.000Z' });
    s.clearQuarantine('a');
    expect(s.quarantine('a')).toBeUndefined();
  });
});

describe('targets store: lease', () => {
  it('lets one holder apply to a target until it releases or its lease expires', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-lease-'));
    const file = path.join(dir, 'state.db');
    const p1 = new TargetsStore(openDatabase(file));
    const p2 = new TargetsStore(openDatabase(file));
    const t0 = new Date('2025-01-01T00:00:00Z');
    expect(p1.acquireLease('a', 'p1', 60_000, t0)).toBe(true);
    expect(p2.acquireLease('a', 'p2', 60_000, t0)).toBe(false);
    expect(p2.acquireLease('b', 'p2', 60_000, t0)).toBe(true);
    expect(p1.renewLease('a', 'p1', 60_000, new Date(t0.getTime() + 50_000))).toBe(true);
    expect(p2.acquireLease('a', 'p2', 60_000, new Date(t0.getTime() + 70_000))).toBe(false);
    expect(p2.acquireLease('a', 'p2', 60_000, new Date(t0.getTime() + 111_000))).toBe(true);
    expect(p1.renewLease('a', 'p1', 60_000, new Date(t0.getTime() + 112_000))).toBe(false);
    p2.releaseLease('a', 'p2');
    expect(p1.acquireLease('a', 'p1', 60_000, new Date(t0.getTime() + 113_000))).toBe(true);
  });
});

describe('targets store: pending references', () => {
  it('remembers unresolved references per object and reports holders once both ends are linked', () => {
    const s = store();
    s.setPendingReferences('a', 'user', 'ann', { manager: 'bob' });
    s.setPendingReferences('b', 'user', 'ann', { manager: 'bob' });
    expect(s.pendingReferences('a', 'user', 'ann')).toEqual({ manager: 'bob' });
    expect([...s.pendingReferenceHolders('a', 'user')]).toEqual(['ann']);
    expect(s.readyPendingReferences('a', 'user')).toEqual([]); // neither is linked
    s.putLink({ target: 'a', type: 'user', sourceId: 'ann', targetId: 'A', status: 'active', written: {} });
    expect(s.readyPendingReferences('a', 'user')).toEqual([]); // the manager is not linked yet
    s.putLink({ target: 'a', type: 'user', sourceId: 'bob', targetId: 'B', status: 'disabled', written: {} });
    expect(s.readyPendingReferences('a', 'user')).toEqual(['ann']);
    expect(s.readyPendingReferences('b', 'user')).toEqual([]); // per target
    s.setPendingReferences('a', 'user', 'ann', {});
    expect(s.readyPendingReferences('a', 'user')).toEqual([]);
    expect(s.pendingReferenceHolders('a', 'user').size).toBe(0);
  });

  it('lists the deferred members of one group', () => {
    const s = store();
    s.addDeferredMembers('a', 'g1', ['u2', 'u1']);
    s.addDeferredMembers('a', 'g2', ['u3']);
    expect(s.deferredMembersOf('a', 'g1')).toEqual(['u1', 'u2']);
  });
});
