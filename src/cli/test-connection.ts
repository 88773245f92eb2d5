// `entra-sync test-connection`: the admin's "Test Connection" button. Checks Microsoft Graph (token, the
// enterprise app's service principal, assignments, users) and each target (token endpoint, discovery, a
// read-only probe), one line per check with ✓ or ✗ and the reason. Sends nothing that writes, needs no
// state file, prints no secret.
import { CONFIG_HELP, configPath, json } from './command.js';
import { testConnections, type ConnectionTestReport } from '../runtime/connection-test.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import { exitCodesHelp } from './exit-codes.js';
import { parseArgs } from './output.js';

export const summary = 'check the Graph credentials, permissions and enterprise app, and each target\'s URL and credentials';

const HELP = `usage: entra-sync test-connection [--config file] [--target name] [--skip-graph] [--json]

Like the Test Connection button of Entra's provisioning blade, for both ends: gets a Graph token with the
configured credential and reads the enterprise app's service principal, its assignments and the users;
then, per target, gets an OAuth2 token when configured, reads ServiceProviderConfig and sends a
read-only filter probe that must answer an empty list. Nothing is written anywhere, and no state file
is needed. One line per check: ✓ or ✗ with the reason.

${CONFIG_HELP}
  --target name   only this target (Graph is still checked)
  --skip-graph    check the targets only
  --json          print the checks as JSON

${exitCodesHelp({ 0: 'every check passed', 1: 'a check failed, or the configuration is invalid' })}`;

export function formatConnectionReport(report: ConnectionTestReport): string {
  const lines: string[] = [];
  for (const section of report.sections) {
    lines.push(section.subject);
    for (const c of section.checks) lines.push(`  ${c.ok ? '✓' : '✗'} ${c.check}: ${c.detail}`);
  }
  const checks = report.sections.flatMap((s) => s.checks);
  const failed = checks.filter((c) => !c.ok).length;
  lines.push('', failed === 0 ? `All ${checks.length} checks passed.` : `${failed} of ${checks.length} checks failed.`);
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { flags: ['json', 'skip-graph', 'help'], values: ['config', 'target'] });
  if (args.options.help) { process.stdout.write(HELP); return 0; }
  const config = await loadConfig(configPath(args.options.config));
  const report = await testConnections(config, {
    target: typeof args.options.target === 'string' ? args.options.target : undefined,
    skipGraph: args.options['skip-graph'] === true,
    logger: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }),
  });
  process.stdout.write(args.options.json ? json(report) : `${formatConnectionReport(report)}\n`);
  return report.ok ? 0 : 1;
}
