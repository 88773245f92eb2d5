// The REST connector against a small JSON API (the worked example of docs/targets.md): templates in, ids and
// attributes out through JSON pointers, same error kinds and dry run as SCIM.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createConnector } from '../../src/targets/factory.js';
import type { RestTargetOptionsInput } from '../../src/targets/rest/options.js';

interface AppUser { id: number; login: string; mail?: string; firstName?: string; enabled: boolean }
const users = new Map<number, AppUser>();
const teams = new Map<number, { id: number; name: string; members: Set<number> }>();
const seen: { method: string; url: string; body: unknown; auth?: string }[] = [];
let nextId = 100;
let server: Server;
let baseUrl: string;

function send(res: import('node:http').ServerResponse, status: number, body?: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
      const url = new URL(req.url!, 'http://x');
      seen.push({ method: req.method!, url: req.url!, body, auth: req.headers.authorization });
      if (req.headers.authorization !== 'Basic ' + Buffer.from('sync:pw').toString('base64')) return send(res, 401, { message: 'who are you' });
      const parts = url.pathname.split('/').filter(Boolean); // api, v1, users|teams, id?, members?, memberId?
      const [, , kind, idText, sub, memberText] = parts;
      const id = Number(idText);
      if (kind === 'users') {
        if (req.method === 'GET' && !idText) {
          const login = url.searchParams.get('login');
          const all = [...users.values()].filter((u) => login === null || u.login.toLowerCase() === login.toLowerCase());
          const offset = Number(url.searchParams.get('offset') ?? 0);
          const limit = Number(url.searchParams.get('limit') ?? 1000);
          return send(res, 200, { data: all.slice(offset, offset + limit), total: all.length });
        }
        if (req.method === 'POST' && !idText) {
          if ([...users.values()].some((u) => u.login === body!.login)) return send(res, 409, { message: 'login exists' });
          if (typeof body!.login !== 'string') return send(res, 422, { message: 'login is required' });
          const u: AppUser = { id: nextId++, login: body!.login, mail: body!.mail as string, firstName: body!.firstName as string, enabled: body!.enabled as boolean };
          users.set(u.id, u);
          return send(res, 201, { user: u });
        }
        const u = users.get(id);
        if (!u) return send(res, 404, { message: 'no such user' });
        if (req.method === 'GET') return send(res, 200, u);
        if (req.method === 'PUT') {
          Object.assign(u, body);
          return send(res, 200, u);
        }
        if (req.method === 'POST' && sub === 'disable') return send(res, 204, (u.enabled = false, undefined));
        if (req.method === 'DELETE') return send(res, 204, (users.delete(id), undefined));
      }
      if (kind === 'teams') {
        if (req.method === 'POST' && !idText) {
          const t = { id: nextId++, name: body!.name as string, members: new Set<number>() };
          teams.set(t.id, t);
          return send(res, 201, { id: t.id, name: t.name });
        }
        const t = teams.get(id);
        if (!t) return send(res, 404, { message: 'no such team' });
        if (sub === 'members' && req.method === 'GET') return send(res, 200, { members: [...t.members].map((m) => ({ userId: m })) });
        if (sub === 'members' && req.method === 'POST') return send(res, 204, (t.members.add(Number(body!.userId)), undefined));
        if (sub === 'members' && req.method === 'DELETE') return send(res, 204, (t.members.delete(Number(memberText)), undefined));
      }
      send(res, 404, { message: 'no route' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  users.clear();
  teams.clear();
  seen.length = 0;
});

function options(): RestTargetOptionsInput {
  return {
    baseUrl,
    auth: { type: 'basic', username: 'sync', password: 'pw' },
    retry: { maxAttempts: 1 },
    operations: {
      users: {
        lookup: { userName: { method: 'GET', path: '/users?login={{value}}', itemsPointer: '/data' } },
        list: { method: 'GET', path: '/users?offset={{offset}}&limit={{limit}}', itemsPointer: '/data', pageSize: 2 },
        get: { method: 'GET', path: '/users/{{id}}' },
        create: {
          method: 'POST',
          path: '/users',
          body: { login: '{{userName}}', mail: '{{emails[type eq "work"].value}}', firstName: '{{name.givenName}}', enabled: '{{active}}' },
          objectPointer: '/user',
        },
        update: { method: 'PUT', path: '/users/{{id}}', body: { login: '{{userName}}', mail: '{{emails[type eq "work"].value}}', firstName: '{{name.givenName}}', enabled: '{{active}}' } },
        disable: { method: 'POST', path: '/users/{{id}}/disable' },
        enable: { method: 'PUT', path: '/users/{{id}}', body: { enabled: true } },
        delete: { method: 'DELETE', path: '/users/{{id}}' },
        attributes: { userName: '/login', 'emails[type eq "work"].value': '/mail', 'name.givenName': '/firstName', active: '/enabled' },
      },
      groups: {
        create: { method: 'POST', path: '/teams', body: { name: '{{displayName}}' } },
        addMember: { method: 'POST', path: '/teams/{{id}}/members', body: { userId: '{{memberId}}' } },
        removeMember: { method: 'DELETE', path: '/teams/{{id}}/members/{{memberId}}' },
        listMembers: { method: 'GET', path: '/teams/{{id}}/members', itemsPointer: '/members', idPointer: '/userId' },
        attributes: { displayName: '/name' },
      },
    },
  };
}

describe('REST connector', () => {
  it('creates, finds, updates, disables and deletes a user through the configured templates', async () => {
    const c = createConnector('app', { type: 'rest', ...options() });
    const created = await c.create('user', { userName: 'alice', 'emails[type eq "work"].value': 'a@x', 'name.givenName': 'Alice', active: true });
    expect(seen[0]!.body).toEqual({ login: 'alice', mail: 'a@x', firstName: 'Alice', enabled: true });
    expect(created).toEqual({ id: '100', attributes: { userName: 'alice', 'emails[type eq "work"].value': 'a@x', 'name.givenName': 'Alice', active: true } });

    const found = await c.find('user', { path: 'userName', value: 'Alice' });
    expect(found?.id).toBe('100');
    expect(await c.find('user', { path: 'userName', value: 'bob' })).toBeNull();

    await c.update('user', '100', [{ path: 'name.givenName', before: 'Alice', after: 'Alicia' }], { userName: 'alice', 'name.givenName': 'Alicia', active: true });
    expect(users.get(100)).toMatchObject({ firstName: 'Alicia', enabled: true });
    await c.setActive('100', false);
    expect(users.get(100)!.enabled).toBe(false);
    await c.setActive('100', true);
    expect(users.get(100)!.enabled).toBe(true);
    await c.delete('user', '100');
    await c.delete('user', '100');
    expect(await c.get('user', '100')).toBeNull();
    await c.close();
  });

  it('URL-encodes lookup values so a login cannot add query parameters', async () => {
    const c = createConnector('app', { type: 'rest', ...options() });
    await c.create('user', { userName: 'a&login=b' });
    await c.create('user', { userName: 'b' });
    expect((await c.find('user', { path: 'userName', value: 'a&login=b' }))?.attributes.userName).toBe('a&login=b');
    expect(seen.at(-1)!.url).toBe('/api/v1/users?login=a%26login%3Db');
    await c.close();
  });

  it('pages through the list with offset and limit', async () => {
    const c = createConnector('app', { type: 'rest', ...options() });
    for (const n of ['a', 'b', 'c', 'd', 'e']) await c.create('user', { userName: n });
    const names: unknown[] = [];
    for await (const u of c.list('user')) names.push(u.attributes.userName);
    expect(names).toEqual(['a', 'b', 'c', 'd', 'e']);
    await c.close();
  });

  it('manages group members one request per member', async () => {
    const c = createConnector('app', { type: 'rest', ...options() });
    const a = await c.create('user', { userName: 'a' });
    const b = await c.create('user', { userName: 'b' });
    const team = await c.create('group', { displayName: 'Ops' });
    await c.addMembers(team.id, [a.id, b.id]);
    expect((await c.listMembers(team.id)).sort()).toEqual([a.id, b.id].sort());
    await c.removeMembers(team.id, [a.id]);
    expect(await c.listMembers(team.id)).toEqual([b.id]);
    await c.close();
  });

  it('maps answers to the same error kinds as SCIM and names the missing operation', async () => {
    const c = createConnector('app', { type: 'rest', ...options() });
    await c.create('user', { userName: 'dup' });
    await expect(c.create('user', { userName: 'dup' })).rejects.toMatchObject({ kind: 'conflict', status: 409 });
    await expect(c.create('user', { active: true })).rejects.toMatchObject({ kind: 'badRequest', status: 422, message: expect.stringContaining('login is required') });
    await expect(c.update('user', '999', [{ path: 'userName', before: 'a', after: 'b' }], { userName: 'b' })).rejects.toMatchObject({ kind: 'notFound' });
    await expect(c.delete('group', '1')).rejects.toThrow(/no operations\.groups\.delete configured/);
    const wrong = createConnector('app', { type: 'rest', ...options(), auth: { type: 'basic', username: 'sync', password: 'nope' } });
    await expect(wrong.get('user', '1')).rejects.toMatchObject({ kind: 'unauthorized' });
    await wrong.close();
    await c.close();
  });

  it('refuses every write in dry-run mode', async () => {
    const c = createConnector('app', { type: 'rest', ...options() }, { dryRun: true });
    await expect(c.create('user', { userName: 'x' })).rejects.toMatchObject({ kind: 'dryRun' });
    expect(seen).toEqual([]);
    await c.close();
  });
});
