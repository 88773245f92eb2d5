// The source façade the engine and the CLI call: read Entra incrementally into the source store, read one
// user or group on demand, and forget the delta state for a resync. It owns the source's MSAL application,
// dispatcher and Graph client for its lifetime, and runs one operation at a time.
import { EntraSyncError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { CommitSummary, SourceStoreImpl } from '../state/source-store.js';
import { readAppRoles } from './app-roles.js';
import { createTokenSource } from './auth.js';
import { resolveEndpoints } from './clouds.js';
import { readAssignments, readDeltaRound, type ReadProgress, type RoundMode, type RoundResult } from './delta.js';
import { createGraphHttp, GraphRequestError, type GraphHttp } from './graph.js';
import { createMsalNetworkClient, createSourceDispatcher } from './network.js';
import type { SourceOptions } from './options.js';
import type { RetryOptions } from '../net/retry.js';
import type { HttpObserver } from '../net/events.js';
import type { LiveRead, SourceAppRole, SourceGroupRecord, SourceMember, SourceUserRecord } from './types.js';

/** Always selected: the join key, the sign-in name and the enabled flag drive provisioning whatever the mappings. */
export const ALWAYS_SELECTED_USER_ATTRIBUTES = ['id', 'userPrincipalName', 'accountEnabled'] as const;
export const GROUP_ATTRIBUTES = ['displayName', 'description', 'mailNickname'] as const;
/**
 * The source attribute the role functions read. Not a Graph property: when a mapping references it, each read
 * also fetches the app's role definitions (one request); otherwise no role definitions are read.
 */
export const APP_ROLE_ASSIGNMENTS = 'appRoleAssignments';
/** A streamed users round's first chunk is this many times smaller than the others. */
const FIRST_CHUNK_DIVISOR = 5;

export interface ReadSummary extends CommitSummary {
  /** True when either delta round was a full one (first read, forced, changed $select or expired state). */
  full: boolean;
  users: { mode: RoundMode; pages: number; items: number; resynced: boolean };
  groups: { mode: RoundMode; pages: number; items: number; resynced: boolean };
  assignments: number;
  /** Chunks of users committed while the users round was still being read (0: one commit at the end). */
  chunks: number;
  /** App roles the enterprise app defines; present when a mapping reads roles (then read every round: one request). */
  appRoles?: number;
  /** HTTP requests to Graph and to the token endpoint during this read (retries included). */
  requests: number;
  durationMs: number;
}

export interface ReadOptions {
  /** Ignore the stored delta links and read everything (objects not seen are then treated as deleted). */
  full?: boolean;
  onProgress?: (p: ReadProgress) => void;
  /**
   * Commit a long users round in chunks as it is read: once the assignments and app roles are read (and
   * committed with the first chunk), every time at least `chunkUsers` users wait in the stage (the first
   * time a fifth of that, so the apply starts after a few pages). The groups
   * round commits with the users round's end. `onLive` is called at the first such commit, while the rest
   * of the round is still being read. The round's delta
   * link, and for a full round its deletions, still wait for its last page; a read that fails after a chunk
   * keeps the chunks (they are what Graph said) but not the delta link, so the next read repeats the round.
   * Unset, or a round that never reaches a chunk: everything is committed at once at the end.
   */
  stream?: {
    chunkUsers: number;
    onLive: (live: LiveRead) => void;
    /** Called after each chunk's commit, the first included (after `onLive`). */
    onChunk?: () => void;
  };
}

export interface SourceReader {
  /** The user attributes requested from Graph ($select). */
  readonly select: readonly string[];
  read(options?: ReadOptions): Promise<ReadSummary>;
  /** Fresh GET of one user (by object id or userPrincipalName) plus the assignments and app roles, stored and returned. */
  readUser(upnOrId: string): Promise<SourceUserRecord>;
  readGroup(id: string): Promise<SourceGroupRecord>;
  /** Forget both delta links: the next read is a full round. */
  resetDeltaLinks(): void;
  /** Closes the connections; the store stays open (it belongs to the caller). */
  close(): Promise<void>;
}

export interface SourceReaderDeps {
  store: SourceStoreImpl;
  logger?: Logger | undefined;
  /** Attribute names the mappings and scoping filters reference. */
  select: string[];
  /** Group attributes the group mappings and filters reference, beyond displayName, description, mailNickname. */
  groupSelect?: string[] | undefined;
  retry?: RetryOptions | undefined;
  /** Told of every Graph request and retry (the runtime's `http:request` / `http:retry` events). */
  http?: HttpObserver | undefined;
}

/** The $select list: always-needed attributes, then the referenced ones, then configured extras; no duplicates. */
export function userSelectList(select: readonly string[], extra: readonly string[] = []): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const name of [...ALWAYS_SELECTED_USER_ATTRIBUTES, ...select, ...extra]) {
    const trimmed = name.trim();
    // objectId is Entra's provisioning name for id; Graph knows only id. Computed names are not Graph properties.
    const graphName = trimmed === 'objectId' ? 'id' : trimmed;
    if (!graphName || graphName === 'IsSoftDeleted' || graphName === APP_ROLE_ASSIGNMENTS || seen.has(graphName.toLowerCase())) continue;
    seen.add(graphName.toLowerCase());
    out.push(graphName);
  }
  return out;
}

/** The login and Graph endpoints the options name; throws CONFIG_INVALID for a Graph root with a path. */
export function sourceEndpoints(options: SourceOptions): ReturnType<typeof resolveEndpoints> {
  const endpoints = resolveEndpoints(options.cloud, { authorityHost: options.authorityHost, graphBaseUrl: options.graphBaseUrl });
  if (new URL(endpoints.graphBaseUrl).pathname !== '/') {
    throw new EntraSyncError('CONFIG_INVALID', 'graphBaseUrl must be a root URL without a path (the version is added by the reader)', { configPath: 'source.graphBaseUrl' });
  }
  return endpoints;
}

export function createSourceReader(options: SourceOptions, deps: SourceReaderDeps): SourceReader {
  const endpoints = sourceEndpoints(options);
  const store = deps.store;
  store.configure({ scope: options.scope, flattenNestedGroups: options.flattenNestedGroups });
  const dispatcher = createSourceDispatcher({ proxy: options.proxy, caFile: options.caFile, timeoutMs: options.timeoutMs });
  let tokenRequests = 0;
  const networkClient = createMsalNetworkClient(dispatcher, options.timeoutMs, { count: () => { tokenRequests++; } });
  const tokens = createTokenSource(options, { endpoints, networkClient, logger: deps.logger });
  const http: GraphHttp = createGraphHttp({ endpoints, tokens, dispatcher, timeoutMs: options.timeoutMs, retry: deps.retry, logger: deps.logger, observer: deps.http });
  const select = userSelectList(deps.select, options.select);
  const readsRoles = [...deps.select, ...options.select].includes(APP_ROLE_ASSIGNMENTS);
  const appRolesIfUsed = async () => (readsRoles ? readAppRoles(http, options.servicePrincipalId) : undefined);
  const usersInitialUrl = `/users/delta?$select=${select.join(',')}`;
  const groupAttributes = [...new Set([...GROUP_ATTRIBUTES, ...(deps.groupSelect ?? []).filter((a) => a !== 'objectId' && a !== 'id' && a !== 'members')])];
  const groupsInitialUrl = `/groups/delta?$select=${[...groupAttributes, 'members'].join(',')}`;
  const groupPlainSelect = ['id', ...groupAttributes].join(',');
  const usersSignature = [...select].sort().join(',');
  const groupsSignature = [...groupAttributes].sort().join(',');

  let closed = false;
  // One operation at a time: they share the stage tables.
  let queue: Promise<unknown> = Promise.resolve();
  function exclusive<T>(op: () => Promise<T>): Promise<T> {
    const run = queue.then(op, op);
    queue = run.catch(() => undefined);
    return run;
  }
  const requestsNow = (): number => http.requestCount + tokenRequests;

  async function refreshAssignments(onProgress?: (p: ReadProgress) => void): Promise<number> {
    const r = await readAssignments(http, store, { servicePrincipalId: options.servicePrincipalId, pageSize: options.pageSize, onProgress });
    return r.items;
  }

  async function read(readOptions: ReadOptions = {}): Promise<ReadSummary> {
    const started = Date.now();
    const requestsBefore = requestsNow();
    const storedLink = (kind: 'users' | 'groups', signature: string): string | undefined => {
      if (readOptions.full) return undefined;
      const stored = store.deltaLink(kind);
      // A link tracks the $select it was made with; new attributes need a full round to be filled in.
      if (!stored || stored.selectSignature !== signature) return undefined;
      return stored.link;
    };
    const live = new LiveReadState();
    const summed: CommitSummary = { usersChanged: 0, usersRemoved: 0, groupsChanged: 0, groupsRemoved: 0, scopeChanges: 0 };
    const commit = (input: Parameters<SourceStoreImpl['commit']>[0]) => {
      const c = store.commit(input);
      for (const k of Object.keys(summed) as (keyof CommitSummary)[]) summed[k] += c[k];
    };
    // Set once the assignments and app roles are read: they are committed with the first users chunk. Users
    // do not wait for the groups round: a user whose scope its memberships change (assigned through a group
    // new in this round, say) is bumped again when the groups commit, at the round's end, and planned then.
    let scopeInputs: { appRoles: SourceAppRole[] | undefined } | undefined;
    const assignmentsCommit = (appRoles: SourceAppRole[] | undefined) => ({ assignments: true, ...(appRoles ? { appRoles } : {}) });
    const groupsCommit = (groups: RoundResult) => ({ groups: { mode: groups.mode, deltaLink: groups.deltaLink, selectSignature: groupsSignature } });
    let streaming = false;
    let chunks = 0;
    const afterUsersPage = (mode: RoundMode) => {
      const stream = readOptions.stream;
      if (!stream || !scopeInputs) return;
      // The first chunk is smaller, so the apply starts after a few pages rather than a full chunk's worth.
      const due = streaming ? stream.chunkUsers : Math.ceil(stream.chunkUsers / FIRST_CHUNK_DIVISOR);
      if (store.stagedUsersPending() < due) return;
      commit({ users: { mode, partial: true }, ...(streaming ? {} : assignmentsCommit(scopeInputs.appRoles)) });
      chunks++;
      if (!streaming) { streaming = true; stream.onLive(live); }
      stream.onChunk?.();
      live.notify();
    };
    try {
      // The assignments, the app roles, and the users and groups rounds are independent page sequences, each
      // staged into its own tables: they are read side by side, so the read takes as long as the longest.
      const scope = allOrFirstError([refreshAssignments(readOptions.onProgress), appRolesIfUsed()] as const)
        .then((r) => { scopeInputs = { appRoles: r[1] }; return r; });
      const [[assignments, appRoles], groups, users] = await allOrFirstError([
        scope,
        readDeltaRound(http, store, { kind: 'groups', initialUrl: groupsInitialUrl, deltaLink: storedLink('groups', groupsSignature), onProgress: readOptions.onProgress, logger: deps.logger }),
        readDeltaRound(http, store, { kind: 'users', initialUrl: usersInitialUrl, deltaLink: storedLink('users', usersSignature), onProgress: readOptions.onProgress, afterPage: afterUsersPage, logger: deps.logger }),
      ] as const);
      commit({
        users: { mode: users.mode, deltaLink: users.deltaLink, selectSignature: usersSignature },
        ...groupsCommit(groups),
        ...(streaming ? {} : assignmentsCommit(appRoles)),
      });
      live.end('done');
      const summary: ReadSummary = {
        ...summed,
        full: users.mode === 'full' || groups.mode === 'full',
        users: { mode: users.mode, pages: users.pages, items: users.items, resynced: users.resynced },
        groups: { mode: groups.mode, pages: groups.pages, items: groups.items, resynced: groups.resynced },
        assignments,
        chunks,
        ...(appRoles ? { appRoles: appRoles.length } : {}),
        requests: requestsNow() - requestsBefore,
        durationMs: Date.now() - started,
      };
      deps.logger?.info({ component: 'source', ...summary }, 'read Entra');
      return summary;
    } catch (err) {
      // Drop the partial stage so it cannot be mistaken for a round later. Nothing was applied, unless users
      // were committed in chunks: those stay, but without the round's delta link, so the round is read again.
      store.clearStage();
      live.end('failed');
      if (streaming) deps.logger?.warn({ component: 'source', usersCommitted: summed.usersChanged }, 'read failed after committing users in chunks; they stay, and the next read repeats the round');
      throw err;
    }
  }

  async function readUser(upnOrId: string): Promise<SourceUserRecord> {
    const key = upnOrId.trim();
    if (!key) throw new EntraSyncError('SOURCE_USER_NOT_FOUND', 'no user id or userPrincipalName given');
    try {
      let user: Record<string, unknown>;
      try {
        // manager is a navigation property: delta returns it, a plain GET does not (the stored one is kept).
        user = await http.getJson(`/users/${encodeURIComponent(key)}?$select=${select.filter((a) => a !== 'manager').join(',')}`);
      } catch (err) {
        if (err instanceof GraphRequestError && err.status === 404) {
          throw new EntraSyncError('SOURCE_USER_NOT_FOUND', `no user ${key} in Entra`, { objectId: key }, { cause: err });
        }
        throw err;
      }
      if (typeof user.id !== 'string') throw new GraphRequestError('GRAPH_BAD_RESPONSE', 'user object has no "id"', `${http.apiRoot}/users/${key}`, 200);
      store.clearStage();
      await refreshAssignments();
      const appRoles = await appRolesIfUsed();
      store.stageUsers([user]);
      store.commit({ users: { mode: 'snapshot' }, assignments: true, ...(appRoles ? { appRoles } : {}) });
      return store.user(user.id)!;
    } catch (err) {
      store.clearStage();
      throw err;
    }
  }

  async function readGroup(id: string): Promise<SourceGroupRecord> {
    try {
      let group: Record<string, unknown>;
      try {
        group = await http.getJson(`/groups/${encodeURIComponent(id)}?$select=${groupPlainSelect}`);
      } catch (err) {
        if (err instanceof GraphRequestError && err.status === 404) {
          throw new EntraSyncError('SOURCE_GROUP_NOT_FOUND', `no group ${id} in Entra`, { objectId: id }, { cause: err });
        }
        throw err;
      }
      if (typeof group.id !== 'string') throw new GraphRequestError('GRAPH_BAD_RESPONSE', 'group object has no "id"', `${http.apiRoot}/groups/${id}`, 200);
      store.clearStage();
      await refreshAssignments();
      store.stageGroups([group]);
      for (let url: string | undefined = `/groups/${encodeURIComponent(group.id)}/members?$select=id&$top=999`; url;) {
        const page = await http.getPage(url);
        const members: SourceMember[] = [];
        for (const m of page.value) {
          const t = m['@odata.type'];
          if (t === '#microsoft.graph.user') members.push({ id: m.id as string, type: 'user' });
          else if (t === '#microsoft.graph.group') members.push({ id: m.id as string, type: 'group' });
        }
        store.stageGroupMembers(group.id, members);
        url = page.nextLink;
      }
      const appRoles = await appRolesIfUsed();
      store.commit({ groups: { mode: 'snapshot' }, assignments: true, ...(appRoles ? { appRoles } : {}) });
      return store.group(group.id)!;
    } catch (err) {
      store.clearStage();
      throw err;
    }
  }

  return {
    select,
    read: (o) => exclusive(() => read(o)),
    readUser: (k) => exclusive(() => readUser(k)),
    readGroup: (id) => exclusive(() => readGroup(id)),
    resetDeltaLinks: () => store.resetDeltaLinks(),
    close: async () => {
      if (closed) return;
      closed = true;
      await queue;
      await dispatcher.close();
    },
  };
}

/**
 * Like Promise.all, but settles only once every promise has: when one round fails, the others are not left
 * running (and staging) behind the caller, who then clears the stage. Rethrows the first failure in order.
 */
async function allOrFirstError<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** What a streaming read tells the cycles applying its chunks. */
export class LiveReadState implements LiveRead {
  state: LiveRead['state'] = 'reading';
  private waiters: (() => void)[] = [];

  changed(): Promise<void> {
    if (this.state !== 'reading') return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  notify(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const resolve of waiting) resolve();
  }

  end(state: 'done' | 'failed'): void {
    this.state = state;
    this.notify();
  }
}
