#!/usr/bin/env node
// Entry point of the `entra-sync` command: picks the subcommand and loads only its module.
// Each command lives in its own file and exports `run(argv: string[]): Promise<number>` (the exit code).
import { EntraSyncError } from '../errors.js';
import { formatError } from './output.js';

type CommandModule = { run(argv: string[]): Promise<number>; summary: string };

const commands: Record<string, () => Promise<CommandModule>> = {
  apply: () => import('./apply.js'),
  approve: () => import('./approve.js'),
  demo: () => import('./demo.js'),
  expr: () => import('./expr.js'),
  plan: () => import('./plan.js'),
  preview: () => import('./preview.js'),
  provision: () => import('./provision.js'),
  reconcile: () => import('./reconcile.js'),
  reject: () => import('./reject.js'),
  resume: () => import('./resume.js'),
  resync: () => import('./resync.js'),
  run: () => import('./run.js'),
  scope: () => import('./scope.js'),
  status: () => import('./status.js'),
  sync: () => import('./sync.js'),
  'test-connection': () => import('./test-connection.js'),
  validate: () => import('./validate.js'),
};

function usage(): string {
  return [
    'usage: entra-sync <command> [options]',
    '',
    'commands:',
    ...Object.keys(commands).sort().map((name) => `  ${name}`),
    '',
    'Run `entra-sync <command> --help` for a command\'s options.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`entra-sync: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  try {
    const mod = await load();
    return await mod.run(rest);
  } catch (err) {
    process.stderr.write(formatError(err) + '\n');
    return err instanceof EntraSyncError ? 1 : 70;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => { process.stderr.write(formatError(err) + '\n'); process.exitCode = 70; },
);
