// What a route is and how it answers: the shared vocabulary of src/daemon/server.ts and its routes.
// JSON in and out; every error is `{ error: { code, message } }` with a fitting HTTP status.
import type { IncomingMessage } from 'node:http';
import type { DaemonApi } from '../api.js';

export interface RouteContext {
  api: DaemonApi;
  req: IncomingMessage;
  /** The request body parsed as JSON ({} when empty); only for routes with `body: true`. */
  body: unknown;
}

export interface RouteAnswer {
  status: number;
  /** JSON-encoded unless `contentType` is given, then sent as it is. */
  body: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  /** Needs the admin bearer token. */
  admin?: boolean;
  /** Reads a JSON body. */
  body?: boolean;
  /** Refused with 503 while the daemon shuts down (it would start new work). */
  startsWork?: boolean;
  handle(ctx: RouteContext): Promise<RouteAnswer> | RouteAnswer;
}

/** An answer other than 2xx, thrown from anywhere in the request's handling. */
export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
  }
}

export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}
