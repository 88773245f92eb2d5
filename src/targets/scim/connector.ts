// The SCIM 2.0 connector: TargetConnector over RFC 7644, with Entra's legacy dialect as a per-target switch.
// It decides what to send (resources, PATCH ops, filters, /Bulk batches) and what an answer means for one
// operation; pacing, retries, auth and dry run are the HTTP layer's job (../http.ts).
import { randomUUID } from 'node:crypto';
import {
  bulkOneByOne,
  TargetError,
  toTargetError,
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
import { TargetHttp, type HttpRequest, type HttpResponse, type TargetHttpDeps, type TargetRequestStats } from '../http.js';
import { bulkOperationError, bulkRequestBody, idFromLocation, parseBulkResponse, planBulkBatches, type BulkWireOperation } from './bulk.js';
import { capabilitiesFromServiceProviderConfig } from './discovery.js';
import type { ScimTargetOptions } from './options.js';
import { buildEqFilter, idSegment } from './path.js';
import {
  addMembersOperations,
  buildPatchOperations,
  chunk,
  patchRequest,
  removeMembersOperations,
  type PatchOperation,
} from './patch.js';
import { readScimPath, toScimResource, toTargetObject } from './resource.js';

type Json = Record<string, unknown>;

export interface ConnectorDeps {
  /** Refuse every mutating request (TargetError 'dryRun'). */
  dryRun?: boolean;
  /** Test seams for waits and the clock. */
  sleep?: TargetHttpDeps['sleep'];
  now?: TargetHttpDeps['now'];
  random?: TargetHttpDeps['random'];
  /** Told of every request and retry (the runtime's http:request and http:retry events). */
  observer?: TargetHttpDeps['observer'];
}

const SCIM_JSON = 'application/scim+json';
const MAX_ETAGS = 50_000;

function asJson(body: unknown): Json | undefined {
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as Json) : undefined;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function sameValue(actual: unknown, wanted: MatchCriterion['value']): boolean {
  if (typeof actual === 'string' && typeof wanted === 'string') return actual.toLowerCase() === wanted.toLowerCase();
  return actual === wanted;
}

export class ScimConnector implements TargetConnector {
  readonly kind = 'scim' as const;
  private readonly http: TargetHttp;
  private discovered: Promise<TargetCapabilities> | undefined;
  private readonly etags = new Map<string, string>();

  constructor(
    readonly name: string,
    private readonly options: ScimTargetOptions,
    deps: ConnectorDeps = {},
  ) {
    this.http = new TargetHttp(options, { ...deps, target: name, contentType: SCIM_JSON, accept: `${SCIM_JSON}, application/json` });
  }

  /** Live request counters (requests, by method, retries, throttled, failed …). */
  get stats(): TargetRequestStats {
    return this.http.stats;
  }

  private get dialect(): ScimTargetOptions['compatibility'] {
    return this.options.compatibility;
  }

  private collection(type: ObjectType): string {
    return type === 'user' ? this.options.usersPath : this.options.groupsPath;
  }

  private resourcePath(type: ObjectType, id: string): string {
    return `${this.collection(type)}/${idSegment(id)}`;
  }

  private send(req: HttpRequest): Promise<HttpResponse> {
    return this.http.send(req);
  }

  // ---- discovery ----------------------------------------------------------------------------------------

  capabilities(): Promise<TargetCapabilities> {
    this.discovered ??= this.discover().catch((err: unknown) => {
      this.discovered = undefined; // try again next time
      throw err;
    });
    return this.discovered;
  }

  private async discover(): Promise<TargetCapabilities> {
    try {
      const res = await this.send({ method: 'GET', path: '/ServiceProviderConfig' });
      return capabilitiesFromServiceProviderConfig(asJson(res.body), this.options.discovery);
    } catch (err) {
      // No discovery endpoint: conservative defaults plus overrides. Auth and transport failures stay failures.
      if (err instanceof TargetError && (err.kind === 'notFound' || err.kind === 'badRequest')) {
        return capabilitiesFromServiceProviderConfig(undefined, this.options.discovery);
      }
      throw err;
    }
  }

  async testConnection(): Promise<ConnectionReport> {
    const details: string[] = [`endpoint ${this.options.baseUrl}`, `auth: ${this.http.describeAuth()}`, `dialect: ${this.dialect}`];
    try {
      const caps = await this.capabilities();
      const c = caps.bulk.supported ? `bulk (≤ ${caps.bulk.maxOperations} ops, ≤ ${caps.bulk.maxPayloadSize} bytes)` : 'no bulk';
      details.push(
        `capabilities: ${caps.patch ? 'PATCH' : 'no PATCH (PUT fallback)'}, ${c}, ${caps.filter.supported ? `filter (maxResults ${caps.filter.maxResults})` : 'no filter'}, ${caps.etag ? 'ETags' : 'no ETags'}`,
      );
      // Entra's own probe: a filter on a random value must answer an empty ListResponse.
      const probe = await this.send({
        method: 'GET',
        path: this.options.usersPath,
        query: { filter: buildEqFilter('userName', randomUUID(), this.dialect) },
      });
      const total = Number(asJson(probe.body)?.totalResults ?? 0);
      if (total !== 0) {
        details.push(`user filter probe answered ${total} results for a random userName: the server may ignore filters`);
        return { ok: false, details };
      }
      details.push('auth accepted; user filter probe answered an empty list');
      return { ok: true, details };
    } catch (err) {
      details.push(err instanceof Error ? err.message : String(err));
      return { ok: false, details };
    }
  }

  // ---- reads --------------------------------------------------------------------------------------------

  private remember(type: ObjectType, object: TargetObject): TargetObject {
    if (object.etag) {
      if (this.etags.size >= MAX_ETAGS) this.etags.delete(this.etags.keys().next().value!);
      this.etags.set(`${type}/${object.id}`, object.etag);
    }
    return object;
  }

  private objectFrom(type: ObjectType, res: HttpResponse, where: string): TargetObject {
    const body = asJson(res.body);
    if (!body || body.id === undefined || body.id === null) {
      const location = headerValue(res.headers.location);
      const id = location ? idFromLocation(location) : undefined;
      if (id) return this.remember(type, { id, attributes: {}, ...(res.headers.etag ? { etag: headerValue(res.headers.etag)! } : {}) });
      throw new TargetError({ kind: 'badRequest', target: this.name, request: where, message: `${where} answered without a resource id` });
    }
    return this.remember(type, toTargetObject(body, headerValue(res.headers.etag)));
  }

  private groupQuery(type: ObjectType): Record<string, string> {
    // Entra never reads members back; a big group's member list can be megabytes.
    return type === 'group' ? { excludedAttributes: 'members' } : {};
  }

  async get(type: ObjectType, id: string): Promise<TargetObject | null> {
    const path = this.resourcePath(type, id);
    try {
      const res = await this.send({ method: 'GET', path, query: this.groupQuery(type) });
      return this.objectFrom(type, res, this.http.describe('GET', path));
    } catch (err) {
      if (err instanceof TargetError && err.kind === 'notFound') return null;
      throw err;
    }
  }

  async find(type: ObjectType, match: MatchCriterion): Promise<TargetObject | null> {
    const caps = await this.capabilities();
    let candidates: Json[] | undefined;
    if (caps.filter.supported) {
      try {
        const res = await this.send({
          method: 'GET',
          path: this.collection(type),
          query: { filter: buildEqFilter(match.path, match.value, this.dialect), ...this.groupQuery(type) },
        });
        const resources = asJson(res.body)?.Resources;
        candidates = Array.isArray(resources) ? (resources as Json[]) : [];
      } catch (err) {
        // Some servers cannot parse an escaped quote or backslash in a filter (SCIMMY 1.3 answers invalidFilter):
        // page through the list and compare here instead of guessing.
        if (!(err instanceof TargetError && err.scimType === 'invalidFilter' && caps.list)) throw err;
      }
    }
    const filteredByServer = candidates !== undefined;
    if (candidates === undefined) {
      candidates = [];
      for await (const object of this.listResources(type)) candidates.push(object);
    }
    // Never trust the server to have applied the filter: a lookup can only narrow, never widen.
    const matches = candidates.filter((r) => {
      const actual = readScimPath(r, match.path);
      return filteredByServer ? actual === undefined || sameValue(actual, match.value) : sameValue(actual, match.value);
    });
    if (matches.length > 1) {
      throw new TargetError({
        kind: 'conflict',
        target: this.name,
        request: `GET ${this.collection(type)}`,
        message: `${matches.length} ${type}s on ${this.name} match ${match.path} = ${JSON.stringify(match.value)}; refusing to guess`,
      });
    }
    return matches[0] ? this.remember(type, toTargetObject(matches[0])) : null;
  }

  private async *listResources(type: ObjectType): AsyncGenerator<Json> {
    const caps = await this.capabilities();
    const count = Math.min(this.options.pageSize, caps.filter.maxResults || this.options.pageSize);
    let startIndex = 1;
    for (;;) {
      const res = await this.send({ method: 'GET', path: this.collection(type), query: { startIndex, count, ...this.groupQuery(type) } });
      const body = asJson(res.body);
      const resources = Array.isArray(body?.Resources) ? (body.Resources as Json[]) : [];
      for (const r of resources) yield r;
      const total = Number(body?.totalResults ?? 0);
      startIndex += resources.length;
      // Stop on an empty page too: a server that ignores startIndex must not make us loop forever.
      if (resources.length === 0 || startIndex > total) return;
    }
  }

  async *list(type: ObjectType): AsyncIterable<TargetObject> {
    for await (const r of this.listResources(type)) yield this.remember(type, toTargetObject(r));
  }

  async listMembers(groupId: string): Promise<string[]> {
    const res = await this.send({ method: 'GET', path: this.resourcePath('group', groupId), query: { attributes: 'members' } });
    const members = asJson(res.body)?.members;
    if (!Array.isArray(members)) return [];
    return members
      .map((m: unknown) => (m && typeof m === 'object' ? (m as Json).value : undefined))
      .filter((v): v is string => typeof v === 'string');
  }

  // ---- writes -------------------------------------------------------------------------------------------

  async create(type: ObjectType, attributes: TargetAttributes): Promise<TargetObject> {
    const path = this.collection(type);
    const res = await this.send({ method: 'POST', path, body: toScimResource(type, attributes) });
    return this.objectFrom(type, res, this.http.describe('POST', path));
  }

  private ifMatch(caps: TargetCapabilities, type: ObjectType, id: string): Record<string, string> | undefined {
    if (!caps.etag) return undefined;
    const etag = this.etags.get(`${type}/${id}`);
    return etag ? { 'if-match': etag } : undefined;
  }

  /** PATCH with If-Match where known; on 412 read the current version once and send again (our ops are field-level). */
  private async patch(type: ObjectType, id: string, operations: PatchOperation[]): Promise<void> {
    if (operations.length === 0) return;
    const caps = await this.capabilities();
    const path = this.resourcePath(type, id);
    const send = () => this.send({ method: 'PATCH', path, body: patchRequest(operations), headers: this.ifMatch(caps, type, id) });
    let res: HttpResponse;
    try {
      res = await send();
    } catch (err) {
      if (!(err instanceof TargetError && err.status === 412)) throw err;
      if ((await this.get(type, id)) === null) {
        throw new TargetError({ kind: 'notFound', target: this.name, status: 404, request: err.request, message: `${type} ${id} is gone from ${this.name}` });
      }
      res = await send();
    }
    this.rememberWrite(type, id, res);
  }

  private rememberWrite(type: ObjectType, id: string, res: HttpResponse): void {
    const body = asJson(res.body);
    const meta = asJson(body?.meta);
    const etag = typeof meta?.version === 'string' ? meta.version : headerValue(res.headers.etag);
    if (etag) this.remember(type, { id, attributes: {}, etag });
    else this.etags.delete(`${type}/${id}`);
  }

  /** The whole resource, for PUT (servers without PATCH). */
  private async put(type: ObjectType, id: string, resource: Json): Promise<void> {
    const caps = await this.capabilities();
    const path = this.resourcePath(type, id);
    const res = await this.send({ method: 'PUT', path, body: { ...resource, id }, headers: this.ifMatch(caps, type, id) });
    this.rememberWrite(type, id, res);
  }

  /** A group's current resource including members, minus server-owned parts: the base of a PUT. */
  private async currentGroupForPut(id: string): Promise<Json> {
    const res = await this.send({ method: 'GET', path: this.resourcePath('group', id) });
    const { meta: _meta, ...body } = asJson(res.body) ?? {};
    return body;
  }

  async update(type: ObjectType, id: string, changes: AttributeChange[], desired: TargetAttributes): Promise<void> {
    const caps = await this.capabilities();
    if (caps.patch) {
      await this.patch(type, id, buildPatchOperations(changes, this.dialect));
      return;
    }
    const resource = toScimResource(type, desired);
    // PUT replaces everything: a group must keep its members.
    if (type === 'group') resource.members = (await this.currentGroupForPut(id)).members ?? [];
    await this.put(type, id, resource);
  }

  async setActive(id: string, active: boolean): Promise<void> {
    const caps = await this.capabilities();
    if (caps.patch) {
      await this.patch('user', id, buildPatchOperations([{ path: 'active', before: !active, after: active }], this.dialect));
      return;
    }
    const res = await this.send({ method: 'GET', path: this.resourcePath('user', id) });
    const { meta: _meta, ...current } = asJson(res.body) ?? {};
    await this.put('user', id, { ...current, active });
  }

  async delete(type: ObjectType, id: string): Promise<void> {
    const caps = await this.capabilities();
    try {
      await this.send({ method: 'DELETE', path: this.resourcePath(type, id), headers: this.ifMatch(caps, type, id) });
    } catch (err) {
      // Already gone is what we wanted.
      if (!(err instanceof TargetError && err.kind === 'notFound')) throw err;
    }
    this.etags.delete(`${type}/${id}`);
  }

  // ---- membership ---------------------------------------------------------------------------------------

  async addMembers(groupId: string, memberIds: string[]): Promise<void> {
    await this.changeMembers(groupId, unique(memberIds), 'add');
  }

  async removeMembers(groupId: string, memberIds: string[]): Promise<void> {
    await this.changeMembers(groupId, unique(memberIds), 'remove');
  }

  private async changeMembers(groupId: string, memberIds: string[], change: 'add' | 'remove'): Promise<void> {
    if (memberIds.length === 0) return;
    const caps = await this.capabilities();
    if (!caps.patch) {
      await this.putMembers(groupId, memberIds, change);
      return;
    }
    const refused: { id: string; error: TargetError }[] = [];
    // One chunk after another: concurrent PATCHes on one group race on servers with ETags or naive storage.
    for (const ids of chunk(memberIds, this.options.membershipChunkSize)) {
      await this.sendMemberChunk(groupId, ids, change, refused);
    }
    if (refused.length > 0) {
      const first = refused[0]!.error;
      throw new TargetError({
        kind: refused.length === memberIds.length ? first.kind : 'badRequest',
        target: this.name,
        status: first.status,
        scimType: first.scimType,
        request: first.request,
        message: `${this.name} refused to ${change} ${refused.length} of ${memberIds.length} member(s) of group ${groupId} (${refused
          .slice(0, 10)
          .map((r) => r.id)
          .join(', ')}${refused.length > 10 ? ', …' : ''}): ${first.message}`,
      });
    }
  }

  /** A PATCH is atomic, so one bad member fails its chunk: split the chunk to find it and apply the rest. */
  private async sendMemberChunk(groupId: string, ids: string[], change: 'add' | 'remove', refused: { id: string; error: TargetError }[]): Promise<void> {
    const ops = change === 'add' ? addMembersOperations(ids, this.dialect) : removeMembersOperations(ids, this.dialect);
    try {
      await this.patch('group', groupId, ops);
    } catch (err) {
      if (!(err instanceof TargetError) || err.kind !== 'badRequest') throw err;
      if (ids.length === 1) {
        refused.push({ id: ids[0]!, error: err });
        return;
      }
      const half = Math.ceil(ids.length / 2);
      await this.sendMemberChunk(groupId, ids.slice(0, half), change, refused);
      await this.sendMemberChunk(groupId, ids.slice(half), change, refused);
    }
  }

  private async putMembers(groupId: string, memberIds: string[], change: 'add' | 'remove'): Promise<void> {
    const current = await this.currentGroupForPut(groupId);
    const members = Array.isArray(current.members) ? (current.members as Json[]) : [];
    const ids = new Set(memberIds);
    const next =
      change === 'add'
        ? [...members, ...memberIds.filter((id) => !members.some((m) => m.value === id)).map((value) => ({ value }))]
        : members.filter((m) => !ids.has(String(m.value)));
    await this.put('group', groupId, { ...current, members: next });
  }

  // ---- bulk ---------------------------------------------------------------------------------------------

  async bulk(operations: BulkOperation[]): Promise<BulkResult[]> {
    if (operations.length === 0) return [];
    const caps = await this.capabilities();
    if (!this.options.bulk || !caps.bulk.supported) return this.oneByOne(operations);

    const results: BulkResult[] = [];
    const wire: BulkWireOperation[] = [];
    const byBulkId = new Map<string, BulkOperation>();
    const individually: BulkOperation[] = [];
    operations.forEach((op, index) => {
      const bulkId = `op${index}`;
      if (op.op === 'create') {
        wire.push({ method: 'POST', bulkId, path: this.collection(op.type), data: toScimResource(op.type, op.attributes) });
      } else if (op.op === 'update') {
        if (!caps.patch) {
          // A PUT of a group inside /Bulk would drop its members; those go one by one.
          if (op.type === 'group') {
            individually.push(op);
            return;
          }
          wire.push({ method: 'PUT', bulkId, path: this.resourcePath(op.type, op.id), data: { ...toScimResource(op.type, op.desired), id: op.id } });
        } else {
          const ops = buildPatchOperations(op.changes, this.dialect);
          if (ops.length === 0) {
            results.push({ ref: op.ref, ok: true });
            return;
          }
          wire.push({ method: 'PATCH', bulkId, path: this.resourcePath(op.type, op.id), data: patchRequest(ops) });
        }
      } else {
        wire.push({ method: 'DELETE', bulkId, path: this.resourcePath(op.type, op.id) });
      }
      const etag = op.op !== 'create' && caps.etag ? this.etags.get(`${op.type}/${op.id}`) : undefined;
      if (etag) wire[wire.length - 1]!.version = etag;
      byBulkId.set(bulkId, op);
    });

    const batches = planBulkBatches(wire, caps.bulk.maxOperations, caps.bulk.maxPayloadSize);
    const [batchResults, singles] = await Promise.all([
      Promise.all(batches.map((batch) => this.sendBulkBatch(batch, byBulkId))),
      this.oneByOne(individually),
    ]);
    return [...results, ...batchResults.flat(), ...singles];
  }

  private async sendBulkBatch(batch: BulkWireOperation[], byBulkId: Map<string, BulkOperation>): Promise<BulkResult[]> {
    let res: HttpResponse;
    try {
      res = await this.send({ method: 'POST', path: '/Bulk', body: bulkRequestBody(batch) });
    } catch (err) {
      const error = toTargetError(err, this.name);
      // Too large for the server after all (it misreported its limits): halve and try again.
      if (error.status === 413 && batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        const [a, b] = await Promise.all([this.sendBulkBatch(batch.slice(0, half), byBulkId), this.sendBulkBatch(batch.slice(half), byBulkId)]);
        return [...a, ...b];
      }
      return batch.map((w) => ({ ref: byBulkId.get(w.bulkId)!.ref, ok: false as const, error }));
    }
    const outcomes = parseBulkResponse(res.body, batch);
    return batch.map((w): BulkResult => {
      const op = byBulkId.get(w.bulkId)!;
      const outcome = outcomes.get(w.bulkId);
      const ok = outcome !== undefined && outcome.status >= 200 && outcome.status < 300;
      if (!ok && !(op.op === 'delete' && outcome?.status === 404)) {
        return { ref: op.ref, ok: false, error: bulkOperationError(this.name, w, outcome) };
      }
      if (op.op === 'create') {
        const body = asJson(outcome?.response);
        const id = body?.id !== undefined ? String(body.id) : outcome?.location ? idFromLocation(outcome.location) : undefined;
        if (id === undefined) {
          return { ref: op.ref, ok: false, error: bulkOperationError(this.name, w, undefined) };
        }
        const object = body?.id !== undefined ? toTargetObject(body, outcome?.version) : { id, attributes: {}, ...(outcome?.version ? { etag: outcome.version } : {}) };
        return { ref: op.ref, ok: true, object: this.remember(op.type, object) };
      }
      if (op.op === 'delete') this.etags.delete(`${op.type}/${op.id}`);
      else if (outcome?.version) this.remember(op.type, { id: op.id, attributes: {}, etag: outcome.version });
      return { ref: op.ref, ok: true };
    });
  }

  /** Without /Bulk: every operation on its own, all at once; the HTTP layer's pacing decides when each leaves. */
  private oneByOne(operations: BulkOperation[]): Promise<BulkResult[]> {
    return bulkOneByOne(this, operations);
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}
