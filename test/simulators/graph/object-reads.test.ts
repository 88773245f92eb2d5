// Single-object reads used by provision-on-demand: /users/{id}, /users/{id}/manager, /groups/{id},
// /groups/{id}/members (graph-samples/23) with paging and casts.
import type { Agent } from 'undici';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGraphSimulator, type GraphSimulator } from '../../../src/simulators/graph/index.js';
import { accessToken, graphGet, keyPaths, sample, trustingAgent, type Item } from './helpers.js';

let sim: GraphSimulator;
let agent: Agent;
let token: string;

beforeAll(async () => {
  sim = await startGraphSimulator({ tenant: { users: 30, groups: 2, membersPerGroup: 12, nestedGroups: 1, seed: 21 } });
  agent = trustingAgent(sim.caPem);
  token = await accessToken(sim, agent);
});

afterAll(async () => {
  await sim.close();
  await agent.close();
});

test('GET /users/{id}: the default properties with nulls for unset ones; $select narrows; by UPN too', async () => {
  const user = sim.tenant.users().find((u) => u.mobilePhone === null)!;
  const response = await graphGet(sim, agent, token, `users/${user.id}`);
  expect(response.status).toBe(200);
  expect(response.body).toMatchObject({ id: user.id, userPrincipalName: user.userPrincipalName, mobilePhone: null, businessPhones: user.businessPhones });
  expect(response.body['@odata.context']).toBe(`${sim.graphBaseUrl}/v1.0/$metadata#users/$entity`);
  const selected = await graphGet(sim, agent, token, `users/${encodeURIComponent(user.userPrincipalName)}?$select=department,accountEnabled,employeeId`);
  expect(selected.body).toEqual({
    '@odata.context': `${sim.graphBaseUrl}/v1.0/$metadata#users(department,accountEnabled,employeeId)/$entity`,
    id: user.id,
    department: user.department,
    accountEnabled: user.accountEnabled,
    employeeId: user.employeeId,
  });
});

test('GET /users/{id} of a soft-deleted or unknown user is 404 Request_ResourceNotFound', async () => {
  const user = sim.tenant.users()[5]!;
  sim.tenant.softDeleteUser(user.id);
  for (const id of [user.id, 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee']) {
    const response = await graphGet(sim, agent, token, `users/${id}`);
    expect(response.status).toBe(404);
    expect((response.body.error as Item).code).toBe('Request_ResourceNotFound');
  }
  sim.tenant.restoreUser(user.id);
});

test('GET /users/{id}/manager returns the manager as a typed directory object', async () => {
  const user = sim.tenant.users().find((u) => u.manager)!;
  const response = await graphGet(sim, agent, token, `users/${user.id}/manager?$select=displayName,mail`);
  expect(response.body).toMatchObject({ '@odata.type': '#microsoft.graph.user', id: user.manager, displayName: sim.tenant.user(user.manager!)!.displayName });
  const expanded = await graphGet(sim, agent, token, `users/${user.id}?$expand=manager`);
  expect((expanded.body.manager as Item).id).toBe(user.manager);
});

test('GET /groups/{id} and /groups/{id}/members: typed members with the keys of graph-samples/23, paged by $top', async () => {
  const [parent, child] = sim.tenant.groups();
  const group = await graphGet(sim, agent, token, `groups/${parent!.id}`);
  expect(group.body).toMatchObject({ id: parent!.id, displayName: parent!.displayName, securityEnabled: true, deletedDateTime: null });

  const items: Item[] = [];
  let url: string | undefined = `groups/${parent!.id}/members?$top=5`;
  let pages = 0;
  while (url) {
    const page = await graphGet(sim, agent, token, url);
    pages++;
    items.push(...(page.body.value as Item[]));
    url = page.body['@odata.nextLink'] as string | undefined;
  }
  expect(pages).toBe(3); // 12 users + 1 nested group
  expect(items.map((i) => i.id).sort()).toEqual(sim.tenant.members(parent!.id).sort());
  const expected = sample('23-group-members-page').value as Item[];
  const user = items.find((i) => i['@odata.type'] === '#microsoft.graph.user');
  const nested = items.find((i) => i['@odata.type'] === '#microsoft.graph.group');
  expect(new Set(keyPaths(user))).toEqual(new Set(keyPaths(expected[0])));
  expect(new Set(keyPaths(nested))).toEqual(new Set(keyPaths(expected[1])));
  expect(nested!.id).toBe(child!.id);

  const usersOnly = await graphGet(sim, agent, token, `groups/${parent!.id}/members/microsoft.graph.user?$select=id,userPrincipalName&$top=999`);
  expect((usersOnly.body.value as Item[]).every((i) => i['@odata.type'] === '#microsoft.graph.user' && Object.keys(i).length === 3)).toBe(true);
  expect(usersOnly.body.value).toHaveLength(12);
});
