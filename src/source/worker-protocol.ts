// The messages between the reader on its worker thread (read-worker.ts) and the façade the runtime holds
// (threaded-reader.ts). Plain data only: they cross a thread boundary by structured clone.
import { EntraSyncError, type ErrorLocation } from '../errors.js';
import type { HttpEvent } from '../net/events.js';
import { GraphRequestError } from './graph.js';
import type { ReadProgress } from './delta.js';
import type { SourceOptions } from './options.js';
import type { ReadSummary } from './reader.js';

export interface WorkerInit {
  /** The source state file the worker opens with its own connection. */
  sourceFile: string;
  options: SourceOptions;
  select: string[];
  groupSelect: string[];
  /** The lowest level the parent's logger writes; the worker forwards only what it would keep. */
  logLevel: string;
  /** Past this size the source file's WAL is started over after a chunk (read-worker.ts, trimWal). */
  walLimitBytes: number;
  /** Whether the parent wants the Graph requests and retries (`http` messages). */
  httpEvents: boolean;
}

export type WorkerRequest =
  | { id: number; op: 'read'; full: boolean; chunkUsers: number; progress: boolean }
  | { id: number; op: 'readUser'; key: string }
  | { id: number; op: 'readGroup'; key: string }
  | { id: number; op: 'close' };

/** A request before the façade numbers it. */
export type WorkerRequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

export type WorkerMessage =
  | { id: number; kind: 'progress'; progress: ReadProgress }
  /** A streamed read committed its first chunk (then `chunk` for every later one). */
  | { id: number; kind: 'live' }
  | { id: number; kind: 'chunk' }
  | { id: number; kind: 'done'; summary?: ReadSummary; objectId?: string }
  | { id: number; kind: 'failed'; error: SerializedError }
  | { kind: 'log'; level: LogLevel; fields: Record<string, unknown>; message: string }
  /** Graph requests and retries since the last such message, in order; always sent before any other message. */
  | { kind: 'http'; events: HttpEvent[] };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  where?: ErrorLocation;
  status?: number;
  graphCodes?: string[];
  retryAfterMs?: number;
  stack?: string;
}

/** What the worker sends for a thrown value: the class, code, message and location survive the crossing. */
export function serializeError(err: unknown): SerializedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const out: SerializedError = { name: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}) };
  if (err instanceof EntraSyncError) {
    out.code = err.code;
    out.where = err.where;
  }
  if (err instanceof GraphRequestError) {
    if (err.status !== undefined) out.status = err.status;
    out.graphCodes = err.graphCodes;
    if (err.retryAfterMs !== undefined) out.retryAfterMs = err.retryAfterMs;
  }
  return out;
}

/** The parent's side: an error of the same class, code and message as the worker's, for the same handling. */
export function reviveError(e: SerializedError): Error {
  let err: Error;
  if (e.name === 'GraphRequestError' && e.code) {
    err = new GraphRequestError(e.code, e.message, e.where?.url ?? '', e.status, e.graphCodes ?? [], e.retryAfterMs);
  } else if (e.code) {
    err = new EntraSyncError(e.code, e.message, e.where ?? {});
    err.name = e.name;
  } else {
    err = new Error(e.message);
    err.name = e.name;
  }
  if (e.stack) err.stack = e.stack;
  return err;
}
