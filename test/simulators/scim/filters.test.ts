// Filter parsing and evaluation over HTTP, table-driven from fixtures/filters.json.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScimSimulator, type ScimSimulator } from '../../../src/simulators/scim/index.js';
import { call, ENTERPRISE, filterQuery, USER } from './helpers.js';

interface FilterCase {
  filter: string;
  expect?: string[];
  error?: string;
  why?: string;
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/filters.json', import.meta.url), 'utf8')) as { users: Record<string, unknown>[]; cases: FilterCase[] };

describe('SCIM simulator: filters', () => {
  let sim: ScimSimulator;
  beforeAll(async () => {
    sim = await startScimSimulator();
    for (const u of fixture.users) {
      const schemas = ENTERPRISE in u ? [USER, ENTERPRISE] : [USER];
      const r = await call(sim.baseUrl, 'POST', '/Users', { body: { schemas, ...u } });
      expect(r.status).toBe(201);
    }
  });
  afterAll(() => sim.close());

  it.each(fixture.cases)('$filter', async (c) => {
    const r = await call(sim.baseUrl, 'GET', `/Users${filterQuery(c.filter)}&count=100`);
    if (c.error) {
      expect(r.status).toBe(400);
      expect(r.body.scimType).toBe(c.error);
      return;
    }
    expect(r.status).toBe(200);
    expect(r.body.totalResults).toBe(c.expect!.length);
    expect((r.body.Resources as { userName: string }[]).map((u) => u.userName).sort()).toEqual([...c.expect!].sort());
  });

  it('takes the filter with %20 or + for spaces', async () => {
    const plus = await call(sim.baseUrl, 'GET', '/Users?filter=userName+eq+%22alice%40contoso.com%22');
    expect(plus.body.totalResults).toBe(1);
  });

  it('answers an Entra test-connection probe with 200 and an empty list', async () => {
    const r = await call(sim.baseUrl, 'GET', `/Users${filterQuery('userName eq "0b5c8c6e-9ad5-4b42-9c28-0f0b7d2c6a11"')}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, Resources: [] });
  });
});
