// `entra-sync run`: the daemon. Cycles on `schedule.cron` (and at start), the HTTP endpoints when `http` is
// configured, admin jobs through one queue, JSON logs on stdout, a clean stop on SIGTERM or SIGINT.
import { pino } from 'pino';
import pretty from 'pino-pretty';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { EntraSyncError } from '../errors.js';
import { Daemon } from '../daemon/daemon.js';
import { installShutdown } from '../daemon/shutdown.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { CONFIG_HELP, configPath, WAIT_HELP, waitSeconds } from './command.js';
import { EXIT, exitCodesHelp } from './exit-codes.js';
import { exitCodeOf } from './format.js';
import { parseArgs } from './output.js';
import { packageVersion } from './version.js';

export const summary = 'the daemon: cycles on the schedule, HTTP health, metrics and admin API, clean stop on SIGTERM';

const HELP = `usage: entra-sync run [--config file] [--wait[=seconds]] [--once]

Runs until stopped: a cycle (read Entra, apply to every target) on schedule.cron (default every 40
minutes, as Entra does), one at start when schedule.runOnStart is set (the default) or when a scheduled
run was missed while it was not running, and, when \`http\` is configured, /healthz, /readyz, /metrics
and the admin API (sync, resync, provision, approve, reject, resume). Admin jobs and cycles run one at a
time, in order; a provision waits at most for the batches in flight, not for the whole cycle.

Holds the state lock while it runs: \`sync\`, \`provision\` … from the CLI then go through its admin API
(or refuse). Logs JSON lines on stdout (readable lines on a terminal) at log.level or LOG_LEVEL.

SIGTERM or SIGINT: the batches in flight finish, nothing new starts, the state is checkpointed, the lock
released, exit 0. A second signal exits at once (130 for SIGINT, 143 for SIGTERM); what was in flight is
resolved by the next start, as after a crash.

${CONFIG_HELP}
${WAIT_HELP}
  --once          run one cycle as the daemon would (lock, logs, HTTP endpoints), then stop; exits as \`sync\`

${exitCodesHelp({
  0: 'stopped by SIGTERM or SIGINT after finishing its batches (--once: the cycle is done)',
  3: '--once: done, but some objects failed',
  1: 'could not start (configuration, state lock held by another process, HTTP port in use), the state lock was lost, or (--once) a target could not run',
})}  130, 143  a second SIGINT or SIGTERM: stopped at once
`;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { optional: ['wait'], flags: ['once', 'help'], values: ['config'] });
  if (args.options.help) { process.stdout.write(HELP); return EXIT.ok; }
  const wait = waitSeconds(args.options.wait);
  const config = await loadConfig(configPath(args.options.config));
  const logger = daemonLogger(config);
  const version = packageVersion();

  let daemon: Daemon | undefined;
  const shutdown = installShutdown({
    logger,
    stop: async (reason) => {
      // Still starting (waiting for the lock, most likely): nothing is held or running yet.
      if (!daemon) { logger.info({ reason }, 'stopped before it had started'); process.exit(EXIT.ok); }
      await daemon.stop(reason);
    },
  });
  try {
    daemon = await Daemon.start({ config, logger, version, waitSeconds: wait });
  } catch (err) {
    shutdown.dispose();
    throw err;
  }
  // Another process took the lock: it is writing now, so this one must not write another byte.
  daemon.onFatal = (code) => process.exit(code);

  if (args.options.once) {
    let code: number = EXIT.ok;
    try {
      const report = await daemon.runOnce();
      code = exitCodeOf(report.targets);
    } catch (err) {
      // Stopped by a signal before the cycle began: nothing was done, and nothing is wrong.
      if (!shutdown.requested) throw err;
    } finally {
      await daemon.stop('--once: the cycle is done');
    }
    return code;
  }
  daemon.startSchedule();
  await daemon.stopped;
  return EXIT.ok;
}

/**
 * Logs go to stdout, where a container's log collector reads them: JSON lines, or readable coloured lines on
 * a terminal (pino-pretty). Written synchronously, so the last lines before an exit are never lost.
 */
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

function daemonLogger(config: Config): Logger {
  const level = process.env.LOG_LEVEL ?? config.log.level;
  if (!LEVELS.includes(level)) throw new EntraSyncError('CONFIG_INVALID', `LOG_LEVEL is "${level}"; expected one of ${LEVELS.join(', ')}`);
  if (process.stdout.isTTY) {
    return createLogger({ level, destination: pretty({ colorize: true, singleLine: true, sync: true, destination: 1, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' }) });
  }
  const destination = pino.destination({ dest: 1, sync: true });
  // The log's reader is gone (a closed pipe): there is nobody left to tell, and the daemon keeps syncing.
  destination.on('error', () => undefined);
  return createLogger({ level, destination });
}
