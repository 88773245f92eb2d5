// The docuware profile: what DocuWare's User Provisioning service does according to its guides.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScimSimulator, type ScimSimulator } from '../../../src/simulators/scim/index.js';
import { call, ENTERPRISE, filterQuery, GROUP, patch, USER, userBody } from './helpers.js';

describe('SCIM simulator: docuware profile', () => {
  let sim: ScimSimulator;
  let accessToken: string;
  beforeAll(async () => {
    sim = await startScimSimulator({ profile: 'docuware', oauth: { clientId: 'dw-app', clientSecret: 'dw-secret' } });
  });
  afterAll(() => sim.close());
  beforeEach(async () => {
    sim.store.reset();
    const res = await fetch(sim.tokenUrl, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=dw-app&client_secret=dw-secret' });
    accessToken = ((await res.json()) as { access_token: string }).access_token;
  });
  const dw = (method: string, path: string, body?: unknown, contentType?: string): ReturnType<typeof call> =>
    call(sim.baseUrl, method, path, { token: accessToken, ...(body !== undefined ? { body } : {}), ...(contentType ? { contentType } : {}) });

  it('requires Content-Type application/scim+json on writes', async () => {
    const r = await dw('POST', '/Users', userBody('jdoe'), 'application/json');
    expect(r.status).toBe(415);
    expect((await dw('POST', '/Users', userBody('jdoe'))).status).toBe(201);
  });

  it('has an unauthenticated health check', async () => {
    const r = await call(sim.baseUrl, 'GET', '/health', { token: null });
    expect(r.status).toBe(200);
  });

  it('stores only the attributes it handles and answers PATCH with 204', async () => {
    const created = await dw('POST', '/Users', { schemas: [USER, ENTERPRISE], userName: 'jdoe', externalId: 'oid-1', active: true, title: 'ignored', emails: [{ type: 'work', value: 'j@x' }], name: { givenName: 'J', familyName: 'Doe' }, [ENTERPRISE]: { department: 'ignored' } });
    expect(created.status).toBe(201);
    const stored = sim.user(created.body.id)!;
    expect(stored).toMatchObject({ userName: 'jdoe', externalId: 'oid-1', emails: [{ type: 'work', value: 'j@x' }], name: { givenName: 'J', familyName: 'Doe' } });
    expect(stored).not.toHaveProperty('title');
    expect(stored).not.toHaveProperty(ENTERPRISE);
    const disable = await dw('PATCH', `/Users/${created.body.id}`, patch({ op: 'Replace', path: 'active', value: 'False' }));
    expect(disable.status).toBe(204);
    expect(sim.user(created.body.id)?.active).toBe(false);
    const unhandled = await dw('PATCH', `/Users/${created.body.id}`, patch({ op: 'replace', path: 'title', value: 'x' }));
    expect(unhandled.status).toBe(400);
    expect(unhandled.body.scimType).toBe('invalidPath');
  });

  it('creates the work email an Entra-style Replace names', async () => {
    const created = await dw('POST', '/Users', userBody('mail-less'));
    await dw('PATCH', `/Users/${created.body.id}`, patch({ op: 'Replace', path: 'emails[type eq "work"].value', value: 'new@x' }));
    expect(sim.user(created.body.id)?.emails).toEqual([{ type: 'work', value: 'new@x' }]);
  });

  it('filters users only by userName or externalId and groups only by displayName', async () => {
    await dw('POST', '/Users', userBody('jdoe', { externalId: 'oid-1' }));
    expect((await dw('GET', `/Users${filterQuery('userName eq "JDOE"')}`)).body.totalResults).toBe(1);
    expect((await dw('GET', `/Users${filterQuery('externalId eq "oid-1"')}`)).body.totalResults).toBe(1);
    const unsupported = await dw('GET', `/Users${filterQuery('userName sw "j"')}`);
    expect(unsupported.status).toBe(400);
    expect(unsupported.body.scimType).toBe('invalidFilter');
    expect((await dw('GET', `/Users${filterQuery('active eq true')}`)).status).toBe(400);
    expect((await dw('GET', `/Groups${filterQuery('externalId eq "x"')}`)).status).toBe(400);
    expect((await dw('GET', `/Groups${filterQuery('displayName eq "x"')}`)).status).toBe(200);
  });

  it('lists only users provisioned through this endpoint unless allDocuWareUsers=true', async () => {
    sim.store.putUser({ id: 'native-1', userName: 'native.user' });
    await dw('POST', '/Users', userBody('provisioned'));
    const own = await dw('GET', '/Users');
    expect(own.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(['provisioned']);
    expect((await dw('GET', `/Users${filterQuery('userName eq "native.user"')}`)).body.totalResults).toBe(0);
    const all = await dw('GET', `/Users?allDocuWareUsers=true&filter=${encodeURIComponent('userName eq "native.user"')}`);
    expect(all.body.totalResults).toBe(1);
    // The hidden user still holds its userName: a blind create collides.
    expect((await dw('POST', '/Users', userBody('Native.User'))).status).toBe(409);
  });

  it('matches an existing group by displayName on create and adds members without replacing', async () => {
    const a = (await dw('POST', '/Users', userBody('a'))).body.id as string;
    const b = (await dw('POST', '/Users', userBody('b'))).body.id as string;
    const first = await dw('POST', '/Groups', { schemas: [GROUP], displayName: 'Accounting', members: [{ value: a }] });
    expect(first.status).toBe(201);
    const again = await dw('POST', '/Groups', { schemas: [GROUP], displayName: 'accounting', members: [{ value: b }, { value: 'not-in-docuware' }] });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const members = (sim.group(first.body.id)!.members as { value: string }[]).map((m) => m.value).sort();
    expect(members).toEqual([a, b].sort());
  });

  it('keeps existing members on PUT and replace, drops unknown members, still honours explicit removes', async () => {
    const a = (await dw('POST', '/Users', userBody('a'))).body.id as string;
    const b = (await dw('POST', '/Users', userBody('b'))).body.id as string;
    const g = (await dw('POST', '/Groups', { schemas: [GROUP], displayName: 'G', members: [{ value: a }] })).body.id as string;
    await dw('PUT', `/Groups/${g}`, { schemas: [GROUP], displayName: 'G renamed', members: [{ value: b }] });
    const ids = (): string[] => (sim.group(g)!.members as { value: string }[]).map((m) => m.value).sort();
    expect(ids()).toEqual([a, b].sort());
    expect(sim.group(g)?.displayName).toBe('G renamed');
    const r = await dw('PATCH', `/Groups/${g}`, patch({ op: 'replace', path: 'members', value: [{ value: 'ghost' }] }));
    expect(r.status).toBe(204);
    expect(ids()).toEqual([a, b].sort());
    await dw('PATCH', `/Groups/${g}`, patch({ op: 'remove', path: `members[value eq "${a}"]` }));
    expect(ids()).toEqual([b]);
  });

  it('names its user schema Core2EnterpriseUser and offers no bulk', async () => {
    const schemas = await dw('GET', '/Schemas');
    expect(schemas.body.Resources[0]).toMatchObject({ id: USER, name: 'Core2EnterpriseUser' });
    expect((await dw('GET', '/ServiceProviderConfig')).body.bulk.supported).toBe(false);
  });
});
