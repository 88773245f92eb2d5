// The cycle's planner: which objects a cycle looks at (the source changes since the target's cursor, or all
// of them, or the few asked for on demand, plus failed objects whose retry is due and users waiting for their
// manager) and, batch by batch, their desired state (scope and map, src/engine/mapping.ts) against the links
// (plan, src/engine/plan.ts). The cycle applies each batch while the next is planned; the planner says when
// it must wait (BARRIER: for the batches in flight; WAIT: for a live read's next chunk).
import type { DesiredObject, PlannedOperation, ProvisioningStep } from '../engine/types.js';
import { desiredGroup, desiredUser, type MappingContext } from '../engine/mapping.js';
import { planObject } from '../engine/plan.js';
import { isDestructive } from '../engine/threshold.js';
import type { SourceGroupRecord, SourceUserRecord } from '../source/types.js';
import type { ObjectType } from '../targets/connector.js';
import type { CycleOptions } from './cycle.js';
import { HOUR } from './policy.js';
import { step } from './provisioning-log.js';
import type { TargetRun } from './target-run.js';

type SourceRecord = SourceUserRecord | SourceGroupRecord;

/** Yielded by the planner when what comes next needs every batch before it applied. */
export const BARRIER = Symbol('barrier');
/** Yielded by the planner when it has planned every user a live read committed so far: wait for the next chunk. */
export const WAIT = Symbol('wait for the read');

export interface PlannedBatch {
  operations: PlannedOperation[];
  destructive: PlannedOperation[];
  steps: (op: PlannedOperation) => ProvisioningStep[];
}

export class CyclePlanner {
  /** Source ids of the last two batches planned: the ones that can still be in flight while the next is planned. */
  private recentBatchIds: Set<string>[] = [];
  private readonly heldStepMap = new Map<string, ProvisioningStep[]>();
  /** Target paths mapped with SelectUniqueValue, and the values this cycle's creates took on them. */
  private readonly uniquePaths = new Set<string>();
  private readonly uniqueChosen = new Map<string, Set<string>>();

  constructor(private readonly run: TargetRun) {}

  /** The mapping context of this run: references resolve to the target's user links. */
  mappingContext(): MappingContext {
    const { store } = this.run.input;
    return {
      now: this.run.now(),
      resolveReference: (sourceId) => {
        const link = store.link(this.run.target, 'user', sourceId);
        return link && link.status !== 'deleted' ? link.targetId : null;
      },
      // SelectUniqueValue: taken on the target (as far as we wrote it) or by a create planned earlier in this
      // cycle — whose link is not written yet, the batch being in flight or the same one.
      valueExists: (path, value) => {
        this.uniquePaths.add(path);
        return this.uniqueChosen.get(path)?.has(value) === true || store.writtenValueExists(this.run.target, 'user', path, value);
      },
      ...(this.run.input.options?.defaultDomain !== undefined ? { defaultDomain: this.run.input.options.defaultDomain } : {}),
    };
  }

  /** Remembers the unique values a planned create took, so no later object of this cycle picks them too. */
  private noteUniqueValues(desired: DesiredObject, ops: readonly PlannedOperation[]): void {
    if (this.uniquePaths.size === 0 || !ops.some((op) => op.kind === 'create')) return;
    for (const path of this.uniquePaths) {
      const value = desired.attributes[path];
      if (typeof value !== 'string') continue;
      let taken = this.uniqueChosen.get(path);
      if (!taken) this.uniqueChosen.set(path, taken = new Set());
      taken.add(value);
    }
  }

  /** An object's desired state mapped again now (to restore redacted values), or null without a source. */
  mappedAgain = (type: ObjectType, sourceId: string): DesiredObject | null =>
    this.run.input.source ? this.desired(type, sourceId, this.mappingContext()) : null;

  heldSteps = (op: PlannedOperation): ProvisioningStep[] => this.heldStepMap.get(`${op.type}:${op.sourceId}`) ?? [];

  /** Changed (or all, or only the named) objects, mapped and planned in batches; due retries are folded in. */
  *plan(full: boolean, only: CycleOptions['only']): Generator<PlannedBatch | typeof BARRIER | typeof WAIT> {
    const { store } = this.run.input;
    const source = this.run.input.source!;
    const now = this.run.now();
    const ctx = this.mappingContext();
    this.run.cursor = { from: store.cursor(this.run.target), to: source.currentSeq() };
    this.run.events.emit('cycle:start', { target: this.run.target, runId: this.run.runId, kind: only ? 'provision' : 'sync', dryRun: this.run.dryRun, full, cursor: this.run.cursor.from, at: now });

    // Due failures of one type (small): those not among the changed objects are retries, planned after them.
    const dueOf = (type: ObjectType): Set<string> => {
      const due = new Set<string>();
      for (const f of store.dueFailures(this.run.target, now)) {
        if (f.type !== type) continue;
        if (!this.run.dryRun && this.run.policy.giveUpAfterMs !== null && now.getTime() - new Date(f.firstFailedAt).getTime() > this.run.policy.giveUpAfterMs) {
          this.giveUp(f.type, f.sourceId, f.firstFailedAt, now);
          continue;
        }
        due.add(f.sourceId);
      }
      return due;
    };
    // Changed objects streamed from the source store's keyset pages (no statement is held open between them,
    // so the cycle writes and awaits freely): never the whole list in memory, and each record read once.
    const cursor = this.run.cursor;
    const from = cursor.from;
    // With a live read, users keep arriving until it ends: the cursor's end follows its commits until then.
    const live = full || only ? undefined : this.run.input.live;
    function* changedIds(type: ObjectType, due: Set<string>): Generator<SourceRecord | typeof WAIT> {
      let ended = type !== 'user' || live === undefined;
      for (let after = from; ;) {
        const records = type === 'user'
          ? (full ? source.allUsers() : source.changedUsers(after))
          : (full ? source.allGroups() : source.changedGroups(after));
        for (const r of records) {
          if (!full && r.seq > cursor.to) {
            if (ended) return;
            cursor.to = source.currentSeq(); // a chunk committed since we looked
          }
          due.delete(r.id);
          after = r.seq;
          yield r;
        }
        if (ended || live === undefined) return;
        // Still reading (or failed, which the cycle sees when it waits): wait for the next chunk.
        if (live.state !== 'done') { yield WAIT; continue; }
        // The read's last commit is in: what it committed after our last look is the end of this cycle.
        ended = true;
        cursor.to = source.currentSeq();
      }
    }

    // Users whose manager was not on the target when they were written (forgotten once it resolves).
    const pendingHolders = this.run.dryRun ? new Set<string>() : store.pendingReferenceHolders(this.run.target, 'user');
    for (const type of ['user', 'group'] as const) {
      const planned = new Set<string>();
      if (only) {
        const list = [...new Set((type === 'user' ? only.users : only.groups) ?? [])];
        yield* this.planBatches(type, list, { retries: new Set(), ctx, pendingHolders, planned });
        yield BARRIER;
        continue;
      }
      const due = dueOf(type);
      yield* this.planBatches(type, changedIds(type, due), { retries: new Set(), ctx, pendingHolders, planned });
      // What is left of `due` was not among the changed objects: retries.
      this.run.examined.retries += due.size;
      yield* this.planBatches(type, [...due], { retries: due, ctx, pendingHolders, planned });
      // What follows reads the links this type's batches write (back-fill; groups' members): wait for them.
      yield BARRIER;
      if (type !== 'user') continue;
      // Manager back-fill: users written before their manager had a link are planned again once it has one —
      // in this cycle when the manager was linked by an earlier batch, else in the next. Entra needs a restart.
      const ready = store.readyPendingReferences(this.run.target, 'user');
      if (ready.length === 0) continue;
      this.run.backfilled += ready.length;
      yield* this.planBatches('user', ready, { retries: new Set(), ctx, pendingHolders, planned, examined: planned, note: 'a reference it was waiting for is now on the target' });
    }
  }

  /** Maps and plans `ids` (or records already read) in batches; the caller applies each while the next is planned. */
  private *planBatches(
    type: ObjectType, ids: Iterable<string | SourceRecord | typeof WAIT>,
    how: { retries: ReadonlySet<string>; ctx: MappingContext; pendingHolders: Set<string>; planned: Set<string>; examined?: Set<string>; note?: string },
  ): Generator<PlannedBatch | typeof BARRIER | typeof WAIT> {
    const { store, compiled } = this.run.input;
    const { retries, ctx, pendingHolders } = how;
    const it = ids[Symbol.iterator]();
    for (let done = false; !done;) {
      const chunk: (string | SourceRecord)[] = [];
      let wait = false;
      while (chunk.length < this.run.policy.batchSize) {
        const n = it.next();
        if (n.done) { done = true; break; }
        if (n.value === WAIT) { wait = true; break; }
        chunk.push(n.value);
      }
      if (chunk.length === 0) {
        if (wait) { yield WAIT; continue; }
        break;
      }
      // An object met again while the batch that planned it may still be in flight (a live read committed it
      // twice): wait for that batch, so this plan sees the link it writes.
      const ids = chunk.map((item) => (typeof item === 'string' ? item : item.id));
      if (ids.some((id) => this.recentBatchIds.some((recent) => recent.has(id)))) yield BARRIER;
      this.recentBatchIds = [this.recentBatchIds[this.recentBatchIds.length - 1] ?? new Set(), new Set(ids)];
      const batch: PlannedBatch = { operations: [], destructive: [], steps: () => [] };
      const steps = new Map<string, ProvisioningStep[]>();
      batch.steps = (op) => steps.get(`${op.type}:${op.sourceId}`) ?? [];
      store.transaction(() => {
        for (const item of chunk) {
          const sourceId = typeof item === 'string' ? item : item.id;
          const desired = this.desired(type, item, ctx);
          // Only the back-fill pass can meet an object twice; only its candidates (pending holders) are remembered.
          if (!how.examined?.has(sourceId)) { if (type === 'user') this.run.examined.users++; else this.run.examined.groups++; }
          if (!desired) {
            if (!this.run.dryRun) store.clearFailure(this.run.target, type, sourceId);
            continue;
          }
          const id = desired.sourceId; // `sourceId` may be a UPN on demand
          if (type === 'user' && !this.run.dryRun) this.rememberPendingReferences(desired, pendingHolders);
          if (type === 'user' && (this.run.dryRun || pendingHolders.has(id))) how.planned.add(id);
          const link = store.link(this.run.target, type, id);
          const ops = planObject(desired, link, compiled.options);
          if (type === 'user') this.noteUniqueValues(desired, ops);
          if (!this.run.dryRun) store.unstage(this.run.target, type, id); // a newer plan supersedes what was held back
          this.run.events.emit('object:planned', { target: this.run.target, runId: this.run.runId, type, sourceId: id, kinds: ops.map((o) => o.kind) });
          if (ops.length === 0) {
            this.run.counts.unchanged++;
            // A due retry with nothing left to do (e.g. resolved by recovery) is settled.
            if (!this.run.dryRun && retries.has(id)) store.clearFailure(this.run.target, type, id);
            continue;
          }
          const objectSteps = describeSteps(desired, link, retries.has(id), how.note);
          for (const op of ops) {
            if (isDestructive(op)) { batch.destructive.push(op); this.heldStepMap.set(`${op.type}:${op.sourceId}`, objectSteps); }
            else batch.operations.push(op);
          }
          steps.set(`${type}:${id}`, objectSteps);
        }
      });
      yield batch;
      if (wait) yield WAIT;
    }
  }

  /** Records (or forgets) the references a user could not resolve, so the back-fill finds it later. */
  private rememberPendingReferences(desired: DesiredObject, holders: Set<string>): void {
    const refs = desired.scope === 'inScope' && desired.skip === undefined ? desired.pendingReferences : undefined;
    if (refs && Object.keys(refs).length) {
      this.run.input.store.setPendingReferences(this.run.target, 'user', desired.sourceId, refs);
      holders.add(desired.sourceId);
    } else if (holders.delete(desired.sourceId)) {
      this.run.input.store.setPendingReferences(this.run.target, 'user', desired.sourceId, {});
    }
  }

  /** The desired object for a source id (a user's may be a UPN on demand), or for a record already read. */
  desired(type: ObjectType, ref: string | SourceRecord, ctx: MappingContext): DesiredObject | null {
    const source = this.run.input.source!;
    const { compiled } = this.run.input;
    if (type === 'user') {
      const record = typeof ref === 'string' ? source.user(ref) ?? source.userByPrincipalName(ref) : ref as SourceUserRecord;
      return record ? desiredUser(record, compiled, ctx) : null;
    }
    const record = typeof ref === 'string' ? source.group(ref) : ref as SourceGroupRecord;
    return record ? desiredGroup(record, source.groupMembers(record.id), compiled, ctx) : null;
  }

  private giveUp(type: ObjectType, sourceId: string, firstFailedAt: string, now: Date): void {
    const { store } = this.run.input;
    store.transaction(() => {
      store.clearFailure(this.run.target, type, sourceId);
      store.log({
        runId: this.run.runId, target: this.run.target, type, sourceId, targetId: store.link(this.run.target, type, sourceId)?.targetId ?? null, displayName: sourceId,
        action: 'skip', status: 'skipped', steps: [step('action', 'skipped', `failing since ${firstFailedAt}; no more retries (gave up after ${Math.round(this.run.policy.giveUpAfterMs! / HOUR)} h)`)],
        modifiedProperties: [], at: now.toISOString(),
      });
    });
  }
}

function describeSteps(desired: DesiredObject, link: { targetId: string; status: string } | undefined, retry: boolean, note?: string): ProvisioningStep[] {
  return [
    step('import', 'success', `${desired.type} ${desired.displayName} (${desired.sourceId}) read from the source store${retry ? '; retrying an earlier failure' : ''}${note ? `; ${note}` : ''}`),
    step('scope', desired.scope === 'inScope' ? 'success' : 'skipped', desired.scope === 'inScope' ? 'in scope' : `out of scope: ${desired.scope}`),
    ...(link ? [step('match', 'success', `linked to ${link.targetId} (${link.status})`)] : []),
  ];
}
