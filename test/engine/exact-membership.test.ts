// Group membership modes against what the target really holds. `exact`: the target group ends up with
// exactly Entra's members — on adoption and on reconcile, members that Entra does not list are removed,
// including ones someone added by hand (one filtered remove per member through the connector, never a
// remove-all). `additive` (DocuWare): members we did not add are never removed.
import { describe, expect, it } from 'vitest';
import { reconcileTarget } from '../../src/sync/reconcile.js';
import { formatPlan } from '../../src/sync/saved-plans.js';
import { harness, user } from '../sync/cycle-fixtures.js';

const EXACT = '    groups: { membership: exact }\n';
const ADDITIVE = '    groups: { membership: additive }\n';

type H = ReturnType<typeof harness>;
const targetIdOf = (h: H, id: string) => h.store.link('dw', 'user', id)!.targetId;
const membersOn = (h: H, group: string) => [...h.connector.members.get(group)!].sort();
const removals = (h: H) => h.connector.mutations('removeMembers').map((c) => ({ group: c.id ?? '', ids: [...(c.args as string[])].sort() }));

/** A target that already has bob, carol, a stranger we never provisioned, and a "Sales" group holding all three. */
function preexisting(extra: string) {
  const h = harness(extra);
  const bob = h.connector.seed('user', { userName: 'bob', active: true });
  const carol = h.connector.seed('user', { userName: 'carol', active: true });
  const stranger = h.connector.seed('user', { userName: 'stranger', active: true });
  const sales = h.connector.seed('group', { displayName: 'Sales' });
  for (const id of [bob, carol, stranger]) h.connector.members.get(sales)!.add(id);
  for (const id of ['alice', 'bob', 'carol']) user(h.source, id);
  h.source.putGroup('g1', { displayName: 'Sales' }, ['alice', 'bob']); // carol is in scope, but not in Sales
  return { h, bob, carol, stranger, sales };
}

describe('exact membership on group adoption', () => {
  it('removes every member Entra does not list — ours and foreign — keeps the wanted ones and adds the rest', async () => {
    const { h, bob, carol, stranger, sales } = preexisting(EXACT);
    const summary = await h.cycle();
    expect(summary.counts).toMatchObject({ adopt: 3, create: 1 });
    expect(h.store.link('dw', 'group', 'g1')!.targetId).toBe(sales);
    expect(membersOn(h, sales)).toEqual([bob, targetIdOf(h, 'alice')].sort());
    expect(removals(h)).toEqual([{ group: sales, ids: [carol, stranger].sort() }]);
    expect(h.store.link('dw', 'group', 'g1')!.members!.sort()).toEqual(['alice', 'bob']);
    const adopt = h.store.logEntries({ sourceId: 'g1', action: 'adopt' })[0]!;
    expect(adopt.modifiedProperties).toContainEqual({ path: 'members', before: expect.arrayContaining(['carol', stranger]), after: null });
    expect(adopt.steps.map((s) => s.details).join('\n')).toContain('removed 2 member(s) Entra does not list (exact membership), 1 of them not provisioned by us');
    // bob was already there: he is not added a second time.
    expect(h.connector.mutations('addMembers').flatMap((c) => c.args as string[])).toEqual([targetIdOf(h, 'alice')]);
    // Settled: the next cycles send nothing.
    expect((await h.cycle()).requests).toBe(0);
  });

  it('removes them all when the Entra group has no members', async () => {
    const { h, bob, carol, stranger, sales } = preexisting(EXACT);
    h.source.putGroup('g1', { displayName: 'Sales' }, []);
    await h.cycle();
    expect(membersOn(h, sales)).toEqual([]);
    expect(removals(h)).toEqual([{ group: sales, ids: [bob, carol, stranger].sort() }]);
  });

  it('in additive mode never removes a member it did not add', async () => {
    const { h, bob, carol, stranger, sales } = preexisting(ADDITIVE);
    await h.cycle();
    expect(membersOn(h, sales)).toEqual([bob, carol, stranger, targetIdOf(h, 'alice')].sort());
    expect(removals(h)).toEqual([]);
  });
});

describe('exact membership on reconcile', () => {
  /** A synced Sales group (alice, bob), then edits by hand on the target: bob removed, carol and a stranger added. */
  async function drifted(extra: string) {
    const h = harness(extra);
    for (const id of ['alice', 'bob', 'carol']) user(h.source, id);
    h.source.putGroup('g1', { displayName: 'Sales' }, ['alice', 'bob']);
    h.source.putGroup('g2', { displayName: 'Empty' }, []);
    await h.cycle();
    const sales = h.store.link('dw', 'group', 'g1')!.targetId;
    const empty = h.store.link('dw', 'group', 'g2')!.targetId;
    const stranger = h.connector.seed('user', { userName: 'stranger', active: true });
    const set = h.connector.members.get(sales)!;
    set.delete(targetIdOf(h, 'bob'));
    set.add(targetIdOf(h, 'carol')).add(stranger);
    h.connector.members.get(empty)!.add(stranger);
    h.connector.calls.length = 0;
    return { h, sales, empty, stranger };
  }

  it('removes members Entra does not list, ours and foreign, and re-adds the ones removed by hand', async () => {
    const { h, sales, empty, stranger } = await drifted(EXACT);
    const dry = await reconcileTarget({ store: h.store, compiled: h.compiled, connector: h.connector, options: { now: h.now, dryRun: true } });
    expect(formatPlan(dry.plan!.operations)).toContain(`- remove 2 member(s) from group Sales (g1): carol, target id ${stranger} (not ours)`);
    expect(h.connector.mutations()).toEqual([]);

    const report = await reconcileTarget({ store: h.store, compiled: h.compiled, connector: h.connector, options: { now: h.now } });
    expect(report.fixes.filter((f) => f.fix === 'members').map((f) => [f.sourceId, f.details])).toEqual(expect.arrayContaining([
      ['g1', '1 member(s) we added were removed on the target: bob'],
      ['g1', `2 member(s) on the target that Entra does not list were removed (exact membership): carol, target id ${stranger}`],
      ['g2', `1 member(s) on the target that Entra does not list were removed (exact membership): target id ${stranger}`],
    ]));
    expect(membersOn(h, sales)).toEqual([targetIdOf(h, 'alice'), targetIdOf(h, 'bob')].sort());
    expect(membersOn(h, empty)).toEqual([]);
    expect(removals(h).sort((a, b) => a.group.localeCompare(b.group))).toEqual([
      { group: sales, ids: [targetIdOf(h, 'carol'), stranger].sort() },
      { group: empty, ids: [stranger] },
    ].sort((a, b) => a.group.localeCompare(b.group)));
    expect(h.store.link('dw', 'group', 'g1')!.members!.sort()).toEqual(['alice', 'bob']);

    const again = await reconcileTarget({ store: h.store, compiled: h.compiled, connector: h.connector, options: { now: h.now } });
    expect(again.fixes).toEqual([]);
  });

  it('in additive mode only re-adds what we added and leaves the rest alone', async () => {
    const { h, sales, empty, stranger } = await drifted(ADDITIVE);
    const report = await reconcileTarget({ store: h.store, compiled: h.compiled, connector: h.connector, options: { now: h.now } });
    expect(report.fixes.map((f) => [f.sourceId, f.details])).toEqual([['g1', '1 member(s) we added were removed on the target: bob']]);
    expect(membersOn(h, sales)).toEqual([targetIdOf(h, 'alice'), targetIdOf(h, 'bob'), targetIdOf(h, 'carol'), stranger].sort());
    expect(membersOn(h, empty)).toEqual([stranger]);
    expect(removals(h)).toEqual([]);
  });

  it('keeps a wanted member that is still waiting to be added', async () => {
    const h = harness(EXACT);
    user(h.source, 'alice');
    h.source.putGroup('g1', { displayName: 'Sales' }, ['alice', 'dave']); // dave is not provisioned yet
    await h.cycle();
    expect(h.store.deferredMembersOf('dw', 'g1')).toEqual(['dave']);
    // dave is provisioned on demand and someone already put him in the group by hand.
    user(h.source, 'dave');
    await h.cycle({ only: { users: ['dave'] } });
    const sales = h.store.link('dw', 'group', 'g1')!.targetId;
    h.connector.members.get(sales)!.add(targetIdOf(h, 'dave'));
    const report = await reconcileTarget({ store: h.store, compiled: h.compiled, connector: h.connector, options: { now: h.now } });
    expect(report.fixes).toEqual([]);
    expect(membersOn(h, sales)).toContain(targetIdOf(h, 'dave'));
  });
});

describe('membership changes in one cycle', () => {
  it('records both when a group gains one member and loses another at once', async () => {
    const h = harness(EXACT);
    for (const id of ['alice', 'bob', 'carol']) user(h.source, id);
    h.source.putGroup('g1', { displayName: 'Sales' }, ['alice', 'bob']);
    await h.cycle();
    h.source.putGroup('g1', {}, ['alice', 'carol']);
    const summary = await h.cycle();
    expect(summary.counts).toMatchObject({ addMembers: 1, removeMembers: 1 });
    expect(h.store.link('dw', 'group', 'g1')!.members!.sort()).toEqual(['alice', 'carol']);
    expect(membersOn(h, h.store.link('dw', 'group', 'g1')!.targetId)).toEqual([targetIdOf(h, 'alice'), targetIdOf(h, 'carol')].sort());
    expect((await h.cycle()).requests).toBe(0);
  });
});
