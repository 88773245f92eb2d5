import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScimSimulator, type ScimSimulator } from '../../../src/simulators/scim/index.js';
import { call, ENTERPRISE, filterQuery, USER, userBody } from './helpers.js';

describe('SCIM simulator: user create, read, replace, delete', () => {
  let sim: ScimSimulator;
  beforeAll(async () => {
    sim = await startScimSimulator();
  });
  afterAll(() => sim.close());

  it('creates a user with 201, server-assigned id, meta and Location', async () => {
    const r = await call(sim.baseUrl, 'POST', '/Users', {
      body: { schemas: [USER, ENTERPRISE], UserName: 'alice@contoso.com', externalId: 'ext-1', name: { givenName: 'Alice', familyName: 'Doe' }, emails: [{ value: 'alice@contoso.com', type: 'work', primary: true }], title: null, [ENTERPRISE]: { department: 'R&D' } },
    });
    expect(r.status).toBe(201);
    expect(r.body.id).toEqual(expect.any(String));
    expect(r.body.userName).toBe('alice@contoso.com');
    expect(r.body.title).toBeUndefined();
    expect(r.body.active).toBe(true);
    expect(r.body.schemas).toEqual([USER, ENTERPRISE]);
    expect(r.body[ENTERPRISE]).toEqual({ department: 'R&D' });
    expect(r.body.meta).toMatchObject({ resourceType: 'User', location: `${sim.baseUrl}/Users/${r.body.id}` });
    expect(r.headers.get('location')).toBe(`${sim.baseUrl}/Users/${r.body.id}`);
    expect(r.headers.get('content-type')).toContain('application/scim+json');
    expect(sim.user(r.body.id)?.userName).toBe('alice@contoso.com');
  });

  it('reads by id and answers 404 with a SCIM error for an unknown id', async () => {
    const created = await call(sim.baseUrl, 'POST', '/Users', { body: userBody('bob@contoso.com') });
    const got = await call(sim.baseUrl, 'GET', `/Users/${created.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body.userName).toBe('bob@contoso.com');
    const missing = await call(sim.baseUrl, 'GET', '/Users/does-not-exist');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404' });
  });

  it('rejects a duplicate userName case-insensitively with 409 uniqueness', async () => {
    await call(sim.baseUrl, 'POST', '/Users', { body: userBody('carol@contoso.com') });
    const dup = await call(sim.baseUrl, 'POST', '/Users', { body: userBody('CAROL@Contoso.com') });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ status: '409', scimType: 'uniqueness' });
  });

  it('rejects a create without userName, without schemas, or with an unlisted extension', async () => {
    expect((await call(sim.baseUrl, 'POST', '/Users', { body: { schemas: [USER] } })).body.scimType).toBe('invalidValue');
    expect((await call(sim.baseUrl, 'POST', '/Users', { body: { userName: 'x' } })).body.scimType).toBe('invalidSyntax');
    const unlisted = await call(sim.baseUrl, 'POST', '/Users', { body: { schemas: [USER], userName: 'y', [ENTERPRISE]: { department: 'x' } } });
    expect(unlisted.status).toBe(400);
    expect(unlisted.body.detail).toContain(ENTERPRISE);
    expect((await call(sim.baseUrl, 'POST', '/Users', { body: '{not json' })).body.scimType).toBe('invalidSyntax');
  });

  it('accepts legacy "True"/"False" strings for booleans and stores real booleans', async () => {
    const r = await call(sim.baseUrl, 'POST', '/Users', { body: { schemas: [USER], userName: 'dave@contoso.com', active: 'False' } });
    expect(r.status).toBe(201);
    expect(r.body.active).toBe(false);
  });

  it('replaces a user with PUT: omitted attributes are cleared, id and created kept', async () => {
    const created = await call(sim.baseUrl, 'POST', '/Users', { body: userBody('erin@contoso.com', { title: 'Engineer', displayName: 'Erin' }) });
    const put = await call(sim.baseUrl, 'PUT', `/Users/${created.body.id}`, { body: userBody('erin@contoso.com', { displayName: 'Erin E.' }) });
    expect(put.status).toBe(200);
    expect(put.body.id).toBe(created.body.id);
    expect(put.body.title).toBeUndefined();
    expect(put.body.displayName).toBe('Erin E.');
    expect(put.body.meta.created).toBe(created.body.meta.created);
    const clash = await call(sim.baseUrl, 'PUT', `/Users/${created.body.id}`, { body: userBody('bob@contoso.com') });
    expect(clash.status).toBe(409);
  });

  it('deletes with 204, then GET is 404 and the userName is free again', async () => {
    const created = await call(sim.baseUrl, 'POST', '/Users', { body: userBody('frank@contoso.com') });
    const del = await call(sim.baseUrl, 'DELETE', `/Users/${created.body.id}`);
    expect(del.status).toBe(204);
    expect(del.body).toBeUndefined();
    expect((await call(sim.baseUrl, 'GET', `/Users/${created.body.id}`)).status).toBe(404);
    expect((await call(sim.baseUrl, 'DELETE', `/Users/${created.body.id}`)).status).toBe(404);
    expect((await call(sim.baseUrl, 'POST', '/Users', { body: userBody('frank@contoso.com') })).status).toBe(201);
  });

  it('addresses users whose ids need URL-encoding', async () => {
    sim.store.putUser({ id: 'we ird"/id@x', userName: 'weird@contoso.com' });
    const got = await call(sim.baseUrl, 'GET', `/Users/${encodeURIComponent('we ird"/id@x')}`);
    expect(got.status).toBe(200);
    expect(got.body.userName).toBe('weird@contoso.com');
    const found = await call(sim.baseUrl, 'GET', `/Users${filterQuery('userName eq "weird@contoso.com"')}`);
    expect(found.body.Resources[0].id).toBe('we ird"/id@x');
  });
});
