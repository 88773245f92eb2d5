// GET /servicePrincipals/{id}/appRoleAssignedTo: item shape (graph-samples/20), paging with $top and nextLink,
// $count, assignment changes, and the ServicePrincipal row readers must skip.
import type { Agent } from 'undici';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGraphSimulator, type GraphSimulator } from '../../../src/simulators/graph/index.js';
import { accessToken, graphGet, sample, trustingAgent, type Item } from './helpers.js';

let sim: GraphSimulator;
let agent: Agent;
let token: string;

beforeAll(async () => {
  sim = await startGraphSimulator({ tenant: { users: 40, groups: 3, assignedGroups: 2, assignedUserFraction: 0.3, seed: 3 } });
  agent = trustingAgent(sim.caPem);
  token = await accessToken(sim, agent);
});

afterAll(async () => {
  await sim.close();
  await agent.close();
});

async function readAll(first: string): Promise<{ items: Item[]; links: string[] }> {
  const items: Item[] = [];
  const links: string[] = [];
  let url: string | undefined = first;
  while (url) {
    const page = await graphGet(sim, agent, token, url);
    expect(page.status).toBe(200);
    items.push(...(page.body.value as Item[]));
    url = page.body['@odata.nextLink'] as string | undefined;
    if (url) links.push(url);
    expect(page.body).not.toHaveProperty('@odata.deltaLink');
  }
  return { items, links };
}

const path = () => `servicePrincipals/${sim.servicePrincipalId}/appRoleAssignedTo`;

test('items have exactly the keys of graph-samples/20; users, groups and a service principal are listed', async () => {
  const first = await graphGet(sim, agent, token, `${path()}?$top=999`);
  const expected = sample('20-approleassignedto-page1');
  const value = first.body.value as Item[];
  expect(Object.keys(value[0]!)).toEqual(Object.keys((expected.value as Item[])[0]!));
  expect(first.body['@odata.context']).toBe(`${sim.graphBaseUrl}/v1.0/$metadata#servicePrincipals('${sim.servicePrincipalId}')/appRoleAssignedTo`);
  expect(new Set(value.map((a) => a.principalType))).toEqual(new Set(['User', 'Group', 'ServicePrincipal']));
  for (const a of value) {
    expect(a.resourceId).toBe(sim.servicePrincipalId);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.deletedDateTime).toBeNull();
    expect(Object.values(sim.appRoleIds)).toContain(a.appRoleId);
  }
  expect(value).toHaveLength(sim.tenant.assignments().length);
});

test('$top pages with absolute nextLinks that keep $top; together the pages list every assignment once', async () => {
  const { items, links } = await readAll(`${path()}?$top=3`);
  expect(links.length).toBeGreaterThanOrEqual(Math.ceil(items.length / 3) - 1);
  for (const link of links) expect(link).toMatch(new RegExp(`^${sim.graphBaseUrl}/v1.0/${path()}\\?\\$top=3&\\$skiptoken=`));
  expect(items.map((i) => i.id).sort()).toEqual(sim.tenant.assignments().map((a) => a.id).sort());
});

test('$count answers a bare integer as text/plain', async () => {
  const response = await graphGet(sim, agent, token, `${path()}/$count`, { ConsistencyLevel: 'eventual' });
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  expect(response.text).toBe(String(sim.tenant.assignments().length));
});

test('assign and unassign show up on the next read; principalDisplayName follows renames', async () => {
  const user = sim.tenant.users().find((u) => !sim.tenant.assignments().some((a) => a.principalId === u.id))!;
  sim.tenant.assign(user.id, sim.appRoleIds.User);
  sim.tenant.updateUser(user.id, { displayName: 'Zoë "Z" O\'Brien' });
  let items = (await readAll(`${path()}?$top=999`)).items;
  expect(items.find((a) => a.principalId === user.id)).toMatchObject({ principalType: 'User', appRoleId: sim.appRoleIds.User, principalDisplayName: 'Zoë "Z" O\'Brien' });
  sim.tenant.unassign(user.id);
  items = (await readAll(`${path()}?$top=999`)).items;
  expect(items.some((a) => a.principalId === user.id)).toBe(false);
});

test('$top above 999 and an unknown service principal are errors in Graph JSON', async () => {
  const tooBig = await graphGet(sim, agent, token, `${path()}?$top=1000`);
  expect(tooBig.status).toBe(400);
  expect((tooBig.body.error as Item).code).toBe('Request_BadRequest');
  const missing = await graphGet(sim, agent, token, 'servicePrincipals/00000000-1111-2222-3333-444444444444/appRoleAssignedTo');
  expect(missing.status).toBe(404);
  expect((missing.body.error as Item).code).toBe('Request_ResourceNotFound');
});
