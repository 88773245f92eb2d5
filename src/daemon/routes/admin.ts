// The admin API: what `entra-sync sync`, `provision`, `approve` … do, asked of the running daemon (queued on
// its targets' queues, in order with the scheduled cycles). Every route needs `Authorization: Bearer <token>`;
// the body is JSON with only the fields listed here, so a typo is an error and never a silent default.
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { HttpError, type Route } from './route.js';

/** Most members `POST /admin/provision {group, members}` provisions with the group (Entra's limit too). */
export const PROVISION_MAX_MEMBERS = 5;

const target = z.string().min(1).optional();
const targetOnly = z.object({ target }).strict();
const syncBody = z.object({ target, full: z.boolean().optional() }).strict();
const provisionBody = z
  .object({
    user: z.string().min(1).optional(),
    group: z.string().min(1).optional(),
    members: z.array(z.string().min(1)).max(PROVISION_MAX_MEMBERS).optional(),
    target,
  })
  .strict()
  .superRefine((b, ctx) => {
    if ((b.user === undefined) === (b.group === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of "user" (userPrincipalName or object id) or "group" (object id or displayName)' });
    }
    if (b.members !== undefined && b.group === undefined) {
      ctx.addIssue({ code: 'custom', path: ['members'], message: '"members" goes with "group"' });
    }
  });

/**
 * Whether the Authorization header carries `token`. Both sides are hashed first, so the comparison takes the
 * same time whatever the given token's length or its first differing byte.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer[ \t]+(\S.*)$/i.exec(header ?? '');
  if (!match) return false;
  const given = createHash('sha256').update(match[1]!.trim()).digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected);
}

/** Throws the 403/401 answer unless the request carries the configured token. */
export function authorize(header: string | undefined, token: string | undefined): void {
  if (token === undefined) {
    throw new HttpError(403, 'ADMIN_DISABLED', 'the admin API is off: no admin token is configured (set http.adminTokenFile or http.adminToken)');
  }
  if (header === undefined) {
    throw new HttpError(401, 'UNAUTHORIZED', 'this needs the admin token: Authorization: Bearer <token>', { 'WWW-Authenticate': 'Bearer realm="entra-sync"' });
  }
  if (!bearerMatches(header, token)) {
    throw new HttpError(401, 'UNAUTHORIZED', 'the admin token is wrong', { 'WWW-Authenticate': 'Bearer realm="entra-sync", error="invalid_token"' });
  }
}

/** Parses a body against its schema; the error names the field at fault. */
function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const messages = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => `"${k}"`).join(', ');
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${keys}`;
    }
    const at = issue.path.length ? `field "${issue.path.join('.')}": ` : '';
    return `${at}${issue.message}`;
  });
  throw new HttpError(400, 'BAD_REQUEST', `invalid request body: ${messages.join('; ')}`);
}

const post = (path: string, handle: Route['handle']): Route => ({ method: 'POST', path, admin: true, body: true, startsWork: true, handle });

export const adminRoutes: Route[] = [
  post('/admin/sync', async ({ api, body }) => ({ status: 200, body: await api.sync(parse(syncBody, body)) })),
  post('/admin/resync', async ({ api, body }) => ({ status: 200, body: await api.resync(parse(targetOnly, body)) })),
  post('/admin/provision', async ({ api, body }) => ({ status: 200, body: await api.provision(parse(provisionBody, body)) })),
  post('/admin/approve', async ({ api, body }) => ({ status: 200, body: await api.approve(parse(targetOnly, body)) })),
  post('/admin/reject', async ({ api, body }) => ({ status: 200, body: await api.reject(parse(targetOnly, body)) })),
  post('/admin/resume', async ({ api, body }) => ({ status: 200, body: await api.resume(parse(targetOnly, body)) })),
  { method: 'GET', path: '/admin/status', admin: true, handle: ({ api }) => ({ status: 200, body: api.status() }) },
];
