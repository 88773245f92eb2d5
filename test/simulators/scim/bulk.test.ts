// POST /Bulk: limits (413), bulkId references, per-operation status, failOnErrors, and 501 when disabled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScimSimulator, type ScimSimulator } from '../../../src/simulators/scim/index.js';
import { call, GROUP, patch, USER, userBody } from './helpers.js';

const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

describe('SCIM simulator: Bulk', () => {
  let sim: ScimSimulator;
  beforeAll(async () => {
    sim = await startScimSimulator({ bulk: { enabled: true, maxOperations: 5, maxPayloadSize: 2000 } });
  });
  afterAll(() => sim.close());

  it('creates users and a group referencing them by bulkId, in any order', async () => {
    const r = await call(sim.baseUrl, 'POST', '/Bulk', {
      body: {
        schemas: [BULK],
        Operations: [
          { method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [GROUP], displayName: 'Bulk Group', members: [{ value: 'bulkId:u1' }, { value: 'bulkId:u2' }] } },
          { method: 'POST', path: '/Users', bulkId: 'u1', data: userBody('bulk1') },
          { method: 'POST', path: '/Users', bulkId: 'u2', data: userBody('bulk2') },
          { method: 'PATCH', path: '/Users/bulkId:u1', data: patch({ op: 'replace', path: 'title', value: 'T' }) },
        ],
      },
    });
    expect(r.status).toBe(200);
    expect(r.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:BulkResponse']);
    const ops = r.body.Operations as { bulkId?: string; status: string; location?: string; method: string }[];
    expect(ops.map((o) => [o.method, o.status])).toEqual([['POST', '201'], ['POST', '201'], ['POST', '201'], ['PATCH', '200']]);
    const groupLocation = ops[0]!.location!;
    const groupId = decodeURIComponent(groupLocation.split('/').pop()!);
    const u1 = sim.users().find((u) => u.userName === 'bulk1')!;
    expect(u1.title).toBe('T');
    expect((sim.group(groupId)!.members as { value: string }[]).map((m) => m.value)).toContain(u1.id);
  });

  it('reports each failed operation with its SCIM error and carries on', async () => {
    const r = await call(sim.baseUrl, 'POST', '/Bulk', {
      body: {
        schemas: [BULK],
        Operations: [
          { method: 'POST', path: '/Users', bulkId: 'a', data: userBody('dup') },
          { method: 'POST', path: '/Users', bulkId: 'b', data: userBody('DUP') },
          { method: 'DELETE', path: '/Users/missing' },
          { method: 'POST', path: '/Users', data: userBody('nobulkid') },
          { method: 'POST', path: '/Users', bulkId: 'c', data: userBody('ok-after-errors') },
        ],
      },
    });
    const ops = r.body.Operations as { status: string; response?: { scimType?: string; status: string } }[];
    expect(ops.map((o) => o.status)).toEqual(['201', '409', '404', '400', '201']);
    expect(ops[1]!.response).toMatchObject({ status: '409', scimType: 'uniqueness' });
  });

  it('stops after failOnErrors errors', async () => {
    const r = await call(sim.baseUrl, 'POST', '/Bulk', {
      body: {
        schemas: [BULK],
        failOnErrors: 1,
        Operations: [
          { method: 'DELETE', path: '/Users/missing' },
          { method: 'POST', path: '/Users', bulkId: 'x', data: userBody('never-created') },
        ],
      },
    });
    expect(r.body.Operations).toHaveLength(1);
    expect(sim.users().some((u) => u.userName === 'never-created')).toBe(false);
  });

  it('fails operations whose bulkId reference never resolves', async () => {
    const r = await call(sim.baseUrl, 'POST', '/Bulk', {
      body: { schemas: [BULK], Operations: [{ method: 'PATCH', path: '/Users/bulkId:nowhere', data: patch({ op: 'replace', path: 'title', value: 'x' }) }] },
    });
    expect(r.body.Operations[0].status).toBe('409');
  });

  it('answers 413 when there are more operations than maxOperations', async () => {
    const Operations = Array.from({ length: 6 }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `m${i}`, data: userBody(`many${i}`) }));
    const r = await call(sim.baseUrl, 'POST', '/Bulk', { body: { schemas: [BULK], Operations } });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '413' });
    expect(r.body.detail).toContain('maxOperations');
    expect(sim.users().some((u) => u.userName === 'many0')).toBe(false);
  });

  it('answers 413 when the payload is bigger than maxPayloadSize', async () => {
    const r = await call(sim.baseUrl, 'POST', '/Bulk', {
      body: { schemas: [BULK], Operations: [{ method: 'POST', path: '/Users', bulkId: 'big', data: userBody('big', { displayName: 'x'.repeat(2500) }) }] },
    });
    expect(r.status).toBe(413);
    expect(r.body.detail).toContain('maxPayloadSize');
  });

  it('answers 501 when bulk is not enabled', async () => {
    const plain = await startScimSimulator();
    try {
      const r = await call(plain.baseUrl, 'POST', '/Bulk', { body: { schemas: [BULK], Operations: [] } });
      expect(r.status).toBe(501);
    } finally {
      await plain.close();
    }
  });

  it('needs the BulkRequest schema', async () => {
    const r = await call(sim.baseUrl, 'POST', '/Bulk', { body: { schemas: [USER], Operations: [] } });
    expect(r.status).toBe(400);
  });
});
