// The daemon's one job queue: scheduled cycles, admin syncs and resyncs, provisions on demand, approvals,
// rejections and resumes run in the order they came, one at a time. One queue, not one per target: every
// cycle starts with the one Graph read that serves all targets, so per-target queues would still wait for
// each other on the read (docs/architecture.md says more). The exception that makes it responsive: a short
// job (provision, approve, reject, resume) queued while a cycle runs is run between two of the cycle's
// batches, once every target's cycle of it is between batches, so it waits for the batches in flight and
// not for the whole cycle.
import { EntraSyncError } from '../errors.js';

export type JobKind = 'sync' | 'resync' | 'provision' | 'approve' | 'reject' | 'resume';
/** Who asked: the schedule, the start of the daemon (runOnStart or a missed run), `--once`, or an admin. */
export type JobOrigin = 'schedule' | 'start' | 'missed' | 'once' | 'admin';

export interface JobInfo {
  id: number;
  kind: JobKind;
  target: string | null;
  origin: JobOrigin;
  queuedAt: Date;
  startedAt: Date | null;
}

/** What a job gets to run with. */
export interface JobContext {
  /** Aborted on shutdown: a cycle stops journalling new operations; those in flight finish. */
  signal: AbortSignal;
  /**
   * A cycle job passes this to each of its target cycles: awaited between batches, it runs the short jobs
   * queued meanwhile. `done(target)` must follow each target's cycle, however it ended.
   */
  pause: CyclePause;
}

/** The pause points of one cycle job, per target cycle (see JobContext.pause). */
export interface CyclePause {
  between(target: string): Promise<void>;
  done(target: string): void;
}

export interface JobSpec<T> {
  kind: JobKind;
  target?: string | null;
  origin: JobOrigin;
  /** The targets whose cycles this job runs side by side (cycle jobs only): each calls pause.between/done. */
  targets?: readonly string[];
  /** An identical job already waiting answers for this one too (two admin syncs in a row read Graph once). */
  coalesceKey?: string;
  work: (ctx: JobContext) => Promise<T>;
}

interface Job extends JobInfo {
  spec: JobSpec<unknown>;
  promise: Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

const CYCLE_KINDS: ReadonlySet<JobKind> = new Set(['sync', 'resync']);

export function isCycleKind(kind: JobKind): boolean {
  return CYCLE_KINDS.has(kind);
}

export class JobQueue {
  private readonly waiting: Job[] = [];
  /** The job running now; a short job run inside a paused cycle is `nested`. */
  private current: Job | null = null;
  private nested: Job | null = null;
  private gate: PauseGate | null = null;
  private nextId = 1;
  private closing: string | null = null;
  private readonly abort = new AbortController();
  private pumping: Promise<void> = Promise.resolve();

  constructor(private readonly hooks: {
    onJobStart?: (job: JobInfo, inside: JobInfo | null) => void;
    onJobEnd?: (job: JobInfo, durationMs: number) => void;
    onJobError?: (job: JobInfo, err: unknown) => void;
  } = {}) {}

  /** Queues a job; resolves with its result. Refused (SHUTTING_DOWN) once the daemon is stopping. */
  push<T>(spec: JobSpec<T>): Promise<T> {
    if (this.closing !== null) return Promise.reject(shuttingDown(this.closing));
    if (spec.coalesceKey !== undefined) {
      const same = this.waiting.find((j) => j.spec.coalesceKey === spec.coalesceKey);
      if (same) return same.promise as Promise<T>;
    }
    let resolve!: (value: unknown) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => { resolve = res; reject = rej; });
    promise.catch(() => undefined); // the caller holds it; a rejection nobody awaits is not a crash
    const job: Job = {
      id: this.nextId++, kind: spec.kind, target: spec.target ?? null, origin: spec.origin, queuedAt: new Date(), startedAt: null,
      spec: spec as JobSpec<unknown>, promise, resolve, reject,
    };
    this.waiting.push(job);
    this.kick();
    return promise as Promise<T>;
  }

  /** The job running now (the cycle, when a short job runs inside it) and the one inside it, if any. */
  get running(): { outer: JobInfo | null; inner: JobInfo | null } {
    return { outer: this.current && info(this.current), inner: this.nested && info(this.nested) };
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** True while a cycle job runs or waits: a scheduled tick then has nothing to add. */
  cyclePending(): { running: JobInfo | null; waiting: JobInfo | null } {
    const running = this.current && isCycleKind(this.current.kind) ? info(this.current) : null;
    const waiting = this.waiting.find((j) => isCycleKind(j.kind));
    return { running, waiting: waiting ? info(waiting) : null };
  }

  /**
   * Stops taking jobs: waiting ones are refused (SHUTTING_DOWN), the running cycle's signal is aborted.
   * Resolves once the running job has ended.
   */
  async close(reason: string): Promise<void> {
    if (this.closing === null) {
      this.closing = reason;
      for (const job of this.waiting.splice(0)) job.reject(shuttingDown(reason));
      this.abort.abort(new EntraSyncError('SHUTTING_DOWN', reason));
      this.gate?.release();
    }
    await this.pumping;
  }

  private kick(): void {
    if (this.current) {
      // A cycle runs: short jobs wait for its next pause point (or run now, if its cycles are all paused).
      this.gate?.wake();
      return;
    }
    this.pumping = this.pump();
  }

  private async pump(): Promise<void> {
    while (this.closing === null && this.waiting.length > 0 && !this.current) {
      const job = this.waiting.shift()!;
      this.current = job;
      const gate = isCycleKind(job.kind) ? new PauseGate(job.spec.targets ?? [], () => this.runShortJobs()).bind(() => this.hasShortJob()) : null;
      this.gate = gate;
      try {
        await this.run(job, gate ?? NO_PAUSE);
      } finally {
        this.gate = null;
        this.current = null;
      }
    }
  }

  private async run(job: Job, pause: CyclePause, inside: Job | null = null): Promise<void> {
    job.startedAt = new Date();
    this.hooks.onJobStart?.(info(job), inside && info(inside));
    try {
      const result = await job.spec.work({ signal: this.abort.signal, pause });
      this.hooks.onJobEnd?.(info(job), Date.now() - job.startedAt.getTime());
      job.resolve(result);
    } catch (err) {
      this.hooks.onJobError?.(info(job), err);
      job.reject(err);
    }
  }

  /** Inside a paused cycle: every short job waiting, in order, including those queued meanwhile. */
  private async runShortJobs(): Promise<void> {
    for (;;) {
      if (this.closing !== null) return;
      const index = this.waiting.findIndex((j) => !isCycleKind(j.kind));
      if (index === -1) return;
      const job = this.waiting.splice(index, 1)[0]!;
      this.nested = job;
      try {
        await this.run(job, NO_PAUSE, this.current);
      } finally {
        this.nested = null;
      }
    }
  }

  /** Whether a short job waits (what a pause point checks before it holds its cycle). */
  hasShortJob(): boolean {
    return this.closing === null && this.waiting.some((j) => !isCycleKind(j.kind));
  }
}

const NO_PAUSE: CyclePause = { between: () => Promise.resolve(), done: () => undefined };

/**
 * The rendezvous of one cycle job's target cycles. They run side by side; a short job (a provision touches
 * every target) may only run when none of them has a batch in flight, so a target's cycle that reaches a
 * pause point while a short job waits holds there until every other target's cycle has reached one too, or
 * has ended. Then the short jobs run, and all of them go on.
 */
class PauseGate implements CyclePause {
  private readonly active: Set<string>;
  private readonly held = new Map<string, () => void>();
  private running = false;
  private released = false;
  private queueHasWork: () => boolean = () => false;

  constructor(targets: readonly string[], private readonly runJobs: () => Promise<void>) {
    this.active = new Set(targets);
  }

  /** Bound by the queue: whether a short job waits. */
  bind(hasWork: () => boolean): this {
    this.queueHasWork = hasWork;
    return this;
  }

  between(target: string): Promise<void> {
    if (this.released || !this.queueHasWork()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.held.set(target, resolve);
      this.wake();
    });
  }

  done(target: string): void {
    this.active.delete(target);
    this.held.get(target)?.();
    this.held.delete(target);
    this.wake();
  }

  /** Runs the short jobs once every active target cycle is held (or none is active). */
  wake(): void {
    if (this.running || this.released || !this.queueHasWork()) return;
    if (this.held.size === 0) return; // nobody is paused yet: the next pause point comes here
    for (const target of this.active) if (!this.held.has(target)) return;
    this.running = true;
    void this.runJobs().finally(() => {
      this.running = false;
      this.resumeAll();
    });
  }

  /** Shutdown: nobody is held any more. */
  release(): void {
    this.released = true;
    this.resumeAll();
  }

  private resumeAll(): void {
    const held = [...this.held.values()];
    this.held.clear();
    for (const resume of held) resume();
  }
}

function info(job: Job): JobInfo {
  return { id: job.id, kind: job.kind, target: job.target, origin: job.origin, queuedAt: job.queuedAt, startedAt: job.startedAt };
}

function shuttingDown(reason: string): EntraSyncError {
  return new EntraSyncError('SHUTTING_DOWN', `the daemon is stopping (${reason}); run the command again once it runs`);
}
