// End to end over real HTTP (runCycle → SCIM connector → SCIM simulator): in exact membership mode,
// reconcile removes a member someone added to a target group by hand with one filtered remove per member
// (`members[value eq "…"]`), never a remove-all; in additive mode it leaves that member alone.
import { afterEach, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/sync/cycle.js';
import { reconcileTarget } from '../../src/sync/reconcile.js';
import { startScimSimulator, type ScimSimulator } from '../../src/simulators/scim/index.js';
import { openDatabase } from '../../src/state/db.js';
import { TargetsStore } from '../../src/state/targets-store.js';
import { ScimConnector } from '../../src/targets/scim/connector.js';
import { scimTargetOptionsSchema } from '../../src/targets/scim/options.js';
import { MemorySourceStore } from '../sync/apply-fakes.js';
import { compiledTarget, user } from '../sync/cycle-fixtures.js';

describe('exact membership against the SCIM simulator', () => {
  let scim: ScimSimulator | undefined;
  let connector: ScimConnector | undefined;
  afterEach(async () => {
    await connector?.close();
    await scim?.close();
  });

  async function synced(membership: 'exact' | 'additive') {
    scim = await startScimSimulator({});
    connector = new ScimConnector('t', scimTargetOptionsSchema.parse({ baseUrl: scim.baseUrl, auth: { type: 'bearer', token: 'scim-token' } }));
    const { compiled, policy } = compiledTarget(`    groups: { membership: ${membership} }\n`, 't');
    const store = new TargetsStore(openDatabase(':memory:'));
    const source = new MemorySourceStore();
    user(source, 'alice');
    user(source, 'bob');
    source.putGroup('g1', { displayName: 'Sales' }, ['alice', 'bob']);
    const input = { store, source, compiled, connector, policy };
    expect((await runCycle(input)).status).toBe('success');
    const groupId = store.link('t', 'group', 'g1')!.targetId;
    // An admin adds two accounts we never provisioned to the group, by hand.
    for (const name of ['stranger', 'intern']) scim.store.putUser({ id: `x-${name}`, userName: name, active: true });
    const group = scim.group(groupId)!;
    scim.store.putGroup({ ...group, members: [...(group.members as { value: string }[]), { value: 'x-stranger' }, { value: 'x-intern' }] });
    scim.clearRequests();
    const memberIds = () => ((scim!.group(groupId)!.members as { value: string }[] | undefined) ?? []).map((m) => m.value).sort();
    const ours = ['alice', 'bob'].map((id) => store.link('t', 'user', id)!.targetId);
    return { input, groupId, memberIds, ours };
  }

  it('exact: reconcile removes the foreign members, one filtered remove each', async () => {
    const { input, groupId, memberIds, ours } = await synced('exact');
    const report = await reconcileTarget(input);
    expect(report.fixes).toEqual([expect.objectContaining({ sourceId: 'g1', fix: 'members', details: expect.stringContaining('target id x-stranger, target id x-intern') })]);
    expect(memberIds()).toEqual([...ours].sort());
    const patches = scim!.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(`/Groups/${groupId}`));
    expect(patches).toHaveLength(1);
    const operations = (patches[0]!.body as { Operations: unknown[] }).Operations;
    expect(operations).toEqual(expect.arrayContaining([
      { op: 'remove', path: 'members[value eq "x-stranger"]' },
      { op: 'remove', path: 'members[value eq "x-intern"]' },
    ]));
    expect(operations).toHaveLength(2);
    expect((await reconcileTarget(input)).fixes).toEqual([]);
  });

  it('additive: reconcile leaves members it did not add', async () => {
    const { input, memberIds, ours } = await synced('additive');
    const report = await reconcileTarget(input);
    expect(report.fixes).toEqual([]);
    expect(memberIds()).toEqual([...ours, 'x-intern', 'x-stranger'].sort());
    expect(scim!.requests.filter((r) => r.method === 'PATCH')).toEqual([]);
  });
});
