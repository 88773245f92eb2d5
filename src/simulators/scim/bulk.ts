// POST /Bulk (RFC 7644 §3.7): operations run in order through the same service as single requests,
// `bulkId:` references are resolved (operations waiting on a later POST are retried once it ran),
// failOnErrors stops the batch, and each operation gets its own status.

import { ScimError } from './errors.js';
import { isObject } from './evaluate.js';
import { URN } from './schema.js';
import type { ScimService, ServiceResult } from './service.js';

interface BulkOp {
  index: number;
  method: string;
  path: string;
  bulkId?: string;
  version?: string;
  data: unknown;
}

const BULK_REF = /^bulkId:(.+)$/;

export function runBulk(service: ScimService, body: unknown, maxOperations: number): ServiceResult {
  if (!isObject(body)) throw new ScimError(400, 'Bulk body must be a JSON object', 'invalidSyntax');
  const schemas = body.schemas;
  if (!Array.isArray(schemas) || !schemas.includes(URN.bulkRequest)) throw new ScimError(400, `Bulk body must list "${URN.bulkRequest}" in schemas`, 'invalidSyntax');
  const operations = body.Operations;
  if (!Array.isArray(operations)) throw new ScimError(400, 'Bulk body needs an "Operations" array', 'invalidSyntax');
  if (operations.length > maxOperations) throw new ScimError(413, `The number of operations (${operations.length}) exceeds maxOperations (${maxOperations})`);
  const failOnErrors = typeof body.failOnErrors === 'number' && body.failOnErrors > 0 ? body.failOnErrors : undefined;

  const ops: BulkOp[] = operations.map((raw, index) => {
    if (!isObject(raw) || typeof raw.method !== 'string' || typeof raw.path !== 'string') throw new ScimError(400, `Operations[${index}] needs "method" and "path"`, 'invalidSyntax');
    const op: BulkOp = { index, method: raw.method.toUpperCase(), path: raw.path, data: raw.data };
    if (typeof raw.bulkId === 'string') op.bulkId = raw.bulkId;
    if (typeof raw.version === 'string') op.version = raw.version;
    return op;
  });

  const createdIds = new Map<string, string>();
  const results: (Record<string, unknown> | undefined)[] = new Array(ops.length);
  let errors = 0;
  let pending = ops;
  while (pending.length > 0) {
    const waiting: BulkOp[] = [];
    for (const op of pending) {
      if (failOnErrors !== undefined && errors >= failOnErrors) break;
      const unresolved = new Set<string>();
      const path = resolveRefs(op.path, createdIds, unresolved) as string;
      const data = resolveRefs(op.data, createdIds, unresolved);
      if (unresolved.size > 0) {
        waiting.push(op);
        continue;
      }
      const result = runOne(service, op, path, data);
      if (result.status >= 400) errors++;
      const entry: Record<string, unknown> = { method: op.method, status: String(result.status) };
      if (op.bulkId !== undefined) entry.bulkId = op.bulkId;
      const location = result.headers?.Location;
      if (location) entry.location = location;
      if (result.headers?.ETag) entry.version = result.headers.ETag;
      if (result.status >= 400) entry.response = result.body;
      if (op.method === 'POST' && result.status < 300 && op.bulkId !== undefined && isObject(result.body)) createdIds.set(op.bulkId, String(result.body.id));
      results[op.index] = entry;
    }
    if (failOnErrors !== undefined && errors >= failOnErrors) break;
    if (waiting.length === pending.length) {
      // Nothing ran in this pass: references to bulkIds that never succeed (or that form a cycle).
      for (const op of waiting) {
        errors++;
        const err = new ScimError(409, `operation references a bulkId that was not created in this request`, 'invalidValue');
        results[op.index] = { method: op.method, ...(op.bulkId !== undefined ? { bulkId: op.bulkId } : {}), status: '409', response: err.toJSON() };
      }
      break;
    }
    pending = waiting;
  }
  return { status: 200, body: { schemas: [URN.bulkResponse], Operations: results.filter((r) => r !== undefined) } };
}

function runOne(service: ScimService, op: BulkOp, path: string, data: unknown): ServiceResult {
  try {
    const match = /^\/(Users|Groups)(?:\/([^/?]+))?$/.exec(path);
    if (!match) throw new ScimError(400, `unsupported path "${path}"`, 'invalidPath');
    const kind = match[1] === 'Users' ? 'User' : 'Group';
    const id = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
    const pre = op.version === undefined ? {} : { ifMatch: op.version };
    if (op.method === 'POST' && id === undefined) {
      if (op.bulkId === undefined) throw new ScimError(400, 'POST operations need a bulkId', 'invalidValue');
      return kind === 'User' ? service.createUser(data) : service.createGroup(data);
    }
    if (id === undefined) throw new ScimError(400, `${op.method} needs a resource id in the path`, 'invalidPath');
    switch (op.method) {
      case 'PUT':
        return kind === 'User' ? service.replaceUser(id, data, pre) : service.replaceGroup(id, data, pre);
      case 'PATCH':
        return kind === 'User' ? service.patchUser(id, data, pre) : service.patchGroup(id, data, pre);
      case 'DELETE': {
        const result = kind === 'User' ? service.deleteUser(id, pre) : service.deleteGroup(id, pre);
        return { ...result, headers: { Location: `${service.settings.baseUrl()}/${kind}s/${encodeURIComponent(id)}` } };
      }
      default:
        throw new ScimError(400, `unsupported bulk method "${op.method}"`, 'invalidSyntax');
    }
  } catch (err) {
    if (err instanceof ScimError) return { status: err.status, body: err.toJSON() };
    throw err;
  }
}

function resolveRefs(value: unknown, ids: Map<string, string>, unresolved: Set<string>): unknown {
  if (typeof value === 'string') {
    if (value.includes('bulkId:')) {
      // In a path the reference is one segment: /Groups/bulkId:qwerty
      if (value.startsWith('/')) return value.split('/').map((seg) => resolveRefs(seg, ids, unresolved)).join('/');
      const m = BULK_REF.exec(value);
      if (m) {
        const id = ids.get(m[1]!);
        if (id === undefined) unresolved.add(m[1]!);
        return id ?? value;
      }
    }
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => resolveRefs(v, ids, unresolved));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRefs(v, ids, unresolved)]));
  return value;
}
