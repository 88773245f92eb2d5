// Sending one planned operation and deciding what it came to (an Outcome: the link to write, the log's
// steps and modified properties). Here a create becomes an adopt when the target already holds a match, an
// update or enable answered 404 becomes a recreate (or an unlink), and group members wait for their own
// link. Recording the outcome (journal, link, failure, log) is apply's, through the write batcher.
import type { Link, PlannedOperation, ProvisioningAction, ProvisioningStep } from '../engine/types.js';
import { withoutMarkers } from '../engine/redaction.js';
import type { SyncEvents } from '../observability/events.js';
import type { ApplyCounts } from './apply.js';
import { TargetError, type BulkOperation, type MatchCriterion, type ObjectType, type TargetConnector, type TargetObject } from '../targets/connector.js';
import { applyChanges, diffAttributes, statusOf } from './attributes.js';
import type { MatchIndex } from './match-index.js';
import { step } from './provisioning-log.js';
import type { SyncStore } from './store.js';

type MemberOperation = Extract<PlannedOperation, { kind: 'addMembers' | 'removeMembers' }>;

/** What one operation came to: what apply records for it once the target answered. */
export interface Outcome {
  action: ProvisioningAction;
  count: keyof ApplyCounts;
  targetId: string | null;
  /** Link to write (undefined: leave the link as it is; null: remove it). */
  link?: Omit<Link, 'hash' | 'updatedAt'> | null;
  modified: { path: string; before: unknown; after: unknown }[];
  steps: ProvisioningStep[];
  sentEvent: 'created' | 'adopted' | 'updated' | 'done';
}

export interface OperationSenderDeps {
  connector: TargetConnector;
  target: string;
  runId: string;
  events?: SyncEvents | undefined;
  /** The state store, once every queued write is committed: what is read includes what was written. */
  store: () => SyncStore;
  onNotFound: 'recreate' | 'unlink';
  groupMembership?: 'exact' | 'additive' | undefined;
  /** The cycle's match indexes (filled by apply), consulted before asking the target. */
  matchIndexes: ReadonlyMap<ObjectType, MatchIndex>;
  /** Member source ids wanted in each group created by this apply call (for an exact-mode adoption). */
  wantedMembers: ReadonlyMap<string, string[]>;
  /** Group members deferred until their own link exists. */
  onDeferred: (count: number) => void;
}

export class OperationSender {
  constructor(private readonly deps: OperationSenderDeps) {}

  private get store(): SyncStore {
    return this.deps.store();
  }

  async send(op: PlannedOperation): Promise<Outcome> {
    const c = this.deps.connector;
    switch (op.kind) {
      case 'create': return this.createOrAdopt(op);
      case 'update': {
        await c.update(op.type, op.targetId, op.changes, op.desired);
        return this.updatedOutcome(op);
      }
      case 'disable':
      case 'enable': {
        const active = op.kind === 'enable';
        await c.setActive(op.targetId, active);
        const link = this.store.link(this.deps.target, op.type, op.sourceId);
        const written = link ? { ...link.written } : {};
        const before = link ? link.status === 'active' : !active;
        if ('active' in written) written.active = active;
        return {
          action: op.kind, count: op.kind, targetId: op.targetId, sentEvent: 'done',
          link: { target: this.deps.target, type: op.type, sourceId: op.sourceId, targetId: op.targetId, status: active ? 'active' : 'disabled', written, ...(link?.members ? { members: link.members } : {}) },
          modified: [{ path: 'active', before, after: active }],
          steps: [step('action', 'success', `${op.kind} (${op.reason})`)],
        };
      }
      case 'delete': {
        try {
          await c.delete(op.type, op.targetId);
        } catch (err) {
          // Already gone is what we wanted.
          if (!(err instanceof TargetError && err.kind === 'notFound')) throw err;
        }
        return this.deletedOutcome(op);
      }
      case 'addMembers': return this.addMembers(op);
      case 'removeMembers': return this.removeMembers(op);
      case 'skip':
      case 'unlink':
        throw new Error(`${op.kind} is not sent`);
    }
  }

  private async findMatch(type: ObjectType, match: readonly MatchCriterion[]): Promise<{ found: TargetObject; by: MatchCriterion } | null> {
    const index = this.deps.matchIndexes.get(type);
    for (const criterion of match) {
      const indexed = index && index.covers(criterion.path) ? index.lookup(criterion) : 'unknown';
      // Objects created or deleted since the index was read are looked up live: the index only knows their id.
      const found = indexed === 'unknown' ? await this.deps.connector.find(type, criterion) : indexed;
      if (found === 'ambiguous') {
        throw new TargetError({ kind: 'conflict', message: `more than one ${type} on the target has ${criterion.path} = ${String(criterion.value)}`, target: this.deps.target });
      }
      if (found) return { found, by: criterion };
    }
    return null;
  }

  matchDetails(match: readonly MatchCriterion[], hit: { found: TargetObject; by: MatchCriterion } | null): ProvisioningStep {
    if (match.length === 0) return step('match', 'skipped', 'no matching attributes configured');
    const tried = match.map((m) => `${m.path} eq ${JSON.stringify(m.value)}`).join(', then ');
    return hit
      ? step('match', 'success', `matched ${hit.found.id} by ${hit.by.path} eq ${JSON.stringify(hit.by.value)} (tried ${tried})`)
      : step('match', 'success', `no match for ${tried}`);
  }

  private async createOrAdopt(op: PlannedOperation & { kind: 'create' }): Promise<Outcome> {
    const hit = await this.findMatch(op.type, op.match);
    if (hit) return this.adopt(op, hit);
    try {
      const created = await this.deps.connector.create(op.type, op.attributes);
      return this.createdOutcome(op, created.id, this.matchDetails(op.match, null));
    } catch (err) {
      if (!(err instanceof TargetError && err.kind === 'conflict')) throw err;
      // Someone created it between our lookup and our POST (or the target matches on something else): adopt it.
      const again = await this.findAfterConflict(op);
      if (!again) throw err;
      return this.adopt(op, again);
    }
  }

  async findAfterConflict(op: PlannedOperation & { kind: 'create' }): Promise<{ found: TargetObject; by: MatchCriterion } | null> {
    for (const criterion of op.match) {
      const found = await this.deps.connector.find(op.type, criterion);
      if (found) return { found, by: criterion };
    }
    return null;
  }

  async adopt(op: PlannedOperation & { kind: 'create' }, hit: { found: TargetObject; by: MatchCriterion }): Promise<Outcome> {
    const changes = diffAttributes(hit.found.attributes, op.attributes);
    if (changes.length) await this.deps.connector.update(op.type, hit.found.id, changes, op.attributes);
    const modified = changes.map((c) => ({ path: c.path, before: c.before, after: c.after }));
    const steps = [this.matchDetails(op.match, hit), step('action', 'success', changes.length ? `adopted existing object and updated ${changes.length} attribute(s)` : 'adopted existing object, nothing to change')];
    let members: string[] | undefined;
    if (op.type === 'group') {
      members = [];
      if (this.deps.groupMembership === 'exact') {
        const exact = await this.exactMembersOnAdopt(op, hit.found.id);
        members = exact.kept;
        if (exact.removed.length) {
          modified.push({ path: 'members', before: exact.removed, after: null });
          steps.push(step('action', 'success', `removed ${exact.removed.length} member(s) Entra does not list (exact membership)${exact.foreign ? `, ${exact.foreign} of them not provisioned by us` : ''}`));
        }
      }
    }
    return {
      action: 'adopt', count: 'adopt', targetId: hit.found.id, sentEvent: 'adopted',
      link: { target: this.deps.target, type: op.type, sourceId: op.sourceId, targetId: hit.found.id, status: statusOf(op.attributes), written: { ...op.attributes }, ...(members ? { members } : {}) },
      modified,
      steps,
    };
  }

  /**
   * Exact membership for a group we adopt: every member on the target that Entra does not want in it is
   * removed — whether we provisioned it or someone added it by hand — one filtered remove per member (the
   * connector's way), never a remove-all. Returns the wanted members already there (recorded on the link,
   * so they are not added twice) and what was removed (source ids, or target ids for foreign members).
   */
  private async exactMembersOnAdopt(op: PlannedOperation & { kind: 'create' }, groupTargetId: string): Promise<{ kept: string[]; removed: string[]; foreign: number }> {
    const { target, connector } = this.deps;
    const store = this.store;
    const wanted = new Set([...(op.members ?? []), ...(this.deps.wantedMembers.get(op.sourceId) ?? [])]);
    const kept: string[] = [];
    const removeIds: string[] = [];
    const removed: string[] = [];
    let foreign = 0;
    for (const memberTargetId of await connector.listMembers(groupTargetId)) {
      const member = store.linkByTargetId(target, 'user', memberTargetId) ?? store.linkByTargetId(target, 'group', memberTargetId);
      if (member && member.status !== 'deleted' && wanted.has(member.sourceId)) { kept.push(member.sourceId); continue; }
      removeIds.push(memberTargetId);
      if (member) removed.push(member.sourceId);
      else { removed.push(memberTargetId); foreign++; }
    }
    if (removeIds.length) await connector.removeMembers(groupTargetId, removeIds);
    return { kept, removed, foreign };
  }

  createdOutcome(op: PlannedOperation & { kind: 'create' }, targetId: string, matchStep: ProvisioningStep): Outcome {
    return {
      action: 'create', count: 'create', targetId, sentEvent: 'created',
      link: { target: this.deps.target, type: op.type, sourceId: op.sourceId, targetId, status: statusOf(op.attributes), written: { ...op.attributes }, ...(op.type === 'group' ? { members: [] } : {}) },
      modified: Object.entries(op.attributes).map(([path, after]) => ({ path, before: null, after })),
      steps: [matchStep, step('action', 'success', 'created')],
    };
  }

  updatedOutcome(op: PlannedOperation & { kind: 'update' }): Outcome {
    const link = this.store.link(this.deps.target, op.type, op.sourceId);
    const written = applyChanges(link?.written ?? { ...op.desired }, op.changes);
    const activeChange = op.changes.find((c) => c.path === 'active');
    const status = activeChange ? (activeChange.after === false ? 'disabled' : 'active') : (link?.status ?? 'active');
    return {
      action: 'update', count: 'update', targetId: op.targetId, sentEvent: 'updated',
      link: { target: this.deps.target, type: op.type, sourceId: op.sourceId, targetId: op.targetId, status, written, ...(link?.members ? { members: link.members } : {}) },
      modified: op.changes.map((c) => ({ path: c.path, before: c.before, after: c.after })),
      steps: [step('action', 'success', `updated ${op.changes.map((c) => c.path).join(', ')}`)],
    };
  }

  private deletedOutcome(op: PlannedOperation & { kind: 'delete' }): Outcome {
    const link = this.store.link(this.deps.target, op.type, op.sourceId);
    return {
      action: 'delete', count: 'delete', targetId: op.targetId, sentEvent: 'done',
      // The link stays, marked deleted, like Entra's connector data store: the history of what we managed.
      link: link ? { ...link, status: 'deleted' } : undefined,
      modified: [],
      steps: [step('action', 'success', `deleted (${op.reason})`)],
    };
  }

  private async addMembers(op: MemberOperation): Promise<Outcome> {
    const group = this.store.link(this.deps.target, 'group', op.sourceId);
    if (!group || group.status !== 'active') {
      throw new TargetError({ kind: 'badRequest', message: `group ${op.sourceId} is not provisioned on the target yet; its members will be added once it is`, target: this.deps.target });
    }
    const already = new Set(group.members ?? []);
    const toAdd: { sourceId: string; targetId: string }[] = [];
    const deferred: string[] = [];
    for (const memberSourceId of new Set(op.memberSourceIds)) {
      if (already.has(memberSourceId)) continue;
      const member = this.store.linkOfMember(this.deps.target, memberSourceId);
      if (member && member.status === 'active') toAdd.push({ sourceId: memberSourceId, targetId: member.targetId });
      else deferred.push(memberSourceId);
    }
    if (toAdd.length) await this.deps.connector.addMembers(group.targetId, toAdd.map((m) => m.targetId));
    const added = toAdd.map((m) => m.sourceId);
    const store = this.store;
    store.transaction(() => {
      if (added.length) store.dropDeferredMembers(this.deps.target, op.sourceId, added);
      if (deferred.length) store.addDeferredMembers(this.deps.target, op.sourceId, deferred);
    });
    if (deferred.length) {
      this.deps.onDeferred(deferred.length);
      this.deps.events?.emit('members:deferred', { target: this.deps.target, runId: this.deps.runId, groupSourceId: op.sourceId, memberSourceIds: deferred });
    }
    return {
      action: 'members', count: 'addMembers', targetId: group.targetId, sentEvent: 'done',
      link: { ...group, members: [...already, ...added] },
      modified: added.length ? [{ path: 'members', before: null, after: added }] : [],
      steps: [step('action', toAdd.length ? 'success' : 'skipped',
        `added ${added.length} member(s)${deferred.length ? `; ${deferred.length} not provisioned yet, added once they are` : ''}`)],
    };
  }

  private async removeMembers(op: MemberOperation): Promise<Outcome> {
    const group = this.store.link(this.deps.target, 'group', op.sourceId);
    if (!group || group.status !== 'active') {
      return { action: 'members', count: 'removeMembers', targetId: null, sentEvent: 'done', modified: [], steps: [step('action', 'skipped', 'group is not on the target')] };
    }
    const removing = new Set(op.memberSourceIds);
    const targetIds = new Set<string>();
    for (const memberSourceId of removing) {
      const member = this.store.linkOfMember(this.deps.target, memberSourceId);
      if (member && member.status !== 'deleted') targetIds.add(member.targetId);
    }
    // Exact membership: members someone else put on the target have no link, only a target id.
    const foreign = op.memberTargetIds ?? [];
    for (const id of foreign) targetIds.add(id);
    if (targetIds.size) await this.deps.connector.removeMembers(group.targetId, [...targetIds]);
    this.store.dropDeferredMembers(this.deps.target, op.sourceId, [...removing]);
    return {
      action: 'members', count: 'removeMembers', targetId: group.targetId, sentEvent: 'done',
      link: { ...group, members: (group.members ?? []).filter((m) => !removing.has(m)) },
      modified: [{ path: 'members', before: [...removing, ...foreign], after: null }],
      steps: [step('action', 'success', `removed ${targetIds.size} member(s)${foreign.length ? `, ${foreign.length} of them not provisioned by us (exact membership)` : ''}`)],
    };
  }

  /** Resolves matching for a create (adopting individually) or queues a plain create/update for /Bulk. */
  async prepareBulk(op: PlannedOperation & { kind: 'create' | 'update' }):
    Promise<{ kind: 'bulk'; bulk: BulkOperation; steps: ProvisioningStep[] } | { kind: 'done'; outcome: Outcome }> {
    if (op.kind === 'update') return { kind: 'bulk', bulk: { op: 'update', type: op.type, ref: '', id: op.targetId, changes: op.changes, desired: op.desired }, steps: [] };
    const hit = await this.findMatch(op.type, op.match);
    if (hit) return { kind: 'done', outcome: await this.adopt(op, hit) };
    return { kind: 'bulk', bulk: { op: 'create', type: op.type, ref: '', attributes: op.attributes }, steps: [this.matchDetails(op.match, null)] };
  }

  /** The object we linked was removed on the target by someone else. */
  async objectGone(op: PlannedOperation & { kind: 'update' | 'enable' | 'disable' }): Promise<Outcome> {
    const link = this.store.link(this.deps.target, op.type, op.sourceId);
    if (op.kind === 'disable') {
      // Disabling something that no longer exists: nothing to do but remember it is gone.
      return { action: 'disable', count: 'disable', targetId: op.targetId, sentEvent: 'done', link: link ? { ...link, status: 'deleted' } : undefined, modified: [], steps: [step('action', 'skipped', 'object no longer exists on the target')] };
    }
    if (this.deps.onNotFound === 'unlink') {
      return { action: 'unlink', count: 'unlink', targetId: null, sentEvent: 'done', link: null, modified: [], steps: [step('action', 'success', 'object no longer exists on the target; link removed (policy onNotFound: unlink)')] };
    }
    // What we last wrote holds redacted values only as hashes: those are left out (the next full comparison sends them).
    const attributes = op.kind === 'update' ? { ...op.desired } : { ...withoutMarkers(link?.written ?? {}).attributes, ...(link && 'active' in link.written ? { active: true } : {}) };
    const created = await this.deps.connector.create(op.type, attributes);
    return {
      action: 'create', count: 'create', targetId: created.id, sentEvent: 'created',
      link: { target: this.deps.target, type: op.type, sourceId: op.sourceId, targetId: created.id, status: 'active', written: attributes, ...(op.type === 'group' ? { members: [] } : {}) },
      modified: Object.entries(attributes).map(([path, after]) => ({ path, before: null, after })),
      steps: [step('action', 'success', `object ${op.targetId} no longer exists on the target; created again as ${created.id} (policy onNotFound: recreate)`)],
    };
  }
}
