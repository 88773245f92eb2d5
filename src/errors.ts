// Errors as values: a stable code for programs, a message for a person, and where it happened.
// Every error that can reach a user is an EntraSyncError (or a subclass); raw exceptions are wrapped at the edges.

export interface ErrorLocation {
  /** Config path such as `targets[0].users.mappings[2].expression`. */
  configPath?: string;
  /** 1-based line and column inside an expression or file. */
  line?: number;
  column?: number;
  /** A source or target object id, a URL, a file name: whatever lets a person find the culprit. */
  objectId?: string;
  url?: string;
  file?: string;
}

export class EntraSyncError extends Error {
  readonly code: string;
  readonly where: ErrorLocation;

  constructor(code: string, message: string, where: ErrorLocation = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EntraSyncError';
    this.code = code;
    this.where = where;
  }
}

/** Wrap anything thrown into an EntraSyncError without losing the original as `cause`. */
export function toEntraSyncError(err: unknown, code: string, where: ErrorLocation = {}): EntraSyncError {
  if (err instanceof EntraSyncError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new EntraSyncError(code, message, where, { cause: err });
}

/** A command line that does not parse (an unknown option, a stray argument, a missing value): exit code 2. */
export class UsageError extends EntraSyncError {
  constructor(message: string) {
    super('CLI_USAGE', message);
    this.name = 'UsageError';
  }
}
