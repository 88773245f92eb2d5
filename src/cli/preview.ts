// `entra-sync preview --user <upn|id>`: what each target would receive for one user right now — every
// mapped attribute and the operation — read fresh from Graph. Nothing is sent to any target.
import { CONFIG_HELP, configPath, json, withRuntime, targetOption, WAIT_HELP } from './command.js';
import { formatPreview } from './format.js';
import { EntraSyncError } from '../errors.js';
import { exitCodesHelp } from './exit-codes.js';
import { parseArgs } from './output.js';

export const summary = 'show what each target would receive for one user (no writes)';

const HELP = `usage: entra-sync preview --user <upn|object id> [--config file] [--wait[=seconds]] [--target name] [--json]

Reads the user fresh from Microsoft Graph and shows, per target: whether it is in scope, every mapped
attribute as the target would receive it, the matching attributes, and the operation a cycle would send
(create, update with before → after, disable …). Nothing is sent to any target.

${CONFIG_HELP}
${WAIT_HELP}
  --user upn|id   the user's userPrincipalName or object id
  --target name   only this target
  --json          print the preview as JSON

${exitCodesHelp({ 0: 'shown', 1: 'the user or Entra could not be read, or the configuration is invalid' })}`;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { optional: ['wait'], flags: ['json', 'help'], values: ['config', 'target', 'user'] });
  if (args.options.help) { process.stdout.write(HELP); return 0; }
  if (typeof args.options.user !== 'string') throw new EntraSyncError('CLI_USAGE', 'preview needs --user <upn|id>');
  const user = args.options.user;
  return withRuntime(configPath(args.options.config), { dryRun: true, lock: { command: 'preview', wait: args.options.wait } }, async (runtime) => {
    const report = await runtime.preview({ user, ...targetOption(args.options.target) });
    process.stdout.write(args.options.json ? json(report) : formatPreview(report) + '\n');
    return 0;
  });
}
