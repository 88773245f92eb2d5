// The loopback admin HTTP API: JSON over POST mirroring SimulatedTenant's methods and the fault settings, so a
// demo or a benchmark in another process can change the tenant and inject faults. Documented in docs/simulators.md.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { SimulatedTenantError, type Tenant } from './tenant.js';
import type { FaultOptions } from './types.js';

export interface AdminTarget {
  tenant: Tenant;
  faults: FaultOptions;
  counters: { total: number; byRoute: Record<string, number>; tokens: number; throttled: number; reset(): void };
  expireAccessTokens(): void;
  recentRequests(): unknown[];
  info(): Record<string, unknown>;
}

type Args = Record<string, unknown>;

function str(args: Args, name: string): string {
  const value = args[name];
  if (typeof value !== 'string' || value === '') throw new SimulatedTenantError('badRequest', `"${name}" must be a non-empty string`);
  return value;
}

function obj(args: Args, name: string): Record<string, unknown> {
  const value = args[name];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SimulatedTenantError('badRequest', `"${name}" must be an object`);
  return value as Record<string, unknown>;
}

/** POST /tenant/{method}: the body's named arguments for each SimulatedTenant method. */
const TENANT_METHODS: Record<string, (t: Tenant, a: Args) => unknown> = {
  createUser: (t, a) => t.createUser(a as Parameters<Tenant['createUser']>[0]),
  updateUser: (t, a) => t.updateUser(str(a, 'id'), obj(a, 'patch') as Parameters<Tenant['updateUser']>[1]),
  disableUser: (t, a) => t.disableUser(str(a, 'id')),
  softDeleteUser: (t, a) => t.softDeleteUser(str(a, 'id')),
  restoreUser: (t, a) => t.restoreUser(str(a, 'id')),
  hardDeleteUser: (t, a) => t.hardDeleteUser(str(a, 'id')),
  createGroup: (t, a) => t.createGroup({ ...(a as { displayName: string; description?: string; mailNickname?: string }) }),
  renameGroup: (t, a) => t.renameGroup(str(a, 'id'), str(a, 'displayName')),
  deleteGroup: (t, a) => t.deleteGroup(str(a, 'id')),
  addMember: (t, a) => t.addMember(str(a, 'groupId'), str(a, 'memberId')),
  removeMember: (t, a) => t.removeMember(str(a, 'groupId'), str(a, 'memberId')),
  assign: (t, a) => t.assign(str(a, 'principalId'), a.appRoleId === undefined ? undefined : str(a, 'appRoleId')),
  unassign: (t, a) => t.unassign(str(a, 'principalId')),
  expireDeltaTokens: (t) => t.expireDeltaTokens(),
  user: (t, a) => t.user(str(a, 'id')) ?? null,
  users: (t) => t.users(),
  groups: (t) => t.groups(),
  members: (t, a) => t.members(str(a, 'groupId')),
  assignments: (t) => t.assignments(),
};

const FAULT_KEYS: readonly (keyof FaultOptions)[] = ['rate429', 'retryAfterSeconds', 'rate503', 'rate504', 'latencyMs', 'resetRate', 'rate401', 'rate410', 'emptyPageRate'];

/** Merge a partial fault setting after checking every value; rates must be within [0, 1]. */
export function applyFaults(faults: FaultOptions, patch: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(patch)) {
    if (!FAULT_KEYS.includes(key as keyof FaultOptions)) throw new SimulatedTenantError('badRequest', `Unknown fault setting "${key}"`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new SimulatedTenantError('badRequest', `Fault setting "${key}" must be a number >= 0`);
    }
    if (key.startsWith('rate') || key.endsWith('Rate')) {
      if (value > 1) throw new SimulatedTenantError('badRequest', `Fault setting "${key}" is a probability and must be <= 1`);
    }
  }
  Object.assign(faults, patch);
}

async function readJson(req: IncomingMessage): Promise<Args> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 1_000_000) throw new SimulatedTenantError('badRequest', 'Request body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SimulatedTenantError('badRequest', 'Request body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SimulatedTenantError('badRequest', 'Request body must be a JSON object');
  return parsed as Args;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const STATUS: Record<SimulatedTenantError['code'], number> = { badRequest: 400, notFound: 404, conflict: 409 };

export function createAdminServer(target: AdminTarget): Server {
  return createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://admin').pathname;
      const method = req.method ?? 'GET';
      try {
        const body = method === 'POST' ? await readJson(req) : {};
        if (path === '/health' && method === 'GET') return send(res, 200, { ok: true });
        if (path === '/info' && method === 'GET') return send(res, 200, target.info());
        if (path === '/faults' && method === 'GET') return send(res, 200, target.faults);
        if (path === '/faults' && method === 'POST') {
          applyFaults(target.faults, body);
          return send(res, 200, target.faults);
        }
        if (path === '/counters' && method === 'GET') return send(res, 200, target.counters);
        if (path === '/counters/reset' && method === 'POST') {
          target.counters.reset();
          return send(res, 200, target.counters);
        }
        if (path === '/requests' && method === 'GET') return send(res, 200, target.recentRequests());
        if (path === '/access-tokens/expire' && method === 'POST') {
          target.expireAccessTokens();
          return send(res, 200, { result: null });
        }
        const match = /^\/tenant\/(\w+)$/.exec(path);
        const handler = match ? TENANT_METHODS[match[1]!] : undefined;
        if (handler && (method === 'POST' || (method === 'GET' && ['users', 'groups', 'assignments'].includes(match![1]!)))) {
          return send(res, 200, { result: handler(target.tenant, body) ?? null });
        }
        return send(res, 404, { error: { code: 'notFound', message: `No admin route ${method} ${path}` } });
      } catch (err) {
        if (err instanceof SimulatedTenantError) return send(res, STATUS[err.code], { error: { code: err.code, message: err.message } });
        return send(res, 500, { error: { code: 'internal', message: err instanceof Error ? err.message : String(err) } });
      }
    })();
  });
}
