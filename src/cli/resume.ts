// `entra-sync resume`: Entra's "restart provisioning" without losing state. Lifts each target's quarantine
// and makes every failed object due for retry now; the next cycle (the daemon's next tick, or `sync`) runs and
// retries them. `--sync` runs that cycle at once. Links, cursor, delta links and staged operations are kept.
import { CONFIG_HELP, configPath, json, targetOption, WAIT_HELP, withRuntime } from './command.js';
import { exitCodeOf, formatOutcomes, formatRead } from './format.js';
import { parseArgs } from './output.js';
import type { ResumeReport } from '../daemon/api.js';
import type { SyncReport } from '../runtime/runtime.js';
import { viaDaemon } from './admin-client.js';
import { EntraSyncError } from '../errors.js';

export const summary = 'lift a quarantine and retry failed objects now (restart provisioning, state kept)';

const HELP = `usage: entra-sync resume [--config file] [--wait[=seconds]] [--target name] [--sync] [--json]

Lifts the quarantine of every target (or the one named) and makes every failed object due for retry now,
as Entra's "restart provisioning" does, without clearing anything: links, the cursor, delta links and
staged operations stay. Fix what caused the quarantine first (\`entra-sync status\` says why).

Without --sync nothing is sent now: the next cycle (the daemon's next scheduled run, or \`entra-sync sync\`)
runs and retries the failed objects. \`entra-sync resync\` is the full comparison, and is not needed here.

${CONFIG_HELP}
${WAIT_HELP}
  --target name   only this target
  --sync          run that cycle now (read Entra, apply, retry the failed objects), as \`sync\` does
  --json          print what was resumed (and the cycle, with --sync) as JSON

Exit code: 0 done; with --sync, as \`sync\`'s (1 when a target could not run or is quarantined again).
`;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { optional: ['wait'], flags: ['json', 'sync', 'help'], values: ['config', 'target'] });
  if (args.options.help) { process.stdout.write(HELP); return 0; }
  const asJson = args.options.json === true;
  const thenSync = args.options.sync === true;
  // While the daemon runs, it resumes (and syncs: the daemon's queue runs the two in order).
  const config = configPath(args.options.config);
  const remote = await viaDaemon<ResumeReport>(config, args.options.wait, 'resume', targetOption(args.options.target));
  if (remote) {
    const resumed = remote.value;
    if (!thenSync) {
      process.stdout.write(asJson ? json(resumed) : `${formatResume(resumed)}\nThe daemon's next cycle retries them, or \`entra-sync sync\` now.\n`);
      return 0;
    }
    const synced = await viaDaemon<SyncReport>(config, args.options.wait, 'sync', targetOption(args.options.target));
    if (!synced) throw new EntraSyncError('DAEMON_UNREACHABLE', 'the daemon stopped after the resume, before the sync: run `entra-sync sync`');
    const report = synced.value;
    process.stdout.write(asJson ? json({ ...resumed, sync: report }) : `${formatResume(resumed)}\n${formatRead(report.read)}\n${formatOutcomes(report.targets)}\n`);
    return exitCodeOf(report.targets);
  }
  return withRuntime(configPath(args.options.config), { progress: thenSync && !asJson, lock: { command: 'resume', wait: args.options.wait } }, async (runtime) => {
    const resumed = runtime.resume(targetOption(args.options.target));
    if (!thenSync) {
      process.stdout.write(asJson ? json(resumed) : `${formatResume(resumed)}\nThe next cycle retries them: the daemon's next run, or \`entra-sync sync\` now.\n`);
      return 0;
    }
    // The lock is still ours: no other process can run a cycle between the resume and this one.
    const report: SyncReport = await runtime.sync(targetOption(args.options.target));
    process.stdout.write(asJson ? json({ ...resumed, sync: report }) : `${formatResume(resumed)}\n${formatRead(report.read)}\n${formatOutcomes(report.targets)}\n`);
    return exitCodeOf(report.targets);
  });
}

export function formatResume(report: ResumeReport): string {
  return report.targets.map((t) => {
    const quarantine = t.wasQuarantined ? `quarantine lifted (was ${t.reason ?? 'quarantined'})` : 'was not quarantined';
    const failures = t.failuresDue === 0 ? 'no failed object to retry' : `${t.failuresDue} failed object${t.failuresDue === 1 ? '' : 's'} due for retry now`;
    return `${t.target}: ${quarantine}; ${failures}`;
  }).join('\n');
}
