// PATCH on users, table-driven from fixtures/patch-users.json: compliant and Entra-legacy forms.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScimSimulator, type ScimSimulator } from '../../../src/simulators/scim/index.js';
import { call, ENTERPRISE, patch, USER } from './helpers.js';

interface PatchCase {
  name: string;
  before: Record<string, unknown>;
  operations: unknown[];
  after?: Record<string, unknown>;
  absent?: string[];
  error?: { status: number; scimType?: string };
}
const cases = JSON.parse(readFileSync(new URL('./fixtures/patch-users.json', import.meta.url), 'utf8')) as PatchCase[];

describe('SCIM simulator: PATCH users', () => {
  let sim: ScimSimulator;
  beforeAll(async () => {
    sim = await startScimSimulator();
  });
  afterAll(() => sim.close());

  it.each(cases)('$name', async (c) => {
    const created = await call(sim.baseUrl, 'POST', '/Users', { body: { schemas: ENTERPRISE in c.before ? [USER, ENTERPRISE] : [USER], ...c.before } });
    expect(created.status).toBe(201);
    const r = await call(sim.baseUrl, 'PATCH', `/Users/${created.body.id}`, { body: patch(...c.operations) });
    if (c.error) {
      expect(r.status).toBe(c.error.status);
      expect(r.body.status).toBe(String(c.error.status));
      if (c.error.scimType) expect(r.body.scimType).toBe(c.error.scimType);
    } else {
      expect(r.status).toBe(200);
      expect(r.body.id).toBe(created.body.id);
    }
    const stored = sim.user(created.body.id)!;
    if (c.after) expect(stored).toMatchObject(c.after);
    for (const attr of c.absent ?? []) expect(stored).not.toHaveProperty(attr);
  });

  it('answers 204 without a body when configured to', async () => {
    const sim204 = await startScimSimulator({ patchStatus: 204 });
    try {
      const created = await call(sim204.baseUrl, 'POST', '/Users', { body: { schemas: [USER], userName: 'n' } });
      const r = await call(sim204.baseUrl, 'PATCH', `/Users/${created.body.id}`, { body: patch({ op: 'replace', path: 'title', value: 'T' }) });
      expect(r.status).toBe(204);
      expect(r.body).toBeUndefined();
      expect(sim204.user(created.body.id)?.title).toBe('T');
    } finally {
      await sim204.close();
    }
  });

  it('refuses PATCH with 501 when the server is configured without it', async () => {
    const noPatch = await startScimSimulator({ patch: false });
    try {
      const created = await call(noPatch.baseUrl, 'POST', '/Users', { body: { schemas: [USER], userName: 'n' } });
      const r = await call(noPatch.baseUrl, 'PATCH', `/Users/${created.body.id}`, { body: patch({ op: 'replace', path: 'title', value: 'T' }) });
      expect(r.status).toBe(501);
      const spc = await call(noPatch.baseUrl, 'GET', '/ServiceProviderConfig');
      expect(spc.body.patch.supported).toBe(false);
    } finally {
      await noPatch.close();
    }
  });

  it('needs the PatchOp schema and an Operations array', async () => {
    const created = await call(sim.baseUrl, 'POST', '/Users', { body: { schemas: [USER], userName: 'envelope' } });
    const noSchema = await call(sim.baseUrl, 'PATCH', `/Users/${created.body.id}`, { body: { Operations: [{ op: 'replace', path: 'title', value: 'x' }] } });
    expect(noSchema.body.scimType).toBe('invalidSyntax');
    const noOps = await call(sim.baseUrl, 'PATCH', `/Users/${created.body.id}`, { body: patch() });
    expect(noOps.body.scimType).toBe('invalidSyntax');
  });
});
