// `entra-sync reject`: drop the operations the deletion threshold held back; each object's provisioning log
// records the rejection. The objects stay as they are on the target.
import { CONFIG_HELP, configPath, json, withRuntime, targetOption, WAIT_HELP } from './command.js';
import { exitCodesHelp } from './exit-codes.js';
import { parseArgs } from './output.js';
import { viaDaemon } from './admin-client.js';
import type { PlannedOperation } from '../engine/types.js';

export const summary = 'drop the disables/deletes the deletion threshold held back';

const HELP = `usage: entra-sync reject [--config file] [--wait[=seconds]] [--target name] [--json]

Drops the staged operations; the objects stay as they are on the target and each one's provisioning
log says the operation was rejected. A later change in Entra plans them afresh.

${CONFIG_HELP}
${WAIT_HELP}
  --target name   only this target
  --json          print what was dropped as JSON

${exitCodesHelp({ 0: 'done (or nothing was waiting)', 1: 'an error (configuration, state)' })}`;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { optional: ['wait'], flags: ['json', 'help'], values: ['config', 'target'] });
  if (args.options.help) { process.stdout.write(HELP); return 0; }
  // While the daemon runs, it drops them.
  const remote = await viaDaemon<Dropped>(configPath(args.options.config), args.options.wait, 'reject', targetOption(args.options.target));
  if (remote) return print(remote.value);
  return withRuntime(configPath(args.options.config), { lock: { command: 'reject', wait: args.options.wait } }, (runtime) =>
    Promise.resolve(print(runtime.reject(targetOption(args.options.target)))));

  function print(dropped: Dropped): number {
    if (args.options.json) { process.stdout.write(json(dropped)); return 0; }
    if (dropped.length === 0) { process.stdout.write('nothing is waiting for approval\n'); return 0; }
    const out: string[] = [];
    for (const r of dropped) {
      out.push(`${r.target}: dropped ${r.dropped.length} operation(s)`);
      for (const op of r.dropped) out.push(`  ${op.kind} ${op.type} ${op.displayName} (${op.sourceId})`);
    }
    process.stdout.write(out.join('\n') + '\n');
    return 0;
  }
}

type Dropped = { target: string; dropped: PlannedOperation[] }[];
