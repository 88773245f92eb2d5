// The daemon's HTTP server and its routes, in-process against a fake DaemonApi over real HTTP (loopback):
// status codes, JSON bodies and errors, the bearer token (and its rotation), body limits, shutdown.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DaemonApi, DaemonStatus, Readiness } from '../../src/daemon/api.js';
import { MAX_BODY_BYTES, adminTokenSource, startHttpServer, type HttpServer } from '../../src/daemon/server.js';
import { EntraSyncError } from '../../src/errors.js';
import { createLogger } from '../../src/observability/logger.js';

const TOKEN = 'correct-horse-battery-staple-0123456789';

interface Call { method: string; request: unknown }

function fakeApi(overrides: Partial<DaemonApi> = {}): DaemonApi & { calls: Call[]; ready: Readiness } {
  const calls: Call[] = [];
  const record = (method: string) => (request: unknown) => { calls.push({ method, request }); return Promise.resolve({ ok: method } as never); };
  const api: DaemonApi & { calls: Call[]; ready: Readiness } = {
    calls,
    ready: { ready: false, reasons: [{ target: 'docuware', code: 'NO_SUCCESS_YET', message: 'no successful cycle yet' }] } as Readiness,
    sync: record('sync'),
    resync: record('resync'),
    provision: record('provision'),
    approve: record('approve'),
    reject: record('reject'),
    resume: record('resume'),
    status: () => ({ state: 'x.db', targets: [], daemon: { pid: 1 } }) as unknown as DaemonStatus,
    readiness: (): Readiness => api.ready,
    metrics: () => Promise.resolve({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'entra_sync_up 1\n' }),
    ...overrides,
  };
  return api;
}

function logSink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return { stream: new Writable({ write(chunk: Buffer, _enc, cb) { chunks.push(chunk.toString('utf8')); cb(); } }), text: () => chunks.join('') };
}

let server: HttpServer | undefined;
let log: ReturnType<typeof logSink>;

beforeEach(() => { log = logSink(); });
afterEach(async () => { await server?.close(); server = undefined; });

async function start(api: DaemonApi, options: { token?: () => string | undefined; shuttingDown?: () => boolean } = {}): Promise<string> {
  server = await startHttpServer({
    api, host: '127.0.0.1', port: 0,
    adminToken: options.token ?? (() => TOKEN),
    logger: createLogger({ level: 'debug', destination: log.stream }),
    ...(options.shuttingDown ? { shuttingDown: options.shuttingDown } : {}),
  });
  return server.url;
}

const auth = (token = TOKEN) => ({ authorization: `Bearer ${token}` });
const postJson = (url: string, body: unknown, headers: Record<string, string> = auth()) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('health and readiness', () => {
  it('answers /healthz 200 and /readyz 503 with the reasons, then 200 once ready', async () => {
    const api = fakeApi();
    const url = await start(api);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const notReady = await fetch(`${url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(notReady.headers.get('content-type')).toMatch(/application\/json/);
    expect(await notReady.json()).toEqual({ ready: false, reasons: [{ target: 'docuware', code: 'NO_SUCCESS_YET', message: 'no successful cycle yet' }] });

    api.ready = { ready: true, reasons: [] };
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, reasons: [] });
  });

  it('serves /metrics with the registry\'s content type, without a token', async () => {
    const url = await start(fakeApi(), { token: () => undefined });
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await res.text()).toBe('entra_sync_up 1\n');
  });

  it('answers HEAD on GET routes, 404 on unknown paths and 405 with Allow on a wrong method', async () => {
    const url = await start(fakeApi());
    expect((await fetch(`${url}/healthz`, { method: 'HEAD' })).status).toBe(200);
    const missing = await fetch(`${url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no such endpoint: /nope' } });
    const wrong = await fetch(`${url}/healthz`, { method: 'POST' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
    const getSync = await fetch(`${url}/admin/sync`, { headers: auth() });
    expect(getSync.status).toBe(405);
    expect(getSync.headers.get('allow')).toBe('POST');
  });
});

describe('admin token', () => {
  it('answers 401 without a token or with a wrong one (also of another length), and never echoes it', async () => {
    const api = fakeApi();
    const url = await start(api);
    const none = await postJson(`${url}/admin/sync`, {}, {});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await none.json() as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    for (const wrong of ['nope', TOKEN.slice(0, -1) + 'X', TOKEN + 'X', '']) {
      const res = await postJson(`${url}/admin/sync`, {}, auth(wrong));
      expect(res.status).toBe(401);
      expect(await res.text()).not.toContain(wrong || TOKEN);
    }
    expect((await postJson(`${url}/admin/sync`, {}, { authorization: `Basic ${Buffer.from(`a:${TOKEN}`).toString('base64')}` })).status).toBe(401);
    // Unknown admin paths are not told apart from known ones without the token.
    expect((await fetch(`${url}/admin/nope`)).status).toBe(401);
    expect(api.calls).toEqual([]);
    const ok = await postJson(`${url}/admin/sync`, { target: 'docuware', full: true });
    expect(ok.status).toBe(200);
    expect(api.calls).toEqual([{ method: 'sync', request: { target: 'docuware', full: true } }]);
    expect(log.text()).not.toContain(TOKEN);
  });

  it('answers 403 on every admin route when no token is configured', async () => {
    const url = await start(fakeApi(), { token: () => undefined });
    const res = await postJson(`${url}/admin/sync`, {});
    expect(res.status).toBe(403);
    const body = await res.json() as { error: { code: string; message: string } };
    expect(body.error.code).toBe('ADMIN_DISABLED');
    expect(body.error.message).toContain('http.adminTokenFile');
    expect((await fetch(`${url}/admin/status`)).status).toBe(403);
  });

  it('re-reads http.adminTokenFile when it changes: a rotated token works without a restart, the old one stops', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-sync-token-'));
    const file = path.join(dir, 'admin-token');
    fs.writeFileSync(file, 'first-token\n');
    try {
      const url = await start(fakeApi(), { token: adminTokenSource({ adminTokenFile: file }) });
      expect((await fetch(`${url}/admin/status`, { headers: auth('first-token') })).status).toBe(200);
      fs.writeFileSync(file, 'second-token-longer\n');
      expect((await fetch(`${url}/admin/status`, { headers: auth('first-token') })).status).toBe(401);
      expect((await fetch(`${url}/admin/status`, { headers: auth('second-token-longer') })).status).toBe(200);

      fs.rmSync(file);
      const gone = await fetch(`${url}/admin/status`, { headers: auth('second-token-longer') });
      expect(gone.status).toBe(503);
      const text = await gone.text();
      expect(text).toContain('ADMIN_TOKEN_UNREADABLE');
      expect(text).not.toContain(dir);
      // The log names the file, for the operator.
      expect(log.text()).toContain(file);
      expect(log.text()).not.toContain('second-token-longer');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('adminTokenSource: adminToken as given, nothing when neither is set, an empty file is an error naming it', () => {
    expect(adminTokenSource({ adminToken: 'abc' })()).toBe('abc');
    expect(adminTokenSource(undefined)()).toBeUndefined();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-sync-token-'));
    try {
      fs.writeFileSync(path.join(dir, 't'), '  \n');
      expect(() => adminTokenSource({ adminTokenFile: path.join(dir, 't') })()).toThrow(/admin token file .*t is empty/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('admin routes', () => {
  it('passes each action its validated body and answers what the daemon returned', async () => {
    const api = fakeApi();
    const url = await start(api);
    const bodies: [string, unknown][] = [
      ['sync', {}],
      ['resync', { target: 'docuware' }],
      ['provision', { user: 'alice@contoso.com' }],
      ['provision', { group: 'Sales', members: ['a', 'b'], target: 'docuware' }],
      ['approve', { target: 'docuware' }],
      ['reject', {}],
      ['resume', { target: 'docuware' }],
    ];
    for (const [action, body] of bodies) {
      const res = await postJson(`${url}/admin/${action}`, body);
      expect(res.status, action).toBe(200);
      expect(await res.json()).toEqual({ ok: action });
    }
    expect(api.calls).toEqual(bodies.map(([method, request]) => ({ method, request })));
    // An empty body is {}.
    expect((await fetch(`${url}/admin/sync`, { method: 'POST', headers: auth() })).status).toBe(200);
    const status = await fetch(`${url}/admin/status`, { headers: auth() });
    expect(await status.json()).toEqual({ state: 'x.db', targets: [], daemon: { pid: 1 } });
  });

  it('answers 400 naming the field: bad JSON, an unknown field, a wrong type, user and group together, too many members', async () => {
    const api = fakeApi();
    const url = await start(api);
    const cases: [string, unknown, RegExp][] = [
      ['sync', '{"full": tru', /BAD_JSON/],
      ['sync', { fulll: true }, /unknown field \\"fulll\\"/],
      ['sync', { full: 'yes' }, /field \\"full\\": .*expected boolean/],
      ['sync', [], /expected object/],
      ['provision', { user: 'a', group: 'b' }, /exactly one of \\"user\\".*or \\"group\\"/],
      ['provision', {}, /exactly one of/],
      ['provision', { user: 'a', members: ['b'] }, /\\"members\\" goes with \\"group\\"/],
      ['provision', { group: 'g', members: ['1', '2', '3', '4', '5', '6'] }, /field \\"members\\"/],
      ['approve', { target: '' }, /field \\"target\\"/],
    ];
    for (const [action, body, message] of cases) {
      const res = await postJson(`${url}/admin/${action}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await res.text()).toMatch(message);
    }
    expect(api.calls).toEqual([]);
  });

  it('answers 415 for a body that is not JSON and 413 for a body over the cap', async () => {
    const api = fakeApi();
    const url = await start(api);
    const form = await fetch(`${url}/admin/sync`, { method: 'POST', headers: { ...auth(), 'content-type': 'text/plain' }, body: 'full=true' });
    expect(form.status).toBe(415);
    expect((await form.json() as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');

    const big = JSON.stringify({ user: 'x'.repeat(MAX_BODY_BYTES) });
    const tooLarge = await postJson(`${url}/admin/provision`, big);
    expect(tooLarge.status).toBe(413);
    expect((await tooLarge.json() as { error: { code: string } }).error.code).toBe('BODY_TOO_LARGE');
    // Far over the cap: refused from Content-Length alone, still with an answer.
    const huge = await postJson(`${url}/admin/provision`, JSON.stringify({ user: 'x'.repeat(4 * 1024 * 1024) })).catch((err: unknown) => err);
    if (huge instanceof Response) expect(huge.status).toBe(413);
    expect(api.calls).toEqual([]);
    // The server still answers afterwards.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('maps the daemon\'s errors to statuses with their code: unknown target 404, dry run 409, a bug 500 without its message', async () => {
    const url = await start(fakeApi({
      sync: () => Promise.reject(new EntraSyncError('TARGET_UNKNOWN', 'no target named "x" in the configuration (targets: docuware)')),
      approve: () => Promise.reject(new EntraSyncError('DRY_RUN', 'cannot approve staged operations for target "docuware" in dry-run mode')),
      provision: () => Promise.reject(new EntraSyncError('SOURCE_USER_NOT_FOUND', 'no user nobody@contoso.com in Entra')),
      reject: () => Promise.reject(new TypeError('cannot read properties of undefined (secret internals)')),
    }));
    const unknown = await postJson(`${url}/admin/sync`, { target: 'x' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: { code: 'TARGET_UNKNOWN', message: 'no target named "x" in the configuration (targets: docuware)' } });
    expect((await postJson(`${url}/admin/approve`, {})).status).toBe(409);
    expect((await postJson(`${url}/admin/provision`, { user: 'nobody@contoso.com' })).status).toBe(404);
    const bug = await postJson(`${url}/admin/reject`, {});
    expect(bug.status).toBe(500);
    const text = await bug.text();
    expect(text).toContain('INTERNAL');
    expect(text).not.toContain('secret internals');
    expect(log.text()).toContain('secret internals');
  });

  it('refuses new work with 503 while the daemon shuts down; status and probes still answer', async () => {
    let shuttingDown = false;
    const api = fakeApi();
    const url = await start(api, { shuttingDown: () => shuttingDown });
    shuttingDown = true;
    const res = await postJson(`${url}/admin/sync`, {});
    expect(res.status).toBe(503);
    expect((await res.json() as { error: { code: string } }).error.code).toBe('SHUTTING_DOWN');
    expect((await fetch(`${url}/admin/status`, { headers: auth() })).status).toBe(200);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(api.calls).toEqual([]);
  });
});

describe('logs and shutdown', () => {
  it('logs each request at debug with method, path and status, never a header or the query', async () => {
    const url = await start(fakeApi());
    await fetch(`${url}/admin/status?token=${TOKEN}`, { headers: auth() });
    const lines = log.text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const request = lines.find((l) => l.msg === 'http request');
    expect(request).toMatchObject({ level: 20, method: 'GET', path: '/admin/status', status: 200 });
    expect(log.text()).not.toContain(TOKEN);
  });

  it('close() lets an answer in flight finish, then stops listening', async () => {
    let release!: () => void;
    let entered!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const inside = new Promise<void>((resolve) => { entered = resolve; });
    const url = await start(fakeApi({ sync: async () => { entered(); await gate; return { read: {}, targets: [] } as never; } }));
    const pending = postJson(`${url}/admin/sync`, {});
    await inside;
    const closing = server!.close({ graceMs: 10_000 });
    release();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ read: {}, targets: [] });
    await closing;
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    server = undefined;
  });
});
