// An in-memory SCIM 2.0 target (RFC 7643/7644) for tests, the demo and benchmarks: Users, Groups, filters,
// paging, PATCH, PUT, DELETE, Bulk, ETags and discovery, with bearer / OAuth2 client-credentials / basic
// auth, vendor profiles (generic, docuware, document360), seeded faults and a request log.
// See docs/simulators.md.

import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthGate, type OAuthSettings } from './auth.js';
import type { DiscoverySettings } from './discovery.js';
import { isObject } from './evaluate.js';
import { FaultDice, NO_FAULTS, type ScimFaults } from './faults.js';
import { toMembers } from './patch.js';
import { profileBehaviour, type ProfileName } from './profiles.js';
import { URN } from './schema.js';
import { createHandler, SCIM_PREFIX, TOKEN_PATH, type LoggedRequest } from './server.js';
import { ScimService } from './service.js';
import { ResourceStore, type Obj, type StoredMember } from './store.js';

export type { ScimFaults } from './faults.js';
export type { LoggedRequest } from './server.js';
export type { ProfileName } from './profiles.js';
export { URN as SCIM_URN } from './schema.js';

export interface ScimResource {
  id: string;
  [attribute: string]: unknown;
}

export interface ScimSimulatorOptions {
  profile?: ProfileName;
  /** Accepted static bearer tokens. Default ['scim-token'] unless oauth or basic is configured. */
  tokens?: string[];
  /** A client-credentials token endpoint at `tokenUrl` issuing tokens that expire. */
  oauth?: OAuthSettings;
  basic?: { username: string; password: string };
  bulk?: { enabled: boolean; maxOperations?: number; maxPayloadSize?: number };
  /** ETags in meta.version and If-Match / If-None-Match handling. Default false. */
  etag?: boolean;
  /** PATCH support (advertised and served; 501 when false). Default true. */
  patch?: boolean;
  /** Most resources one list response returns (advertised as filter.maxResults). Default 1000. */
  maxResults?: number;
  /** Resources per page when the client gives no `count`. Default 100. */
  pageSize?: number;
  /** PATCH success answer: 200 with the resource, or 204. Default: the profile's. */
  patchStatus?: 200 | 204;
  faults?: Partial<ScimFaults>;
  /** Keep a request log for assertions. Default true; switch off for benchmarks. */
  logRequests?: boolean;
  /** Most log entries kept (oldest dropped first). Default 10,000. */
  maxLoggedRequests?: number;
  host?: string;
  port?: number;
}

export interface ScimSimulator {
  /** http://127.0.0.1:PORT/scim/v2 */
  baseUrl: string;
  /** http://127.0.0.1:PORT/oauth2/token */
  tokenUrl: string;
  users(): ScimResource[];
  groups(): ScimResource[];
  user(id: string): ScimResource | undefined;
  group(id: string): ScimResource | undefined;
  /** Mutate data directly, bypassing HTTP (tests: "an admin edited the target by hand"). */
  store: {
    putUser(r: ScimResource): void;
    putGroup(r: ScimResource): void;
    deleteUser(id: string): void;
    removeMember(groupId: string, memberId: string): void;
    reset(): void;
  };
  requests: LoggedRequest[];
  clearRequests(): void;
  counters: { total: number; byMethod: Record<string, number> };
  /** Mutable at runtime: change a rate and the next request sees it. */
  faults: ScimFaults;
  /** Every issued OAuth token becomes invalid (401). */
  expireTokens(): void;
  /** While true, every credential is refused (401), as after a revoked token; false accepts them again. */
  refuseCredentials(refuse: boolean): void;
  close(): Promise<void>;
}

export async function startScimSimulator(options: ScimSimulatorOptions = {}): Promise<ScimSimulator> {
  const profile = profileBehaviour(options.profile ?? 'generic');
  let baseUrl = '';
  const store = new ResourceStore();
  const maxResults = options.maxResults ?? 1000;
  const etag = options.etag ?? false;
  const patch = options.patch ?? true;
  const service = new ScimService(store, {
    profile,
    etag,
    patch,
    maxResults,
    pageSize: Math.min(options.pageSize ?? 100, maxResults),
    ...(options.patchStatus !== undefined ? { patchStatus: options.patchStatus } : {}),
    baseUrl: () => baseUrl,
  });
  const tokens = options.tokens ?? (options.oauth || options.basic ? [] : ['scim-token']);
  const auth = new AuthGate({ tokens, ...(options.oauth ? { oauth: options.oauth } : {}), ...(options.basic ? { basic: options.basic } : {}) });
  const bulk = {
    enabled: options.bulk?.enabled ?? false,
    maxOperations: options.bulk?.maxOperations ?? 1000,
    maxPayloadSize: options.bulk?.maxPayloadSize ?? 1_048_576,
  };
  const discovery: DiscoverySettings = { profile, patch, etag, bulk, maxResults, authSchemes: auth.schemes(), baseUrl: () => baseUrl };
  const faults: ScimFaults = { ...NO_FAULTS, ...options.faults };
  const logRequests = options.logRequests ?? true;
  const maxLogged = options.maxLoggedRequests ?? 10_000;
  const trimSlack = Math.max(1, Math.min(1000, maxLogged));
  const requests: LoggedRequest[] = [];
  const counters = { total: 0, byMethod: {} as Record<string, number> };

  const handler = createHandler({
    service,
    auth,
    discovery,
    faults: () => faults,
    dice: new FaultDice(),
    bulk,
    record(entry) {
      if (!logRequests) return;
      requests.push(entry);
      // Trim in batches so the log stays bounded without an O(n) shift per request.
      if (requests.length > maxLogged + trimSlack) requests.splice(0, requests.length - maxLogged);
    },
    count(method) {
      counters.total++;
      counters.byMethod[method] = (counters.byMethod[method] ?? 0) + 1;
    },
  });

  const server: Server = createServer({ keepAlive: true }, handler);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const origin = `http://${host}:${address.port}`;
  baseUrl = `${origin}${SCIM_PREFIX}`;

  const meta = (kind: 'User' | 'Group', existing: unknown): Obj => {
    const now = new Date().toISOString();
    const m: Obj = { resourceType: kind, created: isObject(existing) && typeof existing.created === 'string' ? existing.created : now, lastModified: now };
    if (etag) m.version = store.nextVersion();
    return m;
  };

  const simulator: ScimSimulator = {
    baseUrl,
    tokenUrl: `${origin}${TOKEN_PATH}`,
    users: () => store.userIds().map((id) => structuredClone(service.userView(store.users.get(id)!)) as ScimResource),
    groups: () => store.groupIds().map((id) => structuredClone(service.groupView(id, true)!) as ScimResource),
    user(id) {
      const u = store.users.get(id);
      return u ? (structuredClone(service.userView(u)) as ScimResource) : undefined;
    },
    group(id) {
      const g = service.groupView(id, true);
      return g ? (structuredClone(g) as ScimResource) : undefined;
    },
    store: {
      putUser(r) {
        const id = r.id || randomUUID();
        const existing = store.users.get(id);
        // A user that appears without coming through SCIM is "foreign" to DocuWare's provisioning endpoint.
        if (!existing && profile.hideForeignUsers) service.foreignUsers.add(id);
        const user: Obj = { schemas: [URN.user], ...structuredClone(r), id };
        user.meta = meta('User', existing?.meta);
        store.putUser(user);
      },
      putGroup(r) {
        const id = r.id || randomUUID();
        const { members, ...rest } = structuredClone(r);
        const existing = store.groups.get(id);
        const group: Obj = { schemas: [URN.group], ...rest, id };
        group.meta = meta('Group', existing?.resource.meta);
        const list = members === undefined ? undefined : (toMembers(members) as StoredMember[]);
        store.putGroup(group, list ? new Map(list.map((m) => [m.value, m])) : existing ? existing.members : new Map());
      },
      deleteUser(id) {
        store.deleteUser(id);
        service.foreignUsers.delete(id);
      },
      removeMember(groupId, memberId) {
        store.removeMember(groupId, memberId);
      },
      reset() {
        store.reset();
        service.foreignUsers.clear();
      },
    },
    requests,
    clearRequests() {
      requests.length = 0;
    },
    counters,
    faults,
    expireTokens() {
      auth.expireAll();
    },
    refuseCredentials(refuse) {
      auth.refuseAll = refuse;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
  return simulator;
}
