// The journal of one apply phase: every operation that sends a request is written 'pending' BEFORE its first
// request leaves, and its entry is removed when its result is recorded (apply.ts), so a crash never loses or
// doubles one: recovery.ts resolves what is left pending. Entries are written ahead in groups, through the
// write batcher, so an operation rarely waits for a commit of its own.
import type { PlannedOperation } from '../engine/types.js';
import type { SyncStore } from './store.js';
import type { WriteBatcher } from './write-batcher.js';

/** Journal entries written ahead per concurrency slot, in one commit. */
const JOURNAL_AHEAD_PER_SLOT = 4;

export interface JournalDeps {
  store: Pick<SyncStore, 'journalBegin' | 'journalDiscard'>;
  batcher: WriteBatcher;
  target: string;
  runId: string;
  now: () => Date;
  concurrency: number;
  /** Checked before each entry is queued: once true, nothing more is journalled. */
  aborted: () => boolean;
}

/**
 * The journal entries of a phase, written ahead in groups: the operation about to start and the next ones,
 * up to `concurrency` × JOURNAL_AHEAD_PER_SLOT of them, in one commit. Each operation is sent only once its own
 * entry is committed.
 */
export class JournalWindow {
  private readonly entries = new Map<PlannedOperation, Promise<string>>();
  private readonly size: number;
  private next = 0;
  private asked = 0;

  constructor(private readonly ops: readonly PlannedOperation[], private readonly deps: JournalDeps) {
    // Several operations' worth per concurrency slot: each commit then carries dozens of entries (and the
    // results that ride along) instead of a handful. A crash leaves at most a window and a half of entries
    // whose operation was never sent, each looked up and re-planned on the next start.
    this.size = Math.max(1, deps.concurrency) * JOURNAL_AHEAD_PER_SLOT;
  }

  /**
   * Writes (ahead) and awaits `op`'s entry, resolving to its id; undefined when it was not written and the
   * signal is aborted: that operation must not start.
   */
  entry(op: PlannedOperation): Promise<string> | undefined {
    const { entries, ops, size, deps } = this;
    this.asked++;
    // The next window is written once half of this one is taken, so it is committed before anyone needs it:
    // an operation that waits for its own entry waits for a commit, a turn of the event loop.
    // The signal is checked before each entry is queued: an entry written is an operation that will be sent.
    while ((!entries.has(op) || entries.size - this.asked < size / 2) && this.next < ops.length && !deps.aborted()) {
      for (let n = 0; n < size && this.next < ops.length && !deps.aborted(); this.next++) {
        const ahead = ops[this.next]!;
        if (ahead.kind === 'skip' || ahead.kind === 'unlink' || entries.has(ahead)) continue;
        const now = deps.now();
        let id = '';
        entries.set(ahead, deps.batcher.queue(() => { id = deps.store.journalBegin(deps.target, deps.runId, ahead, now); }, true).then(() => id));
        n++;
      }
    }
    return entries.get(op);
  }

  /** The entry already written for `op`, if any. */
  written(op: PlannedOperation): Promise<string> | undefined {
    return this.entries.get(op);
  }

  /** An operation journalled ahead that will not be sent after all (the target refused us): its entry goes. */
  discard(op: PlannedOperation): Promise<void> | undefined {
    const entry = this.entries.get(op);
    return entry?.then((id) => this.deps.batcher.queue(() => this.deps.store.journalDiscard(id), true));
  }
}
