// Accidental-deletion prevention: over the threshold, disables and deletes are staged, the rest proceeds.
import { describe, expect, it } from 'vitest';
import { applyThreshold } from '../../src/engine/threshold.js';
import type { PlannedOperation } from '../../src/engine/types.js';

const disable = (i: number): PlannedOperation => ({ kind: 'disable', type: 'user', sourceId: `u${i}`, displayName: `u${i}`, targetId: `T${i}`, reason: 'unassigned' });
const del = (i: number): PlannedOperation => ({ kind: 'delete', type: 'group', sourceId: `g${i}`, displayName: `g${i}`, targetId: `G${i}`, reason: 'hardDeleted' });
const update: PlannedOperation = { kind: 'update', type: 'user', sourceId: 'u0', displayName: 'u0', targetId: 'T0', changes: [], desired: {} };
const create: PlannedOperation = { kind: 'create', type: 'user', sourceId: 'n1', displayName: 'n1', attributes: {}, match: [] };
const removeMembers: PlannedOperation = { kind: 'removeMembers', type: 'group', sourceId: 'g0', displayName: 'g0', targetId: 'G0', memberSourceIds: ['u1'] };

describe('applyThreshold', () => {
  const ops = [update, disable(1), disable(2), del(3), create, removeMembers];

  it('at the count: everything proceeds', () => {
    expect(applyThreshold(ops, 100, { count: 3 })).toEqual({ proceed: ops, staged: [] });
  });
  it('over the count: disables and deletes (users and groups) are staged, the rest proceeds in order', () => {
    const { proceed, staged } = applyThreshold(ops, 100, { count: 2 });
    expect(staged.map((o) => o.sourceId)).toEqual(['u1', 'u2', 'g3']);
    expect(proceed).toEqual([update, create, removeMembers]);
  });
  it('over the percentage of linked objects: staged', () => {
    expect(applyThreshold(ops, 20, { percent: 10 }).staged).toHaveLength(3); // 15 %
    expect(applyThreshold(ops, 30, { percent: 10 }).staged).toHaveLength(0); // 10 %, not over
  });
  it('either limit is enough', () => {
    expect(applyThreshold(ops, 1000, { count: 2, percent: 50 }).staged).toHaveLength(3);
    expect(applyThreshold(ops, 4, { count: 500, percent: 50 }).staged).toHaveLength(3);
  });
  it('count 0 holds back any disable or delete', () => {
    expect(applyThreshold([disable(1)], 1000, { count: 0 }).staged).toHaveLength(1);
  });
  it('no limits: nothing is staged', () => {
    expect(applyThreshold(ops, 3, {}).staged).toEqual([]);
  });
  it('no destructive operations: nothing is staged even with count 0', () => {
    expect(applyThreshold([update, create], 0, { count: 0, percent: 0 }).staged).toEqual([]);
  });
});
