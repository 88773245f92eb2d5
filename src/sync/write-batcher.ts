// Group commit: writes queued by the operations in flight go to SQLite together, one transaction per batch
// instead of one per write (one commit per operation was most of an initial sync's time, docs/performance.md).
// Generic: it knows writes and transactions, not journals or links; apply decides what to write and when it
// must be durable. The timers and setImmediate hops below are placed for the apply hot path: keep them.
import { clearTimeout, setImmediate, setTimeout } from 'node:timers';

/** Results are committed at most this often on their own (they also ride along with every urgent commit). */
const RESULT_COMMIT_GAP_MS = 5;
/** … or until this many writes wait. */
const RESULT_COMMIT_MAX = 1000;

interface QueuedWrite { write: () => void; resolve: () => void; reject: (err: unknown) => void }

export class WriteBatcher {
  /** Writes waiting for the next group commit. */
  private queued: QueuedWrite[] = [];
  private commitScheduled = false;
  private commitTimer: NodeJS.Timeout | undefined;
  private resultCommitArmed = false;
  private lastCommitAt = 0;

  constructor(private readonly db: { transaction<T>(fn: () => T): T }) {}

  /**
   * Queues a write for the next group commit; settles once it is committed. `urgent` (a journal entry that an
   * operation waits on before it may be sent) commits at the end of this event-loop turn; anything else rides
   * along with the next commit, or goes at the end of a turn (`scheduleResultCommit`) or once RESULT_COMMIT_MAX writes wait.
   */
  queue(write: () => void, urgent: boolean): Promise<void> {
    const settled = new Promise<void>((resolve, reject) => this.queued.push({ write, resolve, reject }));
    if (urgent) {
      if (!this.commitScheduled) {
        this.commitScheduled = true;
        // node:timers' functions, not the globals: a test's fake timers must not stall the writes.
        setImmediate(() => { this.commitScheduled = false; this.flush(); });
      }
    } else if (this.queued.length >= RESULT_COMMIT_MAX) {
      this.flush();
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
    const afterWrites = () => setImmediate(() => setImmediate(() => { this.resultCommitArmed = false; this.flush(); }));
    const wait = this.lastCommitAt + RESULT_COMMIT_GAP_MS - Date.now();
    if (wait <= 0) afterWrites();
    else this.commitTimer = setTimeout(() => { this.commitTimer = undefined; afterWrites(); }, wait);
  }

  /** Commits every queued write in one transaction; if that fails, each alone, so a bad write fails only its own operation. */
  flush(): void {
    if (this.commitTimer) { clearTimeout(this.commitTimer); this.commitTimer = undefined; this.resultCommitArmed = false; }
    if (this.queued.length === 0) return;
    this.lastCommitAt = Date.now();
    const batch = this.queued;
    this.queued = [];
    try {
      this.db.transaction(() => { for (const w of batch) w.write(); });
    } catch {
      for (const w of batch) {
        try { this.db.transaction(w.write); w.resolve(); } catch (err) { w.reject(err); }
      }
      return;
    }
    for (const w of batch) w.resolve();
  }
}
