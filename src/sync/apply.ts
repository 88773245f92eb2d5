// Executes planned operations against one target, journalled so a crash never loses or doubles one.
//
// Each operation is written to the journal as 'pending' BEFORE its first request leaves (journal.ts), and its
// result (the journal entry removed, the link, the failure record and the provisioning-log entry) is written
// atomically when it comes back. Writes are group-committed (write-batcher.ts): what the operations in flight
// queue during one event-loop turn goes to SQLite in one transaction, and an operation is sent only once its
// journal entry is committed; a result not yet committed when the process stops is left 'pending', which
// recovery.ts resolves like any other. What an operation sends and comes to (adopt or create …) is
// operations.ts's; what happens after an error follows the TargetError taxonomy: conflict → look up and adopt;
// notFound → recreate or unlink; badRequest/transient → record a failure with its next retry and go on; bug →
// record it, retry once next cycle, then park it (failures.ts); unauthorized → stop this target's cycle. An
// aborted `signal` stops the journalling of new operations: those journalled are sent and recorded, the rest
// are returned unsent.
import pLimit from 'p-limit';
import { TargetError, toTargetError, type BulkOperation, type ObjectType, type TargetCapabilities, type TargetConnector, type TargetObject } from '../targets/connector.js';
import type { SyncEvents } from '../observability/events.js';
import type { Link, PlannedOperation, ProvisioningStep } from '../engine/types.js';
import { redactedPathsOf, sealAttributes, sealOperation } from '../engine/redaction.js';
import { errorCode, recordableError, retryAtFor, stackOf } from './failures.js';
import { JournalWindow } from './journal.js';
import { MatchIndex } from './match-index.js';
import { OperationSender, type Outcome } from './operations.js';
import { DEFAULT_APPLY_POLICY, type ApplyPolicy } from './policy.js';
import { actionOf, logEntry, step } from './provisioning-log.js';
import type { SyncStore } from './store.js';
import { WriteBatcher } from './write-batcher.js';

export interface ApplyContext {
  store: SyncStore;
  connector: TargetConnector;
  target: string;
  runId: string;
  events?: SyncEvents;
  now?: () => Date;
  policy?: Partial<ApplyPolicy>;
  /** Steps that came before apply (import, scope) for an object's provisioning-log entry. */
  stepsBefore?: (op: PlannedOperation) => ProvisioningStep[];
  /**
   * Shared by every apply call of one cycle (the cycle applies in batches): the match index is built once
   * per cycle and kept current, instead of one page-through of the whole target per batch.
   */
  session?: ApplySession;
  /**
   * Add the members deferred in earlier cycles whose own link now exists, after this call's users and groups
   * (default). A cycle that applies in overlapping batches turns it off and does it once, at its end: two
   * batches doing it at once could add the same members to one group and race on its link.
   */
  readyDeferredMembers?: boolean;
  /**
   * Called once every operation has started (or was skipped): the target's connection slots free up from
   * here on, so the caller may start its next batch. Always called, at the latest when the call ends.
   */
  onAllStarted?: () => void;
  /**
   * `exact`: adopting a group removes the members Entra does not list — ours and foreign ones alike — and
   * records those it keeps. `additive` (and unset): an adopted group's existing members are never touched.
   */
  groupMembership?: 'exact' | 'additive';
  /**
   * Checked before an operation is journalled, never between journalling and sending: once aborted, no new
   * operation is journalled or started; those journalled are sent and recorded; the rest come back in `unsent`.
   */
  signal?: AbortSignal;
}

export interface FailedObject {
  type: ObjectType;
  sourceId: string;
  displayName: string;
  operation: PlannedOperation['kind'];
  kind: string;
  code: string;
  message: string;
  retryAt: string | null;
}

export interface ApplyCounts {
  create: number;
  adopt: number;
  update: number;
  enable: number;
  disable: number;
  delete: number;
  addMembers: number;
  removeMembers: number;
  unlink: number;
  skip: number;
}

export interface ApplyResult {
  counts: ApplyCounts;
  /** Operations that reached the target (journalled and sent), successful or not. */
  sent: number;
  failures: FailedObject[];
  /** Group members not provisioned yet: kept and added once their own link exists. */
  deferredMembers: number;
  /** Set when the target refused our credentials: the rest of the operations were not sent. */
  stopped: { reason: string; message: string } | null;
  /** Operations not started because the signal was aborted: nothing of them was journalled or sent. */
  unsent: PlannedOperation[];
}

export function emptyCounts(): ApplyCounts {
  return { create: 0, adopt: 0, update: 0, enable: 0, disable: 0, delete: 0, addMembers: 0, removeMembers: 0, unlink: 0, skip: 0 };
}

/** What the apply calls of one cycle share: one match index per object type, built at most once. */
export class ApplySession {
  readonly matchIndexes = new Map<ObjectType, MatchIndex>();
}

/** Applies `operations` in dependency order: users, then groups, then member adds, then member removes, then deletes. */
export async function applyOperations(operations: readonly PlannedOperation[], ctx: ApplyContext): Promise<ApplyResult> {
  const run = new ApplyRun(ctx);
  await run.apply(operations);
  return run.result;
}

class ApplyRun {
  readonly result: ApplyResult = { counts: emptyCounts(), sent: 0, failures: [], deferredMembers: 0, stopped: null, unsent: [] };
  private readonly policy: ApplyPolicy;
  private readonly now: () => Date;
  private capabilities: TargetCapabilities | undefined;
  private readonly matchIndexes: Map<ObjectType, MatchIndex>;
  /** Member source ids wanted in each group created by this batch (from its create or its pending addMembers). */
  private readonly wantedMembers = new Map<string, string[]>();
  private readonly batcher: WriteBatcher;
  private readonly sender: OperationSender;
  /** Results of this phase whose commit (and its event) is still to come. */
  private recording: Promise<void>[] = [];
  /** Operations still to start before `onAllStarted` (undefined: only when the call ends). */
  private toStart: number | undefined;
  private startedSignalled = false;

  constructor(private readonly ctx: ApplyContext) {
    this.policy = { ...DEFAULT_APPLY_POLICY, ...ctx.policy };
    this.now = ctx.now ?? (() => new Date());
    this.matchIndexes = ctx.session?.matchIndexes ?? new Map();
    this.batcher = new WriteBatcher(ctx.store);
    this.sender = new OperationSender({
      connector: ctx.connector, target: ctx.target, runId: ctx.runId, events: ctx.events, store: () => this.store,
      onNotFound: this.policy.onNotFound, groupMembership: ctx.groupMembership, matchIndexes: this.matchIndexes,
      wantedMembers: this.wantedMembers, onDeferred: (n) => { this.result.deferredMembers += n; },
    });
  }

  async apply(operations: readonly PlannedOperation[]): Promise<void> {
    const phases: PlannedOperation[][] = [[], [], [], []];
    const memberAdds = new Map<string, { op: PlannedOperation; members: Set<string> }>();
    const memberRemoves: PlannedOperation[] = [];
    for (const op of operations) {
      if (op.kind === 'create' && op.type === 'group') this.wantedMembers.set(op.sourceId, [...(op.members ?? []), ...(this.wantedMembers.get(op.sourceId) ?? [])]);
      if (op.kind === 'addMembers' && op.targetId === null) this.wantedMembers.set(op.sourceId, [...(this.wantedMembers.get(op.sourceId) ?? []), ...op.memberSourceIds]);
      if (op.kind === 'delete') phases[3]!.push(op);
      else if (op.kind === 'addMembers') mergeAdds(memberAdds, op, op.memberSourceIds);
      else if (op.kind === 'removeMembers') memberRemoves.push(op);
      else phases[op.type === 'user' ? 0 : 1]!.push(op);
      if (op.kind === 'create' && op.type === 'group' && op.members?.length) mergeAdds(memberAdds, op, op.members);
    }
    // Groups before users when deleting, so no member reference outlives its group for long.
    phases[3]!.sort((a, b) => (a.type === b.type ? 0 : a.type === 'group' ? -1 : 1));
    const readyDeferred = this.ctx.readyDeferredMembers !== false;
    // Without the deferred pass every operation is known now: the last one to start tells the caller.
    if (!readyDeferred) this.toStart = phases[0]!.length + phases[1]!.length + memberAdds.size + memberRemoves.length + phases[3]!.length;
    try {
      await this.runPhases(phases, memberAdds, memberRemoves, readyDeferred);
    } finally {
      this.allStarted();
    }
  }

  private allStarted(): void {
    if (this.startedSignalled) return;
    this.startedSignalled = true;
    this.ctx.onAllStarted?.();
  }

  private async runPhases(
    phases: PlannedOperation[][], memberAdds: Map<string, { op: PlannedOperation; members: Set<string> }>,
    memberRemoves: PlannedOperation[], readyDeferred: boolean,
  ): Promise<void> {
    if (this.toStart === 0) this.allStarted();
    await this.runPhase(phases[0]!);
    await this.runPhase(phases[1]!);
    if (this.result.stopped) return;
    // Members deferred in earlier cycles whose user has been provisioned since (they stay deferred when aborted).
    for (const [groupSourceId, members] of readyDeferred && !this.aborted ? this.store.readyDeferredMembers(this.ctx.target) : []) {
      const link = this.store.link(this.ctx.target, 'group', groupSourceId);
      if (!link || link.status !== 'active') continue;
      const op: PlannedOperation = { kind: 'addMembers', type: 'group', sourceId: groupSourceId, displayName: displayNameOf(link), targetId: link.targetId, memberSourceIds: [] };
      mergeAdds(memberAdds, op, members);
    }
    const memberOps: PlannedOperation[] = [...memberAdds.values()].map(({ op, members }) => ({
      kind: 'addMembers', type: 'group', sourceId: op.sourceId, displayName: op.displayName,
      targetId: 'targetId' in op ? op.targetId : null, memberSourceIds: [...members],
    }));
    // Adds, then removes: two member operations on one group at once would race — on the target (PATCHes on
    // one group) and on the group's link, where the later write would drop the other's members.
    await this.runPhase(memberOps);
    await this.runPhase(memberRemoves);
    await this.runPhase(phases[3]!);
  }

  /** The state store, once every queued write is committed: what this run reads includes what it wrote. */
  private get store(): SyncStore {
    this.batcher.flush();
    return this.ctx.store;
  }

  private async caps(): Promise<TargetCapabilities> {
    this.capabilities ??= await this.ctx.connector.capabilities();
    return this.capabilities;
  }

  private get aborted(): boolean {
    return this.ctx.signal?.aborted === true;
  }

  private async runPhase(ops: PlannedOperation[]): Promise<void> {
    if (ops.length === 0 || this.result.stopped) return;
    if (this.aborted) { this.result.unsent.push(...ops); return; }
    const caps = await this.caps();
    for (const type of ['user', 'group'] as const) {
      const creates = ops.filter((o) => o.kind === 'create' && o.type === type).length;
      if (caps.list && creates >= this.policy.matchIndexThreshold && !this.matchIndexes.has(type)) {
        this.matchIndexes.set(type, await MatchIndex.build(this.ctx.connector, type, ops));
      }
    }
    const useBulk = caps.bulk.supported && caps.bulk.maxOperations > 1;
    const bulkQueue: { opId: string; op: PlannedOperation & { kind: 'create' | 'update' }; bulk: BulkOperation; steps: ProvisioningStep[] }[] = [];
    const limit = pLimit(Math.max(1, this.policy.concurrency));
    const journal = new JournalWindow(ops, {
      store: this.ctx.store, batcher: this.batcher, target: this.ctx.target, runId: this.ctx.runId, now: this.now,
      concurrency: this.policy.concurrency, aborted: () => this.aborted,
    });
    await Promise.all(ops.map((op) => limit(async () => {
      if (this.toStart !== undefined && --this.toStart === 0) this.allStarted();
      if (this.result.stopped) { this.discardJournalled(journal, op); return; }
      // Aborted: an operation whose entry is written goes on (it may be sent already, as far as recovery knows).
      if (this.aborted && !journal.written(op)) { this.result.unsent.push(op); return; }
      if (op.kind === 'skip' || op.kind === 'unlink') { this.recordLocal(op); return; }
      const entry = journal.entry(op);
      if (!entry) { this.result.unsent.push(op); return; }
      const opId = await entry;
      // The target refused our credentials while this entry was being written: it is not sent, so it goes.
      if (this.result.stopped) { this.discardJournalled(journal, op); return; }
      this.result.sent++;
      const started = Date.now();
      let outcome: Outcome;
      try {
        if (useBulk && (op.kind === 'create' || op.kind === 'update')) {
          const queued = await this.sender.prepareBulk(op);
          if (queued.kind === 'bulk') { bulkQueue.push({ opId, op, bulk: queued.bulk, steps: queued.steps }); return; }
          outcome = queued.outcome;
        } else {
          outcome = await this.sender.send(op);
        }
      } catch (err) {
        await this.handleError(opId, op, err, started);
        return;
      }
      // Not awaited: the result rides along with a later commit, and the next operation starts now.
      void this.succeed(opId, op, outcome, started);
    })));
    if (bulkQueue.length) await this.flushBulk(bulkQueue, caps);
    this.batcher.flush();
    while (this.recording.length) {
      const recording = this.recording;
      this.recording = [];
      await Promise.all(recording);
    }
  }

  /** An operation journalled ahead that will not be sent after all (the cycle stopped): its entry is removed. */
  private discardJournalled(journal: JournalWindow, op: PlannedOperation): void {
    const discarded = journal.discard(op);
    if (discarded) this.recording.push(discarded);
  }

  // ── bulk ──────────────────────────────────────────────────────────────────────────────────────

  private async flushBulk(
    queue: { opId: string; op: PlannedOperation & { kind: 'create' | 'update' }; bulk: BulkOperation; steps: ProvisioningStep[] }[],
    caps: TargetCapabilities,
  ): Promise<void> {
    const size = Math.max(1, Math.min(this.policy.bulkBatchSize, caps.bulk.maxOperations));
    const batches: (typeof queue)[] = [];
    for (let i = 0; i < queue.length; i += size) batches.push(queue.slice(i, i + size));
    // Batches go out as many at a time as single operations do; the connector still paces the requests.
    const limit = pLimit(Math.max(1, this.policy.concurrency));
    await Promise.all(batches.map((batch) => limit(async () => {
      if (this.result.stopped) return;
      const started = Date.now();
      let results: Map<string, { ok: true; object?: TargetObject } | { ok: false; error: TargetError }>;
      try {
        const answer = await this.ctx.connector.bulk(batch.map((b) => ({ ...b.bulk, ref: b.opId })));
        results = new Map(answer.map((r) => [r.ref, r]));
      } catch (err) {
        for (const b of batch) await this.handleError(b.opId, b.op, err, started);
        return;
      }
      for (const b of batch) {
        const r = results.get(b.opId);
        try {
          if (!r) throw new TargetError({ kind: 'transient', message: 'the bulk response had no result for this operation', target: this.ctx.target });
          if (!r.ok) throw r.error;
          if (b.op.kind === 'update') { void this.succeed(b.opId, b.op, this.sender.updatedOutcome(b.op), started); continue; }
          const id = r.object?.id ?? (await this.sender.findAfterConflict(b.op))?.found.id;
          if (!id) throw new TargetError({ kind: 'transient', message: 'the bulk create returned no id and the object cannot be found', target: this.ctx.target });
          void this.succeed(b.opId, b.op, this.sender.createdOutcome(b.op, id, b.steps[0] ?? this.sender.matchDetails(b.op.match, null)), started);
        } catch (err) {
          if (b.op.kind === 'create' && err instanceof TargetError && err.kind === 'conflict') {
            try {
              const again = await this.sender.findAfterConflict(b.op);
              if (again) { void this.succeed(b.opId, b.op, await this.sender.adopt(b.op, again), started); continue; }
            } catch (inner) { await this.handleError(b.opId, b.op, inner, started); continue; }
          }
          await this.handleError(b.opId, b.op, err, started);
        }
      }
    })));
  }

  // ── results ───────────────────────────────────────────────────────────────────────────────────

  /**
   * Journal, link, failure and log for one successful operation, atomically, in a group commit. Counts and
   * the 'operation:sent' event follow the commit; a write that fails is handled like a failed request.
   */
  private succeed(opId: string, op: PlannedOperation, outcome: Outcome, started: number): Promise<void> {
    const { store, target } = this.ctx;
    const now = this.now();
    // The match index follows the target at once: a later create with the same value must not miss this one.
    const index = this.matchIndexes.get(op.type);
    if (index && outcome.sentEvent === 'created' && outcome.link) index.created(outcome.link.written);
    if (index && outcome.action === 'delete' && outcome.targetId) index.deleted(outcome.targetId);
    const recorded = this.batcher.queue(() => {
      store.journalEnd(opId);
      if (outcome.link === null) store.deleteLink(target, op.type, op.sourceId);
      // Redacted values are written to the link as hash markers only: the next plan compares hashes.
      else if (outcome.link) store.putLink({ ...outcome.link, written: sealAttributes(outcome.link.written, redactedPathsOf(op), op.sourceId), updatedAt: now.toISOString() });
      store.clearFailure(target, op.type, op.sourceId);
      store.log(logEntry(this.ctx, op, outcome.action, 'success', outcome.targetId, outcome.steps, outcome.modified, now));
    }, false).then(() => {
      this.result.counts[outcome.count]++;
      this.ctx.events?.emit('operation:sent', { target, runId: this.ctx.runId, operation: sealOperation(op), outcome: outcome.sentEvent, durationMs: Date.now() - started });
    }, (err: unknown) => this.handleError(opId, op, err, started));
    this.recording.push(recorded);
    return recorded;
  }

  private async handleError(opId: string, op: PlannedOperation, err: unknown, started: number): Promise<void> {
    const error = toTargetError(err, this.ctx.target);
    if (error.kind === 'notFound' && (op.kind === 'update' || op.kind === 'enable' || op.kind === 'disable')) {
      let gone: Outcome;
      try {
        gone = await this.sender.objectGone(op);
      } catch (again) {
        this.fail(opId, op, toTargetError(again, this.ctx.target));
        return;
      }
      await this.succeed(opId, op, gone, started);
      return;
    }
    this.fail(opId, op, error);
  }

  private fail(opId: string, op: PlannedOperation, raw: TargetError): void {
    const { target } = this.ctx;
    const store = this.store;
    const error = recordableError(raw, op);
    const now = this.now();
    const code = errorCode(error);
    let retryAt: string | null = null;
    store.transaction(() => {
      store.journalEnd(opId);
      // A refused credential is the target's problem, not the object's: the cycle stops and the cursor stays.
      if (error.kind !== 'unauthorized') {
        const explicit = retryAtFor(error, store.failure(target, op.type, op.sourceId), now, this.policy);
        retryAt = store.recordFailure({
          target, type: op.type, sourceId: op.sourceId, code, message: error.message, now,
          scheduleMs: this.policy.retryScheduleMs, ...(explicit ? { retryAt: explicit } : {}),
          countsForQuarantine: op.kind !== 'addMembers' && op.kind !== 'removeMembers',
        }).nextRetryAt;
      }
      store.log(logEntry(this.ctx, op, actionOf(op), 'failure', 'targetId' in op ? op.targetId : null,
        [step('action', 'failure', error.message), step('export', 'failure', error.request ? `${error.request} → ${error.status ?? error.kind}` : error.kind)],
        [], now, { code, message: error.message }));
    });
    this.result.failures.push({ type: op.type, sourceId: op.sourceId, displayName: op.displayName, operation: op.kind, kind: error.kind, code, message: error.message, retryAt });
    if (error.kind === 'unauthorized' && !this.result.stopped) this.result.stopped = { reason: 'EncounteredQuarantineException', message: error.message };
    // A bug is said loudly, with where it happened.
    const stack = error.kind === 'bug' ? stackOf(raw.cause ?? raw, op) : undefined;
    this.ctx.events?.emit('operation:failed', { target, runId: this.ctx.runId, operation: sealOperation(op), error: { code, kind: error.kind, message: error.message, ...(stack ? { stack } : {}) }, retryAt });
  }

  /** Skip and unlink need no request: they are logged (and an unlink forgets the link) without a journal entry. */
  private recordLocal(op: PlannedOperation & { kind: 'skip' | 'unlink' }): void {
    const { target } = this.ctx;
    const store = this.store;
    const now = this.now();
    store.transaction(() => {
      if (op.kind === 'unlink') store.deleteLink(target, op.type, op.sourceId);
      store.log(logEntry(this.ctx, op, op.kind, op.kind === 'skip' ? 'skipped' : 'success', op.kind === 'unlink' ? op.targetId : null,
        [step('action', op.kind === 'skip' ? 'skipped' : 'success', op.reason)], [], now));
    });
    this.result.counts[op.kind]++;
  }
}

function mergeAdds(adds: Map<string, { op: PlannedOperation; members: Set<string> }>, op: PlannedOperation, members: readonly string[]): void {
  const entry = adds.get(op.sourceId);
  if (entry) {
    for (const m of members) entry.members.add(m);
    if (entry.op.kind !== 'addMembers' && op.kind === 'addMembers') entry.op = op;
  } else {
    adds.set(op.sourceId, { op, members: new Set(members) });
  }
}

function displayNameOf(link: Link): string {
  const name = link.written.displayName ?? link.written.userName;
  return typeof name === 'string' ? name : link.sourceId;
}
