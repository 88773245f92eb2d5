#!/usr/bin/env node
// Entry point of the `entra-sync` command: picks the subcommand and loads only its module.
// Each command lives in its own file and exports `run(argv: string[]): Promise<number>` (the exit code).
// Whatever happens (an error, an exception thrown while closing, output piped into `head`), the process ends
// with the command's message and its exit code from ./exit-codes.ts.
import { EntraSyncError } from '../errors.js';
import { EXIT, exitCodeOfError } from './exit-codes.js';
import { endQuietlyOnClosedOutput, flushed, formatError } from './output.js';
import { packageVersion } from './version.js';

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
    '       entra-sync --version',
    '',
    'commands:',
    ...Object.keys(commands).sort().map((name) => `  ${name}`),
    '',
    'Run `entra-sync <command> --help` for a command\'s options and exit codes.',
  ].join('\n');
}

export { packageVersion };

/** Runs one command line and returns its exit code; it never throws. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  let command = 'entra-sync';
  try {
    if (name === '--version' || name === '-V') {
      if (rest.length) throw usageOf(`unexpected argument "${rest[0]}" after ${name}`);
      process.stdout.write(`${packageVersion()}\n`);
      return EXIT.ok;
    }
    if (name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write(usage() + '\n');
      return EXIT.ok;
    }
    if (!name) {
      process.stderr.write(usage() + '\n');
      return EXIT.usage;
    }
    const load = commands[name];
    if (!load) throw usageOf(name.startsWith('-') ? `unknown option ${name}` : `unknown command "${name}"`);
    command = `entra-sync ${name}`;
    const mod = await load();
    return await mod.run(rest);
  } catch (err) {
    process.stderr.write(describe(err, command) + '\n');
    return exitCodeOfError(err);
  }
}

function usageOf(message: string): EntraSyncError {
  return new EntraSyncError('CLI_USAGE', message);
}

function describe(err: unknown, command: string): string {
  if (err instanceof EntraSyncError && err.code === 'CLI_USAGE') {
    return `${command}: ${err.message}\nRun \`${command} --help\` for the ${command === 'entra-sync' ? 'commands' : 'options'}.`;
  }
  return formatError(err);
}

let ended = false;

/** Sets the code first (so a process that ends any other way still has it), lets the output drain, then exits. */
async function end(code: number): Promise<void> {
  if (ended) return;
  ended = true;
  process.exitCode = code;
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  // A one-shot command is over: a keep-alive socket or a timer somebody left behind must not keep it running.
  process.exit(code);
}

endQuietlyOnClosedOutput(process.stdout);
endQuietlyOnClosedOutput(process.stderr);
// An exception nobody awaited is a bug: say so and end with 70, not with node's stack and code 1.
process.on('uncaughtException', (err) => {
  if (ended) return;
  process.stderr.write(formatError(err) + '\n');
  void end(EXIT.bug);
});
// The event loop ran dry before the command returned: something it awaited can never happen. Never exit 0 then.
process.on('beforeExit', () => {
  if (ended) return;
  process.stderr.write(formatError(new Error('the command stopped before it finished (a promise it waited for can never settle)')) + '\n');
  void end(EXIT.bug);
});

void main(process.argv.slice(2)).then(end);
