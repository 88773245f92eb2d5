// `entra-sync sync`: one cycle now: read Entra once (incrementally when a delta link is stored), then bring
// every target (or the one named) up to date, and print what each did.
import { CONFIG_HELP, configPath, json, withRuntime, targetOption, WAIT_HELP } from './command.js';
import { exitCodeOf, formatOutcomes, formatRead } from './format.js';
import { exitCodesHelp } from './exit-codes.js';
import { parseArgs } from './output.js';
import { viaDaemon } from './admin-client.js';
import type { SyncReport } from '../runtime/runtime.js';

export const summary = 'run one cycle: read Entra, apply the changes to every target, print what was done';

const HELP = `usage: entra-sync sync [--config file] [--wait[=seconds]] [--target name] [--full] [--dry-run] [--json]

Reads Entra once (only what changed since the last read, when a delta link is stored), then runs one
cycle per target: scope, map, plan against what the target holds, apply. Prints each target's counts
per action, target requests and duration.

${CONFIG_HELP}
${WAIT_HELP}
  --target name   only this target (the read still serves it alone)
  --full          read everything and compare every object, not only those changed since the last cycle
  --dry-run       plan only: no request that changes anything is sent to any target, nothing is recorded
                  as applied (Entra is still read and its local copy updated)
  --json          print the read and each target's summary as JSON

${exitCodesHelp({ 0: 'done: every target ran and every object was applied', 3: true, 1: 'a target could not run, failed outright or is quarantined, or Entra could not be read' })}`;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { optional: ['wait'], flags: ['json', 'full', 'dry-run', 'help'], values: ['config', 'target'] });
  if (args.options.help) { process.stdout.write(HELP); return 0; }
  const dryRun = args.options['dry-run'] === true;
  const asJson = args.options.json === true;
  const request = { ...targetOption(args.options.target), full: args.options.full === true };
  const print = (report: SyncReport) => {
    process.stdout.write(asJson ? json(report) : `${formatRead(report.read)}\n${formatOutcomes(report.targets)}\n`);
    return exitCodeOf(report.targets);
  };
  // While the daemon runs, it does the sync (a dry run still reads into the state, so it stays here and waits).
  const remote = dryRun ? undefined : await viaDaemon<SyncReport>(configPath(args.options.config), args.options.wait, 'sync', request);
  if (remote) return print(remote.value);
  return withRuntime(configPath(args.options.config), { dryRun, progress: !asJson, lock: { command: 'sync', wait: args.options.wait } }, async (runtime) =>
    print(await runtime.sync({ ...request, dryRun })));
}
