// The document360 profile: the isTeamAccount extension and DELETE as deactivation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScimSimulator, type ScimSimulator } from '../../../src/simulators/scim/index.js';
import { call, D360, filterQuery, patch, USER, userBody } from './helpers.js';

describe('SCIM simulator: document360 profile', () => {
  let sim: ScimSimulator;
  beforeAll(async () => {
    sim = await startScimSimulator({ profile: 'document360', tokens: ['primary-secret', 'secondary-secret'] });
  });
  afterAll(() => sim.close());
  const d = (method: string, path: string, body?: unknown, token = 'primary-secret'): ReturnType<typeof call> => call(sim.baseUrl, method, path, { token, ...(body !== undefined ? { body } : {}) });

  it('creates a team account when isTeamAccount is true, and a reader when it is unset', async () => {
    const team = await d('POST', '/Users', { schemas: [USER, D360], userName: 'writer@x', [D360]: { isTeamAccount: true } });
    expect(team.status).toBe(201);
    expect(team.body[D360]).toEqual({ isTeamAccount: true });
    expect(team.body.schemas).toEqual([USER, D360]);
    const reader = await d('POST', '/Users', userBody('reader@x'));
    expect(reader.body[D360]).toEqual({ isTeamAccount: false });
  });

  it('refuses a value that is no Boolean (legacy "True"/"False" strings aside) instead of reading it as a reader', async () => {
    const r = await d('POST', '/Users', { schemas: [USER, D360], userName: 'stringly@x', [D360]: { isTeamAccount: 'yes' } });
    expect(r.status).toBe(400);
    expect(r.body.scimType).toBe('invalidValue');
    expect(sim.users().some((u) => u.userName === 'stringly@x')).toBe(false);
  });

  it('needs the extension URN in schemas when the extension is sent', async () => {
    const r = await d('POST', '/Users', { schemas: [USER], userName: 'forgot@x', [D360]: { isTeamAccount: true } });
    expect(r.status).toBe(400);
    expect(r.body.detail).toContain(D360);
  });

  it('patches isTeamAccount by URN path, with a boolean or Entra’s "True" string', async () => {
    const u = await d('POST', '/Users', userBody('promote@x'));
    const r = await d('PATCH', `/Users/${u.body.id}`, patch({ op: 'replace', path: `${D360}:isTeamAccount`, value: true }));
    expect(r.status).toBe(200);
    expect(sim.user(u.body.id)?.[D360]).toEqual({ isTeamAccount: true });
    await d('PATCH', `/Users/${u.body.id}`, patch({ op: 'Replace', path: `${D360}:isTeamAccount`, value: 'False' }));
    expect(sim.user(u.body.id)?.[D360]).toEqual({ isTeamAccount: false });
    const filtered = await d('GET', `/Users${filterQuery(`${D360}:isTeamAccount eq false and userName eq "promote@x"`)}`);
    expect(filtered.body.totalResults).toBe(1);
  });

  it('makes a user inactive on DELETE instead of removing it', async () => {
    const u = await d('POST', '/Users', userBody('leaver@x'));
    const del = await d('DELETE', `/Users/${u.body.id}`);
    expect(del.status).toBe(204);
    const got = await d('GET', `/Users/${u.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body.active).toBe(false);
    // The userName stays taken: re-provisioning must find and reactivate the user.
    expect((await d('POST', '/Users', userBody('leaver@x'))).status).toBe(409);
    await d('PATCH', `/Users/${u.body.id}`, patch({ op: 'replace', path: 'active', value: true }));
    expect(sim.user(u.body.id)?.active).toBe(true);
  });

  it('accepts the secondary token so the primary can be rotated', async () => {
    expect((await d('GET', '/Users', undefined, 'secondary-secret')).status).toBe(200);
    expect((await d('GET', '/Users', undefined, 'old-secret')).status).toBe(401);
  });
});
