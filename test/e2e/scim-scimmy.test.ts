// The SCIM connector against SCIMMY (scimmy + scimmy-routers on express 4): a SCIM server nobody here wrote,
// so the client is not tuned to our own simulator. The in-memory store below is the smallest SCIMMY setup
// that keeps what the connector writes.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TargetError } from '../../src/targets/connector.js';
import { ScimConnector } from '../../src/targets/scim/connector.js';
import { scimTargetOptionsSchema, type ScimTargetOptionsInput } from '../../src/targets/scim/options.js';

const D360 = 'urn:ietf:params:scim:schemas:extension:document360:2.0:User';
type Json = Record<string, unknown>;

interface Logged {
  method: string;
  path: string;
  body: unknown;
}

const users = new Map<string, Json>();
const groups = new Map<string, Json>();
const log: Logged[] = [];
let nextId = 1;
let server: Server;
let baseUrl: string;

/** The handler shapes this store uses (SCIMMY's own generics are stricter than an untyped store needs). */
interface StoreHandlers {
  ingress(h: (res: { id?: string }, instance: Json) => Json): StoreHandlers;
  egress(h: (res: { id?: string; filter?: { match: (v: Json[]) => Json[] } }) => Json | Json[]): StoreHandlers;
  degress(h: (res: { id?: string }) => void): StoreHandlers;
}

function declareStore(kind: 'user' | 'group'): void {
  const store = kind === 'user' ? users : groups;
  const unique = kind === 'user' ? 'userName' : 'displayName';
  const resource = (kind === 'user' ? SCIMMY.Resources.User : SCIMMY.Resources.Group) as typeof SCIMMY.Resources.User;
  (SCIMMY.Resources.declare(resource) as unknown as StoreHandlers)
    .ingress((res: { id?: string }, instance: Json) => {
      const value = String(instance[unique]).toLowerCase();
      for (const [id, existing] of store) {
        if (id !== res.id && String(existing[unique]).toLowerCase() === value) {
          throw new SCIMMY.Types.Error(409, 'uniqueness', `${unique} already taken`);
        }
      }
      if (res.id && !store.has(res.id)) throw new SCIMMY.Types.Error(404, null!, `no ${kind} ${res.id}`);
      const id = res.id ?? `${kind}-${nextId++}`;
      const now = new Date().toISOString();
      const stored = { ...(JSON.parse(JSON.stringify(instance)) as Json), id, meta: { created: now, lastModified: now } };
      store.set(id, stored);
      return stored;
    })
    .egress((res: { id?: string; filter?: { match: (v: Json[]) => Json[] } }) => {
      if (res.id) {
        const found = store.get(res.id);
        if (!found) throw new SCIMMY.Types.Error(404, null!, `no ${kind} ${res.id}`);
        return found;
      }
      const all = [...store.values()];
      return res.filter ? res.filter.match(all) : all;
    })
    .degress((res: { id?: string }) => {
      if (!res.id || !store.delete(res.id)) throw new SCIMMY.Types.Error(404, null!, `no ${kind} ${res.id}`);
    });
}

beforeAll(async () => {
  SCIMMY.Config.set('patch', true);
  SCIMMY.Config.set('filter', { supported: true, maxResults: 200 });
  SCIMMY.Config.set('bulk', { supported: true, maxOperations: 100, maxPayloadSize: 1_048_576 });
  const extension = new SCIMMY.Types.SchemaDefinition('Document360User', D360, 'Document360 user extension', [
    new SCIMMY.Types.Attribute('boolean', 'isTeamAccount'),
  ]);
  SCIMMY.Resources.User.extend(extension as unknown as typeof SCIMMY.Types.Schema, false);
  declareStore('user');
  declareStore('group');
  const app = express();
  app.use(express.json({ type: ['application/json', 'application/scim+json'], limit: '5mb' }));
  app.use((req, _res, next) => {
    log.push({ method: req.method, path: req.originalUrl, body: req.body as unknown });
    next();
  });
  app.use(
    '/scim/v2',
    new SCIMMYRouters({
      type: 'bearer',
      docUri: 'https://example.invalid/auth',
      handler: (req: express.Request) => {
        if (req.header('authorization') !== 'Bearer scimmy-token') throw new Error('bad token');
        return 'entra-sync';
      },
    }),
  );
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/scim/v2`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  users.clear();
  groups.clear();
  log.length = 0;
});

function connector(extra: Partial<ScimTargetOptionsInput> = {}, dryRun = false): ScimConnector {
  const options = scimTargetOptionsSchema.parse({
    baseUrl,
    auth: { type: 'bearer', token: 'scimmy-token' },
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
    ...extra,
  });
  return new ScimConnector('scimmy', options, { dryRun });
}

const alice = {
  userName: 'alice@contoso.com',
  active: true,
  externalId: 'a-1',
  'name.givenName': 'Alice',
  'name.familyName': 'Doe',
  'emails[type eq "work"].value': 'alice@contoso.com',
  [`${D360}:isTeamAccount`]: true,
};

describe('SCIM connector against SCIMMY', () => {
  it('tests the connection and discovers bulk and PATCH support', async () => {
    const c = connector();
    const report = await c.testConnection();
    expect(report.ok, report.details.join('\n')).toBe(true);
    const caps = await c.capabilities();
    expect(caps).toMatchObject({ patch: true, bulk: { supported: true, maxOperations: 100 }, etag: false });
    await c.close();
  });

  it('creates a user with nested, typed multi-valued and extension attributes and reads them back by path', async () => {
    const c = connector();
    const created = await c.create('user', alice);
    const stored = users.get(created.id)!;
    expect(stored).toMatchObject({
      userName: 'alice@contoso.com',
      name: { givenName: 'Alice', familyName: 'Doe' },
      emails: [{ type: 'work', value: 'alice@contoso.com' }],
      [D360]: { isTeamAccount: true },
    });
    const post = log.find((l) => l.method === 'POST')!;
    expect((post.body as Json).schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:User', D360]);
    const read = await c.get('user', created.id);
    expect(read?.attributes).toMatchObject(alice);
    await c.close();
  });

  it('answers a duplicate create with a conflict, and find adopts the existing user', async () => {
    const c = connector();
    const first = await c.create('user', alice);
    const err = await c.create('user', { ...alice, userName: 'ALICE@contoso.com' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    expect(err).toMatchObject({ kind: 'conflict', status: 409, scimType: 'uniqueness' });
    const found = await c.find('user', { path: 'userName', value: 'alice@contoso.com' });
    expect(found?.id).toBe(first.id);
    await c.close();
  });

  it('patches only the changed fields: work email, given name, extension flag', async () => {
    const c = connector();
    const { id } = await c.create('user', alice);
    log.length = 0;
    await c.update(
      'user',
      id,
      [
        { path: 'emails[type eq "work"].value', before: 'alice@contoso.com', after: 'alice.doe@contoso.com' },
        { path: 'name.givenName', before: 'Alice', after: 'Alicia' },
        { path: `${D360}:isTeamAccount`, before: true, after: false },
      ],
      {},
    );
    expect(log.filter((l) => l.method !== 'GET').map((l) => l.method)).toEqual(['PATCH']);
    expect(users.get(id)).toMatchObject({
      name: { givenName: 'Alicia', familyName: 'Doe' },
      emails: [{ type: 'work', value: 'alice.doe@contoso.com' }],
      [D360]: { isTeamAccount: false },
    });
    await c.close();
  });

  it('disables and re-enables a user with a boolean active', async () => {
    const c = connector();
    const { id } = await c.create('user', alice);
    await c.setActive(id, false);
    expect(users.get(id)!.active).toBe(false);
    await c.setActive(id, true);
    expect(users.get(id)!.active).toBe(true);
    await c.close();
  });

  it('never widens a lookup: a userName with a quote and " or " finds only its own user', async () => {
    const c = connector();
    await c.create('user', { userName: 'bob' });
    await c.create('user', { userName: 'x" or userName pr or userName eq "y' });
    const tricky = await c.create('user', { userName: 'a"b' });
    // SCIMMY cannot parse an escaped quote and says invalidFilter; the connector then compares itself.
    const found = await c.find('user', { path: 'userName', value: 'a"b' });
    expect(found?.id).toBe(tricky.id);
    const none = await c.find('user', { path: 'userName', value: 'nobody" or "1" eq "1' });
    expect(none).toBeNull();
    const filterRequest = log.find((l) => l.method === 'GET' && l.path.includes('filter='))!;
    expect(decodeURIComponent(filterRequest.path)).toContain('userName eq "a\\"b"');
    await c.close();
  });

  it('reports a 404 on update as notFound, and a delete of a missing user as done', async () => {
    const c = connector();
    const err = await c.update('user', 'user-missing', [{ path: 'name.givenName', before: 'a', after: 'b' }], {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'notFound', status: 404 });
    const { id } = await c.create('user', alice);
    await c.delete('user', id);
    expect(users.has(id)).toBe(false);
    await expect(c.delete('user', id)).resolves.toBeUndefined();
    expect(await c.get('user', id)).toBeNull();
    await c.close();
  });

  it('adds members in chunks and removes them one filtered op each, never all', async () => {
    const c = connector({ membershipChunkSize: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await c.create('user', { userName: `member${i}` })).id);
    const group = await c.create('group', { displayName: 'Finance & Controlling', externalId: 'g-1' });
    log.length = 0;
    await c.addMembers(group.id, ids);
    expect(log.filter((l) => l.method === 'PATCH')).toHaveLength(3);
    expect(await c.listMembers(group.id)).toEqual(ids);
    log.length = 0;
    await c.removeMembers(group.id, [ids[1]!, ids[3]!]);
    const patch = log.find((l) => l.method === 'PATCH')!.body as { Operations: { op: string; path: string; value?: unknown }[] };
    expect(patch.Operations).toEqual([
      { op: 'remove', path: `members[value eq "${ids[1]}"]` },
      { op: 'remove', path: `members[value eq "${ids[3]}"]` },
    ]);
    expect((await c.listMembers(group.id)).sort()).toEqual([ids[0], ids[2], ids[4]].sort());
    const found = await c.find('group', { path: 'displayName', value: 'Finance & Controlling' });
    expect(found?.id).toBe(group.id);
    expect(log.some((l) => l.path.includes('excludedAttributes=members'))).toBe(true);
    await c.close();
  });

  it('creates through /Bulk within maxOperations, with a result per operation and a conflict only for the duplicate', async () => {
    const c = connector({ discovery: { maxOperations: 4 } });
    await c.create('user', { userName: 'taken' });
    log.length = 0;
    const ops = Array.from({ length: 9 }, (_, i) => ({ op: 'create' as const, type: 'user' as const, ref: `r${i}`, attributes: { userName: `bulk${i}`, active: true } }));
    ops.push({ op: 'create', type: 'user', ref: 'dup', attributes: { userName: 'taken', active: true } });
    const results = await c.bulk(ops);
    expect(log.filter((l) => l.path.endsWith('/Bulk'))).toHaveLength(3);
    expect(log.filter((l) => l.method === 'POST' && l.path.endsWith('/Users'))).toHaveLength(0);
    const byRef = new Map(results.map((r) => [r.ref, r]));
    expect(results).toHaveLength(10);
    for (let i = 0; i < 9; i++) {
      const r = byRef.get(`r${i}`)!;
      expect(r.ok).toBe(true);
      if (r.ok) expect(users.get(r.object!.id)!.userName).toBe(`bulk${i}`);
    }
    const dup = byRef.get('dup')!;
    expect(dup.ok).toBe(false);
    if (!dup.ok) expect(dup.error.kind).toBe('conflict');
    await c.close();
  });

  it('pages through every user for initial matching', async () => {
    const c = connector({ pageSize: 2 });
    for (let i = 0; i < 5; i++) await c.create('user', { userName: `page${i}` });
    const seen: string[] = [];
    for await (const u of c.list('user')) seen.push(String(u.attributes.userName));
    expect(seen.sort()).toEqual(['page0', 'page1', 'page2', 'page3', 'page4']);
    expect(log.filter((l) => l.method === 'GET' && l.path.includes('startIndex'))).toHaveLength(3);
    await c.close();
  });

  it('in dry-run mode no mutating request reaches the server', async () => {
    const c = connector({}, true);
    const err = await c.create('user', alice).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'dryRun' });
    const results = await c.bulk([{ op: 'create', type: 'user', ref: 'x', attributes: { userName: 'x' } }]);
    expect(results[0]).toMatchObject({ ok: false, error: { kind: 'dryRun' } });
    expect(log.filter((l) => l.method !== 'GET')).toEqual([]);
    expect(users.size).toBe(0);
    expect(c.stats.dryRunRefused).toBe(2);
    await c.close();
  });

  it('turns a wrong token into unauthorized', async () => {
    const c = connector({ auth: { type: 'bearer', token: 'wrong' } });
    const err = await c.get('user', 'x').catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unauthorized', status: 401 });
    await c.close();
  });
});
