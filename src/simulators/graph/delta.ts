// users/delta and groups/delta pages, computed from the tenant's arrays (initial round) or its change log
// (incremental round). Rounds keep their state in the opaque skip/delta token, so a request costs work in
// proportion to the page it returns, never to the tenant.
//
// What a round returns (graph.md §1):
// - initial: every object as it is now (selected, never-set properties left out), purged objects as
//   `@removed: deleted`, soft-deleted users as `@removed: changed`; groups with `members@delta` listing their
//   current direct members, a big group split over several pages (the group repeated with each slice).
// - incremental: each object changed since the token's seq, once, coalescing its changes: new or restored
//   objects in full, others with every selected set property (default) or only the changed ones
//   (`Prefer: return=minimal`), cleared properties as explicit null; `manager@delta` / `members@delta` carry only
//   the relationship changes, removals with `@removed: deleted`. Changes to unselected properties do not show.
// The deltaLink of a round records the seq at which the round started, so anything that changed while the
// round was being paged is replayed next round (Graph allows replays; clients upsert).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ChangeEntry, DirectoryEntry, GroupEntry, MemberChange, Tenant, UserEntry } from './tenant.js';
import { GROUP_PROPERTIES, USER_PROPERTIES } from './tenant.js';

export type DeltaResource = 'users' | 'groups';

/** Returned without `$select` (user-delta.md); `id` always comes back. */
export const DEFAULT_USER_DELTA_SELECT = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
] as const;

/** Without `$select` group delta returns the group's default properties and `members@delta`. */
export const DEFAULT_GROUP_DELTA_SELECT: readonly string[] = [...GROUP_PROPERTIES].filter((name) => name !== 'id');

/** The state of a round, carried inside its tokens. Short keys keep the URLs short. */
export interface RoundState {
  /** Resource. */
  r: DeltaResource;
  /** deltaEpoch of the tenant when issued; a smaller one means expired. */
  ep: number;
  /** Issued at (epoch ms). */
  iat: number;
  /** `$select` as requested (comma list), or null for the default set. */
  sel: string | null;
  /** `$filter=id eq …` ids, if any. */
  ids?: string[];
  /** Phase: `i` initial scan over the objects, `c` change-log scan, `d` a deltaLink not yet started. */
  ph: 'i' | 'c' | 'd';
  /** Position: object index (initial), log index (changes). */
  p: number;
  /** Member offset inside the object at `p` (a big group split over pages). */
  m: number;
  /** Changes with seq > f belong to this round (for `i`: the seq when the round started, which the deltaLink keeps). */
  f: number;
  /** Changes with seq <= e belong to this round (`c` only). */
  e: number;
}

/** Opaque page tokens: base64url JSON plus a truncated HMAC, so a token this simulator did not issue is refused. */
export class PageTokenCodec {
  constructor(private readonly key: Buffer) {}

  encode(state: object): string {
    const payload = Buffer.from(JSON.stringify(state)).toString('base64url');
    return payload + this.sign(payload);
  }

  /** The state, or undefined when the token was not issued by this simulator. */
  decode<T>(token: string): T | undefined {
    if (token.length <= 22) return undefined;
    const payload = token.slice(0, -22);
    const given = Buffer.from(token.slice(-22));
    const expected = Buffer.from(this.sign(payload));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as T;
    } catch {
      return undefined;
    }
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url').slice(0, 22);
  }
}

export interface SelectSpec {
  /** Scalar properties to return, in request order, without `id` and navigation properties. */
  properties: string[];
  /** `manager` (users) or `members` (groups) selected. */
  navigation: boolean;
  /** The `$select` list for `@odata.context`, or null for the default set. */
  contextList: string | null;
}

/** Parse `$select` for a delta resource; throws a message naming the first unknown property. */
export function parseSelect(resource: DeltaResource, select: string | null): SelectSpec {
  const known = resource === 'users' ? USER_PROPERTIES : GROUP_PROPERTIES;
  const navigationName = resource === 'users' ? 'manager' : 'members';
  const requested =
    select === null
      ? [...(resource === 'users' ? DEFAULT_USER_DELTA_SELECT : DEFAULT_GROUP_DELTA_SELECT)]
      : select
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
  const properties: string[] = [];
  let navigation = false;
  for (const name of requested) {
    if (!known.has(name) && !(resource === 'users' && /^extension_[0-9a-f]{32}_\w+$/i.test(name))) {
      throw new Error(`Could not find a property named '${name}' on type 'microsoft.graph.${resource === 'users' ? 'user' : 'group'}'.`);
    }
    if (name === navigationName) navigation = true;
    else if (name !== 'id' && !properties.includes(name)) properties.push(name);
  }
  return { properties, navigation, contextList: select === null ? null : requested.join(',') };
}

export interface PageOptions {
  pageSize: number;
  membersPerPage: number;
  minimal: boolean;
  /** Serve this page empty (fault injection); the nextLink points at the same position. */
  forceEmpty: boolean;
}

export interface DeltaPage {
  items: Record<string, unknown>[];
  /** State for the nextLink, or undefined when the round is complete. */
  next?: RoundState;
  /** State for the deltaLink when the round is complete. */
  delta?: RoundState;
}

const USER_TYPE = '#microsoft.graph.user';
const GROUP_TYPE = '#microsoft.graph.group';
const REMOVED_DELETED = { reason: 'deleted' } as const;
const REMOVED_CHANGED = { reason: 'changed' } as const;

function odataType(kind: 'user' | 'group'): string {
  return kind === 'user' ? USER_TYPE : GROUP_TYPE;
}

/** First index in `log` whose seq is greater than `seq`. */
export function firstAfter(log: readonly ChangeEntry[], seq: number): number {
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (log[mid]!.seq <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A round's coalesced view of one object's changes. */
interface Coalesced {
  changed: Set<string>;
  full: boolean;
  managerBefore: string | null | undefined;
  members: MemberChange[];
}

function coalesce(last: ChangeEntry, fromSeq: number): Coalesced {
  const chain: ChangeEntry[] = [];
  for (let x: ChangeEntry | undefined = last; x && x.seq > fromSeq; x = x.prev) chain.push(x);
  chain.reverse();
  const changed = new Set<string>();
  let full = false;
  let managerBefore: string | null | undefined;
  const net = new Map<string, MemberChange>();
  for (const x of chain) {
    for (const p of x.props) changed.add(p);
    if (x.full) full = true;
    if (x.props.includes('manager') && managerBefore === undefined) managerBefore = x.managerBefore ?? null;
    for (const m of x.members ?? []) {
      net.delete(m.id); // the last change to a membership wins, listed where it last happened
      net.set(m.id, m);
    }
  }
  return { changed, full, managerBefore, members: [...net.values()] };
}

function projectProperties(
  data: Record<string, unknown>,
  spec: SelectSpec,
  changed: Set<string> | undefined,
  minimal: boolean,
): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  for (const p of spec.properties) {
    const value = data[p];
    if (changed && minimal) {
      if (changed.has(p)) item[p] = value ?? null;
    } else if (value !== null && value !== undefined) {
      item[p] = value;
    } else if (changed?.has(p)) {
      item[p] = null; // cleared: the only way a client learns a value went away
    }
  }
  item.id = data.id;
  return item;
}

function memberRef(id: string, type: 'user' | 'group', removed: boolean): Record<string, unknown> {
  return removed ? { '@odata.type': odataType(type), id, '@removed': REMOVED_DELETED } : { '@odata.type': odataType(type), id };
}

/** Build one delta page. */
export function deltaPage(tenant: Tenant, state: RoundState, spec: SelectSpec, options: PageOptions): DeltaPage {
  if (options.forceEmpty) return { items: [], next: state };
  return state.ph === 'i' ? initialPage(tenant, state, spec, options) : changesPage(tenant, state, spec, options);
}

/** Upper bound on objects examined per request, so pages of skipped entries stay cheap (and may come back empty). */
function scanLimit(options: PageOptions): number {
  return Math.max(1000, options.pageSize * 10);
}

function initialPage(tenant: Tenant, state: RoundState, spec: SelectSpec, options: PageOptions): DeltaPage {
  const items: Record<string, unknown>[] = [];
  let { p, m } = state;
  let refs = 0;
  let scanned = 0;
  const list: readonly DirectoryEntry[] = state.r === 'users' ? tenant.userList : tenant.groupList;
  const count = state.ids ? state.ids.length : list.length;
  const limit = scanLimit(options);
  while (p < count) {
    if (items.length >= options.pageSize || refs >= options.membersPerPage || scanned >= limit) {
      return { items, next: { ...state, p, m } };
    }
    scanned++;
    const entry = state.ids ? tenant.entry(state.ids[p]!) : list[p];
    if (!entry || (entry.kind === 'user') !== (state.r === 'users')) {
      p++;
      continue;
    }
    if (entry.state === 'purged') {
      items.push({ id: entry.data.id, '@removed': REMOVED_DELETED });
    } else if (entry.state === 'softDeleted') {
      items.push({ id: entry.data.id, '@removed': REMOVED_CHANGED });
    } else if (entry.kind === 'user') {
      items.push(userItem(entry, spec, undefined, false));
    } else if (spec.navigation) {
      const slice: Record<string, unknown>[] = [];
      let pos = m;
      while (pos < entry.members.length && refs + slice.length < options.membersPerPage) {
        const id = entry.members[pos++];
        if (id !== undefined) slice.push(memberRef(id, tenant.memberType(id) ?? 'user', false));
      }
      if (m === 0 || slice.length > 0) {
        const item = projectProperties(entry.data as unknown as Record<string, unknown>, spec, undefined, false);
        if (slice.length > 0) item['members@delta'] = slice;
        items.push(item);
        refs += slice.length;
      }
      if (pos < entry.members.length) {
        m = pos;
        continue; // the page is full of members; the loop head returns it with this group's offset
      }
    } else {
      items.push(projectProperties(entry.data as unknown as Record<string, unknown>, spec, undefined, false));
    }
    p++;
    m = 0;
  }
  return { items, delta: deltaState(state, state.f) };
}

function userItem(
  entry: UserEntry,
  spec: SelectSpec,
  changes: Coalesced | undefined,
  minimal: boolean,
): Record<string, unknown> {
  const full = !changes || changes.full;
  const item = projectProperties(entry.data as unknown as Record<string, unknown>, spec, full ? undefined : changes.changed, minimal);
  if (!spec.navigation) return item;
  const manager = entry.data.manager;
  if (full) {
    if (manager) item['manager@delta'] = [memberRef(manager, 'user', false)];
  } else if (changes.changed.has('manager')) {
    if (manager) item['manager@delta'] = [memberRef(manager, 'user', false)];
    else if (changes.managerBefore) item['manager@delta'] = [memberRef(changes.managerBefore, 'user', true)];
  }
  return item;
}

function deltaState(state: RoundState, fromSeq: number): RoundState {
  const next: RoundState = { r: state.r, ep: state.ep, iat: Date.now(), sel: state.sel, ph: 'd', p: 0, m: 0, f: fromSeq, e: 0 };
  if (state.ids) next.ids = state.ids;
  return next;
}

function changesPage(tenant: Tenant, state: RoundState, spec: SelectSpec, options: PageOptions): DeltaPage {
  const log = state.r === 'users' ? tenant.userLog : tenant.groupLog;
  let { p, m, e } = state;
  if (state.ph === 'd') {
    // A deltaLink being followed: this round covers everything up to now.
    p = firstAfter(log, state.f);
    m = 0;
    e = tenant.seq;
  }
  const round: RoundState = { ...state, ph: 'c', e };
  const filter = state.ids ? new Set(state.ids) : undefined;
  const items: Record<string, unknown>[] = [];
  let refs = 0;
  let scanned = 0;
  const limit = scanLimit(options);
  while (p < log.length && log[p]!.seq <= e) {
    if (items.length >= options.pageSize || refs >= options.membersPerPage || scanned >= limit) {
      return { items, next: { ...round, p, m, iat: Date.now() } };
    }
    scanned++;
    const entry = log[p]!;
    // Only the object's last change inside the round is served; it speaks for the earlier ones.
    if (entry.nextSeq <= e || (filter && !filter.has(entry.target.data.id))) {
      p++;
      continue;
    }
    const target = entry.target;
    if (target.state === 'purged') {
      items.push({ id: target.data.id, '@removed': REMOVED_DELETED });
    } else if (target.state === 'softDeleted') {
      items.push({ id: target.data.id, '@removed': REMOVED_CHANGED });
    } else {
      const changes = coalesce(entry, state.f);
      if (target.kind === 'user') {
        const relevant = changes.full || spec.properties.some((x) => changes.changed.has(x)) || (spec.navigation && changes.changed.has('manager'));
        if (relevant) items.push(userItem(target, spec, changes, options.minimal));
      } else {
        const slice = groupChangeSlice(tenant, target, changes, spec, m, options.membersPerPage - refs, options.minimal);
        if (slice.item) {
          items.push(slice.item);
          refs += slice.refs;
        }
        if (slice.nextOffset !== undefined) {
          m = slice.nextOffset;
          continue;
        }
      }
    }
    p++;
    m = 0;
  }
  return { items, delta: deltaState(round, e) };
}

function groupChangeSlice(
  tenant: Tenant,
  group: GroupEntry,
  changes: Coalesced,
  spec: SelectSpec,
  offset: number,
  room: number,
  minimal: boolean,
): { item?: Record<string, unknown>; refs: number; nextOffset?: number } {
  const data = group.data as unknown as Record<string, unknown>;
  if (changes.full) {
    // A group created (or re-created) in this round: its current members, like an initial round.
    const current = group.members.filter((x): x is string => x !== undefined);
    const refs = spec.navigation ? current.slice(offset, offset + room).map((id) => memberRef(id, tenant.memberType(id) ?? 'user', false)) : [];
    const item = projectProperties(data, spec, undefined, false);
    if (refs.length > 0) item['members@delta'] = refs;
    const nextOffset = spec.navigation && offset + refs.length < current.length ? offset + refs.length : undefined;
    if (offset > 0 && refs.length === 0) return { refs: 0 };
    return { item, refs: refs.length, nextOffset };
  }
  const propsChanged = spec.properties.some((x) => changes.changed.has(x));
  const memberChanges = spec.navigation ? changes.members : [];
  if (!propsChanged && memberChanges.length === 0) return { refs: 0 };
  const slice = memberChanges.slice(offset, offset + room);
  if (offset > 0 && slice.length === 0) return { refs: 0 };
  const item = projectProperties(data, spec, changes.changed, minimal);
  if (slice.length > 0) item['members@delta'] = slice.map((c) => memberRef(c.id, c.type, !c.added));
  const end = offset + slice.length;
  return { item, refs: slice.length, nextOffset: end < memberChanges.length ? end : undefined };
}
