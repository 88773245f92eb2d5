// `entra-sync apply <plan-id>`: apply exactly a plan saved by `entra-sync plan`, or refuse, saying why,
// when Entra or the target's state has moved since it was built.
import { CONFIG_HELP, configPath, json, withRuntime, WAIT_HELP } from './command.js';
import { exitCodeOf, formatCycle } from './format.js';
import { EntraSyncError } from '../errors.js';
import { exitCodesHelp } from './exit-codes.js';
import { parseArgs } from './output.js';

export const summary = 'apply a saved plan exactly, or refuse if the state has moved since it was built';

const HELP = `usage: entra-sync apply <plan-id> [--config file] [--wait[=seconds]] [--json]

Applies the operations of a plan saved by \`entra-sync plan\`, and nothing else. Refuses (exit 1) when
the plan is unknown, was already applied, or the state it was built on has moved (a newer read of
Entra, another cycle, or a change to what the target holds): run \`plan\` again and review the new one.

${CONFIG_HELP}
${WAIT_HELP}
  --json          print the cycle summary as JSON

${exitCodesHelp({ 0: 'the plan was applied', 3: 'applied, but some objects failed (listed; later cycles retry them)', 1: 'refused (unknown, used or stale plan), or the target could not run or is quarantined' })}`;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { optional: ['wait'], flags: ['json', 'help'], values: ['config'], positionals: true });
  if (args.options.help) { process.stdout.write(HELP); return 0; }
  const [id, ...extra] = args.positionals;
  if (!id || extra.length) throw new EntraSyncError('CLI_USAGE', 'apply takes exactly one plan id (printed by `entra-sync plan`)');
  const asJson = args.options.json === true;
  return withRuntime(configPath(args.options.config), { progress: !asJson, lock: { command: 'apply', wait: args.options.wait } }, async (runtime) => {
    const summary = await runtime.applyPlan(id);
    process.stdout.write(asJson ? json(summary) : `plan ${id} applied\n${formatCycle(summary)}\n`);
    return exitCodeOf([summary]);
  });
}
