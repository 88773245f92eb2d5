// Listing: startIndex/count paging with totalResults, the server's page cap, attribute selection, /.search.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScimSimulator, type ScimSimulator } from '../../../src/simulators/scim/index.js';
import { call, ENTERPRISE, USER } from './helpers.js';

describe('SCIM simulator: list, paging and attribute selection', () => {
  let sim: ScimSimulator;
  beforeAll(async () => {
    sim = await startScimSimulator({ maxResults: 5, pageSize: 3 });
    for (let i = 1; i <= 12; i++) {
      sim.store.putUser({ id: `id-${String(i).padStart(2, '0')}`, schemas: [USER, ENTERPRISE], userName: `user${i}`, name: { givenName: `G${i}`, familyName: `F${i}` }, emails: [{ value: `u${i}@x`, type: 'work' }], password: 'secret', [ENTERPRISE]: { department: 'D', costCenter: 'C' } });
    }
  });
  afterAll(() => sim.close());

  it('pages with startIndex and count; totalResults is the whole set; 1-based', async () => {
    const r = await call(sim.baseUrl, 'GET', '/Users?startIndex=4&count=2');
    expect(r.body).toMatchObject({ totalResults: 12, startIndex: 4, itemsPerPage: 2 });
    expect(r.body.Resources.map((u: { id: string }) => u.id)).toEqual(['id-04', 'id-05']);
  });

  it('uses pageSize without count and caps count at maxResults', async () => {
    expect((await call(sim.baseUrl, 'GET', '/Users')).body.itemsPerPage).toBe(3);
    const capped = await call(sim.baseUrl, 'GET', '/Users?count=1000');
    expect(capped.body.itemsPerPage).toBe(5);
    expect(capped.body.totalResults).toBe(12);
  });

  it('lets a client page to the end; a start past the end is an empty page', async () => {
    const seen: string[] = [];
    for (let start = 1; ; ) {
      const page = await call(sim.baseUrl, 'GET', `/Users?startIndex=${start}&count=5`);
      if (page.body.Resources.length === 0) break;
      seen.push(...page.body.Resources.map((u: { id: string }) => u.id));
      start += page.body.Resources.length;
      if (start > page.body.totalResults) break;
    }
    expect(seen).toHaveLength(12);
    expect(new Set(seen).size).toBe(12);
    const past = await call(sim.baseUrl, 'GET', '/Users?startIndex=50');
    expect(past.body).toMatchObject({ totalResults: 12, itemsPerPage: 0, Resources: [] });
  });

  it('shows users created and deleted between pages', async () => {
    const before = (await call(sim.baseUrl, 'GET', '/Users?count=0')).body.totalResults as number;
    const created = await call(sim.baseUrl, 'POST', '/Users', { body: { schemas: [USER], userName: 'late-comer' } });
    const last = await call(sim.baseUrl, 'GET', `/Users?startIndex=${before + 1}&count=5`);
    expect(last.body.totalResults).toBe(before + 1);
    expect(last.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(['late-comer']);
    await call(sim.baseUrl, 'DELETE', `/Users/${created.body.id}`);
    expect((await call(sim.baseUrl, 'GET', '/Users?count=0')).body.totalResults).toBe(before);
  });

  it('treats startIndex < 1 as 1 and count=0 as a count-only query; rejects non-numbers', async () => {
    expect((await call(sim.baseUrl, 'GET', '/Users?startIndex=0&count=1')).body.Resources[0].id).toBe('id-01');
    expect((await call(sim.baseUrl, 'GET', '/Users?count=0')).body).toMatchObject({ totalResults: 12, Resources: [] });
    expect((await call(sim.baseUrl, 'GET', '/Users?count=ten')).status).toBe(400);
  });

  it('returns only requested attributes plus id and schemas', async () => {
    const r = await call(sim.baseUrl, 'GET', `/Users/id-01?attributes=userName,name.givenName,${ENTERPRISE}:department`);
    expect(r.body).toEqual({ schemas: [USER, ENTERPRISE], id: 'id-01', userName: 'user1', name: { givenName: 'G1' }, [ENTERPRISE]: { department: 'D' } });
  });

  it('drops excluded attributes but never id', async () => {
    const r = await call(sim.baseUrl, 'GET', '/Users/id-02?excludedAttributes=emails,name.familyName,id,meta');
    expect(r.body.id).toBe('id-02');
    expect(r.body).not.toHaveProperty('emails');
    expect(r.body).not.toHaveProperty('meta');
    expect(r.body.name).toEqual({ givenName: 'G2' });
  });

  it('never returns a password', async () => {
    const r = await call(sim.baseUrl, 'GET', '/Users/id-03');
    expect(r.body).not.toHaveProperty('password');
  });

  it('answers POST /Users/.search like a GET with the same parameters', async () => {
    const r = await call(sim.baseUrl, 'POST', '/Users/.search', { body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName sw "user1"', attributes: ['userName'], startIndex: 1, count: 10 } });
    expect(r.status).toBe(200);
    expect(r.body.totalResults).toBe(4);
    expect(Object.keys(r.body.Resources[0]).sort()).toEqual(['id', 'schemas', 'userName']);
  });

  it('answers unknown endpoints and methods with SCIM errors', async () => {
    expect((await call(sim.baseUrl, 'GET', '/users')).status).toBe(404);
    expect((await call(sim.baseUrl, 'DELETE', '/Users')).status).toBe(405);
    expect((await call(sim.baseUrl, 'GET', '/Nope')).body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
  });
});
