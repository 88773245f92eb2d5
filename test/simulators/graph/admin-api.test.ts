// The loopback admin HTTP API: tenant mutations, faults and counters as JSON over POST, seen by Graph reads.
import type { Agent } from 'undici';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGraphSimulator, type GraphSimulator } from '../../../src/simulators/graph/index.js';
import { accessToken, deltaRound, graphGet, trustingAgent } from './helpers.js';

let sim: GraphSimulator;
let agent: Agent;
let token: string;

beforeAll(async () => {
  sim = await startGraphSimulator({ tenant: { users: 6, groups: 2, seed: 4 } });
  agent = trustingAgent(sim.caPem);
  token = await accessToken(sim, agent);
});

afterAll(async () => {
  await sim.close();
  await agent.close();
});

async function admin(path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${sim.adminUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

test('tenant mutations over the admin API appear in the next delta round', async () => {
  const { deltaLink } = await deltaRound(sim, agent, token, 'users/delta?$select=displayName,jobTitle,accountEnabled');
  const created = await admin('/tenant/createUser', { userPrincipalName: 'noemie.dvorak@contoso.example', displayName: 'Noémie Dvořák' });
  expect(created.status).toBe(200);
  const id = (created.json.result as { id: string }).id;
  const target = sim.tenant.users()[0]!;
  expect((await admin('/tenant/updateUser', { id: target.id, patch: { jobTitle: 'Team Lead' } })).status).toBe(200);
  expect((await admin('/tenant/disableUser', { id })).status).toBe(200);
  const group = sim.tenant.groups()[0]!;
  expect((await admin('/tenant/addMember', { groupId: group.id, memberId: id })).status).toBe(200);
  expect((await admin('/tenant/assign', { principalId: id })).status).toBe(200);

  const round = await deltaRound(sim, agent, token, deltaLink, { Prefer: 'return=minimal' });
  expect(round.items).toContainEqual({ displayName: 'Noémie Dvořák', accountEnabled: false, id });
  expect(round.items).toContainEqual({ jobTitle: 'Team Lead', id: target.id });
  expect(sim.tenant.members(group.id)).toContain(id);
  expect((await admin('/tenant/assignments')).json.result).toContainEqual(expect.objectContaining({ principalId: id, appRoleId: sim.appRoleIds.default }));
});

test('bad calls are 400/404/409 with a message naming the problem', async () => {
  const missing = await admin('/tenant/softDeleteUser', { id: 'no-such-user' });
  expect(missing.status).toBe(404);
  expect((missing.json.error as { message: string }).message).toContain('no-such-user');
  expect((await admin('/tenant/createUser', { userPrincipalName: sim.tenant.users()[1]!.userPrincipalName })).status).toBe(409);
  expect((await admin('/tenant/updateUser', { id: sim.tenant.users()[1]!.id, patch: { shoeSize: 44 } })).status).toBe(400);
  expect((await admin('/faults', { rate429: 2 })).status).toBe(400);
  expect((await admin('/tenant/nonsense', {})).status).toBe(404);
});

test('faults and counters over the admin API', async () => {
  expect((await admin('/faults', { rate429: 1, retryAfterSeconds: 3 })).json).toMatchObject({ rate429: 1, retryAfterSeconds: 3 });
  expect(sim.faults.rate429).toBe(1);
  const throttled = await graphGet(sim, agent, token, 'users/delta');
  expect(throttled.status).toBe(429);
  expect(throttled.headers.get('retry-after')).toBe('3');
  await admin('/faults', { rate429: 0 });
  expect((await admin('/counters')).json).toMatchObject({ throttled: 1 });
  expect((await admin('/counters/reset', {})).json).toMatchObject({ total: 0, throttled: 0 });
  expect((await admin('/info')).json).toMatchObject({ graphBaseUrl: sim.graphBaseUrl, tenantId: sim.tenantId, servicePrincipalId: sim.servicePrincipalId });
  expect(JSON.stringify((await admin('/info')).json)).not.toContain(sim.clientSecret);
});

test('expireDeltaTokens and access-token expiry over the admin API', async () => {
  const { deltaLink } = await deltaRound(sim, agent, token, 'users/delta?$select=displayName');
  await admin('/tenant/expireDeltaTokens', {});
  expect((await graphGet(sim, agent, token, deltaLink)).status).toBe(400);
  await admin('/access-tokens/expire', {});
  expect((await graphGet(sim, agent, token, 'users/delta')).status).toBe(401);
});
