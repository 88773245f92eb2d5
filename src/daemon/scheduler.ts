// When the daemon runs a cycle on its own: node-cron from `schedule.cron`, once at start when `runOnStart` is
// set or when a scheduled run was missed while the daemon was down. The scheduler only says "a cycle is due";
// the daemon decides whether one is already running (then the tick is skipped) and queues it.
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../observability/logger.js';

export type TickReason = 'schedule' | 'start' | 'missed';

/** The last scheduled-kind cycle the state remembers (the oldest among the targets' latest ones). */
export interface LastCycle {
  startedAt: Date;
  /** False when it never ended (the process was killed, or it is marked interrupted). */
  finished: boolean;
}

export interface SchedulerOptions {
  cron: string;
  runOnStart: boolean;
  logger: Logger;
  /** Called when a cycle is due; must not throw and must not wait for the cycle. */
  onTick: (reason: TickReason, due: Date) => void;
  now?: () => Date;
}

/** Why a cycle runs at start, or null when the first one waits for the schedule. */
export interface StartDecision {
  reason: Extract<TickReason, 'start' | 'missed'>;
  message: string;
  due: Date;
}

// node-cron skips a tick that fires more than this late (its default is 1 s): a busy event loop (a large
// commit) or a suspended VM must delay a cycle, not drop it until the next one 40 minutes later.
const LATE_TICK_TOLERANCE_MS = 5 * 60_000;

export class Scheduler {
  private readonly task: ScheduledTask;
  private readonly now: () => Date;
  private started = false;

  constructor(private readonly options: SchedulerOptions) {
    this.now = options.now ?? (() => new Date());
    const log = options.logger;
    this.task = cron.createTask(options.cron, (ctx) => { options.onTick('schedule', ctx.date); }, {
      name: 'entra-sync cycle',
      missedExecutionTolerance: LATE_TICK_TOLERANCE_MS,
      logger: {
        info: (m) => log.debug({ scheduler: 'node-cron' }, m),
        warn: (m) => log.warn({ scheduler: 'node-cron' }, m),
        error: (m, err) => log.error({ scheduler: 'node-cron', err: err ?? m }, typeof m === 'string' ? m : 'scheduler error'),
        debug: (m) => log.debug({ scheduler: 'node-cron' }, typeof m === 'string' ? m : m.message),
      },
    });
    this.task.on('execution:missed', (ctx) => {
      log.warn({ due: ctx.date.toISOString() }, 'scheduled cycle missed: the process was busy or suspended past its time; the next tick runs it');
    });
  }

  /**
   * Starts the cron and says whether a cycle runs now: `runOnStart`, or a scheduled time that passed since
   * the last cycle began (the daemon was down then), or a last cycle that never finished.
   */
  start(last: LastCycle | null): StartDecision | null {
    const decision = decideStart({ cron: this.options.cron, runOnStart: this.options.runOnStart, last, now: this.now() });
    this.started = true;
    void this.task.start();
    if (decision) {
      this.options.logger.info({ reason: decision.reason }, `cycle at start: ${decision.message}`);
      this.options.onTick(decision.reason, decision.due);
    }
    const next = this.nextRunAt();
    this.options.logger.info({ nextRunAt: next?.toISOString() ?? null }, `next scheduled cycle at ${next?.toISOString() ?? 'never'}`);
    return decision;
  }

  /** The next scheduled time, or null when stopped. */
  nextRunAt(): Date | null {
    return this.started ? this.task.getNextRun() : null;
  }

  /** The longest gap between two of the next scheduled times: what "one interval" means for readiness. */
  intervalMs(): number {
    return intervalOf(this.options.cron);
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    void this.task.destroy();
  }
}

/** Pure: should a cycle run at start, and why. */
export function decideStart(input: { cron: string; runOnStart: boolean; last: LastCycle | null; now: Date }): StartDecision | null {
  const { last, now } = input;
  if (input.runOnStart) return { reason: 'start', message: 'runOnStart is set', due: now };
  // A state that never ran a cycle missed nothing: the first cycle waits for the schedule, as asked.
  if (!last) return null;
  if (!last.finished) {
    return { reason: 'missed', message: `the last cycle (started ${last.startedAt.toISOString()}) did not finish`, due: now };
  }
  const missed = previousFireTime(input.cron, now, last.startedAt);
  if (!missed) return null;
  return { reason: 'missed', message: `the run scheduled at ${missed.toISOString()} was missed (the last cycle started ${last.startedAt.toISOString()})`, due: missed };
}

/**
 * The latest time the cron fired (or would have) at or before `before` and after `after`, or null when it
 * did not fire in between. node-cron 4 tells the next time but not the previous one: this walks back day by
 * day over node-cron's own parsed fields and matcher (local time, as node-cron schedules without a timezone),
 * so it costs a few calls per day walked and stops at `after`.
 */
export function previousFireTime(expression: string, before: Date, after: Date): Date | null {
  const fields = cron.parse(expression);
  const hours = [...fields.hour].sort((a, b) => b - a);
  const minutes = [...fields.minute].sort((a, b) => b - a);
  const seconds = [...fields.second].sort((a, b) => b - a);
  const limit = after.getTime();
  return withMatcher(expression, (matcher) => {
    const day = new Date(before.getFullYear(), before.getMonth(), before.getDate());
    for (;;) {
      const dayEnd = new Date(day.getFullYear(), day.getMonth(), day.getDate() + 1).getTime();
      if (dayEnd <= limit) return null;
      // The day's own fields (day of month, month, weekday, L/W/# forms) decide the whole day: test one time of it.
      const probe = new Date(day.getFullYear(), day.getMonth(), day.getDate(), hours.at(-1)!, minutes.at(-1)!, seconds.at(-1)!);
      if (matcher.match(probe)) {
        for (const h of hours) {
          for (const m of minutes) {
            for (const s of seconds) {
              const at = new Date(day.getFullYear(), day.getMonth(), day.getDate(), h, m, s);
              if (at.getTime() > before.getTime()) continue;
              if (at.getTime() <= limit) return null;
              if (matcher.match(at)) return at; // else a time skipped by a DST change: look earlier
            }
          }
        }
      }
      day.setDate(day.getDate() - 1);
    }
  });
}

/** The longest gap between consecutive fire times among the next few (a cron's gaps can differ: 0 and 40 past). */
export function intervalOf(expression: string): number {
  return withMatcher(expression, (task) => {
    const runs = [new Date(), ...task.getNextRuns(12)];
    let longest = 0;
    for (let i = 1; i < runs.length; i++) longest = Math.max(longest, runs[i]!.getTime() - runs[i - 1]!.getTime());
    return longest;
  });
}

/** node-cron registers every task it creates; one made only to match times is destroyed after use. */
function withMatcher<T>(expression: string, use: (task: ScheduledTask) => T): T {
  const task = cron.createTask(expression, () => undefined);
  try {
    return use(task);
  } finally {
    void task.destroy();
  }
}
