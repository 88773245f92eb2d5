// The real @microsoft/microsoft-graph-client 3 talks to the simulator: bearer token sent (customHosts),
// delta paging through PageIterator, and its RetryHandler honouring the simulator's 429 Retry-After.
import { Client, PageIterator, type PageCollection } from '@microsoft/microsoft-graph-client';
import type { Agent } from 'undici';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGraphSimulator, type GraphSimulator } from '../../../src/simulators/graph/index.js';
import { accessToken, trustingAgent } from './helpers.js';

let sim: GraphSimulator;
let agent: Agent;
let client: Client;

beforeAll(async () => {
  sim = await startGraphSimulator({ tenant: { users: 25, groups: 3, seed: 5 }, pageSize: 7 });
  agent = trustingAgent(sim.caPem);
  const token = await accessToken(sim, agent);
  client = Client.initWithMiddleware({
    authProvider: { getAccessToken: async () => token },
    baseUrl: `${sim.graphBaseUrl}/`,
    customHosts: new Set([new URL(sim.graphBaseUrl).hostname]),
    // undici 7's Agent works with Node's fetch at runtime; its type differs from @types/node's Dispatcher.
    fetchOptions: { headers: { 'Accept-Language': 'en-US' }, ...({ dispatcher: agent } as object) },
  });
});

afterAll(async () => {
  await sim.close();
  await agent.close();
});

test('PageIterator walks users/delta to the deltaLink and sees every user once', async () => {
  const first = (await client.api('/users/delta').select('displayName,userPrincipalName').get()) as PageCollection;
  const ids: string[] = [];
  const iterator = new PageIterator(client, first, (user: { id: string }) => {
    ids.push(user.id);
    return true;
  });
  await iterator.iterate();
  expect(iterator.getDeltaLink()).toMatch(new RegExp(`^${sim.graphBaseUrl}/v1.0/users/delta\\?\\$deltatoken=`));
  expect(ids.sort()).toEqual(sim.tenant.users().map((u) => u.id).sort());
  expect(sim.requests.filter((r) => r.route === 'users/delta')).toHaveLength(4); // 25 users / 7 per page
});

test("the client's RetryHandler waits for Retry-After on 429 and then succeeds", async () => {
  sim.faults.rate429 = 1;
  sim.faults.retryAfterSeconds = 0.05;
  // Stop throttling once the first 429 went out, so the retry after Retry-After succeeds.
  const watcher = setInterval(() => {
    if (sim.requests.some((r) => r.status === 429)) sim.faults.rate429 = 0;
  }, 2);
  const sp = (await client.api(`/servicePrincipals/${sim.servicePrincipalId}`).get()) as { id: string };
  clearInterval(watcher);
  expect(sp.id).toBe(sim.servicePrincipalId);
  const attempts = sim.requests.filter((r) => r.route === 'servicePrincipals/{id}');
  expect(attempts[0]?.status).toBe(429);
  expect(attempts.at(-1)?.status).toBe(200);
  expect(attempts.at(-1)?.headers['retry-attempt']).toBeDefined();
});
