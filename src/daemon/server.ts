// The daemon's HTTP listener (`entra-sync run` with `http:` configured): /healthz, /readyz, /metrics and the
// admin API, on node:http. A dozen fixed paths need no router: a table of routes (routes/*) looked up by path,
// then by method. The routes call only the DaemonApi. Request logs are at debug and never carry a header.
import fs from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.js';
import { EntraSyncError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { DaemonApi } from './api.js';
import { adminRoutes, authorize } from './routes/admin.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { HttpError, errorBody, type Route, type RouteAnswer } from './routes/route.js';

/** Largest request body accepted (the admin API's bodies are a few hundred bytes). */
export const MAX_BODY_BYTES = 64 * 1024;
/** A body this much over the cap is not read to its end: the connection is cut instead. */
const DRAIN_LIMIT_BYTES = 16 * MAX_BODY_BYTES;

export interface HttpServerOptions {
  api: DaemonApi;
  host: string;
  port: number;
  /** The admin token now (read at each admin request, so a rotated file takes effect without a restart); undefined: admin API off. */
  adminToken: () => string | undefined;
  logger: Logger;
  /** True once the daemon shuts down: requests that would start new work then answer 503. */
  shuttingDown?: () => boolean;
}

export interface HttpServer {
  /** `http://host:port` as bound (the real port when 0 was asked for). */
  url: string;
  /**
   * Stops accepting, answers 503 to requests that arrive on open connections, waits up to `graceMs`
   * (default 5 s) for the answers in flight, then cuts what is left.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

const routes: Route[] = [...healthRoutes, ...metricsRoutes, ...adminRoutes];

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { api, logger } = options;
  let closing = false;
  const inFlight = new Set<Promise<void>>();

  const server = createServer((req, res) => {
    const done = handle(req, res).catch((err: unknown) => {
      logger.error({ err }, 'http: answering a request failed');
      if (!res.headersSent) send(res, 500, errorBody('INTERNAL', 'internal error (see the daemon\'s log)'));
      else res.destroy();
    });
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = req.method ?? 'GET';
    // Only the path: a query string is ignored (and never logged: it could hold anything).
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    let answer: RouteAnswer;
    try {
      answer = await answerFor(req, method, path);
    } catch (err) {
      answer = errorAnswer(err, logger, method, path);
    }
    if (closing) answer = { ...answer, headers: { ...answer.headers, Connection: 'close' } };
    const body = answer.contentType ? String(answer.body) : JSON.stringify(answer.body, null, 2) + '\n';
    send(res, answer.status, body, answer.contentType ?? 'application/json; charset=utf-8', answer.headers);
    logger.debug({ method, path, status: answer.status, durationMs: Math.round(performance.now() - started) }, 'http request');
  }

  async function answerFor(req: IncomingMessage, method: string, path: string): Promise<RouteAnswer> {
    // Everything under /admin/ needs the token first: without it, not even which paths exist is told.
    if (path.startsWith('/admin/') || path === '/admin') authorize(req.headers.authorization, readToken(options.adminToken, logger));
    const candidates = routes.filter((r) => r.path === path);
    if (candidates.length === 0) throw new HttpError(404, 'NOT_FOUND', `no such endpoint: ${path}`);
    const route = candidates.find((r) => r.method === method || (method === 'HEAD' && r.method === 'GET'));
    if (!route) {
      const methods: string[] = candidates.map((r) => r.method);
      const allow = (methods.includes('GET') ? [...methods, 'HEAD'] : methods).join(', ');
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${path} answers ${allow}, not ${method}`, { Allow: allow });
    }
    if (route.startsWork && (closing || options.shuttingDown?.())) {
      throw new HttpError(503, 'SHUTTING_DOWN', 'the daemon is shutting down and starts no new work; run the command again once it is back');
    }
    const body = route.body ? await readJsonBody(req) : undefined;
    return route.handle({ api, req, body });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => { server.off('error', reject); resolve(); });
  }).catch((err: NodeJS.ErrnoException) => {
    throw new EntraSyncError('HTTP_LISTEN_FAILED', `cannot listen on ${options.host}:${options.port}: ${err.code ?? err.message}`, { configPath: 'http.port' }, { cause: err });
  });
  server.on('error', (err) => logger.error({ err }, 'http: server error'));
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info({ url }, `listening on ${url} (/healthz, /readyz, /metrics, /admin/*)`);

  let closed: Promise<void> | undefined;
  return {
    url,
    close({ graceMs = 5000 } = {}) {
      closed ??= (async () => {
        closing = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); });
        await Promise.race([Promise.allSettled([...inFlight]), grace]);
        clearTimeout(timer);
        server.closeAllConnections();
        await stopped;
      })();
      return closed;
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json; charset=utf-8', headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

function readToken(source: () => string | undefined, logger: Logger): string | undefined {
  try {
    return source();
  } catch (err) {
    // The reason (a path, an errno) goes to the log; the caller, maybe without a token yet, learns only that.
    logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'http: the admin token could not be read');
    throw new HttpError(503, 'ADMIN_TOKEN_UNREADABLE', 'the admin token could not be read (see the daemon\'s log)');
  }
}

/** Turns anything thrown while answering into `{ error: { code, message } }` with a fitting status. */
function errorAnswer(err: unknown, logger: Logger, method: string, path: string): RouteAnswer {
  if (err instanceof HttpError) return { status: err.status, body: errorBody(err.code, err.message), headers: err.headers };
  if (err instanceof EntraSyncError) {
    const status = statusOfCode(err.code);
    if (status >= 500) logger.warn({ method, path, code: err.code, err: err.message }, 'http: admin request failed');
    return { status, body: errorBody(err.code, err.message) };
  }
  logger.error({ method, path, err }, 'http: unexpected error');
  return { status: 500, body: errorBody('INTERNAL', 'internal error (see the daemon\'s log)') };
}

/** The HTTP status of an error the daemon or the runtime threw, by its code. */
export function statusOfCode(code: string): number {
  if (code === 'TARGET_UNKNOWN' || code.endsWith('_NOT_FOUND')) return 404;
  if (code === 'CLI_USAGE' || code === 'CLI_INPUT' || code === 'BAD_REQUEST') return 400;
  if (code === 'DRY_RUN' || code === 'TARGET_LEASED' || code === 'PLAN_STALE' || code === 'PLAN_ALREADY_USED') return 409;
  if (code === 'SHUTTING_DOWN' || code === 'STATE_LOCK_LOST') return 503;
  return 500;
}

/**
 * Reads a JSON body of at most MAX_BODY_BYTES: 415 unless it is JSON, 413 when larger (read to its end, up
 * to a limit, so the client sees the answer rather than a reset connection), 400 when it does not parse.
 * An empty body is `{}`.
 */
async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (declared === 0 || (!chunked && Number.isNaN(declared))) return {};
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    req.resume();
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `the body must be JSON (Content-Type: application/json), not ${type ? `"${type}"` : 'without a Content-Type'}`);
  }
  const tooLarge = () => new HttpError(413, 'BODY_TOO_LARGE', `the body is larger than ${MAX_BODY_BYTES} bytes`, { Connection: 'close' });
  if (declared > DRAIN_LIMIT_BYTES) { req.resume(); throw tooLarge(); }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > DRAIN_LIMIT_BYTES) { req.destroy(); throw tooLarge(); }
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    // The client went away mid-body: nobody reads the answer, but it is not the daemon's error either.
    throw new HttpError(400, 'BODY_INCOMPLETE', 'the request body ended before its declared length');
  }
  if (size > MAX_BODY_BYTES) throw tooLarge();
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpError(400, 'BAD_JSON', `the body is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * The admin token as configured: `http.adminToken` as it is, or `http.adminTokenFile` read again whenever the
 * file changes (rotation without a restart). Undefined when neither is set (the admin API is off); throws
 * EntraSyncError ADMIN_TOKEN_FILE when the file cannot be read or is empty. The token never reaches a log.
 */
export function adminTokenSource(http: Pick<NonNullable<Config['http']>, 'adminToken' | 'adminTokenFile'> | undefined): () => string | undefined {
  if (!http?.adminTokenFile) {
    const token = http?.adminToken;
    return () => token;
  }
  const file = http.adminTokenFile;
  let cached: { key: string; token: string } | undefined;
  return () => {
    let key: string;
    try {
      const stat = fs.statSync(file);
      key = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
      if (cached?.key === key) return cached.token;
      const token = fs.readFileSync(file, 'utf8').trim();
      if (!token) throw new EntraSyncError('ADMIN_TOKEN_FILE', `the admin token file ${file} is empty`, { file, configPath: 'http.adminTokenFile' });
      cached = { key, token };
      return token;
    } catch (err) {
      cached = undefined;
      if (err instanceof EntraSyncError) throw err;
      throw new EntraSyncError('ADMIN_TOKEN_FILE', `cannot read the admin token file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file, configPath: 'http.adminTokenFile' }, { cause: err });
    }
  };
}
