// Graph's wire conventions shared by every route: JSON content type, request ids, and the error envelope
// `{ error: { code, message, innerError: { date, request-id, client-request-id } } }` (graph.md §4.1).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const GRAPH_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

export interface RequestIds {
  requestId: string;
  clientRequestId: string;
}

export function requestIds(req: IncomingMessage): RequestIds {
  const requestId = randomUUID();
  const header = req.headers['client-request-id'];
  return { requestId, clientRequestId: typeof header === 'string' && header !== '' ? header : requestId };
}

function baseHeaders(ids: RequestIds): Record<string, string> {
  return {
    'request-id': ids.requestId,
    'client-request-id': ids.clientRequestId,
    'Cache-Control': 'no-cache',
    'Strict-Transport-Security': 'max-age=31536000',
  };
}

export function sendGraphJson(res: ServerResponse, ids: RequestIds, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...baseHeaders(ids),
    'Content-Type': GRAPH_JSON,
    'OData-Version': '4.0',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendText(res: ServerResponse, ids: RequestIds, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...baseHeaders(ids), 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Graph's `innerError.date`: seconds precision, no zone designator. */
export function errorDate(now = new Date()): string {
  return now.toISOString().slice(0, 19);
}

export function graphErrorBody(ids: RequestIds, code: string, message: string): unknown {
  return {
    error: {
      code,
      message,
      innerError: { date: errorDate(), 'request-id': ids.requestId, 'client-request-id': ids.clientRequestId },
    },
  };
}

export function sendGraphError(
  res: ServerResponse,
  ids: RequestIds,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(graphErrorBody(ids, code, message));
  res.writeHead(status, { ...baseHeaders(ids), 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Query options with lower-cased keys (`$skipToken` and `$skiptoken` are the same option). */
export function queryOptions(url: URL): Map<string, string> {
  const options = new Map<string, string>();
  for (const [key, value] of url.searchParams) options.set(key.toLowerCase(), value);
  return options;
}

/** The `Prefer` header as a set of lower-cased preferences plus `odata.maxpagesize`. */
export function preferences(req: IncomingMessage): { minimal: boolean; maxPageSize: number | undefined } {
  const raw = req.headers.prefer;
  const text = (Array.isArray(raw) ? raw.join(',') : (raw ?? '')).toLowerCase();
  let maxPageSize: number | undefined;
  let minimal = false;
  for (const part of text.split(',')) {
    const [name, value] = part.split('=').map((s) => s.trim());
    if (name === 'return' && value === 'minimal') minimal = true;
    if (name === 'odata.maxpagesize' && value && /^\d+$/.test(value) && Number(value) > 0) maxPageSize = Number(value);
  }
  return { minimal, maxPageSize };
}
