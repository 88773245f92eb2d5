// `entra-sync provision --user <upn|id> | --group <id>`: provision one object now, read fresh from Graph,
// and show each step (import, scope, match, action, export) per target, like Entra's "Provision on demand".
import { CONFIG_HELP, configPath, json, withRuntime, targetOption, WAIT_HELP } from './command.js';
import { exitCodeOf, formatTrace } from './format.js';
import { isTargetFailure } from '../runtime/runtime.js';
import { EntraSyncError } from '../errors.js';
import { exitCodesHelp } from './exit-codes.js';
import { parseArgs } from './output.js';
import { viaDaemon } from './admin-client.js';
import type { ProvisionReport } from '../runtime/runtime.js';

export const summary = 'provision one user or group now and show each step';

const HELP = `usage: entra-sync provision (--user <upn|object id> | --group <object id>) [--config file] [--wait[=seconds]] [--target name] [--dry-run] [--json]

Reads the user (or group, with its members) fresh from Microsoft Graph, then for each target scopes,
maps, matches and applies it, and prints each step with its details and the properties changed
(old → new). Other objects are not touched and the targets' cycle cursors do not move.

${CONFIG_HELP}
${WAIT_HELP}
  --user upn|id   the user's userPrincipalName or object id
  --group id      the group's object id (members not yet provisioned wait for their own provisioning)
  --target name   only this target
  --dry-run       show the steps and what would be sent; send nothing
  --json          print the steps as JSON

${exitCodesHelp({ 0: 'done (or, with --dry-run, shown)', 3: 'done, but the object (or some members) failed: the steps say why, and later cycles retry it', 1: 'a target could not run or is quarantined, or the object or Entra could not be read' })}`;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { optional: ['wait'], flags: ['json', 'dry-run', 'help'], values: ['config', 'target', 'user', 'group'] });
  if (args.options.help) { process.stdout.write(HELP); return 0; }
  const user = typeof args.options.user === 'string' ? args.options.user : undefined;
  const group = typeof args.options.group === 'string' ? args.options.group : undefined;
  if ((user === undefined) === (group === undefined)) throw new EntraSyncError('CLI_USAGE', 'give exactly one of --user <upn|id> or --group <id>');
  const dryRun = args.options['dry-run'] === true;
  const request = { ...(user !== undefined ? { user } : { group: group! }), ...targetOption(args.options.target) };
  // While the daemon runs, it provisions (in order with its cycles).
  const remote = dryRun ? undefined : await viaDaemon<ProvisionReport>(configPath(args.options.config), args.options.wait, 'provision', request);
  if (remote) return print(remote.value);
  return withRuntime(configPath(args.options.config), { dryRun, lock: { command: 'provision', wait: args.options.wait } }, async (runtime) =>
    print(await runtime.provision({ ...request, dryRun })));

  function print(report: ProvisionReport): number {
    if (args.options.json) {
      process.stdout.write(json(report));
    } else {
      const out = [`${report.object.type} ${report.object.displayName} (${report.object.id})${report.dryRun ? ' — dry run, nothing sent' : ''}`];
      for (const t of report.targets) {
        out.push('', `${t.target}:`);
        if (isTargetFailure(t)) { out.push(`  did not run: ${t.error.message} (${t.error.code})`); continue; }
        for (const o of t.objects) out.push(formatTrace(o, '  '));
      }
      process.stdout.write(out.join('\n') + '\n');
    }
    return exitCodeOf(report.targets.map((t) => {
      if (isTargetFailure(t)) return t;
      return t.summary ?? { status: t.objects.some((o) => o.status === 'failure') ? 'partial' : 'success' };
    }));
  }
}
