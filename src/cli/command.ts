// What every runtime-backed command shares: where the config file is, the state lock for commands that write
// the state, opening the runtime with a logger and a progress line, and closing it whatever happens.
import { loadConfig } from '../config/load.js';
import { EntraSyncError } from '../errors.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { progressLine } from './progress.js';
import { openRuntime, type Runtime, type RuntimeOptions } from '../runtime/runtime.js';
import { acquireStateLock, type StateLock } from '../state/lock.js';

export const CONFIG_HELP = '  -c, --config file  configuration file (default: $ENTRA_SYNC_CONFIG, else ./entra-sync.yaml)';

export function configPath(option: string | true | string[] | undefined): string {
  return typeof option === 'string' ? option : process.env.ENTRA_SYNC_CONFIG ?? './entra-sync.yaml';
}

/** `--target name` as the runtime's option object: `{ target }` when given, else `{}` (every target). */
export function targetOption(option: string | true | string[] | undefined): { target?: string } {
  return typeof option === 'string' ? { target: option } : {};
}

export const WAIT_HELP = '  --wait[=seconds] when another process is writing the state, wait for it (for ever, or at most this long)\n'
  + '                  instead of exiting 1 (STATE_LOCKED)';

/** `--wait[=seconds]` in seconds: absent 0 (refuse at once), bare Infinity (wait for ever). */
export function waitSeconds(option: string | true | string[] | undefined): number {
  if (option === undefined) return 0;
  if (option === true) return Infinity;
  const text = Array.isArray(option) ? option[option.length - 1]! : option;
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds < 0) {
    throw new EntraSyncError('CLI_USAGE', `--wait takes a number of seconds (--wait=30), or nothing to wait for ever; not "${text}"`);
  }
  return seconds;
}

/**
 * Whether the command writes the state: then it takes the state lock (see src/state/lock.ts) for its whole life,
 * named after the command, waiting `wait` (the `--wait` option) for another writer. `false` for read-only
 * commands (`status`), which SQLite's WAL lets read beside a writer.
 */
export type LockRequest = false | { command: string; wait?: string | true | string[] | undefined };

/**
 * Takes the state lock (unless `lock` is false), runs `work`, releases it. A lock lost on the way (another
 * host judged this process dead) ends the command with STATE_LOCK_LOST, whatever `work` returned.
 */
export async function withStateLock<T>(statePath: string, lock: LockRequest, logger: Logger, work: (lock: StateLock | undefined) => Promise<T>): Promise<T> {
  if (lock === false) return work(undefined);
  const held = await acquireStateLock(statePath, { command: lock.command, waitSeconds: waitSeconds(lock.wait), logger });
  try {
    const result = await work(held);
    if (held.lost) throw new EntraSyncError('STATE_LOCK_LOST', 'another process took the state lock while this command ran (this process was judged dead): check the state with `entra-sync status`', { file: statePath });
    return result;
  } finally {
    held.release();
  }
}

/**
 * Loads the config, takes the state lock when the command writes the state, opens the runtime (logs to stderr
 * at LOG_LEVEL, default warn), runs `work`, closes the runtime, releases the lock.
 */
export async function withRuntime<T>(
  config: string,
  options: Pick<RuntimeOptions, 'dryRun'> & { progress?: boolean; lock: LockRequest },
  work: (runtime: Runtime) => Promise<T>,
): Promise<T> {
  const loaded = await loadConfig(config);
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  return withStateLock(loaded.state.path, options.lock, logger, async (stateLock) => {
    const progress = options.progress ? progressLine() : undefined;
    const runtime = openRuntime(loaded, {
      logger,
      ...(stateLock ? { stateLock } : {}),
      ...(options.dryRun ? { dryRun: true } : {}),
      ...(progress?.onProgress ? { onProgress: progress.onProgress } : {}),
    });
    try {
      return await work(runtime);
    } finally {
      progress?.clear();
      await runtime.close();
    }
  });
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
