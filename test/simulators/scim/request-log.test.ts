// The request log and counters tests assert on: what was sent, how it was answered, bounded, switchable off.
import { afterEach, describe, expect, it } from 'vitest';
import { startScimSimulator, type ScimSimulator } from '../../../src/simulators/scim/index.js';
import { call, patch, userBody } from './helpers.js';

describe('SCIM simulator: request log', () => {
  let sim: ScimSimulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('records method, path, query, parsed body and status of each request', async () => {
    sim = await startScimSimulator();
    const created = await call(sim.baseUrl, 'POST', '/Users', { body: userBody('logged') });
    await call(sim.baseUrl, 'PATCH', `/Users/${created.body.id}`, { body: patch({ op: 'Replace', path: 'active', value: 'False' }) });
    await call(sim.baseUrl, 'GET', '/Users?filter=userName%20eq%20%22logged%22');
    expect(sim.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['POST', '/scim/v2/Users', 201],
      ['PATCH', `/scim/v2/Users/${created.body.id}`, 200],
      ['GET', '/scim/v2/Users', 200],
    ]);
    // What the client really sent, so a test can tell the legacy dialect from the compliant one.
    expect(sim.requests[1]!.body).toMatchObject({ Operations: [{ op: 'Replace', value: 'False' }] });
    expect(sim.requests[2]!.query).toBe('filter=userName%20eq%20%22logged%22');
    expect(sim.counters).toEqual({ total: 3, byMethod: { POST: 1, PATCH: 1, GET: 1 } });
    sim.clearRequests();
    expect(sim.requests).toHaveLength(0);
  });

  it('keeps at most maxLoggedRequests entries, newest last', async () => {
    sim = await startScimSimulator({ maxLoggedRequests: 5 });
    for (let i = 0; i < 30; i++) sim.store.putUser({ id: `u${i}`, userName: `u${i}` });
    for (let i = 0; i < 30; i++) await call(sim.baseUrl, 'GET', `/Users/u${i}`);
    // Trimmed in batches: never more than twice the limit.
    expect(sim.requests.length).toBeLessThanOrEqual(10);
    expect(sim.requests.length).toBeGreaterThanOrEqual(5);
    expect(sim.requests.at(-1)!.path).toBe('/scim/v2/Users/u29');
    expect(sim.counters.total).toBe(30);
  });

  it('records nothing with logRequests: false, but still counts', async () => {
    sim = await startScimSimulator({ logRequests: false });
    await call(sim.baseUrl, 'GET', '/Users');
    expect(sim.requests).toHaveLength(0);
    expect(sim.counters.total).toBe(1);
  });
});
