// Bearer checks and injected faults: 401 InvalidAuthenticationToken (graph-samples/34), 429 with Retry-After
// (30), 503, 504, 410 with Location, connection resets, empty pages; deterministic for a seed; request counters.
import { Agent, fetch } from 'undici';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startGraphSimulator, type GraphSimulator } from '../../../src/simulators/graph/index.js';
import { accessToken, deltaRound, graphGet, keyPaths, sample, trustingAgent, type Item } from './helpers.js';

let sim: GraphSimulator;
let agent: Agent;
let token: string;

beforeEach(async () => {
  sim = await startGraphSimulator({ tenant: { users: 12, groups: 2, seed: 9 }, pageSize: 5 });
  agent = trustingAgent(sim.caPem);
  token = await accessToken(sim, agent);
});

afterEach(async () => {
  await sim.close();
  await agent.close();
});

const errorOf = (body: Record<string, unknown>) => body.error as Item;

describe('bearer tokens', () => {
  test('missing, forged and expired tokens get 401 InvalidAuthenticationToken in Graph error JSON', async () => {
    const expectedPaths = keyPaths(sample('34-error-401-invalid-token'));
    const none = await fetch(`${sim.graphBaseUrl}/v1.0/users/delta`, { dispatcher: agent });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const noneBody = (await none.json()) as Record<string, unknown>;
    expect(keyPaths(noneBody)).toEqual(expectedPaths);
    expect(errorOf(noneBody).code).toBe('InvalidAuthenticationToken');

    const forged = await graphGet(sim, agent, `${token.slice(0, -4)}AAAA`, 'users/delta');
    expect(forged.status).toBe(401);

    expect((await graphGet(sim, agent, token, 'users/delta')).status).toBe(200);
    sim.expireAccessTokens();
    const expired = await graphGet(sim, agent, token, 'users/delta');
    expect(expired.status).toBe(401);
    expect(errorOf(expired.body).message).toBe('Access token has expired or is not yet valid.');
    expect((await graphGet(sim, agent, await accessToken(sim, agent), 'users/delta')).status).toBe(200);
  });

  test('innerError carries a date and the request ids; client-request-id is echoed', async () => {
    const response = await graphGet(sim, agent, '', 'users/delta', { 'client-request-id': 'c0ffee00-0000-4000-8000-000000000001' });
    const inner = errorOf(response.body).innerError as Item;
    expect(inner.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(inner['client-request-id']).toBe('c0ffee00-0000-4000-8000-000000000001');
    expect(inner['request-id']).toBe(response.headers.get('request-id'));
  });
});

describe('faults', () => {
  test('429 TooManyRequests with a fractional Retry-After and throttle headers (graph-samples/30)', async () => {
    sim.faults.rate429 = 1;
    sim.faults.retryAfterSeconds = 2.128;
    const response = await graphGet(sim, agent, token, 'users/delta');
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('2.128');
    expect(response.headers.get('x-ms-throttle-scope')).toMatch(/^Tenant_Application\/ReadWrite\//);
    expect(keyPaths(response.body)).toEqual(keyPaths(sample('30-error-429-throttled')));
    expect(errorOf(response.body).code).toBe('TooManyRequests');
    expect(sim.counters.throttled).toBe(1);
  });

  test('503 with Retry-After and 504 without', async () => {
    sim.faults.rate503 = 1;
    const unavailable = await graphGet(sim, agent, token, 'groups/delta');
    expect(unavailable.status).toBe(503);
    expect(errorOf(unavailable.body).code).toBe('serviceNotAvailable');
    expect(unavailable.headers.get('retry-after')).toBe('1');
    sim.faults.rate503 = 0;
    sim.faults.rate504 = 1;
    const timeout = await graphGet(sim, agent, token, 'groups/delta');
    expect(timeout.status).toBe(504);
    expect(timeout.headers.get('retry-after')).toBeNull();
  });

  test('a connection reset rejects the request without a response', async () => {
    sim.faults.resetRate = 1;
    await expect(graphGet(sim, agent, token, 'users/delta')).rejects.toThrow();
    expect(sim.counters.faulted).toBe(1);
  });

  test('rate401 refuses a valid token as expired; rate410 answers a deltaLink with 410 Gone and Location', async () => {
    const { deltaLink } = await deltaRound(sim, agent, token, 'users/delta?$select=displayName');
    sim.faults.rate410 = 1;
    const gone = await graphGet(sim, agent, token, deltaLink);
    expect(gone.status).toBe(410);
    expect(gone.headers.get('location')).toBe(`${sim.graphBaseUrl}/v1.0/users/delta?$deltatoken=`);
    expect(errorOf(gone.body).code).toBe('resyncRequired');
    // The Location URL starts a full round again.
    sim.faults.rate410 = 0;
    expect((await deltaRound(sim, agent, token, gone.headers.get('location')!)).items).toHaveLength(12);
    sim.faults.rate401 = 1;
    expect((await graphGet(sim, agent, token, 'users/delta')).status).toBe(401);
  });

  test('empty pages keep their nextLink and the round still delivers every user', async () => {
    sim.faults.emptyPageRate = 0.5;
    const round = await deltaRound(sim, agent, token, 'users/delta?$select=displayName');
    expect(round.pages.some((p) => (p.body.value as Item[]).length === 0 && typeof p.body['@odata.nextLink'] === 'string')).toBe(true);
    expect(new Set(round.items.map((i) => i.id)).size).toBe(12);
  });

  test('latency delays every Graph response by at least latencyMs', async () => {
    sim.faults.latencyMs = 120;
    const started = performance.now();
    await graphGet(sim, agent, token, 'users/delta');
    expect(performance.now() - started).toBeGreaterThanOrEqual(115);
  });

  test('the same seed and fault rates give the same sequence of statuses', async () => {
    const statuses = async (s: GraphSimulator): Promise<number[]> => {
      const a = trustingAgent(s.caPem);
      const t = await accessToken(s, a);
      const out: number[] = [];
      for (let i = 0; i < 40; i++) out.push((await graphGet(s, a, t, `servicePrincipals/${s.servicePrincipalId}`)).status);
      await a.close();
      return out;
    };
    const faults = { rate429: 0.2, rate503: 0.1, rate504: 0.1, retryAfterSeconds: 0 };
    const one = await startGraphSimulator({ tenant: { users: 3, seed: 99 }, faults });
    const two = await startGraphSimulator({ tenant: { users: 3, seed: 99 }, faults });
    const first = await statuses(one);
    expect(await statuses(two)).toEqual(first);
    expect(new Set(first)).toEqual(new Set([200, 429, 503, 504]));
    await one.close();
    await two.close();
  });
});

test('counters count requests per route and tokens; reset() clears them and the request log', async () => {
  sim.counters.reset();
  await deltaRound(sim, agent, token, 'users/delta?$select=displayName');
  await graphGet(sim, agent, token, `servicePrincipals/${sim.servicePrincipalId}/appRoleAssignedTo`);
  await accessToken(sim, agent);
  expect(sim.counters.byRoute).toEqual({ 'users/delta': 3, appRoleAssignedTo: 1, token: 1 });
  expect(sim.counters.total).toBe(5);
  expect(sim.counters.tokens).toBe(1);
  expect(sim.requests.map((r) => r.route)).toEqual(['users/delta', 'users/delta', 'users/delta', 'appRoleAssignedTo', 'token']);
  expect(sim.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
  sim.counters.reset();
  expect(sim.counters.total).toBe(0);
  expect(sim.requests).toEqual([]);
});

test('token endpoint errors use the identity platform shape (graph-samples/51)', async () => {
  const response = await fetch(`${sim.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: sim.clientId, client_secret: sim.clientSecret, grant_type: 'client_credentials', scope: 'User.Read' }).toString(),
    dispatcher: agent,
  });
  expect(response.status).toBe(400);
  const body = (await response.json()) as Item;
  expect(Object.keys(body)).toEqual(Object.keys(sample('51-token-error-invalid-client')));
  expect(body.error).toBe('invalid_scope');
  expect(body.error_description).toMatch(/^AADSTS1002012: /);
  expect(response.headers.get('retry-after')).toBeNull();
});
