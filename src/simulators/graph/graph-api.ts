// The Microsoft Graph v1.0 routes the daemon reads: users/delta, groups/delta, appRoleAssignedTo, and the
// single-object reads used by provision-on-demand. Auth and faults are applied by the caller (index.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppRole } from './types.js';
import { DEFAULT_USER_DELTA_SELECT, deltaPage, parseSelect, type DeltaResource, type PageTokenCodec, type RoundState, type SelectSpec } from './delta.js';
import { GROUP_PROPERTIES, USER_PROPERTIES, type GroupEntry, type Tenant, type UserEntry } from './tenant.js';
import { preferences, queryOptions, sendGraphError, sendGraphJson, sendText, type RequestIds } from './wire.js';

export interface GraphApiContext {
  tenant: Tenant;
  codec: PageTokenCodec;
  /** https://host:port */
  baseUrl: string;
  /** `appRoles` is live: tests rename or disable a role by changing an element. */
  servicePrincipal: { id: string; appId: string; displayName: string; appRoles: AppRole[] };
  pageSize: number;
  membersPerPage: number;
  /** Default `$top` for appRoleAssignedTo and members when neither `$top` nor Prefer says otherwise. */
  collectionPageSize: number;
  deltaTokenMaxAgeSeconds: number;
  /** Fault draws: an empty delta page, a 410 on a deltaLink. */
  drawEmptyPage(): boolean;
  drawResync(): boolean;
}

/** The route name used for counters, from the path segments after /v1.0. */
export function routeName(segments: readonly string[]): string {
  const [first, second, third, fourth] = segments;
  if ((first === 'users' || first === 'groups') && second !== undefined && isDeltaSegment(second)) return `${first}/delta`;
  if (first === 'users') return second === undefined ? 'users' : third === 'manager' ? 'users/{id}/manager' : 'users/{id}';
  if (first === 'groups') return second === undefined ? 'groups' : third === 'members' ? 'groups/{id}/members' : 'groups/{id}';
  if (first === 'servicePrincipals' && third === 'appRoleAssignedTo') return fourth === '$count' ? 'appRoleAssignedTo/$count' : 'appRoleAssignedTo';
  if (first === 'servicePrincipals') return 'servicePrincipals/{id}';
  return 'unknown';
}

function isDeltaSegment(segment: string): boolean {
  return /^(microsoft\.graph\.)?delta(\(\))?$/.test(segment);
}

/** A plain GET returns the same default properties as delta without `$select`. */
const USER_GET_DEFAULT: readonly string[] = DEFAULT_USER_DELTA_SELECT;
const GROUP_GET_DEFAULT = ['deletedDateTime', 'classification', 'createdDateTime', 'description', 'displayName', 'groupTypes', 'mail', 'mailEnabled', 'mailNickname', 'securityEnabled'];
const GROUP_READABLE = new Set([...GROUP_PROPERTIES, 'deletedDateTime', 'classification']);

class QueryError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function handleGraphRequest(ctx: GraphApiContext, req: IncomingMessage, res: ServerResponse, url: URL, segments: string[], ids: RequestIds): void {
  try {
    if (req.method !== 'GET') throw new QueryError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
    const query = queryOptions(url);
    const [first, second, third, fourth, fifth] = segments;
    if ((first === 'users' || first === 'groups') && second !== undefined && isDeltaSegment(second) && third === undefined) {
      return delta(ctx, req, res, first, query, ids);
    }
    if (first === 'users' && second === undefined) return listUsers(ctx, req, res, query, ids);
    if (first === 'users' && second !== undefined && third === undefined) return getUser(ctx, res, second, query, ids);
    if (first === 'users' && second !== undefined && third === 'manager' && fourth === undefined) return getManager(ctx, res, second, query, ids);
    if (first === 'groups' && second !== undefined && third === undefined) return getGroup(ctx, res, second, query, ids);
    if (first === 'groups' && second !== undefined && third === 'members' && fifth === undefined) {
      return listMembers(ctx, req, res, second, fourth, query, ids);
    }
    if (first === 'servicePrincipals' && second !== undefined && third === undefined) return getServicePrincipal(ctx, res, second, query, ids);
    if (first === 'servicePrincipals' && second !== undefined && third === 'appRoleAssignedTo' && fifth === undefined) {
      return appRoleAssignedTo(ctx, req, res, second, fourth, query, ids);
    }
    const unknown = segments.find((s, i) => i > 0 || !['users', 'groups', 'servicePrincipals'].includes(s)) ?? segments[0] ?? '';
    throw new QueryError(400, 'BadRequest', `Resource not found for the segment '${unknown}'.`);
  } catch (err) {
    if (err instanceof QueryError) return sendGraphError(res, ids, err.status, err.code, err.message, err.headers);
    throw err;
  }
}

// ---- delta ----------------------------------------------------------------------------------------------------

const ID_FILTER = /^\s*id\s+eq\s+'([0-9a-fA-F-]{36})'\s*((\s+or\s+id\s+eq\s+'[0-9a-fA-F-]{36}'\s*)*)$/i;

function parseIdFilter(filter: string): string[] {
  if (!ID_FILTER.test(filter)) {
    throw new QueryError(400, 'Request_UnsupportedQuery', 'Unsupported query: delta supports only $filter=id eq \'{id}\' or id eq \'{id}\'.');
  }
  const ids = [...filter.matchAll(/'([0-9a-fA-F-]{36})'/g)].map((m) => m[1]!.toLowerCase());
  if (ids.length > 50) throw new QueryError(400, 'Request_UnsupportedQuery', 'Unsupported query: at most 50 ids may be filtered.');
  return ids;
}

function selectSpec(resource: DeltaResource, select: string | null): SelectSpec {
  try {
    return parseSelect(resource, select);
  } catch (err) {
    throw new QueryError(400, 'Request_BadRequest', (err as Error).message);
  }
}

function syncStateNotFound(): QueryError {
  return new QueryError(400, 'syncStateNotFound', 'The sync state generation is not found. The delta token is expired and data must be synchronized again.');
}

function delta(ctx: GraphApiContext, req: IncomingMessage, res: ServerResponse, resource: DeltaResource, query: Map<string, string>, ids: RequestIds): void {
  if (query.has('$expand')) throw new QueryError(400, 'Request_UnsupportedQuery', 'Unsupported query: $expand is not supported on delta.');
  const skipToken = query.get('$skiptoken');
  const deltaToken = query.get('$deltatoken');
  const select = query.get('$select') ?? null;
  let state: RoundState;
  let firstPage = false;
  const fresh = (): RoundState => {
    const filter = query.get('$filter');
    const s: RoundState = { r: resource, ep: ctx.tenant.deltaEpoch, iat: Date.now(), sel: select, ph: 'i', p: 0, m: 0, f: ctx.tenant.seq, e: 0 };
    if (filter !== undefined) s.ids = parseIdFilter(filter);
    return s;
  };
  if (skipToken !== undefined) {
    if (select !== null) throw new QueryError(400, 'Request_UnsupportedQuery', 'Unsupported query: $select cannot be combined with $skiptoken; use the nextLink as returned.');
    state = validToken(ctx, skipToken, resource, ['i', 'c']);
  } else if (deltaToken !== undefined && deltaToken.toLowerCase() === 'latest') {
    // "Sync from now": no objects, only a deltaLink for the current state.
    const latest: RoundState = { ...fresh(), ph: 'd' };
    selectSpec(resource, latest.sel);
    return sendDeltaPage(ctx, res, resource, latest, { items: [], delta: latest }, true, ids);
  } else if (deltaToken !== undefined && deltaToken !== '') {
    state = validToken(ctx, deltaToken, resource, ['d']);
    if (ctx.drawResync()) {
      throw new QueryError(410, 'resyncRequired', 'Resync is required.', { Location: `${ctx.baseUrl}/v1.0/${resource}/delta?$deltatoken=` });
    }
    // Some Entra resources let a deltaLink change the tracked properties; the simulator allows it.
    if (select !== null) state = { ...state, sel: select };
    firstPage = true;
  } else {
    state = fresh();
    firstPage = true;
  }
  const spec = selectSpec(resource, state.sel);
  const { minimal, maxPageSize } = preferences(req);
  const pageSize = Math.min(ctx.pageSize, maxPageSize ?? Infinity);
  const page = deltaPage(ctx.tenant, state, spec, {
    pageSize,
    membersPerPage: Math.max(1, Math.min(ctx.membersPerPage, maxPageSize !== undefined ? Math.ceil(maxPageSize * 2.5) : Infinity)),
    minimal,
    forceEmpty: ctx.drawEmptyPage(),
  });
  sendDeltaPage(ctx, res, resource, state, page, firstPage, ids, minimal);
}

function validToken(ctx: GraphApiContext, token: string, resource: DeltaResource, phases: RoundState['ph'][]): RoundState {
  const state = ctx.codec.decode<RoundState>(token);
  if (!state || state.r !== resource || !phases.includes(state.ph)) {
    throw new QueryError(400, 'Request_BadRequest', 'Badly formed token.');
  }
  if (state.ep !== ctx.tenant.deltaEpoch || Date.now() - state.iat > ctx.deltaTokenMaxAgeSeconds * 1000) throw syncStateNotFound();
  return state;
}

function sendDeltaPage(
  ctx: GraphApiContext,
  res: ServerResponse,
  resource: DeltaResource,
  state: RoundState,
  page: ReturnType<typeof deltaPage>,
  firstPage: boolean,
  ids: RequestIds,
  minimal = false,
): void {
  const list = firstPage && state.sel !== null ? `(${selectSpec(resource, state.sel).contextList})` : '';
  const body: Record<string, unknown> = { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#${resource}${list}` };
  if (page.next) body['@odata.nextLink'] = `${ctx.baseUrl}/v1.0/${resource}/delta?$skiptoken=${ctx.codec.encode(page.next)}`;
  else body['@odata.deltaLink'] = `${ctx.baseUrl}/v1.0/${resource}/delta?$deltatoken=${ctx.codec.encode({ ...page.delta!, iat: Date.now() })}`;
  body.value = page.items;
  sendGraphJson(res, ids, 200, body, minimal ? { 'Preference-Applied': 'return=minimal' } : {});
}

// ---- collections ----------------------------------------------------------------------------------------------

interface CollectionToken {
  k: string;
  p: number;
}

function pageSizeFor(ctx: GraphApiContext, req: IncomingMessage, query: Map<string, string>): { size: number; top: string | undefined } {
  const top = query.get('$top');
  if (top !== undefined) {
    const n = Number(top);
    if (!Number.isInteger(n) || n < 1 || n > 999) {
      throw new QueryError(400, 'Request_BadRequest', `Invalid page size specified: '${top}'. Must be between 1 and 999 inclusive.`);
    }
    return { size: n, top };
  }
  const { maxPageSize } = preferences(req);
  return { size: Math.min(ctx.collectionPageSize, maxPageSize ?? Infinity, 999), top: undefined };
}

function collectionStart(ctx: GraphApiContext, query: Map<string, string>, kind: string): number {
  const token = query.get('$skiptoken');
  if (token === undefined) return 0;
  const state = ctx.codec.decode<CollectionToken>(token);
  if (!state || state.k !== kind) throw new QueryError(400, 'Request_BadRequest', 'Badly formed token.');
  return state.p;
}

function nextLink(ctx: GraphApiContext, path: string, query: Map<string, string>, top: string | undefined, kind: string, position: number): string {
  const params: string[] = [];
  if (top !== undefined) params.push(`$top=${top}`);
  const select = query.get('$select');
  if (select !== undefined) params.push(`$select=${encodeURIComponent(select)}`);
  params.push(`$skiptoken=${ctx.codec.encode({ k: kind, p: position } satisfies CollectionToken)}`);
  return `${ctx.baseUrl}/v1.0/${path}?${params.join('&')}`;
}

function parseGetSelect(query: Map<string, string>, known: ReadonlySet<string>, typeName: string, defaults: readonly string[]): string[] {
  const select = query.get('$select');
  if (select === undefined) return [...defaults];
  const names = select.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const name of names) {
    if (!known.has(name) && !(typeName === 'user' && /^extension_[0-9a-f]{32}_\w+$/i.test(name))) {
      throw new QueryError(400, 'Request_BadRequest', `Could not find a property named '${name}' on type 'microsoft.graph.${typeName}'.`);
    }
  }
  return names.filter((n) => n !== 'id' && n !== 'manager' && n !== 'members');
}

/** A plain (non-delta) read: selected properties, unset ones as null (graph-samples/23). */
function projectForGet(data: Record<string, unknown>, properties: readonly string[], odataType?: string): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  if (odataType) item['@odata.type'] = odataType;
  item.id = data.id;
  for (const p of properties) item[p] = data[p] ?? (p === 'businessPhones' || p === 'groupTypes' ? [] : null);
  return item;
}

const USER_READABLE = new Set([...USER_PROPERTIES]);

function listUsers(ctx: GraphApiContext, req: IncomingMessage, res: ServerResponse, query: Map<string, string>, ids: RequestIds): void {
  if (query.has('$filter') || query.has('$search') || query.has('$orderby')) {
    throw new QueryError(400, 'Request_UnsupportedQuery', 'The simulator supports only $select, $top and paging on /users.');
  }
  const properties = parseGetSelect(query, USER_READABLE, 'user', USER_GET_DEFAULT);
  const { size, top } = pageSizeFor(ctx, req, query);
  const list = ctx.tenant.userList;
  let p = collectionStart(ctx, query, 'users');
  const value: Record<string, unknown>[] = [];
  while (p < list.length && value.length < size) {
    const entry = list[p++]!;
    if (entry.state === 'live') value.push(projectForGet(entry.data as unknown as Record<string, unknown>, properties));
  }
  const body: Record<string, unknown> = { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#users` };
  if (p < list.length) body['@odata.nextLink'] = nextLink(ctx, 'users', query, top, 'users', p);
  body.value = value;
  sendGraphJson(res, ids, 200, body);
}

function notFound(id: string): QueryError {
  return new QueryError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
}

function userOrThrow(ctx: GraphApiContext, id: string): UserEntry {
  const entry = ctx.tenant.liveUser(id);
  if (!entry) throw notFound(id);
  return entry;
}

function groupOrThrow(ctx: GraphApiContext, id: string): GroupEntry {
  const entry = ctx.tenant.liveGroup(id);
  if (!entry) throw notFound(id);
  return entry;
}

function getUser(ctx: GraphApiContext, res: ServerResponse, id: string, query: Map<string, string>, ids: RequestIds): void {
  const entry = userOrThrow(ctx, id);
  const properties = parseGetSelect(query, USER_READABLE, 'user', USER_GET_DEFAULT);
  const expand = query.get('$expand');
  if (expand !== undefined && expand !== 'manager') throw new QueryError(400, 'Request_BadRequest', `Could not find a navigation property named '${expand}'.`);
  const select = query.get('$select');
  const body: Record<string, unknown> = {
    '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#users${select !== undefined ? `(${select})` : ''}/$entity`,
    ...projectForGet(entry.data as unknown as Record<string, unknown>, properties),
  };
  if (expand === 'manager') {
    const manager = entry.data.manager ? ctx.tenant.liveUser(entry.data.manager) : undefined;
    if (manager) body.manager = projectForGet(manager.data as unknown as Record<string, unknown>, USER_GET_DEFAULT, '#microsoft.graph.user');
  }
  sendGraphJson(res, ids, 200, body);
}

function getManager(ctx: GraphApiContext, res: ServerResponse, id: string, query: Map<string, string>, ids: RequestIds): void {
  const entry = userOrThrow(ctx, id);
  const manager = entry.data.manager ? ctx.tenant.liveUser(entry.data.manager) : undefined;
  if (!manager) throw notFound('manager');
  const properties = parseGetSelect(query, USER_READABLE, 'user', USER_GET_DEFAULT);
  sendGraphJson(res, ids, 200, {
    '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#directoryObjects/$entity`,
    ...projectForGet(manager.data as unknown as Record<string, unknown>, properties, '#microsoft.graph.user'),
  });
}

function groupData(entry: GroupEntry): Record<string, unknown> {
  return { ...(entry.data as unknown as Record<string, unknown>), deletedDateTime: null, classification: null };
}

function getGroup(ctx: GraphApiContext, res: ServerResponse, id: string, query: Map<string, string>, ids: RequestIds): void {
  const entry = groupOrThrow(ctx, id);
  const properties = parseGetSelect(query, GROUP_READABLE, 'group', GROUP_GET_DEFAULT);
  const select = query.get('$select');
  sendGraphJson(res, ids, 200, {
    '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#groups${select !== undefined ? `(${select})` : ''}/$entity`,
    ...projectForGet(groupData(entry), properties),
  });
}

function listMembers(
  ctx: GraphApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  groupId: string,
  cast: string | undefined,
  query: Map<string, string>,
  ids: RequestIds,
): void {
  const group = groupOrThrow(ctx, groupId);
  if (cast !== undefined && cast !== 'microsoft.graph.user' && cast !== 'microsoft.graph.group') {
    throw new QueryError(400, 'Request_BadRequest', `Resource not found for the segment '${cast}'.`);
  }
  const only = cast === 'microsoft.graph.user' ? 'user' : cast === 'microsoft.graph.group' ? 'group' : undefined;
  const select = query.get('$select');
  const names = select === undefined ? undefined : select.split(',').map((s) => s.trim()).filter((s) => s !== '' && s !== 'id');
  const { size, top } = pageSizeFor(ctx, req, query);
  const kind = `members:${groupId}:${only ?? ''}`;
  let p = collectionStart(ctx, query, kind);
  const value: Record<string, unknown>[] = [];
  while (p < group.members.length && value.length < size) {
    const memberId = group.members[p++];
    if (memberId === undefined) continue;
    const member = ctx.tenant.entry(memberId);
    if (!member || (only && member.kind !== only)) continue;
    if (member.kind === 'user') {
      value.push(projectForGet(member.data as unknown as Record<string, unknown>, names ?? USER_GET_DEFAULT, '#microsoft.graph.user'));
    } else {
      value.push(projectForGet(groupData(member), names ?? GROUP_GET_DEFAULT, '#microsoft.graph.group'));
    }
  }
  const body: Record<string, unknown> = { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#${only === 'user' ? 'users' : only === 'group' ? 'groups' : 'directoryObjects'}` };
  if (p < group.members.length) body['@odata.nextLink'] = nextLink(ctx, `groups/${groupId}/members${cast ? `/${cast}` : ''}`, query, top, kind, p);
  body.value = value;
  sendGraphJson(res, ids, 200, body);
}

// ---- the enterprise app -------------------------------------------------------------------------------------

function spOrThrow(ctx: GraphApiContext, id: string): void {
  if (id.toLowerCase() !== ctx.servicePrincipal.id) throw notFound(id);
}

function getServicePrincipal(ctx: GraphApiContext, res: ServerResponse, id: string, query: Map<string, string>, ids: RequestIds): void {
  spOrThrow(ctx, id);
  const sp = ctx.servicePrincipal;
  // The default-access role (00000000-…) is implicit: Graph never lists it in appRoles.
  const entity: Record<string, unknown> = {
    id: sp.id,
    appId: sp.appId,
    displayName: sp.displayName,
    accountEnabled: true,
    servicePrincipalType: 'Application',
    appRoleAssignmentRequired: true,
    appRoles: sp.appRoles.map((r) => ({ ...r, allowedMemberTypes: [...r.allowedMemberTypes] })),
  };
  const select = query.get('$select');
  if (select === undefined) {
    sendGraphJson(res, ids, 200, { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#servicePrincipals/$entity`, ...entity });
    return;
  }
  // With $select Graph returns exactly the selected properties (no id unless asked for).
  const names = select.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const body: Record<string, unknown> = { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#servicePrincipals(${names.join(',')})/$entity` };
  for (const name of names) {
    if (!(name in entity)) throw new QueryError(400, 'Request_BadRequest', `Could not find a property named '${name}' on type 'microsoft.graph.servicePrincipal'.`);
    body[name] = entity[name];
  }
  sendGraphJson(res, ids, 200, body);
}

const ASSIGNMENT_PROPERTIES = new Set(['id', 'deletedDateTime', 'appRoleId', 'createdDateTime', 'principalDisplayName', 'principalId', 'principalType', 'resourceDisplayName', 'resourceId']);

function appRoleAssignedTo(
  ctx: GraphApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  spId: string,
  tail: string | undefined,
  query: Map<string, string>,
  ids: RequestIds,
): void {
  spOrThrow(ctx, spId);
  if (tail === '$count') return sendText(res, ids, 200, String(ctx.tenant.assignmentCount));
  if (tail !== undefined) throw new QueryError(400, 'BadRequest', `Resource not found for the segment '${tail}'.`);
  const select = query.get('$select');
  const names = select?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const name of names ?? []) {
    if (!ASSIGNMENT_PROPERTIES.has(name)) {
      throw new QueryError(400, 'Request_BadRequest', `Could not find a property named '${name}' on type 'microsoft.graph.appRoleAssignment'.`);
    }
  }
  const { size, top } = pageSizeFor(ctx, req, query);
  const kind = 'appRoleAssignedTo';
  let p = collectionStart(ctx, query, kind);
  const value: Record<string, unknown>[] = [];
  while (p < ctx.tenant.assignmentSlots && value.length < size) {
    const assignment = ctx.tenant.assignmentAt(p++);
    if (!assignment) continue;
    if (!names) value.push({ ...assignment });
    else {
      const item: Record<string, unknown> = {};
      for (const n of names) item[n] = assignment[n as keyof typeof assignment];
      item.id = assignment.id;
      value.push(item);
    }
  }
  const body: Record<string, unknown> = {
    '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#servicePrincipals('${ctx.servicePrincipal.id}')/appRoleAssignedTo`,
  };
  if (p < ctx.tenant.assignmentSlots) body['@odata.nextLink'] = nextLink(ctx, `servicePrincipals/${ctx.servicePrincipal.id}/appRoleAssignedTo`, query, top, kind, p);
  body.value = value;
  sendGraphJson(res, ids, 200, body);
}
