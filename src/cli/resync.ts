// `entra-sync resync`: forget the stored delta links, read everything from Entra again, and compare every
// object with what each target holds (Entra's "restart provisioning", without clearing the target state).
import { CONFIG_HELP, configPath, json, withRuntime, targetOption, WAIT_HELP } from './command.js';
import { exitCodeOf, formatOutcomes, formatRead } from './format.js';
import { exitCodesHelp } from './exit-codes.js';
import { parseArgs } from './output.js';
import { viaDaemon } from './admin-client.js';
import type { SyncReport } from '../runtime/runtime.js';

export const summary = 'forget the delta links, read everything again and compare every object';

const HELP = `usage: entra-sync resync [--config file] [--wait[=seconds]] [--target name] [--dry-run] [--json]

Forgets both delta links, reads every user and group from Entra (objects no longer there are treated as
deleted), then compares every source object with what each target holds and applies the differences.
Links, failures and staged operations are kept.

${CONFIG_HELP}
${WAIT_HELP}
  --target name   only this target
  --dry-run       compare and print, send nothing
  --json          print the read and each target's summary as JSON

${exitCodesHelp({ 0: 'done: every target ran and every object was applied', 3: true, 1: 'a target could not run, failed outright or is quarantined, or Entra could not be read' })}`;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { optional: ['wait'], flags: ['json', 'dry-run', 'help'], values: ['config', 'target'] });
  if (args.options.help) { process.stdout.write(HELP); return 0; }
  const dryRun = args.options['dry-run'] === true;
  const asJson = args.options.json === true;
  const print = (report: SyncReport) => {
    process.stdout.write(asJson ? json(report) : `${formatRead(report.read)}\n${formatOutcomes(report.targets)}\n`);
    return exitCodeOf(report.targets);
  };
  // While the daemon runs, it does the resync.
  const remote = dryRun ? undefined : await viaDaemon<SyncReport>(configPath(args.options.config), args.options.wait, 'resync', targetOption(args.options.target));
  if (remote) return print(remote.value);
  return withRuntime(configPath(args.options.config), { dryRun, progress: !asJson, lock: { command: 'resync', wait: args.options.wait } }, async (runtime) =>
    print(await runtime.resync({ ...targetOption(args.options.target), dryRun })));
}
