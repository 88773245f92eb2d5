// The exit codes of every command, decided here and nowhere else (docs/commands.md has the same table).
// Cron, a container or a script tells from the code alone whether to alert: 3 is not an outage, 1 is.
import { EntraSyncError } from '../errors.js';

export const EXIT = {
  /** Done: every target ran, every object was applied. */
  ok: 0,
  /** A target could not run or is quarantined, or an error stopped the command (configuration, Graph, lock …). */
  error: 1,
  /** The command line is wrong: an unknown command or option, a stray argument, a missing value. */
  usage: 2,
  /** Done, but some objects failed: they are listed, and later cycles retry them. */
  objectsFailed: 3,
  /** A bug: an unexpected exception (EX_SOFTWARE in sysexits.h). */
  bug: 70,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The code for an error that ended a command: our own errors are 1 (2 for usage), anything else is a bug. */
export function exitCodeOfError(err: unknown): ExitCode {
  if (err instanceof EntraSyncError) return err.code === 'CLI_USAGE' ? EXIT.usage : EXIT.error;
  return EXIT.bug;
}

const MEANING: Record<ExitCode, string> = {
  0: 'done',
  3: 'done, but some objects failed: they are listed, and later cycles retry them',
  1: 'a target could not run or is quarantined, or an error stopped the command',
  2: 'usage error: an unknown option, a stray argument, a missing value',
  70: 'internal error (a bug: please report it)',
};

/**
 * The exit-code paragraph of a command's --help: the codes it ends with, in the order given, each with the
 * command's own meaning where it has one; 2 and 70 close every list.
 */
export function exitCodesHelp(codes: Partial<Record<ExitCode, string | true>>): string {
  const order: ExitCode[] = [0, 3, 1];
  const shown: ExitCode[] = [...order.filter((c) => codes[c] !== undefined), EXIT.usage, EXIT.bug];
  const lines = shown.map((c) => {
    const own = codes[c];
    return `  ${String(c).padEnd(3)} ${typeof own === 'string' ? own : MEANING[c]}`;
  });
  return `exit codes:\n${lines.join('\n')}\n`;
}
