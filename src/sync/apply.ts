// Executes planned operations against one target, journalled so a crash never loses or doubles one.
//
// Each operation is written to the journal as 'pending' BEFORE its first request leaves, and its result
// (the journal entry removed, the link, the failure record and the provisioning-log entry) is written
// atomically when it comes back. Writes are group-committed: what the operations in flight queue during one
// event-loop turn goes to SQLite in one transaction (one savepoint each), and an operation is sent only once
// its journal entry is committed; a result not yet committed when the process stops is left 'pending', which
// recovery resolves like any other. `recoverInFlight` resolves whatever was pending when the process
// stopped by looking the object up on the target. What happens after an error follows the TargetError
// taxonomy: conflict → look up and adopt; notFound → recreate or unlink; badRequest/transient → record a
// failure with its next retry and go on; bug → record it, retry once next cycle, then park it; unauthorized →
// stop this target's cycle. An aborted `signal` stops the journalling of new operations: those journalled
// are sent and recorded, the rest are returned unsent.
import { clearTimeout, setImmediate, setTimeout } from 'node:timers';
import pLimit from 'p-limit';
import { TargetError, toTargetError, type AttributeChange, type BulkOperation, type MatchCriterion, type ObjectType, type TargetAttributes, type TargetCapabilities, type TargetConnector, type TargetObject } from '../targets/connector.js';
import type { SyncEvents } from '../observability/events.js';
import type { Link, PlannedOperation, ProvisioningAction, ProvisioningLogEntry, ProvisioningStep } from '../engine/types.js';
import { ENTRA_RETRY_SCHEDULE_MS, type TargetsStore } from '../state/targets-store.js';
import { isRedactedMarker, markerMatches, redactedPathsOf, scrubText, sealAttributes, sealOperation, shownValue, withoutMarkers } from '../engine/redaction.js';

type MemberOperation = Extract<PlannedOperation, { kind: 'addMembers' | 'removeMembers' }>;

/** Journal entries written ahead per concurrency slot, in one commit. */
const JOURNAL_AHEAD_PER_SLOT = 4;
/** Results are committed at most this often on their own (they also ride along with every journal commit). */
const RESULT_COMMIT_GAP_MS = 5;
/** … or until this many writes wait. */
const RESULT_COMMIT_MAX = 1000;

export interface ApplyPolicy {
  /** An update, enable or disable answered 404: create the object again from what we know, or forget the link. */
  onNotFound: 'recreate' | 'unlink';
  /** Delay before each retry of a failed object (the last step repeats). Entra: 6 h, 12 h, 24 h, then daily. */
  retryScheduleMs: readonly number[];
  /** Transient errors (5xx, timeouts) are retried at the next cycle this many times before following the schedule. */
  transientRetriesNextCycle: number;
  /** Operations in flight at once; the connector still paces the requests themselves. */
  concurrency: number;
  /** With at least this many creates of one type and a target that can list, match against one page-through instead of one GET per object. */
  matchIndexThreshold: number;
  /** Most operations per bulk() call when the target advertises /Bulk (capped by its maxOperations). */
  bulkBatchSize: number;
  /**
   * A bug (an exception nobody classified) is retried at the next cycle once; a second one parks the object
   * this long after its first failure, which is when the cycle gives up on it (null: parked 28 days).
   */
  giveUpAfterMs: number | null;
}

const PARK_DEFAULT_MS = 28 * 24 * 3_600_000;

export const DEFAULT_APPLY_POLICY: ApplyPolicy = {
  onNotFound: 'recreate',
  retryScheduleMs: ENTRA_RETRY_SCHEDULE_MS,
  transientRetriesNextCycle: 2,
  concurrency: 16,
  matchIndexThreshold: 50,
  bulkBatchSize: 50,
  giveUpAfterMs: PARK_DEFAULT_MS,
};

export interface ApplyContext {
  store: TargetsStore;
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

/**
 * A phase's journal entries: `entry` writes (ahead) and awaits one — undefined when it was not written and the
 * signal is aborted: that operation must not start; `written` is the one already written, if any.
 */
interface JournalWindow {
  entry(op: PlannedOperation): Promise<string> | undefined;
  written(op: PlannedOperation): Promise<string> | undefined;
}

interface Outcome {
  action: ProvisioningAction;
  count: keyof ApplyCounts;
  targetId: string | null;
  /** Link to write (undefined: leave the link as it is; null: remove it). */
  link?: Omit<Link, 'hash' | 'updatedAt'> | null;
  modified: { path: string; before: unknown; after: unknown }[];
  steps: ProvisioningStep[];
  sentEvent: 'created' | 'adopted' | 'updated' | 'done';
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

  /** Writes waiting for the next group commit. */
  private queued: { write: () => void; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private commitScheduled = false;
  private commitTimer: NodeJS.Timeout | undefined;
  private resultCommitArmed = false;
  private lastCommitAt = 0;
  /** Results of this phase whose commit (and its event) is still to come. */
  private recording: Promise<void>[] = [];
  /** Operations still to start before `onAllStarted` (undefined: only when the call ends). */
  private toStart: number | undefined;
  private startedSignalled = false;

  constructor(private readonly ctx: ApplyContext) {
    this.policy = { ...DEFAULT_APPLY_POLICY, ...ctx.policy };
    this.now = ctx.now ?? (() => new Date());
    this.matchIndexes = ctx.session?.matchIndexes ?? new Map();
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
  private get store(): TargetsStore {
    this.commitQueued();
    return this.ctx.store;
  }

  /**
   * Queues a write for the next group commit; settles once it is committed. `urgent` (a journal entry that an
   * operation waits on before it may be sent) commits at the end of this event-loop turn; anything else rides
   * along with the next commit, or goes at the end of a turn (`scheduleResultCommit`) or once RESULT_COMMIT_MAX writes wait.
   */
  private commit(write: () => void, urgent: boolean): Promise<void> {
    const settled = new Promise<void>((resolve, reject) => this.queued.push({ write, resolve, reject }));
    if (urgent) {
      if (!this.commitScheduled) {
        this.commitScheduled = true;
        // node:timers' functions, not the globals: a test's fake timers must not stall the writes.
        setImmediate(() => { this.commitScheduled = false; this.commitQueued(); });
      }
    } else if (this.queued.length >= RESULT_COMMIT_MAX) {
      this.commitQueued();
    } else {
      this.scheduleResultCommit();
    }
    return settled;
  }

  /**
   * Results are committed at the end of an event-loop turn, after the requests sent in it are written: the
   * commit (a millisecond or so) then runs while they are out, instead of holding up answers that have
   * arrived (with answers coming back together, that wait was paid by every request in flight). At most
   * once per RESULT_COMMIT_GAP_MS: a target that answers at once would otherwise get a commit every turn.
   */
  private scheduleResultCommit(): void {
    if (this.resultCommitArmed) return;
    this.resultCommitArmed = true;
    // Two hops: undici writes a request on a reused connection in a setImmediate of the turn that sent it.
    // The first hop may run before some of those writes (requests sent later in the turn); the second,
    // queued from it, runs in the next turn's check phase, after all of them.
    const afterWrites = () => setImmediate(() => setImmediate(() => { this.resultCommitArmed = false; this.commitQueued(); }));
    const wait = this.lastCommitAt + RESULT_COMMIT_GAP_MS - Date.now();
    if (wait <= 0) afterWrites();
    else this.commitTimer = setTimeout(() => { this.commitTimer = undefined; afterWrites(); }, wait);
  }

  /** Commits every queued write in one transaction; if that fails, each alone, so a bad write fails only its own operation. */
  private commitQueued(): void {
    if (this.commitTimer) { clearTimeout(this.commitTimer); this.commitTimer = undefined; this.resultCommitArmed = false; }
    if (this.queued.length === 0) return;
    this.lastCommitAt = Date.now();
    const batch = this.queued;
    this.queued = [];
    const store = this.ctx.store;
    try {
      store.transaction(() => { for (const w of batch) w.write(); });
    } catch {
      for (const w of batch) {
        try { store.transaction(w.write); w.resolve(); } catch (err) { w.reject(err); }
      }
      return;
    }
    for (const w of batch) w.resolve();
  }

  /**
   * The journal entries of a phase, written ahead in groups: the operation about to start and the next ones,
   * up to `concurrency` × JOURNAL_AHEAD_PER_SLOT of them, in one commit. Each operation is sent only once its own entry is committed.
   */
  private journalWindow(ops: readonly PlannedOperation[]): JournalWindow {
    const entries = new Map<PlannedOperation, Promise<string>>();
    // Several operations' worth per concurrency slot: each commit then carries dozens of entries (and the
    // results that ride along) instead of a handful. A crash leaves at most a window and a half of entries
    // whose operation was never sent, each looked up and re-planned on the next start.
    const size = Math.max(1, this.policy.concurrency) * JOURNAL_AHEAD_PER_SLOT;
    let next = 0;
    let asked = 0;
    const entry = (op: PlannedOperation): Promise<string> | undefined => {
      asked++;
      // The next window is written once half of this one is taken, so it is committed before anyone needs it:
      // an operation that waits for its own entry waits for a commit, a turn of the event loop.
      // The signal is checked before each entry is queued: an entry written is an operation that will be sent.
      while ((!entries.has(op) || entries.size - asked < size / 2) && next < ops.length && !this.aborted) {
        for (let n = 0; n < size && next < ops.length && !this.aborted; next++) {
          const ahead = ops[next]!;
          if (ahead.kind === 'skip' || ahead.kind === 'unlink' || entries.has(ahead)) continue;
          const now = this.now();
          let id = '';
          entries.set(ahead, this.commit(() => { id = this.ctx.store.journalBegin(this.ctx.target, this.ctx.runId, ahead, now); }, true).then(() => id));
          n++;
        }
      }
      return entries.get(op);
    };
    return { entry, written: (op) => entries.get(op) };
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
    const journal = this.journalWindow(ops);
    await Promise.all(ops.map((op) => limit(async () => {
      if (this.toStart !== undefined && --this.toStart === 0) this.allStarted();
      if (this.result.stopped) { this.discardJournalled(journal.written(op)); return; }
      // Aborted: an operation whose entry is written goes on (it may be sent already, as far as recovery knows).
      if (this.aborted && !journal.written(op)) { this.result.unsent.push(op); return; }
      if (op.kind === 'skip' || op.kind === 'unlink') { this.recordLocal(op); return; }
      const entry = journal.entry(op);
      if (!entry) { this.result.unsent.push(op); return; }
      const opId = await entry;
      // The target refused our credentials while this entry was being written: it is not sent, so it goes.
      if (this.result.stopped) { this.discardJournalled(journal.written(op)); return; }
      this.result.sent++;
      const started = Date.now();
      let outcome: Outcome;
      try {
        if (useBulk && (op.kind === 'create' || op.kind === 'update')) {
          const queued = await this.prepareBulk(op);
          if (queued.kind === 'bulk') { bulkQueue.push({ opId, op, bulk: queued.bulk, steps: queued.steps }); return; }
          outcome = queued.outcome;
        } else {
          outcome = await this.send(op);
        }
      } catch (err) {
        await this.handleError(opId, op, err, started);
        return;
      }
      // Not awaited: the result rides along with a later commit, and the next operation starts now.
      void this.succeed(opId, op, outcome, started);
    })));
    if (bulkQueue.length) await this.flushBulk(bulkQueue, caps);
    this.commitQueued();
    while (this.recording.length) {
      const recording = this.recording;
      this.recording = [];
      await Promise.all(recording);
    }
  }

  /** An operation journalled ahead that will not be sent after all (the cycle stopped): its entry is removed. */
  private discardJournalled(entry: Promise<string> | undefined): void {
    if (entry) this.recording.push(entry.then((id) => this.commit(() => this.ctx.store.journalDiscard(id), true)));
  }

  // ── sending one operation ─────────────────────────────────────────────────────────────────────

  private async send(op: PlannedOperation): Promise<Outcome> {
    const c = this.ctx.connector;
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
        const link = this.store.link(this.ctx.target, op.type, op.sourceId);
        const written = link ? { ...link.written } : {};
        const before = link ? link.status === 'active' : !active;
        if ('active' in written) written.active = active;
        return {
          action: op.kind, count: op.kind, targetId: op.targetId, sentEvent: 'done',
          link: { target: this.ctx.target, type: op.type, sourceId: op.sourceId, targetId: op.targetId, status: active ? 'active' : 'disabled', written, ...(link?.members ? { members: link.members } : {}) },
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
    const index = this.matchIndexes.get(type);
    for (const criterion of match) {
      const indexed = index && index.covers(criterion.path) ? index.lookup(criterion) : 'unknown';
      // Objects created or deleted since the index was read are looked up live: the index only knows their id.
      const found = indexed === 'unknown' ? await this.ctx.connector.find(type, criterion) : indexed;
      if (found === 'ambiguous') {
        throw new TargetError({ kind: 'conflict', message: `more than one ${type} on the target has ${criterion.path} = ${String(criterion.value)}`, target: this.ctx.target });
      }
      if (found) return { found, by: criterion };
    }
    return null;
  }

  private matchDetails(match: readonly MatchCriterion[], hit: { found: TargetObject; by: MatchCriterion } | null): ProvisioningStep {
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
      const created = await this.ctx.connector.create(op.type, op.attributes);
      return this.createdOutcome(op, created.id, this.matchDetails(op.match, null));
    } catch (err) {
      if (!(err instanceof TargetError && err.kind === 'conflict')) throw err;
      // Someone created it between our lookup and our POST (or the target matches on something else): adopt it.
      const again = await this.findAfterConflict(op);
      if (!again) throw err;
      return this.adopt(op, again);
    }
  }

  private async findAfterConflict(op: PlannedOperation & { kind: 'create' }): Promise<{ found: TargetObject; by: MatchCriterion } | null> {
    for (const criterion of op.match) {
      const found = await this.ctx.connector.find(op.type, criterion);
      if (found) return { found, by: criterion };
    }
    return null;
  }

  private async adopt(op: PlannedOperation & { kind: 'create' }, hit: { found: TargetObject; by: MatchCriterion }): Promise<Outcome> {
    const changes = diffAttributes(hit.found.attributes, op.attributes);
    if (changes.length) await this.ctx.connector.update(op.type, hit.found.id, changes, op.attributes);
    const modified = changes.map((c) => ({ path: c.path, before: c.before, after: c.after }));
    const steps = [this.matchDetails(op.match, hit), step('action', 'success', changes.length ? `adopted existing object and updated ${changes.length} attribute(s)` : 'adopted existing object, nothing to change')];
    let members: string[] | undefined;
    if (op.type === 'group') {
      members = [];
      if (this.ctx.groupMembership === 'exact') {
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
      link: { target: this.ctx.target, type: op.type, sourceId: op.sourceId, targetId: hit.found.id, status: statusOf(op.attributes), written: { ...op.attributes }, ...(members ? { members } : {}) },
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
    const { target, connector } = this.ctx;
    const store = this.store;
    const wanted = new Set([...(op.members ?? []), ...(this.wantedMembers.get(op.sourceId) ?? [])]);
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

  private createdOutcome(op: PlannedOperation & { kind: 'create' }, targetId: string, matchStep: ProvisioningStep): Outcome {
    return {
      action: 'create', count: 'create', targetId, sentEvent: 'created',
      link: { target: this.ctx.target, type: op.type, sourceId: op.sourceId, targetId, status: statusOf(op.attributes), written: { ...op.attributes }, ...(op.type === 'group' ? { members: [] } : {}) },
      modified: Object.entries(op.attributes).map(([path, after]) => ({ path, before: null, after })),
      steps: [matchStep, step('action', 'success', 'created')],
    };
  }

  private updatedOutcome(op: PlannedOperation & { kind: 'update' }): Outcome {
    const link = this.store.link(this.ctx.target, op.type, op.sourceId);
    const written = applyChanges(link?.written ?? { ...op.desired }, op.changes);
    const activeChange = op.changes.find((c) => c.path === 'active');
    const status = activeChange ? (activeChange.after === false ? 'disabled' : 'active') : (link?.status ?? 'active');
    return {
      action: 'update', count: 'update', targetId: op.targetId, sentEvent: 'updated',
      link: { target: this.ctx.target, type: op.type, sourceId: op.sourceId, targetId: op.targetId, status, written, ...(link?.members ? { members: link.members } : {}) },
      modified: op.changes.map((c) => ({ path: c.path, before: c.before, after: c.after })),
      steps: [step('action', 'success', `updated ${op.changes.map((c) => c.path).join(', ')}`)],
    };
  }

  private deletedOutcome(op: PlannedOperation & { kind: 'delete' }): Outcome {
    const link = this.store.link(this.ctx.target, op.type, op.sourceId);
    return {
      action: 'delete', count: 'delete', targetId: op.targetId, sentEvent: 'done',
      // The link stays, marked deleted, like Entra's connector data store: the history of what we managed.
      link: link ? { ...link, status: 'deleted' } : undefined,
      modified: [],
      steps: [step('action', 'success', `deleted (${op.reason})`)],
    };
  }

  private async addMembers(op: MemberOperation): Promise<Outcome> {
    const group = this.store.link(this.ctx.target, 'group', op.sourceId);
    if (!group || group.status !== 'active') {
      throw new TargetError({ kind: 'badRequest', message: `group ${op.sourceId} is not provisioned on the target yet; its members will be added once it is`, target: this.ctx.target });
    }
    const already = new Set(group.members ?? []);
    const toAdd: { sourceId: string; targetId: string }[] = [];
    const deferred: string[] = [];
    for (const memberSourceId of new Set(op.memberSourceIds)) {
      if (already.has(memberSourceId)) continue;
      const member = this.store.linkOfMember(this.ctx.target, memberSourceId);
      if (member && member.status === 'active') toAdd.push({ sourceId: memberSourceId, targetId: member.targetId });
      else deferred.push(memberSourceId);
    }
    if (toAdd.length) await this.ctx.connector.addMembers(group.targetId, toAdd.map((m) => m.targetId));
    const added = toAdd.map((m) => m.sourceId);
    const store = this.store;
    store.transaction(() => {
      if (added.length) store.dropDeferredMembers(this.ctx.target, op.sourceId, added);
      if (deferred.length) store.addDeferredMembers(this.ctx.target, op.sourceId, deferred);
    });
    if (deferred.length) {
      this.result.deferredMembers += deferred.length;
      this.ctx.events?.emit('members:deferred', { target: this.ctx.target, runId: this.ctx.runId, groupSourceId: op.sourceId, memberSourceIds: deferred });
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
    const group = this.store.link(this.ctx.target, 'group', op.sourceId);
    if (!group || group.status !== 'active') {
      return { action: 'members', count: 'removeMembers', targetId: null, sentEvent: 'done', modified: [], steps: [step('action', 'skipped', 'group is not on the target')] };
    }
    const removing = new Set(op.memberSourceIds);
    const targetIds = new Set<string>();
    for (const memberSourceId of removing) {
      const member = this.store.linkOfMember(this.ctx.target, memberSourceId);
      if (member && member.status !== 'deleted') targetIds.add(member.targetId);
    }
    // Exact membership: members someone else put on the target have no link, only a target id.
    const foreign = op.memberTargetIds ?? [];
    for (const id of foreign) targetIds.add(id);
    if (targetIds.size) await this.ctx.connector.removeMembers(group.targetId, [...targetIds]);
    this.store.dropDeferredMembers(this.ctx.target, op.sourceId, [...removing]);
    return {
      action: 'members', count: 'removeMembers', targetId: group.targetId, sentEvent: 'done',
      link: { ...group, members: (group.members ?? []).filter((m) => !removing.has(m)) },
      modified: [{ path: 'members', before: [...removing, ...foreign], after: null }],
      steps: [step('action', 'success', `removed ${targetIds.size} member(s)${foreign.length ? `, ${foreign.length} of them not provisioned by us (exact membership)` : ''}`)],
    };
  }

  // ── bulk ──────────────────────────────────────────────────────────────────────────────────────

  /** Resolves matching for a create (adopting individually) or queues a plain create/update for /Bulk. */
  private async prepareBulk(op: PlannedOperation & { kind: 'create' | 'update' }):
    Promise<{ kind: 'bulk'; bulk: BulkOperation; steps: ProvisioningStep[] } | { kind: 'done'; outcome: Outcome }> {
    if (op.kind === 'update') return { kind: 'bulk', bulk: { op: 'update', type: op.type, ref: '', id: op.targetId, changes: op.changes, desired: op.desired }, steps: [] };
    const hit = await this.findMatch(op.type, op.match);
    if (hit) return { kind: 'done', outcome: await this.adopt(op, hit) };
    return { kind: 'bulk', bulk: { op: 'create', type: op.type, ref: '', attributes: op.attributes }, steps: [this.matchDetails(op.match, null)] };
  }

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
          if (b.op.kind === 'update') { void this.succeed(b.opId, b.op, this.updatedOutcome(b.op), started); continue; }
          const id = r.object?.id ?? (await this.findAfterConflict(b.op))?.found.id;
          if (!id) throw new TargetError({ kind: 'transient', message: 'the bulk create returned no id and the object cannot be found', target: this.ctx.target });
          void this.succeed(b.opId, b.op, this.createdOutcome(b.op, id, b.steps[0] ?? this.matchDetails(b.op.match, null)), started);
        } catch (err) {
          if (b.op.kind === 'create' && err instanceof TargetError && err.kind === 'conflict') {
            try {
              const again = await this.findAfterConflict(b.op);
              if (again) { void this.succeed(b.opId, b.op, await this.adopt(b.op, again), started); continue; }
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
    const recorded = this.commit(() => {
      store.journalEnd(opId);
      if (outcome.link === null) store.deleteLink(target, op.type, op.sourceId);
      // Redacted values are written to the link as hash markers only: the next plan compares hashes.
      else if (outcome.link) store.putLink({ ...outcome.link, written: sealAttributes(outcome.link.written, redactedPathsOf(op), op.sourceId), updatedAt: now.toISOString() });
      store.clearFailure(target, op.type, op.sourceId);
      store.log(this.entry(op, outcome.action, 'success', outcome.targetId, outcome.steps, outcome.modified, now));
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
        gone = await this.objectGone(op);
      } catch (again) {
        this.fail(opId, op, toTargetError(again, this.ctx.target));
        return;
      }
      await this.succeed(opId, op, gone, started);
      return;
    }
    this.fail(opId, op, error);
  }

  /** The object we linked was removed on the target by someone else. */
  private async objectGone(op: PlannedOperation & { kind: 'update' | 'enable' | 'disable' }): Promise<Outcome> {
    const link = this.store.link(this.ctx.target, op.type, op.sourceId);
    if (op.kind === 'disable') {
      // Disabling something that no longer exists: nothing to do but remember it is gone.
      return { action: 'disable', count: 'disable', targetId: op.targetId, sentEvent: 'done', link: link ? { ...link, status: 'deleted' } : undefined, modified: [], steps: [step('action', 'skipped', 'object no longer exists on the target')] };
    }
    if (this.policy.onNotFound === 'unlink') {
      return { action: 'unlink', count: 'unlink', targetId: null, sentEvent: 'done', link: null, modified: [], steps: [step('action', 'success', 'object no longer exists on the target; link removed (policy onNotFound: unlink)')] };
    }
    // What we last wrote holds redacted values only as hashes: those are left out (the next full comparison sends them).
    const attributes = op.kind === 'update' ? { ...op.desired } : { ...withoutMarkers(link?.written ?? {}).attributes, ...(link && 'active' in link.written ? { active: true } : {}) };
    const created = await this.ctx.connector.create(op.type, attributes);
    return {
      action: 'create', count: 'create', targetId: created.id, sentEvent: 'created',
      link: { target: this.ctx.target, type: op.type, sourceId: op.sourceId, targetId: created.id, status: 'active', written: attributes, ...(op.type === 'group' ? { members: [] } : {}) },
      modified: Object.entries(attributes).map(([path, after]) => ({ path, before: null, after })),
      steps: [step('action', 'success', `object ${op.targetId} no longer exists on the target; created again as ${created.id} (policy onNotFound: recreate)`)],
    };
  }

  private fail(opId: string, op: PlannedOperation, raw: TargetError): void {
    const { target } = this.ctx;
    const store = this.store;
    // A target that echoes a redacted value in its error message must not get it into our log or state.
    const error = redactedPathsOf(op).size === 0 ? raw : new TargetError({
      kind: raw.kind, message: scrubText(raw.message, op), target: raw.target, cause: raw,
      ...(raw.status !== undefined ? { status: raw.status } : {}), ...(raw.scimType !== undefined ? { scimType: raw.scimType } : {}), ...(raw.request !== undefined ? { request: raw.request } : {}),
    });
    const now = this.now();
    const code = errorCode(error);
    let retryAt: string | null = null;
    store.transaction(() => {
      store.journalEnd(opId);
      // A refused credential is the target's problem, not the object's: the cycle stops and the cursor stays.
      if (error.kind !== 'unauthorized') {
        const attempts = (store.failure(target, op.type, op.sourceId)?.attempts ?? 0) + 1;
        const schedule = this.policy.retryScheduleMs;
        // Transient faults get a few next-cycle retries ("retried in 40 minutes"), then the schedule from its start.
        const transientStep = attempts - 1 - this.policy.transientRetriesNextCycle;
        const explicit = error.kind === 'bug' ? this.bugRetryAt(op, now)
          : error.kind !== 'transient' ? undefined
          : transientStep < 0 || schedule.length === 0 ? now
          : new Date(now.getTime() + schedule[Math.min(transientStep, schedule.length - 1)]!);
        retryAt = store.recordFailure({
          target, type: op.type, sourceId: op.sourceId, code, message: error.message, now,
          scheduleMs: schedule, ...(explicit ? { retryAt: explicit } : {}),
          countsForQuarantine: op.kind !== 'addMembers' && op.kind !== 'removeMembers',
        }).nextRetryAt;
      }
      store.log(this.entry(op, actionOf(op), 'failure', 'targetId' in op ? op.targetId : null,
        [step('action', 'failure', error.message), step('export', 'failure', error.request ? `${error.request} → ${error.status ?? error.kind}` : error.kind)],
        [], now, { code, message: error.message }));
    });
    this.result.failures.push({ type: op.type, sourceId: op.sourceId, displayName: op.displayName, operation: op.kind, kind: error.kind, code, message: error.message, retryAt });
    if (error.kind === 'unauthorized' && !this.result.stopped) this.result.stopped = { reason: 'EncounteredQuarantineException', message: error.message };
    // A bug is said loudly, with where it happened (the stack, scrubbed of redacted values like the message).
    const stack = error.kind === 'bug' ? stackOf(raw.cause ?? raw, op) : undefined;
    this.ctx.events?.emit('operation:failed', { target, runId: this.ctx.runId, operation: sealOperation(op), error: { code, kind: error.kind, message: error.message, ...(stack ? { stack } : {}) }, retryAt });
  }

  /**
   * A bug is retried once at the next cycle (it may hang on a one-off state); a second one in a row parks the
   * object until the cycle gives up on it: retrying a programming error on a schedule only repeats it. A change
   * of the object in Entra, `resume` or `resync` plans it again before that.
   */
  private bugRetryAt(op: PlannedOperation, now: Date): Date {
    const previous = this.ctx.store.failure(this.ctx.target, op.type, op.sourceId);
    if (previous?.code !== BUG_CODE) return now;
    return new Date(new Date(previous.firstFailedAt).getTime() + (this.policy.giveUpAfterMs ?? PARK_DEFAULT_MS) + 1);
  }

  /** Skip and unlink need no request: they are logged (and an unlink forgets the link) without a journal entry. */
  private recordLocal(op: PlannedOperation & { kind: 'skip' | 'unlink' }): void {
    const { target } = this.ctx;
    const store = this.store;
    const now = this.now();
    store.transaction(() => {
      if (op.kind === 'unlink') store.deleteLink(target, op.type, op.sourceId);
      store.log(this.entry(op, op.kind, op.kind === 'skip' ? 'skipped' : 'success', op.kind === 'unlink' ? op.targetId : null,
        [step('action', op.kind === 'skip' ? 'skipped' : 'success', op.reason)], [], now));
    });
    this.result.counts[op.kind]++;
  }

  private entry(
    op: PlannedOperation, action: ProvisioningAction, status: ProvisioningLogEntry['status'], targetId: string | null,
    steps: ProvisioningStep[], modified: ProvisioningLogEntry['modifiedProperties'], now: Date, error?: { code: string; message: string },
  ): ProvisioningLogEntry {
    const exportStep = steps.some((s) => s.name === 'export') || status === 'skipped' || op.kind === 'unlink'
      ? [] : [step('export', 'success', targetId ? `target id ${targetId}` : 'nothing exported')];
    const redacted = redactedPathsOf(op);
    return {
      runId: this.ctx.runId, target: this.ctx.target, type: op.type, sourceId: op.sourceId, targetId,
      displayName: op.displayName, action, status, steps: [...(this.ctx.stepsBefore?.(op) ?? []), ...steps, ...exportStep],
      modifiedProperties: modified.map((m) => ({ path: m.path, before: shownValue(m.path, m.before, redacted), after: shownValue(m.path, m.after, redacted) })),
      ...(error ? { error } : {}), at: now.toISOString(),
    };
  }
}

// ── journal recovery ────────────────────────────────────────────────────────────────────────────

export interface RecoveryReport {
  /** Pending operations found to have reached the target: their link is now written. */
  landed: PlannedOperation[];
  /** Pending operations that did not reach the target: their object is due for re-planning in the next cycle. */
  replanned: PlannedOperation[];
}

/**
 * Resolves operations left 'pending' by a stopped process, by looking each object up on the target:
 * a create that landed is linked (never sent twice); one that did not is re-planned (never lost).
 * Must run before a target's next cycle, under its lease.
 */
export async function recoverInFlight(ctx: Omit<ApplyContext, 'runId' | 'policy' | 'stepsBefore'>): Promise<RecoveryReport> {
  const { store, connector, target } = ctx;
  const now = ctx.now ?? (() => new Date());
  const report: RecoveryReport = { landed: [], replanned: [] };
  for (const entry of store.pendingOperations(target)) {
    const op = entry.operation;
    let landed: Omit<Link, 'hash' | 'updatedAt'> | null | 'no-link-change' = null;
    try {
      landed = await landedLink(op, store, connector, target);
    } catch {
      landed = null; // The target cannot tell us now: re-plan, which looks it up again before sending.
    }
    const at = now();
    store.transaction(() => {
      if (landed) {
        if (landed !== 'no-link-change') store.putLink({ ...landed, updatedAt: at.toISOString() });
        store.journalEnd(entry.id);
      } else {
        store.journalEnd(entry.id);
        // Due at once: the next cycle re-plans this object even though its change may be below the cursor.
        store.recordFailure({ target, type: op.type, sourceId: op.sourceId, code: 'INTERRUPTED', message: `${op.kind} was interrupted before its result was recorded`, now: at, retryAt: at, countsForQuarantine: false });
      }
    });
    (landed ? report.landed : report.replanned).push(op);
    ctx.events?.emit('operation:recovered', { target, operation: op, landed: landed !== null });
  }
  return report;
}

async function landedLink(op: PlannedOperation, store: TargetsStore, connector: TargetConnector, target: string): Promise<Omit<Link, 'hash' | 'updatedAt'> | null | 'no-link-change'> {
  const link = store.link(target, op.type, op.sourceId);
  switch (op.kind) {
    case 'create': {
      if (link && link.status !== 'deleted') return 'no-link-change';
      for (const criterion of op.match) {
        // A redacted match value was journalled as a hash and cannot be looked up: re-planning looks it up again.
        if (isRedactedMarker(criterion.value)) continue;
        const found = await connector.find(op.type, criterion);
        if (!found) continue;
        // What the target holds now, so that a half-finished adopt is finished by the next plan's update.
        const written: TargetAttributes = {};
        for (const [path, value] of Object.entries(op.attributes)) {
          written[path] = isRedactedMarker(value) ? (markerMatches(value, op.sourceId, path, found.attributes[path]) ? value : null) : path in found.attributes ? found.attributes[path] : value;
        }
        return { target, type: op.type, sourceId: op.sourceId, targetId: found.id, status: statusOf(written), written, ...(op.type === 'group' ? { members: [] } : {}) };
      }
      return null;
    }
    case 'update': {
      const found = await connector.get(op.type, op.targetId);
      if (!found || diffAttributes(found.attributes, Object.fromEntries(op.changes.map((c) => [c.path, c.after])), op.sourceId).length) return null;
      return { ...(link ?? { target, type: op.type, sourceId: op.sourceId, targetId: op.targetId, status: 'active' }), written: applyChanges(link?.written ?? {}, op.changes) };
    }
    case 'disable':
    case 'enable': {
      const found = await connector.get(op.type, op.targetId);
      const active = op.kind === 'enable';
      if (!found || found.attributes.active !== active || !link) return null;
      return { ...link, status: active ? 'active' : 'disabled', written: 'active' in link.written ? { ...link.written, active } : link.written };
    }
    case 'delete': {
      const found = await connector.get(op.type, op.targetId);
      if (found) return null;
      return link ? { ...link, status: 'deleted' } : 'no-link-change';
    }
    case 'addMembers':
    case 'removeMembers': {
      if (!link) return null;
      const current = new Set(await connector.listMembers(link.targetId));
      const members = new Set(link.members ?? []);
      for (const memberSourceId of op.memberSourceIds) {
        const member = store.linkOfMember(target, memberSourceId);
        if (!member) continue;
        const present = current.has(member.targetId);
        if (op.kind === 'addMembers' && !present) return null;
        if (op.kind === 'removeMembers' && present) return null;
        if (op.kind === 'addMembers') members.add(memberSourceId); else members.delete(memberSourceId);
      }
      if (op.kind === 'removeMembers' && (op.memberTargetIds ?? []).some((id) => current.has(id))) return null;
      return { ...link, members: [...members] };
    }
    case 'skip':
    case 'unlink':
      return 'no-link-change';
  }
}

// ── helpers ──────────────────────────────────────────────────────────────────────────────────────

/**
 * A page-through of the target indexed by the values of the match paths (strings compared case-insensitively,
 * like SCIM userName). It lives for a whole cycle: what this cycle creates or deletes is noted, and a lookup
 * that lands on such an object answers 'unknown' so the caller asks the target (only its id is kept, to keep
 * the index small on an initial sync of a large tenant).
 */
class MatchIndex {
  private readonly deletedIds = new Set<string>();
  /** 31-bit hashes of the match values this cycle created (small integers: no strings kept per created object). */
  private readonly createdHashes = new Map<string, Set<number>>();

  private constructor(private readonly byPath: Map<string, Map<string, TargetObject | 'ambiguous' | 'unknown'>>) {}

  static async build(connector: TargetConnector, type: ObjectType, ops: readonly PlannedOperation[]): Promise<MatchIndex> {
    const paths = new Set<string>();
    for (const op of ops) if (op.kind === 'create' && op.type === type) for (const m of op.match) paths.add(m.path);
    const byPath = new Map<string, Map<string, TargetObject | 'ambiguous' | 'unknown'>>([...paths].map((p) => [p, new Map()]));
    for await (const object of connector.list(type)) {
      for (const [path, values] of byPath) {
        const value = object.attributes[path];
        if (value === undefined || value === null) continue;
        const key = normalize(value as string | number | boolean);
        values.set(key, values.has(key) ? 'ambiguous' : { id: object.id, attributes: object.attributes });
      }
    }
    return new MatchIndex(byPath);
  }

  covers(path: string): boolean {
    return this.byPath.has(path);
  }

  lookup(criterion: MatchCriterion): TargetObject | null | 'ambiguous' | 'unknown' {
    const key = normalize(criterion.value);
    // Created this cycle (or a hash collision with such a key): ask the target.
    if (this.createdHashes.get(criterion.path)?.has(hashKey(key))) return 'unknown';
    const found = this.byPath.get(criterion.path)?.get(key) ?? null;
    return found !== null && typeof found === 'object' && this.deletedIds.has(found.id) ? 'unknown' : found;
  }

  /** This cycle created an object with these attributes: a later create with the same match value must find it. */
  created(attributes: TargetAttributes): void {
    for (const path of this.byPath.keys()) {
      const value = attributes[path];
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue;
      let hashes = this.createdHashes.get(path);
      if (!hashes) this.createdHashes.set(path, hashes = new Set());
      hashes.add(hashKey(normalize(value)));
    }
  }

  deleted(targetId: string): void {
    this.deletedIds.add(targetId);
  }
}

/** FNV-1a over UTF-16 code units, folded to 31 bits (a V8 small integer). */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 1;
}

function normalize(value: string | number | boolean): string {
  return typeof value === 'string' ? value.toLowerCase() : String(value);
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

export function step(name: ProvisioningStep['name'], status: ProvisioningStep['status'], details: string): ProvisioningStep {
  return { name, status, details };
}

function statusOf(attributes: TargetAttributes): Link['status'] {
  return attributes.active === false ? 'disabled' : 'active';
}

function actionOf(op: PlannedOperation): ProvisioningAction {
  switch (op.kind) {
    case 'addMembers':
    case 'removeMembers': return 'members';
    default: return op.kind;
  }
}

/**
 * Attributes in `desired` whose value on the target differs (deep, key-order-insensitive). A redaction
 * marker in `desired` (what we stored instead of a redacted value) equals the target value it was made
 * from; give `sourceId`, the marker's salt, for that.
 */
export function diffAttributes(current: TargetAttributes, desired: TargetAttributes, sourceId?: string): AttributeChange[] {
  const changes: AttributeChange[] = [];
  for (const [path, after] of Object.entries(desired)) {
    const before = current[path];
    if (isRedactedMarker(after) ? sourceId !== undefined && markerMatches(after, sourceId, path, before) : sameValue(before, after)) continue;
    changes.push({ path, before: before ?? null, after });
  }
  return changes;
}

export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function applyChanges(written: TargetAttributes, changes: readonly AttributeChange[]): TargetAttributes {
  const next = { ...written };
  for (const c of changes) {
    if (c.after === null || c.after === undefined) delete next[c.path];
    else next[c.path] = c.after;
  }
  return next;
}

const BUG_CODE = 'InternalError';

function stackOf(cause: unknown, op: PlannedOperation): string | undefined {
  const stack = cause instanceof Error ? cause.stack : undefined;
  return stack && redactedPathsOf(op).size ? scrubText(stack, op) : stack;
}

/** Entra-like error codes for the provisioning log and the failures table. */
function errorCode(error: TargetError): string {
  switch (error.kind) {
    case 'transient': return error.status === 429 ? 'TooManyRequests' : error.status ? 'InternalServerError' : 'Timeout';
    case 'notFound': return 'InvalidAnchor';
    case 'conflict': return error.scimType === 'uniqueness' || error.status === 409 ? 'EntryConflict' : 'DuplicateTargetEntries';
    case 'badRequest': return error.status === 422 ? 'UnprocessableEntity' : 'BadRequest';
    case 'unauthorized': return 'Unauthorized';
    case 'dryRun': return 'DryRunRefused';
    case 'bug': return BUG_CODE;
  }
}
