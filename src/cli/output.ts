// Shared terminal output helpers for commands: error formatting and simple argument parsing.
import { EntraSyncError } from '../errors.js';

/** One readable block for a person: code, message, and where it happened. Never a stack trace unless DEBUG is set. */
export function formatError(err: unknown): string {
  if (err instanceof EntraSyncError) {
    const where = Object.entries(err.where)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
    return `error ${err.code}: ${err.message}${where ? `\n  at ${where}` : ''}`;
  }
  if (err instanceof Error) {
    return `internal error: ${err.message}${process.env.DEBUG ? `\n${err.stack ?? ''}` : ''}`;
  }
  return `internal error: ${String(err)}`;
}

export interface ParsedArgs {
  positionals: string[];
  /** Repeated options collect into arrays; flags are `true`. */
  options: Record<string, string | true | string[]>;
}

/**
 * Minimal `--name value` / `--name=value` / `--flag` parser. `flags` names options that take no value;
 * `optional` names options whose value is optional (`--wait` or `--wait=30`: only the `=` form gives one).
 * Unknown options are an error so a typo never silently changes behaviour.
 */
export function parseArgs(argv: string[], spec: { flags?: string[]; values?: string[]; repeatable?: string[]; optional?: string[] }): ParsedArgs {
  const flags = new Set(spec.flags ?? []);
  const optional = new Set(spec.optional ?? []);
  const values = new Set([...(spec.values ?? []), ...(spec.repeatable ?? [])]);
  const repeatable = new Set(spec.repeatable ?? []);
  const out: ParsedArgs = { positionals: [], options: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') { out.positionals.push(...argv.slice(i + 1)); break; }
    if (!arg.startsWith('--')) { out.positionals.push(arg); continue; }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (optional.has(name)) {
      out.options[name] = eq === -1 ? true : arg.slice(eq + 1);
      continue;
    }
    if (flags.has(name)) {
      if (eq !== -1) throw new EntraSyncError('CLI_USAGE', `option --${name} takes no value`);
      out.options[name] = true;
      continue;
    }
    if (!values.has(name)) throw new EntraSyncError('CLI_USAGE', `unknown option --${name}`);
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else { value = argv[i + 1]; i++; }
    if (value === undefined) throw new EntraSyncError('CLI_USAGE', `option --${name} needs a value`);
    if (repeatable.has(name)) {
      const prev = out.options[name];
      out.options[name] = Array.isArray(prev) ? [...prev, value] : [value];
    } else {
      out.options[name] = value;
    }
  }
  return out;
}
