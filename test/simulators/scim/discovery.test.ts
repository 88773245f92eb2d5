// /ServiceProviderConfig, /ResourceTypes and /Schemas reflect the options a simulator was started with.
import { afterEach, describe, expect, it } from 'vitest';
import { startScimSimulator, type ScimSimulator } from '../../../src/simulators/scim/index.js';
import { call, D360, ENTERPRISE } from './helpers.js';

describe('SCIM simulator: discovery', () => {
  let sim: ScimSimulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('advertises bulk, etag, patch and maxResults as configured', async () => {
    sim = await startScimSimulator({ bulk: { enabled: true, maxOperations: 7, maxPayloadSize: 4096 }, etag: true, maxResults: 42 });
    const spc = await call(sim.baseUrl, 'GET', '/ServiceProviderConfig');
    expect(spc.status).toBe(200);
    expect(spc.body).toMatchObject({
      patch: { supported: true },
      bulk: { supported: true, maxOperations: 7, maxPayloadSize: 4096 },
      filter: { supported: true, maxResults: 42 },
      etag: { supported: true },
      sort: { supported: false },
    });
    expect(spc.body.authenticationSchemes).toEqual([expect.objectContaining({ type: 'oauthbearertoken' })]);
  });

  it('says bulk and etag are unsupported by default, and lists OAuth2 when configured', async () => {
    sim = await startScimSimulator({ oauth: { clientId: 'c', clientSecret: 's' }, tokens: ['t'] });
    const spc = await call(sim.baseUrl, 'GET', '/ServiceProviderConfig', { token: 't' });
    expect(spc.body.bulk.supported).toBe(false);
    expect(spc.body.etag.supported).toBe(false);
    expect(spc.body.authenticationSchemes.map((s: { type: string }) => s.type)).toEqual(['oauthbearertoken', 'oauth2']);
  });

  it('lists resource types with the profile’s extensions', async () => {
    sim = await startScimSimulator({ profile: 'document360' });
    const rt = await call(sim.baseUrl, 'GET', '/ResourceTypes');
    expect(rt.body.totalResults).toBe(2);
    const user = rt.body.Resources.find((r: { id: string }) => r.id === 'User');
    expect(user.schemaExtensions.map((e: { schema: string }) => e.schema)).toEqual([ENTERPRISE, D360]);
    expect((await call(sim.baseUrl, 'GET', '/ResourceTypes/Group')).body.endpoint).toBe('/Groups');
  });

  it('serves schemas with attribute definitions, one by id', async () => {
    sim = await startScimSimulator({ profile: 'document360' });
    const all = await call(sim.baseUrl, 'GET', '/Schemas');
    expect(all.body.Resources.map((s: { id: string }) => s.id)).toContain(D360);
    const ext = await call(sim.baseUrl, 'GET', `/Schemas/${D360}`);
    expect(ext.body.attributes).toEqual([expect.objectContaining({ name: 'isTeamAccount', type: 'boolean' })]);
    const core = await call(sim.baseUrl, 'GET', '/Schemas/urn:ietf:params:scim:schemas:core:2.0:User');
    const userName = core.body.attributes.find((a: { name: string }) => a.name === 'userName');
    expect(userName).toMatchObject({ required: true, uniqueness: 'server', caseExact: false });
  });
});
