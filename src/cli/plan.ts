// `entra-sync plan`: read Entra, plan each target without sending anything, save the plan under an id and
// print it as a readable diff. `entra-sync apply <id>` applies exactly that plan later.
import { CONFIG_HELP, configPath, json, withRuntime, targetOption, WAIT_HELP } from './command.js';
import { exitCodeOf, formatRead } from './format.js';
import { isTargetFailure } from '../runtime/runtime.js';
import { exitCodesHelp } from './exit-codes.js';
import { parseArgs } from './output.js';

export const summary = 'read Entra and save a reviewable plan per target (apply it with `apply <id>`)';

const HELP = `usage: entra-sync plan [--config file] [--wait[=seconds]] [--target name] [--full] [--json]

Reads Entra, then plans one cycle per target without sending anything to it, saves each plan with an id
and prints it: one line per operation, attribute changes as before → after, and what the deletion
threshold would hold back. \`entra-sync apply <id>\` applies exactly that plan, or refuses if Entra or
the target's state has moved since.

${CONFIG_HELP}
${WAIT_HELP}
  --target name   only this target
  --full          compare every object, not only those changed since the last cycle
  --json          print the saved plans (with every operation) as JSON

${exitCodesHelp({ 0: 'every target was planned', 3: 'planned, but some objects could not be (listed)', 1: 'a target could not be planned or is quarantined, or Entra could not be read' })}`;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { optional: ['wait'], flags: ['json', 'full', 'help'], values: ['config', 'target'] });
  if (args.options.help) { process.stdout.write(HELP); return 0; }
  const asJson = args.options.json === true;
  return withRuntime(configPath(args.options.config), { progress: !asJson, lock: { command: 'plan', wait: args.options.wait } }, async (runtime) => {
    const report = await runtime.plan({ ...targetOption(args.options.target), full: args.options.full === true });
    if (asJson) {
      process.stdout.write(json({ read: report.read, plans: report.plans.map((p) => (isTargetFailure(p) ? p : p.plan)) }));
    } else {
      const out = [formatRead(report.read)];
      for (const p of report.plans) {
        if (isTargetFailure(p)) { out.push('', `${p.target}: could not plan: ${p.error.message} (${p.error.code})`); continue; }
        const count = p.plan.operations.length + p.plan.staged.length;
        out.push('', `${p.target}: plan ${p.plan.id} (${count} operation${count === 1 ? '' : 's'})`, p.plan.diff.replace(/^/gm, '  '));
        if (count) out.push(`  apply it with: entra-sync apply ${p.plan.id}`);
      }
      process.stdout.write(out.join('\n') + '\n');
    }
    return exitCodeOf(report.plans.map((p) => (isTargetFailure(p) ? p : p.summary)));
  });
}
