// ETags: meta.version and the ETag header, If-Match (412 on mismatch) and If-None-Match (304).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScimSimulator, type ScimSimulator } from '../../../src/simulators/scim/index.js';
import { call, GROUP, patch, userBody } from './helpers.js';

describe('SCIM simulator: ETags', () => {
  let sim: ScimSimulator;
  beforeAll(async () => {
    sim = await startScimSimulator({ etag: true });
  });
  afterAll(() => sim.close());

  it('returns meta.version and the same ETag header, changing on every write', async () => {
    const created = await call(sim.baseUrl, 'POST', '/Users', { body: userBody('e1') });
    const v1 = created.body.meta.version as string;
    expect(v1).toMatch(/^W\/".+"$/);
    expect(created.headers.get('etag')).toBe(v1);
    const patched = await call(sim.baseUrl, 'PATCH', `/Users/${created.body.id}`, { body: patch({ op: 'replace', path: 'title', value: 'x' }), headers: { 'If-Match': v1 } });
    expect(patched.status).toBe(200);
    expect(patched.body.meta.version).not.toBe(v1);
  });

  it('refuses a write with a stale If-Match with 412 and changes nothing', async () => {
    const created = await call(sim.baseUrl, 'POST', '/Users', { body: userBody('e2') });
    const v1 = created.body.meta.version as string;
    // Someone else edits the user by hand: the version moves on.
    sim.store.putUser({ ...sim.user(created.body.id)!, title: 'by hand' });
    const stale = await call(sim.baseUrl, 'PATCH', `/Users/${created.body.id}`, { body: patch({ op: 'replace', path: 'title', value: 'mine' }), headers: { 'If-Match': v1 } });
    expect(stale.status).toBe(412);
    expect(stale.body.status).toBe('412');
    expect(sim.user(created.body.id)?.title).toBe('by hand');
    expect((await call(sim.baseUrl, 'PUT', `/Users/${created.body.id}`, { body: userBody('e2'), headers: { 'If-Match': v1 } })).status).toBe(412);
    expect((await call(sim.baseUrl, 'DELETE', `/Users/${created.body.id}`, { headers: { 'If-Match': v1 } })).status).toBe(412);
    expect((await call(sim.baseUrl, 'DELETE', `/Users/${created.body.id}`, { headers: { 'If-Match': '*' } })).status).toBe(204);
  });

  it('answers 304 to If-None-Match with the current version', async () => {
    const created = await call(sim.baseUrl, 'POST', '/Groups', { body: { schemas: [GROUP], displayName: 'etag group' } });
    const v = created.headers.get('etag')!;
    const same = await call(sim.baseUrl, 'GET', `/Groups/${created.body.id}`, { headers: { 'If-None-Match': v } });
    expect(same.status).toBe(304);
    const other = await call(sim.baseUrl, 'GET', `/Groups/${created.body.id}`, { headers: { 'If-None-Match': 'W/"0"' } });
    expect(other.status).toBe(200);
  });

  it('ignores If-Match and sends no versions when ETags are off', async () => {
    const plain = await startScimSimulator();
    try {
      const created = await call(plain.baseUrl, 'POST', '/Users', { body: userBody('e3') });
      expect(created.body.meta).not.toHaveProperty('version');
      expect(created.headers.get('etag')).toBeNull();
      const r = await call(plain.baseUrl, 'PATCH', `/Users/${created.body.id}`, { body: patch({ op: 'replace', path: 'title', value: 'x' }), headers: { 'If-Match': 'W/"nope"' } });
      expect(r.status).toBe(200);
    } finally {
      await plain.close();
    }
  });
});
