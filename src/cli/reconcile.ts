// `entra-sync reconcile`: re-read every linked object from each target and repair what was changed there by
// hand (attributes we wrote, the active flag, members we added, objects deleted outright), reporting every fix.
import { CONFIG_HELP, configPath, json, withRuntime, targetOption, WAIT_HELP } from './command.js';
import { exitCodeOf, formatCycle, formatFixes } from './format.js';
import { isTargetFailure } from '../runtime/runtime.js';
import { exitCodesHelp } from './exit-codes.js';
import { parseArgs } from './output.js';

export const summary = 'repair what was changed by hand on the targets, reporting every fix';

const HELP = `usage: entra-sync reconcile [--config file] [--wait[=seconds]] [--target name] [--dry-run] [--json]

Reads every object entra-sync has provisioned back from the target and compares it with what was last
written: an attribute edited by hand is written again, a disabled or re-enabled user is set back, a
removed member is added again, a deleted object is recreated. Every fix is listed. Entra never does this.

${CONFIG_HELP}
${WAIT_HELP}
  --target name   only this target
  --dry-run       list the drift, fix nothing
  --json          print each target's fixes as JSON

${exitCodesHelp({ 0: 'done: no drift, or every drift fixed', 3: 'done, but some fixes failed (listed)', 1: 'a target could not run or is quarantined, or an error' })}`;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { optional: ['wait'], flags: ['json', 'dry-run', 'help'], values: ['config', 'target'] });
  if (args.options.help) { process.stdout.write(HELP); return 0; }
  const dryRun = args.options['dry-run'] === true;
  const asJson = args.options.json === true;
  return withRuntime(configPath(args.options.config), { dryRun, progress: !asJson, lock: { command: 'reconcile', wait: args.options.wait } }, async (runtime) => {
    const report = await runtime.reconcile({ ...targetOption(args.options.target), dryRun });
    if (asJson) {
      process.stdout.write(json(report));
    } else {
      const out: string[] = [];
      for (const t of report.targets) out.push(isTargetFailure(t) ? formatCycle(t) : `${formatFixes(t.target, t.fixes)}${dryRun && t.fixes.length ? '\n  (dry run: nothing was fixed)' : ''}`);
      process.stdout.write(out.join('\n') + '\n');
    }
    return exitCodeOf(report.targets);
  });
}
