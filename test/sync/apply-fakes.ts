// Test doubles for apply and cycle tests: an in-memory TargetConnector that records every call and can be
// told to fail or hang (to simulate a crash mid-request), and an in-memory SourceStore.
import {
  TargetError, type AttributeChange, type BulkOperation, type BulkResult, type MatchCriterion, type ObjectType,
  type TargetAttributes, type TargetCapabilities, type TargetConnector, type TargetObject,
} from '../../src/targets/connector.js';
import type { SourceGroupRecord, SourceMember, SourceStore, SourceUserRecord } from '../../src/source/types.js';

export interface FakeCall { method: string; type?: ObjectType; id?: string; args?: unknown }

/** Decides, before a call runs, whether it fails (throw), hangs forever ('hang') or lands then hangs ('land-then-hang'). */
export type Interceptor = (call: FakeCall) => void | 'hang' | 'land-then-hang';

export class FakeConnector implements TargetConnector {
  readonly name = 'fake';
  readonly kind = 'scim' as const;
  readonly objects = { user: new Map<string, TargetAttributes>(), group: new Map<string, TargetAttributes>() };
  readonly members = new Map<string, Set<string>>();
  readonly calls: FakeCall[] = [];
  intercept: Interceptor | undefined;
  private nextId = 1;

  constructor(private readonly caps: Partial<TargetCapabilities> = {}) {}

  /** Calls that change something on the target. */
  mutations(method?: string): FakeCall[] {
    return this.calls.filter((c) => ['create', 'update', 'setActive', 'delete', 'addMembers', 'removeMembers', 'bulk'].includes(c.method) && (!method || c.method === method));
  }

  seed(type: ObjectType, attributes: TargetAttributes): string {
    const id = `${type[0]}${this.nextId++}`;
    this.objects[type].set(id, { ...attributes });
    if (type === 'group') this.members.set(id, new Set());
    return id;
  }

  private async gate(call: FakeCall, work: () => unknown): Promise<unknown> {
    this.calls.push(call);
    const verdict = this.intercept?.(call);
    if (verdict === 'hang') return new Promise(() => undefined);
    const result = work();
    if (verdict === 'land-then-hang') return new Promise(() => undefined);
    return result;
  }

  async testConnection() { return { ok: true, details: [] }; }
  async capabilities(): Promise<TargetCapabilities> {
    return {
      patch: true, bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 }, filter: { supported: true, maxResults: 100 },
      etag: false, list: false, ...this.caps,
    };
  }

  async find(type: ObjectType, match: MatchCriterion): Promise<TargetObject | null> {
    return this.gate({ method: 'find', type, args: match }, () => {
      const hits = [...this.objects[type]].filter(([, a]) => eq(a[match.path], match.value));
      if (hits.length > 1) throw new TargetError({ kind: 'conflict', message: 'several matches', target: 'fake' });
      const hit = hits[0];
      return hit ? { id: hit[0], attributes: { ...hit[1] } } : null;
    }) as Promise<TargetObject | null>;
  }

  async *list(type: ObjectType): AsyncIterable<TargetObject> {
    this.calls.push({ method: 'list', type });
    for (const [id, attributes] of this.objects[type]) yield { id, attributes: { ...attributes } };
  }

  async get(type: ObjectType, id: string): Promise<TargetObject | null> {
    return this.gate({ method: 'get', type, id }, () => {
      const a = this.objects[type].get(id);
      return a ? { id, attributes: { ...a } } : null;
    }) as Promise<TargetObject | null>;
  }

  async create(type: ObjectType, attributes: TargetAttributes): Promise<TargetObject> {
    return this.gate({ method: 'create', type, args: attributes }, () => this.doCreate(type, attributes)) as Promise<TargetObject>;
  }

  private doCreate(type: ObjectType, attributes: TargetAttributes): TargetObject {
    const unique = type === 'user' ? 'userName' : 'displayName';
    if ([...this.objects[type].values()].some((a) => eq(a[unique], attributes[unique] as string))) {
      throw new TargetError({ kind: 'conflict', message: `${unique} already exists`, target: 'fake', status: 409, scimType: 'uniqueness' });
    }
    const id = this.seed(type, attributes);
    return { id, attributes: { ...attributes } };
  }

  async update(type: ObjectType, id: string, changes: AttributeChange[], desired: TargetAttributes): Promise<void> {
    await this.gate({ method: 'update', type, id, args: { changes, desired } }, () => this.doUpdate(type, id, changes));
  }

  private doUpdate(type: ObjectType, id: string, changes: AttributeChange[]): void {
    const a = this.objects[type].get(id);
    if (!a) throw new TargetError({ kind: 'notFound', message: `${type} ${id} not found`, target: 'fake', status: 404 });
    for (const c of changes) { if (c.after === null || c.after === undefined) delete a[c.path]; else a[c.path] = c.after; }
  }

  async setActive(id: string, active: boolean): Promise<void> {
    await this.gate({ method: 'setActive', type: 'user', id, args: active }, () => this.doUpdate('user', id, [{ path: 'active', before: !active, after: active }]));
  }

  async delete(type: ObjectType, id: string): Promise<void> {
    await this.gate({ method: 'delete', type, id }, () => {
      if (!this.objects[type].delete(id)) throw new TargetError({ kind: 'notFound', message: 'gone', target: 'fake', status: 404 });
    });
  }

  async addMembers(groupId: string, memberIds: string[]): Promise<void> {
    await this.gate({ method: 'addMembers', type: 'group', id: groupId, args: memberIds }, () => {
      const set = this.members.get(groupId);
      if (!set) throw new TargetError({ kind: 'notFound', message: 'no group', target: 'fake', status: 404 });
      for (const m of memberIds) set.add(m);
    });
  }

  async removeMembers(groupId: string, memberIds: string[]): Promise<void> {
    await this.gate({ method: 'removeMembers', type: 'group', id: groupId, args: memberIds }, () => {
      for (const m of memberIds) this.members.get(groupId)?.delete(m);
    });
  }

  async listMembers(groupId: string): Promise<string[]> {
    return this.gate({ method: 'listMembers', type: 'group', id: groupId }, () => [...(this.members.get(groupId) ?? [])]) as Promise<string[]>;
  }

  async bulk(operations: BulkOperation[]): Promise<BulkResult[]> {
    return this.gate({ method: 'bulk', args: operations.length }, () => operations.map((op): BulkResult => {
      try {
        if (op.op === 'create') return { ref: op.ref, ok: true, object: this.doCreate(op.type, op.attributes) };
        if (op.op === 'update') { this.doUpdate(op.type, op.id, op.changes); return { ref: op.ref, ok: true }; }
        this.objects[op.type].delete(op.id);
        return { ref: op.ref, ok: true };
      } catch (err) {
        return { ref: op.ref, ok: false, error: err as TargetError };
      }
    })) as Promise<BulkResult[]>;
  }

  async close(): Promise<void> {}
}

function eq(a: unknown, b: unknown): boolean {
  return typeof a === 'string' && typeof b === 'string' ? a.toLowerCase() === b.toLowerCase() : a === b;
}

export function targetError(kind: TargetError['kind'], message: string = kind, status?: number): TargetError {
  return new TargetError({ kind, message, target: 'fake', ...(status ? { status } : {}) });
}

/** A SourceStore over plain arrays: every put gets the next seq, like the real one. */
export class MemorySourceStore implements SourceStore {
  private seq = 0;
  readonly users = new Map<string, SourceUserRecord>();
  readonly groups = new Map<string, SourceGroupRecord>();
  readonly memberships = new Map<string, SourceMember[]>();

  currentSeq(): number { return this.seq; }

  putUser(id: string, attributes: Record<string, unknown>, extra: Partial<SourceUserRecord> = {}): SourceUserRecord {
    const previous = this.users.get(id);
    const record: SourceUserRecord = {
      id, attributes: { id, ...previous?.attributes, ...attributes }, removed: null, assigned: true, appRoleIds: [], ...extra, seq: ++this.seq,
    };
    this.users.set(id, record);
    return record;
  }

  putGroup(id: string, attributes: Record<string, unknown>, members: string[] = [], extra: Partial<SourceGroupRecord> = {}): SourceGroupRecord {
    const previous = this.groups.get(id);
    const record: SourceGroupRecord = { id, attributes: { id, ...previous?.attributes, ...attributes }, removed: null, assigned: true, ...extra, seq: ++this.seq };
    this.groups.set(id, record);
    this.memberships.set(id, members.map((m) => ({ id: m, type: 'user' })));
    return record;
  }

  *changedUsers(sinceSeq: number) { yield* [...this.users.values()].filter((u) => u.seq > sinceSeq).sort((a, b) => a.seq - b.seq); }
  *changedGroups(sinceSeq: number) { yield* [...this.groups.values()].filter((g) => g.seq > sinceSeq).sort((a, b) => a.seq - b.seq); }
  *allUsers() { yield* this.users.values(); }
  *allGroups() { yield* this.groups.values(); }
  user(id: string) { return this.users.get(id); }
  userByPrincipalName(upn: string) { return [...this.users.values()].find((u) => u.attributes.userPrincipalName === upn); }
  group(id: string) { return this.groups.get(id); }
  groupMembers(groupId: string): SourceMember[] { return this.memberships.get(groupId) ?? []; }
}
