// `entra-sync approve`: release the disables and deletes the deletion threshold held back, and apply them now.
import { CONFIG_HELP, configPath, json, withRuntime, targetOption, WAIT_HELP } from './command.js';
import { exitCodeOf, formatOutcomes } from './format.js';
import { exitCodesHelp } from './exit-codes.js';
import { parseArgs } from './output.js';
import { viaDaemon } from './admin-client.js';
import type { TargetOutcome } from '../runtime/runtime.js';

export const summary = 'apply the disables/deletes the deletion threshold held back';

const HELP = `usage: entra-sync approve [--config file] [--wait[=seconds]] [--target name] [--json]

Applies the operations a cycle staged because its disables and deletes passed the target's
deletionThreshold. \`entra-sync status\` shows how many are waiting; \`entra-sync reject\` drops them.

${CONFIG_HELP}
${WAIT_HELP}
  --target name   only this target
  --json          print each target's summary as JSON

${exitCodesHelp({ 0: 'done (or nothing was waiting)', 3: true, 1: 'a target could not run or is quarantined, or an error' })}`;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { optional: ['wait'], flags: ['json', 'help'], values: ['config', 'target'] });
  if (args.options.help) { process.stdout.write(HELP); return 0; }
  const asJson = args.options.json === true;
  const print = (outcomes: TargetOutcome[]) => {
    if (asJson) process.stdout.write(json(outcomes));
    else process.stdout.write((outcomes.length ? formatOutcomes(outcomes) : 'nothing is waiting for approval') + '\n');
    return exitCodeOf(outcomes);
  };
  // While the daemon runs, it applies them.
  const remote = await viaDaemon<TargetOutcome[]>(configPath(args.options.config), args.options.wait, 'approve', targetOption(args.options.target));
  if (remote) return print(remote.value);
  return withRuntime(configPath(args.options.config), { progress: !asJson, lock: { command: 'approve', wait: args.options.wait } }, async (runtime) =>
    print(await runtime.approve(targetOption(args.options.target))));
}
