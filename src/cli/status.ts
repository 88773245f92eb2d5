// `entra-sync status`: per target, how far it is behind the source, what it holds (links by status),
// failures and when they are retried, staged operations, quarantine, saved plans and the last runs.
// Reads the state file only: no request to Entra or to any target.
import { CONFIG_HELP, configPath, json, withRuntime, targetOption } from './command.js';
import { formatStatus } from './format.js';
import { EntraSyncError } from '../errors.js';
import { exitCodesHelp } from './exit-codes.js';
import { parseArgs } from './output.js';

export const summary = 'show each target\'s state: behind or up to date, links, failures, staged, quarantine, last runs';

const HELP = `usage: entra-sync status [--config file] [--target name] [--runs n] [--json]

Reads only the state file (no request to Entra or to a target).

${CONFIG_HELP}
  --target name   only this target
  --runs n        how many recent runs to list per target (default 3)
  --json          print the status as JSON

${exitCodesHelp({ 0: 'shown', 1: 'a target is quarantined (shown with the reason), or the state could not be read' })}`;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { flags: ['json', 'help'], values: ['config', 'target', 'runs'] });
  if (args.options.help) { process.stdout.write(HELP); return 0; }
  const runs = typeof args.options.runs === 'string' ? Number(args.options.runs) : 3;
  if (!Number.isInteger(runs) || runs < 0) throw new EntraSyncError('CLI_USAGE', `--runs takes a whole number, not "${String(args.options.runs)}"`);
  return withRuntime(configPath(args.options.config), { lock: false }, async (runtime) => {
    const report = runtime.status({ runs, ...targetOption(args.options.target) });
    process.stdout.write(args.options.json ? json(report) : formatStatus(report) + '\n');
    return report.targets.some((t) => t.quarantine) ? 1 : 0;
  });
}
