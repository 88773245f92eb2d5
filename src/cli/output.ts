// Shared terminal output helpers for commands: error formatting, the one argument parser every command calls,
// and stdout/stderr that end quietly when the reader goes away (`entra-sync status | head -1`).
import { parseArgs as parseNodeArgs, type ParseArgsConfig } from 'node:util';
import { EntraSyncError, UsageError } from '../errors.js';

/**
 * One readable block for a person: code, message, and where it happened. An unexpected exception (a bug)
 * says so and asks for a report; its stack only with DEBUG set.
 */
export function formatError(err: unknown): string {
  if (err instanceof EntraSyncError) {
    const where = Object.entries(err.where)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
    return `error ${err.code}: ${err.message}${where ? `\n  at ${where}` : ''}`;
  }
  const message = err instanceof Error ? err.message : String(err);
  const stack = process.env.DEBUG && err instanceof Error ? `\n${err.stack ?? ''}` : '';
  return `internal error: ${message}${stack}\n`
    + 'This is a bug in entra-sync. Please report it with what you ran'
    + `${stack ? ' and this output' : ', and the output of the same command run again with DEBUG=1'}.`;
}

export interface ParsedArgs {
  positionals: string[];
  /** Flags are `true`; repeatable options collect into arrays; an optional-value option given alone is `true`. */
  options: Record<string, string | true | string[]>;
}

export interface ArgSpec {
  /** Options that take no value: `--json`. `help` (and `-h`) is always accepted. */
  flags?: string[];
  /** Options that need a value: `--target name` or `--target=name`. `config` also answers to `-c`. */
  values?: string[];
  /** Value options that may be given more than once: `--attr a=1 --attr b=2`. */
  repeatable?: string[];
  /** Options whose value is optional and only ever attached with `=`: `--wait` (true) or `--wait=30`. */
  optional?: string[];
  /** Whether the command takes positional arguments; a stray one is a usage error otherwise. */
  positionals?: boolean;
}

const SHORT: Record<string, string> = { config: 'c', help: 'h' };

/**
 * The command line of one command, parsed strictly (node:util.parseArgs): an unknown option, a stray
 * argument, a missing value or a value given to a flag is a UsageError (exit code 2) that names it, so a
 * typo never silently changes what a command does.
 */
export function parseArgs(argv: string[], spec: ArgSpec): ParsedArgs {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  const add = (name: string, type: 'boolean' | 'string', multiple = false) => {
    options[name] = { type, ...(multiple ? { multiple } : {}), ...(SHORT[name] ? { short: SHORT[name] } : {}) };
  };
  for (const name of spec.flags ?? []) add(name, 'boolean');
  for (const name of spec.values ?? []) add(name, 'string');
  for (const name of spec.repeatable ?? []) add(name, 'string', true);
  for (const name of spec.optional ?? []) add(name, 'string');

  // node's parser has no option with an optional value: `--wait` alone is taken out here and comes back as
  // true, so that it never swallows the next argument as its value.
  const optional = new Set(spec.optional ?? []);
  const given = new Set<string>();
  const end = argv.indexOf('--');
  const args = argv.filter((arg, i) => {
    if ((end === -1 || i < end) && arg.startsWith('--') && optional.has(arg.slice(2))) { given.add(arg.slice(2)); return false; }
    return true;
  });

  let parsed: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };
  try {
    parsed = parseNodeArgs({ args, options, strict: true, allowPositionals: spec.positionals === true });
  } catch (err) {
    throw usageError(err);
  }
  const out: ParsedArgs = { positionals: parsed.positionals, options: {} };
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === undefined || value === false) continue;
    if (optional.has(name) && value === '') throw new UsageError(`option --${name}= needs a value after "=" (or give --${name} alone)`);
    out.options[name] = Array.isArray(value) ? value.map(String) : value;
  }
  for (const name of given) out.options[name] ??= true;
  return out;
}

/** node's parse error as our own message, naming the argument it is about. */
function usageError(err: unknown): UsageError {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  const quoted = /'([^']*)'/.exec(message)?.[1];
  if (quoted === undefined) return new UsageError(message);
  // `-c, --config <value>` names the option by its long name.
  const option = /--[\w-]+/.exec(quoted)?.[0] ?? quoted.split(' ')[0]!;
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': return new UsageError(`unknown option ${option}`);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': return new UsageError(`unexpected argument "${quoted}"`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(message) ? new UsageError(`option ${option} needs a value`) : new UsageError(`option ${option} takes no value`);
    default: return new UsageError(message);
  }
}

/**
 * Makes a closed stdout or stderr end the command quietly instead of with an EPIPE stack: once the reader is
 * gone (`| head -1` has what it wanted), further writes to that stream are dropped and the command runs to its
 * end and its exit code. Other write errors are dropped too: the command's result is its exit code.
 */
export function endQuietlyOnClosedOutput(stream: NodeJS.WriteStream): void {
  let gone = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (gone) return;
    gone = true;
    if (err.code !== 'EPIPE' && stream !== process.stderr) process.stderr.write(`entra-sync: cannot write the output: ${err.message}\n`);
    stream.write = ((_chunk: unknown, encoding?: unknown, callback?: unknown) => {
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') process.nextTick(done as () => void);
      return true;
    }) as typeof stream.write;
  });
}

/** Resolves once everything written to `stream` so far has been handed to the operating system. */
export function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) { resolve(); return; }
    stream.write('', () => resolve());
  });
}
