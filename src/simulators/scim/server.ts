// The simulator's HTTP layer on node:http: routing under /scim/v2, auth, injected faults, content-type
// rules, JSON parsing, SCIM error bodies, the token endpoint and the request log.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuthGate } from './auth.js';
import { runBulk } from './bulk.js';
import { resourceTypes, schemas, serviceProviderConfig, type DiscoverySettings } from './discovery.js';
import { ScimError } from './errors.js';
import { isObject } from './evaluate.js';
import type { FaultDice, ScimFaults } from './faults.js';
import type { ListQuery, ScimService, ServiceResult } from './service.js';

export const SCIM_PREFIX = '/scim/v2';
export const TOKEN_PATH = '/oauth2/token';

export interface LoggedRequest {
  method: string;
  path: string;
  query: string;
  body: unknown;
  status: number;
  at: number;
}

export interface HandlerDeps {
  service: ScimService;
  auth: AuthGate;
  discovery: DiscoverySettings;
  faults: () => ScimFaults;
  dice: FaultDice;
  bulk: { enabled: boolean; maxOperations: number; maxPayloadSize: number };
  record: (entry: LoggedRequest) => void;
  count: (method: string) => void;
}

/** Requests bigger than this are refused outright (Bulk has its own, advertised, limit). */
const MAX_BODY_BYTES = 50 * 1024 * 1024;

export function createHandler(deps: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      // A bug in the simulator must still answer, and say what broke.
      if (!res.headersSent) send(res, 500, new ScimError(500, `simulator error: ${err instanceof Error ? err.message : String(err)}`).toJSON());
    });
  };
}

function readBody(req: IncomingMessage, limit: number): Promise<{ text: string; bytes: number; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let tooLarge = false;
    req.on('data', (buf: Buffer) => {
      bytes += buf.length;
      // Keep draining past the limit so the client gets the 413 instead of a broken pipe.
      if (bytes > limit) tooLarge = true;
      else chunks.push(buf);
    });
    req.once('end', () => resolve({ text: tooLarge || chunks.length === 0 ? '' : Buffer.concat(chunks).toString('utf8'), bytes, tooLarge }));
    req.once('error', reject);
  });
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}, contentType = 'application/scim+json; charset=utf-8'): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function handle(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const pathname = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const queryString = q < 0 ? '' : rawUrl.slice(q + 1);
  deps.count(method);

  const isBulk = pathname === `${SCIM_PREFIX}/Bulk`;
  const limit = isBulk && deps.bulk.enabled ? Math.min(deps.bulk.maxPayloadSize, MAX_BODY_BYTES) : MAX_BODY_BYTES;
  const declared = Number(req.headers['content-length'] ?? NaN);
  const { text, bytes, tooLarge } = await readBody(req, limit);

  let logged: unknown = text === '' ? undefined : text;
  const reply = (status: number, body?: unknown, headers?: Record<string, string>, contentType?: string): void => {
    deps.record({ method, path: pathname, query: queryString, body: logged, status, at: Date.now() });
    send(res, status, body, headers, contentType);
  };
  const fail = (err: ScimError, headers?: Record<string, string>): void => reply(err.status, err.toJSON(), headers);

  if (pathname === TOKEN_PATH) {
    if (method !== 'POST') return fail(new ScimError(405, 'use POST'));
    // The token request is logged without its body: it carries the client secret.
    logged = undefined;
    const r = deps.auth.issue(header(req, 'authorization'), header(req, 'content-type'), text);
    return reply(r.status, r.body, r.headers, 'application/json; charset=utf-8');
  }
  if (pathname !== SCIM_PREFIX && !pathname.startsWith(`${SCIM_PREFIX}/`)) return fail(new ScimError(404, `no such endpoint ${pathname}`));

  const faults = deps.faults();
  const latency = deps.dice.latency(faults);
  if (latency > 0) await sleep(latency);
  const fault = deps.dice.roll(faults);
  if (fault === 'reset') {
    deps.record({ method, path: pathname, query: queryString, body: logged, status: 0, at: Date.now() });
    req.socket.destroy();
    return;
  }
  if (fault === '429') return fail(new ScimError(429, 'Too many requests'), { 'Retry-After': String(faults.retryAfterSeconds) });
  if (fault === '500') return fail(new ScimError(500, 'Injected server error'));

  const route = pathname.slice(SCIM_PREFIX.length).split('/').filter(Boolean);
  const service = deps.service;
  if (route[0] === 'health' && route.length === 1 && service.settings.profile.healthCheck && method === 'GET') {
    return reply(200, { status: 'Healthy' }, {}, 'application/json; charset=utf-8');
  }
  if (!deps.auth.check(header(req, 'authorization'))) {
    return fail(new ScimError(401, 'Authorization failed: missing, unknown or expired credentials'), { 'WWW-Authenticate': 'Bearer realm="scim"' });
  }

  let body: unknown;
  if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
    if (isBulk && tooLarge) {
      return fail(new ScimError(413, `The size of the bulk operation (${Number.isNaN(declared) ? bytes : declared} bytes) exceeds maxPayloadSize (${deps.bulk.maxPayloadSize})`));
    }
    if (tooLarge) return fail(new ScimError(413, 'request body too large'));
    const contentType = header(req, 'content-type') ?? '';
    if (service.settings.profile.requireScimContentType && !contentType.toLowerCase().includes('application/scim+json')) {
      return fail(new ScimError(415, `Content-Type must be application/scim+json, got "${contentType}"`));
    }
    if (contentType !== '' && !contentType.toLowerCase().includes('json')) return fail(new ScimError(415, `Content-Type must be JSON, got "${contentType}"`));
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      return fail(new ScimError(400, 'request body is not valid JSON', 'invalidSyntax'));
    }
    logged = body;
  }

  try {
    const result = dispatch(deps, method, route, new URLSearchParams(queryString), body, {
      ifMatch: header(req, 'if-match'),
      ifNoneMatch: header(req, 'if-none-match'),
    });
    reply(result.status, result.body, result.headers);
  } catch (err) {
    if (err instanceof ScimError) return fail(err);
    throw err;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function listQuery(params: URLSearchParams): ListQuery {
  const q: ListQuery = {};
  for (const key of ['filter', 'startIndex', 'count', 'attributes', 'excludedAttributes', 'allDocuWareUsers'] as const) {
    // Query parameter names are matched case-insensitively, like attribute names.
    for (const [k, v] of params) if (k.toLowerCase() === key.toLowerCase()) q[key] = v;
  }
  return q;
}

function searchQuery(body: unknown): ListQuery {
  if (!isObject(body)) throw new ScimError(400, '.search body must be a JSON object', 'invalidSyntax');
  const q: ListQuery = {};
  const join = (v: unknown): string | undefined => (Array.isArray(v) ? v.join(',') : typeof v === 'string' ? v : undefined);
  if (typeof body.filter === 'string') q.filter = body.filter;
  if (body.startIndex !== undefined) q.startIndex = String(body.startIndex);
  if (body.count !== undefined) q.count = String(body.count);
  const attributes = join(body.attributes);
  if (attributes !== undefined) q.attributes = attributes;
  const excluded = join(body.excludedAttributes);
  if (excluded !== undefined) q.excludedAttributes = excluded;
  return q;
}

function dispatch(deps: HandlerDeps, method: string, route: string[], params: URLSearchParams, body: unknown, pre: { ifMatch: string | undefined; ifNoneMatch: string | undefined }): ServiceResult {
  const service = deps.service;
  const [head, rawId, extra] = route;
  const preconditions: { ifMatch?: string; ifNoneMatch?: string } = {};
  if (pre.ifMatch !== undefined) preconditions.ifMatch = pre.ifMatch;
  if (pre.ifNoneMatch !== undefined) preconditions.ifNoneMatch = pre.ifNoneMatch;
  const notAllowed = (): never => {
    throw new ScimError(405, `${method} is not supported on /${route.join('/')}`);
  };
  if (extra !== undefined) throw new ScimError(404, `no such endpoint /${route.join('/')}`);

  switch (head) {
    case 'ServiceProviderConfig':
      if (method !== 'GET' || rawId !== undefined) return notAllowed();
      return { status: 200, body: serviceProviderConfig(deps.discovery) };
    case 'ResourceTypes':
    case 'Schemas': {
      if (method !== 'GET') return notAllowed();
      const all = head === 'Schemas' ? schemas(deps.discovery) : resourceTypes(deps.discovery);
      if (rawId === undefined) return { status: 200, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: all.length, startIndex: 1, itemsPerPage: all.length, Resources: all } };
      const id = decodeURIComponent(rawId);
      const one = all.find((r) => r.id === id);
      if (!one) throw new ScimError(404, `${head}/${id} not found`);
      return { status: 200, body: one };
    }
    case 'Bulk':
      if (method !== 'POST' || rawId !== undefined) return notAllowed();
      if (!deps.bulk.enabled) throw new ScimError(501, 'Bulk is not supported by this service provider');
      return runBulk(service, body, deps.bulk.maxOperations);
    case 'Users':
    case 'Groups': {
      const kind = head === 'Users' ? 'User' : 'Group';
      if (rawId === undefined) {
        if (method === 'GET') return service.list(kind, listQuery(params));
        if (method === 'POST') return kind === 'User' ? service.createUser(body) : service.createGroup(body);
        return notAllowed();
      }
      if (rawId === '.search') {
        if (method !== 'POST') return notAllowed();
        return service.list(kind, searchQuery(body));
      }
      let id: string;
      try {
        id = decodeURIComponent(rawId);
      } catch {
        throw new ScimError(400, `resource id "${rawId}" is not valid percent-encoding`, 'invalidValue');
      }
      const q = listQuery(params);
      switch (method) {
        case 'GET':
          return kind === 'User' ? service.getUser(id, q, preconditions) : service.getGroup(id, q, preconditions);
        case 'PUT':
          return kind === 'User' ? service.replaceUser(id, body, preconditions) : service.replaceGroup(id, body, preconditions);
        case 'PATCH':
          return kind === 'User' ? service.patchUser(id, body, preconditions) : service.patchGroup(id, body, preconditions);
        case 'DELETE':
          return kind === 'User' ? service.deleteUser(id, preconditions) : service.deleteGroup(id, preconditions);
        default:
          return notAllowed();
      }
    }
    default:
      throw new ScimError(404, `no such endpoint /${route.join('/')}`);
  }
}
