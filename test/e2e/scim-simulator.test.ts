// The SCIM connector against our SCIM target simulator, in every profile, with its auth modes and faults.
import { afterEach, describe, expect, it } from 'vitest';
import { startScimSimulator, type ScimSimulator, type ScimSimulatorOptions } from '../../src/simulators/scim/index.js';
import { ScimConnector, type ConnectorDeps } from '../../src/targets/scim/connector.js';
import { scimTargetOptionsSchema, type ScimTargetOptionsInput } from '../../src/targets/scim/options.js';

const D360 = 'urn:ietf:params:scim:schemas:extension:document360:2.0:User';
type Json = Record<string, unknown>;

let sim: ScimSimulator | undefined;
let connector: ScimConnector | undefined;

afterEach(async () => {
  await connector?.close();
  await sim?.close();
  connector = undefined;
  sim = undefined;
});

/** A clock that only moves when the connector waits: waits are recorded, tests stay fast. */
function virtualTime(): ConnectorDeps & { waits: number[] } {
  let now = Date.now();
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    sleep: (ms) => {
      waits.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

async function setup(simOptions: ScimSimulatorOptions, options: Partial<ScimTargetOptionsInput> = {}, deps: ConnectorDeps = {}, discover = true) {
  sim = await startScimSimulator(simOptions);
  const parsed = scimTargetOptionsSchema.parse({
    baseUrl: sim.baseUrl,
    auth: { type: 'bearer', token: 't1' },
    retry: { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 100 },
    ...options,
  });
  connector = new ScimConnector('sim', parsed, deps);
  // Discovery first, so the request logs below hold only the requests under test.
  if (discover) {
    await connector.capabilities();
    sim.clearRequests();
  }
  return { sim, c: connector };
}

describe.each(['generic', 'docuware', 'document360'] as const)('profile %s', (profile) => {
  it('runs the provisioning lifecycle: match, create, update, disable, group membership', async () => {
    const { sim, c } = await setup({ profile, tokens: ['t1'] });
    expect((await c.testConnection()).ok).toBe(true);
    const attributes: Json = {
      userName: 'alice@contoso.com',
      externalId: 'alice',
      active: true,
      'name.givenName': 'Alice',
      'name.familyName': 'Doe',
      'emails[type eq "work"].value': 'alice@contoso.com',
    };
    if (profile === 'document360') attributes[`${D360}:isTeamAccount`] = true;
    expect(await c.find('user', { path: 'userName', value: 'alice@contoso.com' })).toBeNull();
    const created = await c.create('user', attributes);
    expect(sim.user(created.id)).toMatchObject({ userName: 'alice@contoso.com', emails: [{ type: 'work', value: 'alice@contoso.com' }] });
    if (profile === 'document360') expect(sim.user(created.id)![D360]).toEqual({ isTeamAccount: true });

    const found = await c.find('user', { path: 'externalId', value: 'alice' });
    expect(found?.id).toBe(created.id);
    expect(found?.attributes['emails[type eq "work"].value']).toBe('alice@contoso.com');

    await c.update('user', created.id, [
      { path: 'emails[type eq "work"].value', before: 'alice@contoso.com', after: 'alice.doe@contoso.com' },
      { path: 'name.givenName', before: 'Alice', after: 'Alicia' },
    ], {});
    expect(sim.user(created.id)).toMatchObject({ name: { givenName: 'Alicia' }, emails: [{ type: 'work', value: 'alice.doe@contoso.com' }] });

    await c.setActive(created.id, false);
    expect(sim.user(created.id)!.active).toBe(false);

    const bob = await c.create('user', { userName: 'bob@contoso.com', active: true });
    const group = await c.create('group', { displayName: 'Finance', externalId: 'g1' });
    await c.addMembers(group.id, [created.id, bob.id]);
    expect((await c.listMembers(group.id)).sort()).toEqual([created.id, bob.id].sort());
    await c.removeMembers(group.id, [bob.id]);
    expect(await c.listMembers(group.id)).toEqual([created.id]);
    expect((await c.find('group', { path: 'displayName', value: 'Finance' }))?.id).toBe(group.id);
  });
});

describe('SCIM connector against the simulator', () => {
  it('answers a duplicate create with conflict, and finds the existing user to adopt', async () => {
    const { c } = await setup({ tokens: ['t1'] });
    const first = await c.create('user', { userName: 'dup@contoso.com' });
    await expect(c.create('user', { userName: 'dup@contoso.com' })).rejects.toMatchObject({ kind: 'conflict', status: 409 });
    expect((await c.find('user', { path: 'userName', value: 'dup@contoso.com' }))?.id).toBe(first.id);
  });

  it('escapes filter values so a crafted userName cannot widen the lookup', async () => {
    const { sim, c } = await setup({ tokens: ['t1'] });
    await c.create('user', { userName: 'carol' });
    await c.create('user', { userName: 'dave' });
    const tricky = await c.create('user', { userName: 'x" or userName sw "' });
    sim.clearRequests();
    expect((await c.find('user', { path: 'userName', value: 'x" or userName sw "' }))?.id).toBe(tricky.id);
    expect(await c.find('user', { path: 'userName', value: 'nobody" or userName sw "' })).toBeNull();
    expect(decodeURIComponent(sim.requests[0]!.query)).toContain('userName eq "x\\" or userName sw \\""');
  });

  it('URL-encodes ids in paths', async () => {
    const { sim, c } = await setup({ tokens: ['t1'] });
    const u = await c.create('user', { userName: 'eve' });
    sim.store.putUser({ ...sim.user(u.id)!, id: 'eve@contoso.com/x y' });
    sim.clearRequests();
    const read = await c.get('user', 'eve@contoso.com/x y');
    expect(read?.attributes.userName).toBe('eve');
    expect(sim.requests[0]!.path).toMatch(/eve%40contoso\.com%2Fx%20y$/);
  });

  it('tries the secondary token on 401 and keeps using it', async () => {
    const { sim, c } = await setup({ tokens: ['t2'] }, { auth: { type: 'bearer', token: 't1', secondaryToken: 't2' } }, {}, false);
    await c.create('user', { userName: 'rot1' });
    await c.create('user', { userName: 'rot2' });
    expect(sim.requests.map((r) => r.status)).toEqual([401, 201, 201]);
    expect(c.stats.reauthenticated).toBe(1);
  });

  it('is unauthorized when neither token is accepted', async () => {
    const { c } = await setup({ tokens: ['t3'] }, { auth: { type: 'bearer', token: 't1', secondaryToken: 't2' } }, {}, false);
    await expect(c.create('user', { userName: 'x' })).rejects.toMatchObject({ kind: 'unauthorized', status: 401 });
  });

  it.each(['client_secret_basic', 'client_secret_post'] as const)('gets an OAuth2 token with %s, caches it and refreshes it on 401', async (clientAuth) => {
    sim = await startScimSimulator({ profile: 'docuware', oauth: { clientId: 'app', clientSecret: 's3cret', tokenLifetimeSeconds: 3600 } });
    connector = new ScimConnector(
      'dw',
      scimTargetOptionsSchema.parse({ baseUrl: sim.baseUrl, auth: { type: 'oauth2', tokenUrl: sim.tokenUrl, clientId: 'app', clientSecret: 's3cret', clientAuth } }),
    );
    await connector.create('user', { userName: 'o1' });
    await connector.create('user', { userName: 'o2' });
    const tokenRequests = () => sim!.requests.filter((r) => r.path.endsWith('/token')).length;
    expect(tokenRequests()).toBe(1);
    sim.expireTokens();
    await connector.create('user', { userName: 'o3' });
    expect(tokenRequests()).toBe(2);
    expect(sim.users()).toHaveLength(3);
  });

  it('makes the whole target wait on 429 Retry-After and still delivers every create', async () => {
    const time = virtualTime();
    const { sim, c } = await setup({ tokens: ['t1'], faults: { rate429: 0.3, retryAfterSeconds: 2, seed: 7 } }, { retry: { maxAttempts: 10, baseDelayMs: 10, maxDelayMs: 100 } }, time);
    const results = await c.bulk(Array.from({ length: 40 }, (_, i) => ({ op: 'create' as const, type: 'user' as const, ref: `u${i}`, attributes: { userName: `u${i}` } })));
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(sim.users()).toHaveLength(40);
    expect(c.stats.throttled).toBeGreaterThan(0);
    expect(time.waits.filter((w) => w >= 2000).length).toBeGreaterThan(0);
  });

  it('backs off on 500s and gives up as transient after the retry limit', async () => {
    const time = virtualTime();
    const { sim, c } = await setup({ tokens: ['t1'], faults: { rate500: 1 } }, { retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 } }, time, false);
    await expect(c.create('user', { userName: 'x' })).rejects.toMatchObject({ kind: 'transient', status: 500 });
    expect(sim.requests.filter((r) => r.path.endsWith('/Users'))).toHaveLength(3);
    // Backoff grows: 50–100 ms, then 100–200 ms.
    expect(time.waits[0]).toBeGreaterThanOrEqual(50);
    expect(time.waits[1]).toBeGreaterThanOrEqual(100);
  });

  it('survives connection resets', async () => {
    const time = virtualTime();
    const { sim, c } = await setup({ tokens: ['t1'], faults: { resetRate: 0.3, seed: 3 } }, { retry: { maxAttempts: 10, baseDelayMs: 1, maxDelayMs: 5 } }, time);
    const results = await c.bulk(Array.from({ length: 20 }, (_, i) => ({ op: 'create' as const, type: 'user' as const, ref: `r${i}`, attributes: { userName: `r${i}` } })));
    // A reset after the server stored the user makes the retry a 409: the engine adopts it, nothing is lost.
    for (const r of results) if (!r.ok) expect(r.error.kind).toBe('conflict');
    expect(sim.users()).toHaveLength(20);
  });

  it('sends If-Match when the server has ETags and recovers from a 412 by re-reading', async () => {
    const { sim, c } = await setup({ tokens: ['t1'], etag: true });
    const u = await c.create('user', { userName: 'etag', 'name.givenName': 'A' });
    expect(u.etag).toBeTruthy();
    // Someone else edits the user: our stored version is stale now.
    sim.store.putUser({ ...sim.user(u.id)!, title: 'changed elsewhere' });
    sim.clearRequests();
    await c.update('user', u.id, [{ path: 'name.givenName', before: 'A', after: 'B' }], {});
    expect(sim.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['PATCH 412', 'GET 200', 'PATCH 200']);
    expect(sim.user(u.id)).toMatchObject({ title: 'changed elsewhere', name: { givenName: 'B' } });
  });

  it('falls back to PUT where PATCH is unsupported, keeping group members', async () => {
    const { sim, c } = await setup({ tokens: ['t1'], patch: false });
    const u = await c.create('user', { userName: 'put', 'name.givenName': 'A', active: true });
    await c.update('user', u.id, [{ path: 'name.givenName', before: 'A', after: 'B' }], { userName: 'put', 'name.givenName': 'B', active: true });
    await c.setActive(u.id, false);
    expect(sim.user(u.id)).toMatchObject({ name: { givenName: 'B' }, active: false });
    const g = await c.create('group', { displayName: 'G' });
    await c.addMembers(g.id, [u.id]);
    await c.update('group', g.id, [{ path: 'displayName', before: 'G', after: 'G2' }], { displayName: 'G2' });
    expect(sim.requests.filter((r) => r.method === 'PATCH')).toEqual([]);
    expect(await c.listMembers(g.id)).toEqual([u.id]);
    expect(sim.group(g.id)!.displayName).toBe('G2');
  });

  it('speaks the Entra legacy dialect when switched on', async () => {
    const { sim, c } = await setup({ tokens: ['t1'], profile: 'document360' }, { compatibility: 'entraLegacy' });
    const u = await c.create('user', { userName: 'legacy', active: true });
    const g = await c.create('group', { displayName: 'L' });
    await c.addMembers(g.id, [u.id]);
    sim.clearRequests();
    await c.setActive(u.id, false);
    await c.removeMembers(g.id, [u.id]);
    const [disable, remove] = sim.requests.map((r) => (r.body as { Operations: unknown[] }).Operations);
    expect(disable).toEqual([{ op: 'Replace', path: 'active', value: 'False' }]);
    expect(remove).toEqual([{ op: 'Remove', path: 'members', value: [{ value: u.id }] }]);
    expect(sim.user(u.id)!.active).toBe(false);
    expect(await c.listMembers(g.id)).toEqual([]);
  });

  it('isolates a member the server refuses and applies the others', async () => {
    const { c } = await setup({ tokens: ['t1'] }, { membershipChunkSize: 10 });
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await c.create('user', { userName: `m${i}` })).id);
    const g = await c.create('group', { displayName: 'M' });
    const err = await c.addMembers(g.id, [...ids.slice(0, 2), 'no-such-user', ...ids.slice(2)]).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'badRequest' });
    expect(String((err as Error).message)).toContain('no-such-user');
    expect((await c.listMembers(g.id)).sort()).toEqual([...ids].sort());
  });

  it('batches creates into /Bulk: at most maxOperations each, 0.02 requests per user at 50', async () => {
    const { sim, c } = await setup({ tokens: ['t1'], bulk: { enabled: true, maxOperations: 50, maxPayloadSize: 1_048_576 } });
    await c.capabilities();
    sim.clearRequests();
    const results = await c.bulk(Array.from({ length: 500 }, (_, i) => ({ op: 'create' as const, type: 'user' as const, ref: `b${i}`, attributes: { userName: `b${i}`, active: true } })));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(sim.users()).toHaveLength(500);
    expect(sim.requests).toHaveLength(10);
    expect(sim.requests.every((r) => r.path.endsWith('/Bulk'))).toBe(true);
  });

  it('keeps each /Bulk request within maxPayloadSize', async () => {
    const { sim, c } = await setup({ tokens: ['t1'], bulk: { enabled: true, maxOperations: 1000, maxPayloadSize: 4000 } });
    await c.capabilities();
    sim.clearRequests();
    const results = await c.bulk(Array.from({ length: 60 }, (_, i) => ({ op: 'create' as const, type: 'user' as const, ref: `p${i}`, attributes: { userName: `p${i}`, displayName: 'x'.repeat(100) } })));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(sim.requests.length).toBeGreaterThan(1);
    for (const r of sim.requests) expect(Buffer.byteLength(JSON.stringify(r.body))).toBeLessThanOrEqual(4000);
  });

  it('pages through users within the server maxResults', async () => {
    const { sim, c } = await setup({ tokens: ['t1'], maxResults: 7 });
    for (let i = 0; i < 20; i++) sim.store.putUser({ id: `id${i}`, schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `l${i}` });
    const names: string[] = [];
    for await (const u of c.list('user')) names.push(String(u.attributes.userName));
    expect(names).toHaveLength(20);
    expect(new Set(names).size).toBe(20);
  });
});
