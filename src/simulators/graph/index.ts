// A Microsoft Graph + Entra identity-platform simulator over HTTPS on loopback, for tests, the demo and the
// benchmarks. One HTTPS port serves both the authority (token endpoint, OpenID metadata, instance discovery)
// and Graph v1.0; a second, plain-HTTP loopback port serves the admin API. See docs/simulators.md.
import { randomBytes } from 'node:crypto';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loopbackTls } from '../tls.js';
import { applyFaults, createAdminServer } from './admin.js';
import { AccessTokens, IdentityPlatform } from './auth.js';
import { PageTokenCodec } from './delta.js';
import { generateTenant, resolveGenerateOptions } from './generate.js';
import { handleGraphRequest, routeName, type GraphApiContext } from './graph-api.js';
import { SeededRandom } from './random.js';
import { DEFAULT_APP_ROLE_ID, Tenant, type SimulatedTenant } from './tenant.js';
import type { AppRole, FaultOptions, GraphSimulatorOptions } from './types.js';
import { requestIds, sendGraphError, type RequestIds } from './wire.js';

export type { AppRole, AppRoleAssignment, FaultOptions, GenerateTenantOptions, GraphGroup, GraphSimulatorOptions, GraphUser } from './types.js';
export type { SimulatedTenant } from './tenant.js';
export { SimulatedTenantError, Tenant } from './tenant.js';
export { createSelfSignedCertificate, type SelfSignedCertificate } from '../tls.js';

/** Identifiers as in graph-samples/README.md, so payloads look like the documented ones. */
export const SIMULATOR_DEFAULTS = {
  tenantId: '8633172d-cbda-4d15-948f-f2e31a63d2e5',
  clientId: '536994de-bd54-4021-ac58-a3642a793672',
  clientSecret: 'sim~8Q.entra-sync-simulator-secret',
  servicePrincipalId: '9fcfcd92-4087-4242-b282-7b6f874bd46d',
  /** The daemon app's own service principal, also assigned to the app (readers must skip ServicePrincipal rows). */
  clientServicePrincipalId: 'b57fb498-ef9d-4e01-9fee-ad59dee6c1e5',
  /** appId (no hyphens) of the app owning the generated directory extension `extension_{it}_costCenter`. */
  extensionAppId: '875cd12803354a59801c8833ad31d32f',
  appDisplayName: 'OnPrem HR Portal',
  appRoleIds: { default: DEFAULT_APP_ROLE_ID, User: '4c42850e-c80b-4bd0-9e41-6c1b0f798a98', Admin: 'a5c2f3d1-7b8e-4f60-9d21-3e4b5c6d7e8f' },
} as const;

/** Display names differ from the values, as in real apps, so a target can tell `display` from `value`. */
const APP_ROLE_DISPLAY_NAMES: Record<string, string> = { User: 'Standard user', Admin: 'Administrator' };

export const DEFAULT_FAULTS: FaultOptions = {
  rate429: 0,
  retryAfterSeconds: 1,
  rate503: 0,
  rate504: 0,
  latencyMs: 0,
  resetRate: 0,
  rate401: 0,
  rate410: 0,
  emptyPageRate: 0,
};

export interface RequestCounters {
  total: number;
  /** Per route, e.g. `users/delta`, `groups/delta`, `appRoleAssignedTo`, `token`, `users/{id}`. */
  byRoute: Record<string, number>;
  /** Access tokens issued. */
  tokens: number;
  /** Injected 429/503/504 responses. */
  throttled: number;
  /** Every injected fault: throttling, resets, forced 401s, 410s, empty pages. */
  faulted: number;
  reset(): void;
}

export interface RecordedRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  route: string;
  status: number;
  /** Request headers except Authorization and Cookie. */
  headers: Record<string, string>;
  at: number;
}

export interface GraphSimulator {
  /** https://127.0.0.1:PORT (the API is under /v1.0/…). Give the Graph client `customHosts: [host]`. */
  graphBaseUrl: string;
  /** https://127.0.0.1:PORT; the authority is `${authorityHost}/${tenantId}`. */
  authorityHost: string;
  /** http://127.0.0.1:PORT2, the admin API. */
  adminUrl: string;
  /** The CA certificate that signed the HTTPS server certificate: trust it in the client. */
  caPem: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  servicePrincipalId: string;
  appRoleIds: { default: string; [name: string]: string };
  /**
   * The app's role definitions as GET /servicePrincipals/{id} serves them (every named role in appRoleIds,
   * value = its name). Live: change an element to rename or disable a role in the "tenant".
   */
  appRoles: AppRole[];
  /** appId without hyphens of the generated directory extension (`extension_${extensionAppId}_costCenter`). */
  extensionAppId: string;
  tenant: Tenant & SimulatedTenant;
  /** Mutable at runtime. */
  faults: FaultOptions;
  counters: RequestCounters;
  /** The most recent requests (up to 2,000), oldest first; cleared by counters.reset(). */
  requests: RecordedRequest[];
  /** Register a certificate (PEM) whose key may sign client assertions (`x5t` or `x5t#S256`). */
  trustCertificate(pem: string): void;
  /** Accept a client assertion without a certificate thumbprint (workload identity federation) when `check` says so. */
  acceptFederatedAssertion(check: (jwt: string) => boolean): void;
  /** Forced token expiry: every access token issued so far is refused with 401 from now on. */
  expireAccessTokens(): void;
  close(): Promise<void>;
}

const MAX_RECORDED = 2000;

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendAuthJson(res: ServerResponse, ids: RequestIds, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store, no-cache',
    'x-ms-request-id': ids.requestId,
    'client-request-id': ids.clientRequestId,
  });
  res.end(text);
}

function headerRecord(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name === 'authorization' || name === 'cookie' || value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

export async function startGraphSimulator(options: GraphSimulatorOptions = {}): Promise<GraphSimulator> {
  const tls = loopbackTls();
  const host = options.host ?? '127.0.0.1';
  const tenantId = (options.tenantId ?? SIMULATOR_DEFAULTS.tenantId).toLowerCase();
  const clientId = options.clientId ?? SIMULATOR_DEFAULTS.clientId;
  const clientSecret = options.clientSecret ?? SIMULATOR_DEFAULTS.clientSecret;
  const pageSize = Math.max(1, options.pageSize ?? 200);
  const membersPerPage = Math.max(1, options.membersPerPage ?? Math.ceil(pageSize * 2.5));
  const generation = resolveGenerateOptions(options.tenant);
  const faults: FaultOptions = { ...DEFAULT_FAULTS };
  applyFaults(faults, { ...options.faults });
  const appRoleIds = { ...SIMULATOR_DEFAULTS.appRoleIds };
  const servicePrincipalId = SIMULATOR_DEFAULTS.servicePrincipalId;
  const appRoles: AppRole[] = Object.entries(appRoleIds)
    .filter(([name]) => name !== 'default')
    .map(([name, id]) => ({
      allowedMemberTypes: ['User'],
      description: `${name} of ${SIMULATOR_DEFAULTS.appDisplayName}`,
      displayName: APP_ROLE_DISPLAY_NAMES[name] ?? name,
      id,
      isEnabled: true,
      origin: 'Application',
      value: name,
    }));

  // Separate streams so runtime mutations and fault draws never shift the generated data.
  const tenant = new Tenant(
    { servicePrincipalId, resourceDisplayName: SIMULATOR_DEFAULTS.appDisplayName, appRoleIds },
    new SeededRandom(generation.seed ^ 0x5eed5eed),
  );
  generateTenant(tenant, generation, new SeededRandom(generation.seed), SIMULATOR_DEFAULTS.extensionAppId, {
    id: SIMULATOR_DEFAULTS.clientServicePrincipalId,
    displayName: 'entra-sync daemon',
  });
  const faultRandom = new SeededRandom(generation.seed + 7919);

  const counters: RequestCounters = {
    total: 0,
    byRoute: {},
    tokens: 0,
    throttled: 0,
    faulted: 0,
    reset() {
      counters.total = 0;
      counters.byRoute = {};
      counters.tokens = 0;
      counters.throttled = 0;
      counters.faulted = 0;
      requests.length = 0;
    },
  };
  const requests: RecordedRequest[] = [];

  const server = createHttpsServer({ key: tls.keyPem, cert: tls.certPem });
  const port = await listen(server, host);
  const origin = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const identityConfig = {
    authorityHost: origin,
    tenantId,
    clientId,
    clientSecret,
    clientServicePrincipalId: SIMULATOR_DEFAULTS.clientServicePrincipalId,
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3599,
  };
  const accessTokens = new AccessTokens(randomBytes(32), identityConfig);
  const identity = new IdentityPlatform(identityConfig, accessTokens);
  const graphAudiences = new Set([origin, `https://${new URL(origin).hostname}`, 'https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000']);

  const api: GraphApiContext = {
    tenant,
    codec: new PageTokenCodec(randomBytes(32)),
    baseUrl: origin,
    servicePrincipal: { id: servicePrincipalId, appId: clientId, displayName: SIMULATOR_DEFAULTS.appDisplayName, appRoles },
    pageSize,
    membersPerPage,
    collectionPageSize: options.pageSize ?? 100,
    deltaTokenMaxAgeSeconds: options.deltaTokenMaxAgeSeconds ?? 7 * 24 * 3600,
    drawEmptyPage: () => {
      const hit = faultRandom.chance(faults.emptyPageRate);
      if (hit) counters.faulted++;
      return hit;
    },
    drawResync: () => {
      const hit = faultRandom.chance(faults.rate410);
      if (hit) counters.faulted++;
      return hit;
    },
  };

  const wwwAuthenticate = `Bearer realm="", authorization_uri="${origin}/${tenantId}/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`;

  async function serveGraph(req: IncomingMessage, res: ServerResponse, url: URL, segments: string[], ids: RequestIds): Promise<void> {
    if (faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));
    // One draw per request decides the fault, so a sequential client sees the same sequence for the same seed.
    const roll = faultRandom.next();
    let threshold = faults.resetRate;
    if (roll < threshold) {
      counters.faulted++;
      req.socket.destroy();
      return;
    }
    const auth = req.headers.authorization;
    const bearer = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : '';
    if (bearer === '') {
      return sendGraphError(res, ids, 401, 'InvalidAuthenticationToken', 'Access token is empty.', { 'WWW-Authenticate': wwwAuthenticate });
    }
    const verdict = accessTokens.check(bearer);
    if (verdict !== 'ok' || !graphAudiences.has(tokenAudience(bearer))) {
      const message = verdict === 'expired' ? 'Access token has expired or is not yet valid.' : 'Access token validation failure. Invalid audience.';
      return sendGraphError(res, ids, 401, 'InvalidAuthenticationToken', message, { 'WWW-Authenticate': wwwAuthenticate });
    }
    const retryAfter: Record<string, string> = faults.retryAfterSeconds > 0 ? { 'Retry-After': String(faults.retryAfterSeconds) } : {};
    if (roll < (threshold += faults.rate429)) {
      counters.throttled++;
      counters.faulted++;
      return sendGraphError(res, ids, 429, 'TooManyRequests', 'Too many requests.', {
        ...retryAfter,
        'x-ms-throttle-scope': `Tenant_Application/ReadWrite/${clientId}/${tenantId}`,
        'x-ms-throttle-information': 'ResourceUnitLimitExceeded',
        'x-ms-throttle-limit-percentage': '1.2',
        'x-ms-resource-unit': '1',
      });
    }
    if (roll < (threshold += faults.rate503)) {
      counters.throttled++;
      counters.faulted++;
      return sendGraphError(res, ids, 503, 'serviceNotAvailable', 'The service is temporarily unavailable. Please retry later.', retryAfter);
    }
    if (roll < (threshold += faults.rate504)) {
      counters.throttled++;
      counters.faulted++;
      return sendGraphError(res, ids, 504, 'UnknownError', 'The gateway did not receive a timely response from the upstream service.');
    }
    if (roll < (threshold += faults.rate401)) {
      counters.faulted++;
      return sendGraphError(res, ids, 401, 'InvalidAuthenticationToken', 'Access token has expired or is not yet valid.', { 'WWW-Authenticate': wwwAuthenticate });
    }
    handleGraphRequest(api, req, res, url, segments, ids);
  }

  async function serveAuthority(req: IncomingMessage, res: ServerResponse, url: URL, segments: string[], route: string, ids: RequestIds): Promise<void> {
    const [tenantSegment] = segments;
    if (route === 'token') {
      if (req.method !== 'POST') return sendAuthJson(res, ids, 405, { error: 'invalid_request', error_description: 'The token endpoint accepts POST only.' });
      const body = await readBody(req, 256 * 1024);
      const form = new URLSearchParams(body);
      const result = identity.token(tenantSegment ?? '', form, ids.clientRequestId);
      if (result.status === 200) counters.tokens++;
      return sendAuthJson(res, ids, result.status, result.body);
    }
    if (route === 'openid-configuration') {
      if (!identity.isTenant(tenantSegment ?? '')) {
        return sendAuthJson(res, ids, 400, { error: 'invalid_tenant', error_description: `AADSTS90002: Tenant '${tenantSegment ?? ''}' not found.` });
      }
      return sendAuthJson(res, ids, 200, identity.openIdConfiguration());
    }
    if (route === 'instance-discovery') return sendAuthJson(res, ids, 200, identity.instanceDiscovery(url.searchParams.get('authorization_endpoint')));
    if (route === 'jwks') return sendAuthJson(res, ids, 200, { keys: [] });
    return sendAuthJson(res, ids, 404, { error: 'not_found', error_description: `No route ${url.pathname}` });
  }

  function authorityRoute(segments: string[]): string {
    const [, a, b, c, d] = segments;
    if (a === 'oauth2' && b === 'v2.0' && c === 'token' && d === undefined) return 'token';
    if (a === 'v2.0' && b === '.well-known' && c === 'openid-configuration') return 'openid-configuration';
    if (a === '.well-known' && b === 'openid-configuration') return 'openid-configuration';
    if (segments[0] === 'common' && a === 'discovery' && b === 'instance') return 'instance-discovery';
    if (a === 'discovery' && b === 'v2.0' && c === 'keys') return 'jwks';
    return 'unknown';
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const ids = requestIds(req);
    const url = new URL(req.url ?? '/', origin);
    let segments: string[];
    try {
      segments = url.pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
    } catch {
      segments = ['?'];
    }
    const graph = segments[0] === 'v1.0';
    const route = graph ? routeName(segments.slice(1)) : authorityRoute(segments);
    counters.total++;
    counters.byRoute[route] = (counters.byRoute[route] ?? 0) + 1;
    const record: RecordedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', route, status: 0, headers: headerRecord(req), at: Date.now() };
    requests.push(record);
    if (requests.length > MAX_RECORDED) requests.splice(0, requests.length - MAX_RECORDED);
    res.on('finish', () => {
      record.status = res.statusCode;
    });
    const work = graph ? serveGraph(req, res, url, segments.slice(1), ids) : serveAuthority(req, res, url, segments, route, ids);
    work.catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendGraphError(res, ids, 500, 'generalException', `Simulator failure: ${err instanceof Error ? err.message : String(err)}`);
    });
  });

  const simulator: GraphSimulator = {
    graphBaseUrl: origin,
    authorityHost: origin,
    adminUrl: '',
    caPem: tls.caPem,
    tenantId,
    clientId,
    clientSecret,
    servicePrincipalId,
    appRoleIds,
    appRoles,
    extensionAppId: SIMULATOR_DEFAULTS.extensionAppId,
    tenant,
    faults,
    counters,
    requests,
    trustCertificate: (pem) => identity.trustCertificate(pem),
    acceptFederatedAssertion: (check) => identity.acceptFederatedAssertion(check),
    expireAccessTokens: () => {
      accessTokens.generation++;
    },
    close: async () => {
      await Promise.all([closeServer(server), closeServer(admin)]);
    },
  };

  const admin = createAdminServer({
    tenant,
    faults,
    counters,
    expireAccessTokens: simulator.expireAccessTokens,
    recentRequests: () => requests,
    info: () => ({
      graphBaseUrl: origin,
      authorityHost: origin,
      tenantId,
      clientId,
      servicePrincipalId,
      appRoleIds,
      extensionAppId: SIMULATOR_DEFAULTS.extensionAppId,
      caPem: tls.caPem,
    }),
  });
  const adminPort = await listen(admin, host);
  simulator.adminUrl = `http://${host.includes(':') ? `[${host}]` : host}:${adminPort}`;
  return simulator;
}

function tokenAudience(jwt: string): string {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { aud?: unknown };
    return typeof payload.aud === 'string' ? payload.aud.replace(/\/$/, '') : '';
  } catch {
    return '';
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
