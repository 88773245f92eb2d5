// The daemon behind `entra-sync run`: holds the state lock for its whole life, opens the runtime once, serves
// the HTTP endpoints when `http` is configured, and runs cycles from the schedule and jobs from admins through
// one queue (queue.ts). It implements DaemonApi, the only thing the HTTP routes call.
import type { Config } from '../config/schema.js';
import { EntraSyncError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { isTargetFailure, openRuntime, type ProvisionReport, type Runtime, type RuntimeOptions, type SyncReport, type TargetOutcome } from '../runtime/runtime.js';
import { acquireStateLock, describeHolder, type StateLock, type StateLockHolder } from '../state/lock.js';
import type { CycleSummary } from '../sync/cycle.js';
import type { PlannedOperation } from '../engine/types.js';
import type { DaemonApi, DaemonStatus, Readiness, ResumeReport } from './api.js';
import { isCycleKind, JobQueue, type JobContext, type JobInfo, type JobOrigin } from './queue.js';
import { Scheduler, type LastCycle, type TickReason } from './scheduler.js';
import { adminTokenSource, startHttpServer, type HttpServer } from './server.js';

export interface DaemonOptions {
  config: Config;
  logger: Logger;
  /** The package version, for the start line. */
  version: string;
  /** Seconds to wait for the state lock held by another process (0: refuse at once). */
  waitSeconds?: number;
  /** Extra runtime options (tests, benchmarks). */
  runtime?: Omit<RuntimeOptions, 'logger' | 'stateLock'>;
}

/** Run statuses of a cycle that ended by itself; anything else (running, interrupted, aborted) did not finish. */
const FINISHED = new Set(['success', 'partial', 'failed', 'quarantined', 'skipped']);
const SUCCEEDED = new Set(['success', 'partial']);
/** Runs looked at per target for the last cycle and the last success (provisions and approvals sit between). */
const RUNS_SCANNED = 50;

export class Daemon implements DaemonApi {
  readonly startedAt = new Date();
  private readonly queue: JobQueue;
  private readonly scheduler: Scheduler;
  private server: HttpServer | null = null;
  private readonly lastSuccess = new Map<string, string | null>();
  private readonly intervalMs: number;
  private stopping: Promise<void> | null = null;
  private lockLost = false;
  private resolveStopped!: () => void;
  /** Resolves once the daemon has stopped (stop() finished). */
  readonly stopped = new Promise<void>((resolve) => { this.resolveStopped = resolve; });

  /**
   * Takes the state lock (command `run`), opens the runtime, starts the HTTP listener when configured. The
   * schedule starts with `startSchedule()`; `runOnce()` runs one cycle instead.
   */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const { config, logger } = options;
    const lock = await acquireStateLock(config.state.path, { command: 'run', waitSeconds: options.waitSeconds ?? 0, logger });
    let runtime: Runtime | undefined;
    try {
      runtime = openRuntime(config, { ...options.runtime, logger, stateLock: lock });
      const daemon = new Daemon(options, runtime, lock);
      await daemon.listen();
      return daemon;
    } catch (err) {
      await runtime?.close().catch(() => undefined);
      lock.release();
      throw err;
    }
  }

  private constructor(private readonly options: DaemonOptions, readonly runtime: Runtime, private readonly lock: StateLock) {
    const { config, logger } = options;
    this.queue = new JobQueue({
      // A cycle job logs its own start and end, with what the read and each target did.
      onJobStart: (job, inside) => {
        if (isCycleKind(job.kind)) return;
        this.logger.info({ job: describeJob(job), ...(inside ? { during: describeJob(inside) } : {}) }, `${job.kind} started (${originText(job.origin)}${inside ? `, between two batches of the running ${inside.kind}` : ''})`);
      },
      onJobEnd: (job, durationMs) => {
        if (!isCycleKind(job.kind)) this.logger.info({ job: describeJob(job), durationMs }, `${job.kind} done`);
      },
      onJobError: (job, err) => this.logJobError(job, err),
    });
    this.scheduler = new Scheduler({
      cron: config.schedule.cron, runOnStart: config.schedule.runOnStart, logger,
      onTick: (reason, due) => this.onTick(reason, due),
    });
    this.intervalMs = this.scheduler.intervalMs();
    for (const target of runtime.targetNames) this.lastSuccess.set(target, this.lastSuccessFromState(target));
    runtime.events.on('cycle:end', (e) => {
      const summary = e.summary as Partial<CycleSummary>;
      if (summary.kind === 'sync' && SUCCEEDED.has(e.status)) this.lastSuccess.set(e.target, new Date().toISOString());
    });
    lock.onLost((by) => this.onLockLost(by));
  }

  private get logger(): Logger {
    return this.options.logger;
  }

  private async listen(): Promise<void> {
    const http = this.options.config.http;
    if (!http) return;
    this.server = await startHttpServer({
      api: this, host: http.host, port: http.port, adminToken: adminTokenSource(http), logger: this.logger,
      shuttingDown: () => this.stopping !== null,
    });
    // The CLI finds a running daemon (and sends `sync`, `provision` … to it) from the lock.
    this.lock.setHttp(this.server.url);
  }

  /** The HTTP listener's URL, when one is configured. */
  get url(): string | null {
    return this.server?.url ?? null;
  }

  /** Starts the schedule; a cycle runs at once with runOnStart, or when a scheduled run was missed. */
  startSchedule(): void {
    const { config } = this.options;
    this.logger.info({
      version: this.options.version, pid: process.pid, state: config.state.path, targets: this.runtime.targetNames,
      schedule: { cron: config.schedule.cron, runOnStart: config.schedule.runOnStart },
      http: this.server?.url ?? null, adminApi: config.http ? Boolean(config.http.adminToken ?? config.http.adminTokenFile) : false,
    }, `entra-sync ${this.options.version} running: ${this.runtime.targetNames.length} target(s), schedule "${config.schedule.cron}"${this.server ? `, listening on ${this.server.url}` : ''}`);
    this.scheduler.start(this.lastCycle());
  }

  /** `run --once`: one cycle through the queue, as a scheduled one runs, then the caller stops the daemon. */
  async runOnce(): Promise<SyncReport> {
    this.logger.info({ version: this.options.version, pid: process.pid, targets: this.runtime.targetNames, http: this.server?.url ?? null }, `entra-sync ${this.options.version}: one cycle (--once)`);
    return this.cycle('sync', {}, 'once');
  }

  /**
   * Stops: no new job is taken and the schedule stops, the running cycle finishes its batches in flight and
   * journals nothing new, then the listener closes, the runtime closes (checkpoint) and the lock is released.
   */
  stop(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      const started = Date.now();
      this.scheduler.stop();
      const { outer } = this.queue.running;
      if (outer) this.logger.info({ job: describeJob(outer) }, `waiting for the ${outer.kind} in progress to finish its current batches`);
      await this.queue.close(reason);
      try {
        await this.server?.close();
      } catch (err) {
        this.logger.warn({ err }, 'closing the HTTP listener failed');
      }
      try {
        await this.runtime.close();
      } finally {
        // Whatever closing did, this process writes nothing more: the next one may start.
        this.lock.release();
      }
      this.logger.info({ reason, durationMs: Date.now() - started }, 'stopped');
      this.resolveStopped();
    })();
    return this.stopping;
  }

  // ── DaemonApi ─────────────────────────────────────────────────────────────────────────────────

  async sync(request: { target?: string; full?: boolean }): Promise<SyncReport> {
    return this.cycle('sync', request, 'admin');
  }

  async resync(request: { target?: string }): Promise<SyncReport> {
    return this.cycle('resync', request, 'admin');
  }

  /**
   * Provision on demand, between two batches of a running cycle at the latest. A group with `members`
   * (Entra lets an admin pick a few) provisions those users first, so the group is created with them.
   */
  async provision(request: { user?: string; group?: string; members?: string[]; target?: string }): Promise<ProvisionReport> {
    this.checkTarget(request.target);
    if ((request.user === undefined) === (request.group === undefined)) {
      throw new EntraSyncError('BAD_REQUEST', 'provision needs exactly one of "user" (userPrincipalName or object id) or "group" (object id)');
    }
    if (request.user !== undefined && request.members?.length) {
      throw new EntraSyncError('BAD_REQUEST', '"members" goes with "group", not with "user"');
    }
    const target = request.target;
    return this.queue.push({
      kind: 'provision', target: target ?? null, origin: 'admin',
      work: async () => {
        const scope = target !== undefined ? { target } : {};
        if (request.user !== undefined) return this.runtime.provision({ user: request.user, ...scope });
        const members: ProvisionReport[] = [];
        for (const member of request.members ?? []) members.push(await this.runtime.provision({ user: member, ...scope }));
        const group = await this.runtime.provision({ group: request.group!, ...scope });
        return withMembers(group, members);
      },
    });
  }

  async approve(request: { target?: string }): Promise<TargetOutcome[]> {
    this.checkTarget(request.target);
    return this.queue.push({
      kind: 'approve', target: request.target ?? null, origin: 'admin',
      work: ({ signal }) => this.runtime.approve({ ...scopeOf(request.target), signal }),
    });
  }

  async reject(request: { target?: string }): Promise<{ target: string; dropped: PlannedOperation[] }[]> {
    this.checkTarget(request.target);
    return this.queue.push({
      kind: 'reject', target: request.target ?? null, origin: 'admin',
      work: () => Promise.resolve(this.runtime.reject(scopeOf(request.target))),
    });
  }

  /** Lifts quarantine and makes failed objects due now; the next cycle retries them (POST /admin/sync runs one now). */
  async resume(request: { target?: string }): Promise<ResumeReport> {
    this.checkTarget(request.target);
    return this.queue.push({
      kind: 'resume', target: request.target ?? null, origin: 'admin',
      work: () => Promise.resolve(this.runtime.resume(scopeOf(request.target))),
    });
  }

  status(): DaemonStatus {
    const { outer, inner } = this.queue.running;
    const running = inner ?? outer;
    return {
      ...this.runtime.status(),
      daemon: {
        pid: process.pid,
        startedAt: this.startedAt.toISOString(),
        schedule: { cron: this.options.config.schedule.cron, runOnStart: this.options.config.schedule.runOnStart, nextRunAt: this.scheduler.nextRunAt()?.toISOString() ?? null },
        running: running ? { kind: running.kind, target: running.target, startedAt: (running.startedAt ?? running.queuedAt).toISOString() } : null,
        queued: this.queue.queued,
        lastSuccessAt: Object.fromEntries(this.lastSuccess),
        shuttingDown: this.stopping !== null,
      },
    };
  }

  /**
   * Ready once every target has had a successful cycle (this process's or, after a restart, the state's),
   * none older than `http.readyMaxIntervals` schedule intervals, no target quarantined, the lock held.
   */
  readiness(): Readiness {
    const reasons: Readiness['reasons'] = [];
    if (this.stopping) reasons.push({ code: 'SHUTTING_DOWN', message: 'the daemon is stopping' });
    if (this.lockLost) reasons.push({ code: 'STATE_LOCK_LOST', message: 'another process took the state lock: this one writes nothing more' });
    const maxIntervals = this.options.config.http?.readyMaxIntervals ?? 3;
    const maxAgeMs = maxIntervals * this.intervalMs;
    const now = Date.now();
    for (const target of this.runtime.targetNames) {
      const quarantine = this.runtime.targets.quarantine(target);
      if (quarantine) {
        reasons.push({ target, code: 'TARGET_QUARANTINED', message: `quarantined (${quarantine.reason}: ${quarantine.message}); fix the cause, then POST /admin/resume or run \`entra-sync resume --target ${target}\`` });
        continue;
      }
      const last = this.lastSuccess.get(target) ?? null;
      if (last === null) {
        reasons.push({ target, code: 'NO_SUCCESSFUL_CYCLE', message: 'no successful cycle yet' });
      } else if (now - new Date(last).getTime() > maxAgeMs) {
        reasons.push({ target, code: 'LAST_SUCCESS_TOO_OLD', message: `the last successful cycle ended at ${last}, more than ${maxIntervals} schedule intervals (${Math.round(maxAgeMs / 60_000)} min) ago` });
      }
    }
    return { ready: reasons.length === 0, reasons };
  }

  metrics(): Promise<{ contentType: string; body: string }> {
    return this.runtime.metrics.exposition();
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────────────

  /** A sync or resync of every target (or one): one job, whose target cycles pause for short jobs. */
  private async cycle(kind: 'sync' | 'resync', request: { target?: string; full?: boolean }, origin: JobOrigin): Promise<SyncReport> {
    this.checkTarget(request.target);
    const target = request.target;
    const full = kind === 'sync' && request.full === true;
    const targets = target !== undefined ? [target] : this.runtime.targetNames;
    return this.queue.push({
      kind, target: target ?? null, origin, targets,
      // Two admin syncs in a row while a cycle runs: the second waits for the same one rather than reading again.
      coalesceKey: `${kind}:${target ?? '*'}:${full}`,
      work: async (ctx) => {
        const started = Date.now();
        this.logger.info({ job: kind, origin, target: target ?? null, full }, `${kind} started (${originText(origin)})`);
        const report = await (kind === 'sync'
          ? this.runtime.sync({ ...scopeOf(target), full, ...this.control(ctx) })
          : this.runtime.resync({ ...scopeOf(target), ...this.control(ctx) }));
        this.logger.info({
          job: kind, origin, durationMs: Date.now() - started,
          read: { full: report.read.full, durationMs: report.read.durationMs, requests: report.read.requests },
          targets: report.targets.map((t) => (isTargetFailure(t) ? { target: t.target, error: t.error } : { target: t.target, status: t.status, failed: t.failed })),
        }, `${kind} done`);
        return report;
      },
    });
  }

  /** The signal and pause points a cycle job hands to the runtime. */
  private control(ctx: JobContext) {
    return {
      signal: ctx.signal,
      between: ({ target }: { target: string }) => ctx.pause.between(target),
      betweenWanted: () => this.queue.hasShortJob(),
      ended: (target: string) => ctx.pause.done(target),
    };
  }

  private onTick(reason: TickReason, due: Date): void {
    if (this.stopping) return;
    const { running, waiting } = this.queue.cyclePending();
    if (running || waiting) {
      const busy = running ?? waiting!;
      this.logger.info({ due: due.toISOString(), busy: describeJob(busy) }, `scheduled cycle skipped: a ${busy.kind} is ${running ? 'running' : 'already queued'} (${originText(busy.origin)}, since ${(busy.startedAt ?? busy.queuedAt).toISOString()})`);
      return;
    }
    const origin: JobOrigin = reason === 'schedule' ? 'schedule' : reason;
    // Its outcome is logged by the job itself; a failure here is the cycle's, not the scheduler's.
    this.cycle('sync', {}, origin).catch(() => undefined);
  }

  /** The oldest of the targets' latest sync cycles, as the state remembers them. */
  private lastCycle(): LastCycle | null {
    let oldest: LastCycle | null = null;
    for (const target of this.runtime.targetNames) {
      const run = this.runtime.targets.runs(target, RUNS_SCANNED).find((r) => r.kind === 'sync');
      if (!run) continue;
      const cycle = { startedAt: new Date(run.startedAt), finished: FINISHED.has(run.status) };
      if (!cycle.finished) return cycle;
      if (!oldest || cycle.startedAt < oldest.startedAt) oldest = cycle;
    }
    return oldest;
  }

  private lastSuccessFromState(target: string): string | null {
    const run = this.runtime.targets.runs(target, RUNS_SCANNED).find((r) => r.kind === 'sync' && SUCCEEDED.has(r.status));
    return run?.endedAt ?? null;
  }

  private checkTarget(target: string | undefined): void {
    if (target !== undefined && !this.runtime.targetNames.includes(target)) {
      throw new EntraSyncError('TARGET_UNKNOWN', `no target named "${target}" in the configuration (targets: ${this.runtime.targetNames.join(', ')})`, { objectId: target });
    }
  }

  private logJobError(job: JobInfo, err: unknown): void {
    const fields = { job: describeJob(job), err: err instanceof EntraSyncError ? { code: err.code, message: err.message } : err };
    if (err instanceof EntraSyncError) this.logger.error(fields, `${job.kind} failed: ${err.message}`);
    else this.logger.error(fields, `${job.kind} failed on an unexpected error (a bug: please report it)`);
  }

  /** Another process took the lock (it judged this one dead): writing on would make two writers. Exit now. */
  private onLockLost(by: StateLockHolder | null): void {
    this.lockLost = true;
    const holder = by ? describeHolder(by) : 'another process';
    this.logger.fatal({ holder: by }, `the state lock was taken by ${holder}: stopping at once, without writing anything more`);
    this.onFatal?.(1);
  }

  /** Set by the command: how to end the process on a fatal error (the lock lost). */
  onFatal: ((code: number) => void) | undefined;
}

function scopeOf(target: string | undefined): { target?: string } {
  return target !== undefined ? { target } : {};
}

function describeJob(job: JobInfo): { id: number; kind: string; target: string | null; origin: string; startedAt: string | null } {
  return { id: job.id, kind: job.kind, target: job.target, origin: job.origin, startedAt: job.startedAt?.toISOString() ?? null };
}

function originText(origin: JobOrigin): string {
  switch (origin) {
    case 'schedule': return 'scheduled';
    case 'start': return 'at start: runOnStart';
    case 'missed': return 'at start: a scheduled run was missed';
    case 'once': return '--once';
    case 'admin': return 'asked by an admin';
  }
}

/** The group's report with its members' objects in front, per target. */
function withMembers(group: ProvisionReport, members: ProvisionReport[]): ProvisionReport {
  if (members.length === 0) return group;
  return {
    ...group,
    targets: group.targets.map((t) => {
      if (isTargetFailure(t)) return t;
      const before = members.flatMap((m) => m.targets.filter((mt) => mt.target === t.target && !isTargetFailure(mt)).flatMap((mt) => ('objects' in mt ? mt.objects : [])));
      return { ...t, objects: [...before, ...t.objects] };
    }),
  };
}
