// The REST connector: TargetConnector for an app with a JSON API but no SCIM. Every operation is a configured
// request (method, path template, body template) and answers are read with JSON pointers. Auth, pacing,
// retries, dry run and error kinds come from the same HTTP layer as SCIM.
import {
  bulkOneByOne,
  TargetError,
  type AttributeChange,
  type BulkOperation,
  type BulkResult,
  type ConnectionReport,
  type MatchCriterion,
  type ObjectType,
  type TargetAttributes,
  type TargetCapabilities,
  type TargetConnector,
  type TargetObject,
} from '../connector.js';
import { TargetHttp, type HttpResponse, type TargetRequestStats } from '../http.js';
import type { ConnectorDeps } from '../scim/connector.js';
import type { RestGroupOperations, RestRequestOptions, RestTargetOptions, RestUserOperations } from './options.js';
import { jsonPointer, renderBody, renderPath, type TemplateVars } from './template.js';

type Operations = RestUserOperations & Partial<RestGroupOperations>;

function sameValue(actual: unknown, wanted: MatchCriterion['value']): boolean {
  if (typeof actual === 'string' && typeof wanted === 'string') return actual.toLowerCase() === wanted.toLowerCase();
  return actual === wanted;
}

export class RestConnector implements TargetConnector {
  readonly kind = 'rest' as const;
  private readonly http: TargetHttp;

  constructor(
    readonly name: string,
    private readonly options: RestTargetOptions,
    deps: ConnectorDeps = {},
  ) {
    this.http = new TargetHttp(options, { ...deps, target: name });
  }

  get stats(): TargetRequestStats {
    return this.http.stats;
  }

  private ops(type: ObjectType): Operations {
    return (type === 'user' ? this.options.operations.users : this.options.operations.groups) as Operations;
  }

  private operation(type: ObjectType, name: string, request: RestRequestOptions | undefined): RestRequestOptions {
    if (request) return request;
    throw new TargetError({
      kind: 'badRequest',
      target: this.name,
      message: `target ${this.name} has no operations.${type === 'user' ? 'users' : 'groups'}.${name} configured`,
    });
  }

  private async call(type: ObjectType, name: string, request: RestRequestOptions, vars: TemplateVars): Promise<HttpResponse> {
    const where = `operations.${type === 'user' ? 'users' : 'groups'}.${name}`;
    let path: string;
    try {
      path = renderPath(request.path, vars, where);
    } catch (err) {
      throw new TargetError({ kind: 'badRequest', target: this.name, message: (err as Error).message, cause: err });
    }
    const body = request.body === undefined ? undefined : renderBody(request.body, vars);
    return this.http.send({ method: request.method, path, ...(body !== undefined ? { body } : {}) });
  }

  /** One answer object → TargetObject, through the configured id pointer and attribute pointers. */
  private toObject(type: ObjectType, item: unknown, request?: RestRequestOptions): TargetObject | undefined {
    if (typeof item === 'string' || typeof item === 'number') return { id: String(item), attributes: {} };
    const ops = this.ops(type);
    const id = jsonPointer(item, request?.idPointer ?? ops.idPointer);
    if (id === undefined || id === null || id === '') return undefined;
    const attributes: TargetAttributes = {};
    for (const [path, pointer] of Object.entries(ops.attributes)) {
      const value = jsonPointer(item, pointer);
      if (value !== undefined) attributes[path] = value;
    }
    return { id: String(id), attributes };
  }

  private items(body: unknown, request: RestRequestOptions): unknown[] {
    const found = request.itemsPointer !== undefined ? jsonPointer(body, request.itemsPointer) : body;
    if (Array.isArray(found)) return found;
    if (found && typeof found === 'object') return [found];
    return [];
  }

  async capabilities(): Promise<TargetCapabilities> {
    const users = this.options.operations.users;
    return {
      patch: false,
      bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
      filter: { supported: Object.keys(users.lookup).length > 0, maxResults: users.list?.pageSize ?? 100 },
      etag: false,
      list: users.list !== undefined,
    };
  }

  async testConnection(): Promise<ConnectionReport> {
    const details = [`endpoint ${this.options.baseUrl}`, `auth: ${this.http.describeAuth()}`];
    const probe = this.options.healthPath;
    if (!probe) {
      details.push('no healthPath configured: nothing was sent');
      return { ok: true, details };
    }
    try {
      const res = await this.http.send({ method: 'GET', path: probe });
      details.push(`GET ${probe} answered HTTP ${res.status}`);
      return { ok: true, details };
    } catch (err) {
      details.push((err as Error).message);
      return { ok: false, details };
    }
  }

  async find(type: ObjectType, match: MatchCriterion): Promise<TargetObject | null> {
    const request = this.operation(type, `lookup.${match.path}`, this.ops(type).lookup[match.path]);
    let res: HttpResponse;
    try {
      res = await this.call(type, `lookup.${match.path}`, request, { value: match.value, path: match.path });
    } catch (err) {
      if (err instanceof TargetError && err.kind === 'notFound') return null;
      throw err;
    }
    const objects = this.items(res.body, request)
      .map((item) => this.toObject(type, item, request))
      .filter((o): o is TargetObject => o !== undefined)
      // An API that ignores the query must not make us adopt someone else.
      .filter((o) => !(match.path in o.attributes) || sameValue(o.attributes[match.path], match.value));
    if (objects.length > 1) {
      throw new TargetError({ kind: 'conflict', target: this.name, message: `${objects.length} ${type}s on ${this.name} match ${match.path} = ${JSON.stringify(match.value)}; refusing to guess` });
    }
    return objects[0] ?? null;
  }

  async *list(type: ObjectType): AsyncIterable<TargetObject> {
    const request = this.operation(type, 'list', this.ops(type).list);
    const paged = /\{\{\s*(offset|page|limit)\s*\}\}/.test(request.path);
    const pageSize = this.ops(type).list!.pageSize;
    for (let page = 0; ; page++) {
      const res = await this.call(type, 'list', request, { offset: page * pageSize, limit: pageSize, page: this.ops(type).list!.firstPage + page });
      const items = this.items(res.body, request);
      for (const item of items) {
        const object = this.toObject(type, item, request);
        if (object) yield object;
      }
      if (!paged || items.length < pageSize) return;
    }
  }

  async get(type: ObjectType, id: string): Promise<TargetObject | null> {
    const request = this.operation(type, 'get', this.ops(type).get);
    try {
      const res = await this.call(type, 'get', request, { id });
      return this.toObject(type, jsonPointer(res.body, request.objectPointer ?? ''), request) ?? { id, attributes: {} };
    } catch (err) {
      if (err instanceof TargetError && err.kind === 'notFound') return null;
      throw err;
    }
  }

  async create(type: ObjectType, attributes: TargetAttributes): Promise<TargetObject> {
    const request = this.operation(type, 'create', this.ops(type).create);
    const res = await this.call(type, 'create', request, attributes);
    const object = this.toObject(type, jsonPointer(res.body, request.objectPointer ?? ''), request);
    if (!object) {
      throw new TargetError({
        kind: 'badRequest',
        target: this.name,
        message: `create answered HTTP ${res.status} without an id at ${request.idPointer ?? this.ops(type).idPointer}`,
      });
    }
    return object;
  }

  async update(type: ObjectType, id: string, changes: AttributeChange[], desired: TargetAttributes): Promise<void> {
    if (changes.length === 0) return;
    const request = this.operation(type, 'update', this.ops(type).update);
    await this.call(type, 'update', request, { ...desired, id });
  }

  async setActive(id: string, active: boolean): Promise<void> {
    const ops = this.options.operations.users;
    const dedicated = active ? ops.enable : ops.disable;
    if (dedicated) {
      await this.call('user', active ? 'enable' : 'disable', dedicated, { id, active });
      return;
    }
    await this.call('user', 'update', this.operation('user', 'update', ops.update), { id, active });
  }

  async delete(type: ObjectType, id: string): Promise<void> {
    const request = this.operation(type, 'delete', this.ops(type).delete);
    try {
      await this.call(type, 'delete', request, { id });
    } catch (err) {
      if (!(err instanceof TargetError && err.kind === 'notFound')) throw err;
    }
  }

  private async eachMember(groupId: string, memberIds: string[], name: 'addMember' | 'removeMember'): Promise<void> {
    const request = this.operation('group', name, this.options.operations.groups[name]);
    const results = await Promise.allSettled(memberIds.map((memberId) => this.call('group', name, request, { id: groupId, memberId })));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ id: memberIds[i]!, error: r.reason as unknown }] : []));
    if (failed.length === 0) return;
    const first = failed[0]!.error;
    const kind = first instanceof TargetError ? first.kind : 'transient';
    throw new TargetError({
      kind,
      target: this.name,
      message: `${name} failed for ${failed.length} of ${memberIds.length} member(s) of group ${groupId} (${failed
        .slice(0, 10)
        .map((f) => f.id)
        .join(', ')}): ${first instanceof Error ? first.message : String(first)}`,
      cause: first,
    });
  }

  addMembers(groupId: string, memberIds: string[]): Promise<void> {
    return this.eachMember(groupId, memberIds, 'addMember');
  }

  removeMembers(groupId: string, memberIds: string[]): Promise<void> {
    return this.eachMember(groupId, memberIds, 'removeMember');
  }

  async listMembers(groupId: string): Promise<string[]> {
    const request = this.operation('group', 'listMembers', this.options.operations.groups.listMembers);
    const res = await this.call('group', 'listMembers', request, { id: groupId });
    return this.items(res.body, request)
      .map((item) => (typeof item === 'string' ? item : jsonPointer(item, request.idPointer ?? this.options.operations.groups.idPointer)))
      .filter((v): v is string | number => typeof v === 'string' || typeof v === 'number')
      .map(String);
  }

  /** No batch endpoint: every operation on its own, paced by the HTTP layer. */
  bulk(operations: BulkOperation[]): Promise<BulkResult[]> {
    return bulkOneByOne(this, operations);
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}
