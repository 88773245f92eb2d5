// groups/delta with members: members@delta shapes (graph-samples 10–12), nested groups, a big group split over
// pages and merged, membership changes, soft-deleted members keeping their links, group deletion.
import type { Agent } from 'undici';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { startGraphSimulator, type GraphSimulator } from '../../../src/simulators/graph/index.js';
import { accessToken, deltaRound, keyPaths, sample, trustingAgent, type Item } from './helpers.js';

let sim: GraphSimulator;
let agent: Agent;
let token: string;
const SELECT = 'displayName,description,mailNickname,mailEnabled,securityEnabled,groupTypes,members';

beforeEach(async () => {
  sim = await startGraphSimulator({ tenant: { users: 60, groups: 4, membersPerGroup: 6, nestedGroups: 1, largeGroupMembers: 45, seed: 11 }, pageSize: 4 });
  agent = trustingAgent(sim.caPem);
  token = await accessToken(sim, agent);
});

afterEach(async () => {
  await sim.close();
  await agent.close();
});

type Ref = { '@odata.type': string; id: string; '@removed'?: { reason: string } };

/** Merge members@delta slices per group across a round, as a reader must. */
function mergeMembers(items: Item[]): Map<string, Ref[]> {
  const merged = new Map<string, Ref[]>();
  for (const item of items) {
    const refs = (item['members@delta'] as Ref[] | undefined) ?? [];
    merged.set(item.id as string, [...(merged.get(item.id as string) ?? []), ...refs]);
  }
  return merged;
}

test('initial round: the same keys as graph-samples/10, members typed, a nested group as #microsoft.graph.group', async () => {
  const round = await deltaRound(sim, agent, token, `groups/delta?$select=${SELECT}`);
  const expected = sample('10-groups-delta-initial-page1');
  expect(Object.keys(round.pages[0]!.body)).toEqual(Object.keys(expected));
  expect(round.pages[0]!.body['@odata.context']).toBe(`${sim.graphBaseUrl}/v1.0/$metadata#groups(${SELECT})`);
  const withMembers = round.items.find((i) => i['members@delta'] && i.description);
  // Every key path the real sample has (description is optional in the data) and nothing else.
  expect(new Set(keyPaths(withMembers))).toEqual(new Set(keyPaths((expected.value as Item[])[0])));
  const merged = mergeMembers(round.items);
  const [parent, child] = sim.tenant.groups();
  expect(merged.get(parent!.id)).toContainEqual({ '@odata.type': '#microsoft.graph.group', id: child!.id });
  for (const group of sim.tenant.groups()) {
    expect(merged.get(group.id)!.map((r) => r.id).sort()).toEqual(sim.tenant.members(group.id).sort());
  }
});

test('a big group is split across pages: the group repeats with different slices that add up to its members', async () => {
  const round = await deltaRound(sim, agent, token, `groups/delta?$select=${SELECT}`);
  const big = sim.tenant.groups()[0]!;
  const slices = round.pages.map((p) => (p.body.value as Item[]).find((i) => i.id === big.id)).filter((i) => i !== undefined);
  expect(slices.length).toBeGreaterThan(1); // 45 members, 10 member refs per page (pageSize 4 × 2.5)
  for (const slice of slices) expect(slice.displayName).toBe(big.displayName);
  const ids = slices.flatMap((s) => (s['members@delta'] as Ref[]).map((r) => r.id));
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.sort()).toEqual(sim.tenant.members(big.id).sort());
});

test('a group without members has no members@delta at all', async () => {
  const empty = sim.tenant.createGroup({ displayName: 'sg-Empty' });
  const round = await deltaRound(sim, agent, token, `groups/delta?$select=${SELECT}`);
  const item = round.items.find((i) => i.id === empty.id)!;
  expect(item).not.toHaveProperty('members@delta');
  expect(item).toMatchObject({ displayName: 'sg-Empty', mailNickname: 'sg-empty', securityEnabled: true, mailEnabled: false, groupTypes: [] });
});

test('incremental: member added and removed, group renamed, group deleted (graph-samples/12)', async () => {
  const { deltaLink } = await deltaRound(sim, agent, token, `groups/delta?$select=${SELECT}`);
  const [g1, g2, g3] = sim.tenant.groups();
  const leaving = sim.tenant.members(g1!.id).find((m) => sim.tenant.user(m))!;
  const joining = sim.tenant.users().find((u) => !sim.tenant.members(g1!.id).includes(u.id))!;
  sim.tenant.removeMember(g1!.id, leaving);
  sim.tenant.addMember(g1!.id, joining.id);
  sim.tenant.renameGroup(g2!.id, 'sg-Renamed «Ünïcode»');
  sim.tenant.deleteGroup(g3!.id);

  const round = await deltaRound(sim, agent, token, deltaLink);
  const items = new Map(round.items.map((i) => [i.id as string, i]));
  expect(items.get(g1!.id)!['members@delta']).toEqual([
    { '@odata.type': '#microsoft.graph.user', id: leaving, '@removed': { reason: 'deleted' } },
    { '@odata.type': '#microsoft.graph.user', id: joining.id },
  ]);
  // Default mode: all set properties come with the changed group.
  expect(items.get(g1!.id)).toMatchObject({ displayName: g1!.displayName, securityEnabled: true });
  expect(items.get(g2!.id)).toMatchObject({ displayName: 'sg-Renamed «Ünïcode»' });
  expect(items.get(g2!.id)).not.toHaveProperty('members@delta');
  expect(items.get(g3!.id)).toEqual({ id: g3!.id, '@removed': { reason: 'deleted' } });
  const removedShape = sample('12-groups-delta-incremental');
  expect(keyPaths((items.get(g1!.id)!['members@delta'] as Ref[])[0])).toEqual(
    keyPaths(((removedShape.value as Item[])[0]!['members@delta'] as Ref[])[0]),
  );

  const minimal = await deltaRound(sim, agent, token, deltaLink, { Prefer: 'return=minimal' });
  expect(minimal.items.find((i) => i.id === g2!.id)).toMatchObject({ id: g2!.id, displayName: 'sg-Renamed «Ünïcode»' });
  expect(minimal.items.find((i) => i.id === g2!.id)).not.toHaveProperty('securityEnabled');
});

test('a soft-deleted member keeps its membership; a hard-deleted one is removed from its groups', async () => {
  const { deltaLink } = await deltaRound(sim, agent, token, `groups/delta?$select=${SELECT}`);
  const group = sim.tenant.groups()[1]!;
  const [soft, hard] = sim.tenant.members(group.id).filter((m) => sim.tenant.user(m));
  sim.tenant.softDeleteUser(soft!);
  const afterSoft = await deltaRound(sim, agent, token, deltaLink);
  expect(afterSoft.items).toEqual([]);
  sim.tenant.hardDeleteUser(hard!);
  const afterHard = await deltaRound(sim, agent, token, afterSoft.deltaLink, { Prefer: 'return=minimal' });
  expect(afterHard.items.find((i) => i.id === group.id)).toEqual({
    id: group.id,
    'members@delta': [{ '@odata.type': '#microsoft.graph.user', id: hard, '@removed': { reason: 'deleted' } }],
  });
});

test('membership changes to unselected members are not reported when only properties are selected', async () => {
  const { deltaLink } = await deltaRound(sim, agent, token, 'groups/delta?$select=displayName');
  const group = sim.tenant.groups()[1]!;
  sim.tenant.addMember(group.id, sim.tenant.users().find((u) => !sim.tenant.members(group.id).includes(u.id))!.id);
  expect((await deltaRound(sim, agent, token, deltaLink)).items).toEqual([]);
});

test('many membership changes in one round are split over pages too', async () => {
  const { deltaLink } = await deltaRound(sim, agent, token, `groups/delta?$select=${SELECT}`);
  const group = sim.tenant.createGroup({ displayName: 'sg-Bulk' });
  const { deltaLink: afterCreate } = await deltaRound(sim, agent, token, deltaLink);
  const added = sim.tenant.users().slice(0, 25).map((u) => u.id);
  for (const id of added) sim.tenant.addMember(group.id, id);
  const round = await deltaRound(sim, agent, token, afterCreate);
  expect(round.pages.length).toBeGreaterThan(2);
  expect(mergeMembers(round.items).get(group.id)!.map((r) => r.id)).toEqual(added);
});
