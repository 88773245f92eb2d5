// What every runtime-backed command shares: where the config file is, opening the runtime with a logger
// and a progress line, and closing it whatever happens.
import { loadConfig } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import { progressLine } from './progress.js';
import { openRuntime, type Runtime, type RuntimeOptions } from '../runtime/runtime.js';

export const CONFIG_HELP = '  --config file   configuration file (default: $ENTRA_SYNC_CONFIG, else ./entra-sync.yaml)';

export function configPath(option: string | true | string[] | undefined): string {
  return typeof option === 'string' ? option : process.env.ENTRA_SYNC_CONFIG ?? './entra-sync.yaml';
}

/** `--target name` as the runtime's option object: `{ target }` when given, else `{}` (every target). */
export function targetOption(option: string | true | string[] | undefined): { target?: string } {
  return typeof option === 'string' ? { target: option } : {};
}

/** Loads the config, opens the runtime (logs to stderr at LOG_LEVEL, default warn), runs `work`, closes. */
export async function withRuntime<T>(
  config: string,
  options: Pick<RuntimeOptions, 'dryRun'> & { progress?: boolean },
  work: (runtime: Runtime) => Promise<T>,
): Promise<T> {
  const loaded = await loadConfig(config);
  const progress = options.progress ? progressLine() : undefined;
  const runtime = openRuntime(loaded, {
    logger: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }),
    ...(options.dryRun ? { dryRun: true } : {}),
    ...(progress?.onProgress ? { onProgress: progress.onProgress } : {}),
  });
  try {
    return await work(runtime);
  } finally {
    progress?.clear();
    await runtime.close();
  }
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
