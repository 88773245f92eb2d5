// HTTP access to Microsoft Graph: the official graph client (bearer token only to Graph hosts, telemetry
// headers) over undici with the source's dispatcher, wrapped in our own retry loop and our own response
// checks. The client's RetryHandler is left out of the middleware chain on purpose: it caps Retry-After at
// 180 s and would multiply with our retries, so one loop (src/net/retry.ts) owns all waiting. Every attempt
// and every retry is told to the observer (the runtime's http:request and http:retry events).
import {
  AuthenticationHandler,
  AuthenticationHandlerOptions,
  Client,
  ResponseType,
  TelemetryHandler,
  type Context,
  type Middleware,
} from '@microsoft/microsoft-graph-client';
import { fetch as undiciFetch, type Dispatcher } from 'undici';
import { EntraSyncError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { TokenSource } from './auth.js';
import type { ResolvedEndpoints } from './clouds.js';
import { graphErrorCodes, graphErrorMessage, isResyncRequired, isRetryableStatus, isTransientNetworkError } from './graph-errors.js';
import { describeNetworkError, snippet } from './network.js';
import { retryReason, type HttpObserver } from '../net/events.js';
import { DEFAULT_RETRY_POLICY, parseRetryAfter, PauseGate, withRetry, type RetryOptions, type RetryVerdict } from '../net/retry.js';

/** A failed Graph call after retries: status, Graph's error codes, and whether it asks for a full resync. */
export class GraphRequestError extends EntraSyncError {
  constructor(
    code: string,
    message: string,
    url: string,
    readonly status: number | undefined,
    readonly graphCodes: string[] = [],
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(code, message, { url }, options);
    this.name = 'GraphRequestError';
  }

  get resyncRequired(): boolean {
    return this.code === 'GRAPH_RESYNC_REQUIRED';
  }
}

export interface GraphPage {
  value: Record<string, unknown>[];
  nextLink?: string;
  deltaLink?: string;
}

export interface GraphHttp {
  /** The Graph root plus version, e.g. https://graph.microsoft.com/v1.0 */
  readonly apiRoot: string;
  /** GET a JSON document (retries included). A relative path is resolved against apiRoot. */
  getJson(url: string, headers?: Record<string, string>): Promise<Record<string, unknown>>;
  /** GET one collection page and check its shape: a `value` array and at most one well-formed link. */
  getPage(url: string, headers?: Record<string, string>): Promise<GraphPage>;
  /** HTTP attempts so far (retries included). */
  readonly requestCount: number;
}

export interface GraphHttpDeps {
  endpoints: ResolvedEndpoints;
  tokens: TokenSource;
  dispatcher: Dispatcher;
  timeoutMs: number;
  retry?: RetryOptions | undefined;
  logger?: Logger | undefined;
  observer?: HttpObserver | undefined;
}

const ERROR_SINK = 'entraSyncErrorSink';

/** First in the chain: keeps the original error, which the client would otherwise flatten into a GraphError. */
class ErrorCaptureHandler implements Middleware {
  private next!: Middleware;
  async execute(context: Context): Promise<void> {
    try {
      await this.next.execute(context);
    } catch (err) {
      const sink = (context.options as Record<string, unknown> | undefined)?.[ERROR_SINK] as { error?: unknown } | undefined;
      if (sink) sink.error = err;
      throw err;
    }
  }
  setNext(next: Middleware): void { this.next = next; }
}

/** Last in the chain: the request goes out through undici with our dispatcher (proxy, CA) and a timeout. */
class UndiciFetchHandler implements Middleware {
  constructor(
    private readonly dispatcher: Dispatcher, private readonly timeoutMs: number, private readonly onRequest: () => void,
    private readonly observer: HttpObserver | undefined,
  ) {}

  async execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    const o = context.options ?? {};
    const method = o.method ?? 'GET';
    this.onRequest();
    const started = Date.now();
    let res: Awaited<ReturnType<typeof undiciFetch>>;
    try {
      res = await undiciFetch(url, {
        method,
        headers: o.headers as Record<string, string>,
        ...(o.body !== undefined && o.body !== null ? { body: o.body as string } : {}),
        dispatcher: this.dispatcher,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      this.observer?.request({ service: 'graph', method, status: 'error', durationMs: Date.now() - started });
      throw err;
    }
    // Until the headers: the body is read by the caller, with the page's processing.
    this.observer?.request({ service: 'graph', method, status: res.status, durationMs: Date.now() - started });
    context.response = res as unknown as Response;
  }
}

interface RawAnswer { status: number; headers: Headers; text: string }

export function createGraphHttp(deps: GraphHttpDeps): GraphHttp {
  const apiRoot = `${deps.endpoints.graphBaseUrl}/v1.0`;
  const origin = new URL(deps.endpoints.graphBaseUrl).origin;
  let requestCount = 0;

  const capture = new ErrorCaptureHandler();
  const auth = new AuthenticationHandler({ getAccessToken: () => deps.tokens.getToken() });
  const telemetry = new TelemetryHandler();
  const http = new UndiciFetchHandler(deps.dispatcher, deps.timeoutMs, () => { requestCount++; }, deps.observer);
  capture.setNext(auth);
  auth.setNext(telemetry);
  telemetry.setNext(http);
  const client = Client.initWithMiddleware({
    middleware: capture,
    baseUrl: deps.endpoints.graphBaseUrl + '/',
    defaultVersion: 'v1.0',
    ...(deps.endpoints.customGraphHost ? { customHosts: new Set([new URL(deps.endpoints.graphBaseUrl).hostname]) } : {}),
  });

  async function send(url: string, headers: Record<string, string>, forceRefresh: boolean): Promise<RawAnswer> {
    const sink: { error?: unknown } = {};
    let request = client
      .api(url)
      .responseType(ResponseType.RAW)
      .option(ERROR_SINK, sink)
      // undici's default Accept-Language "*" is rejected by some Entra endpoints.
      .headers({ 'Accept-Language': 'en-US', 'x-ms-throttle-priority': 'Low', ...headers });
    if (forceRefresh) {
      request = request.middlewareOptions([new AuthenticationHandlerOptions({ getAccessToken: () => deps.tokens.getToken({ forceRefresh: true }) })]);
    }
    let res: Response;
    try {
      res = (await request.get()) as Response;
    } catch (err) {
      const original = sink.error ?? err;
      if (original instanceof EntraSyncError) throw original;
      throw new GraphRequestError('GRAPH_NETWORK', `cannot reach Graph: ${describeNetworkError(original)}`, url, undefined, [], undefined, { cause: original });
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new GraphRequestError('GRAPH_NETWORK', `connection broke while reading Graph's answer: ${describeNetworkError(err)}`, url, res.status, [], undefined, { cause: err });
    }
    return { status: res.status, headers: res.headers, text };
  }

  function failure(url: string, answer: RawAnswer): GraphRequestError {
    let body: unknown;
    try { body = JSON.parse(answer.text); } catch { body = undefined; }
    const codes = graphErrorCodes(body);
    const retryAfterMs = parseRetryAfter(answer.headers.get('retry-after'));
    if (retryAfterMs !== undefined && retryAfterMs <= maxRetryAfterMs && (answer.status === 429 || answer.status === 503)) gate.pauseFor(retryAfterMs);
    if (isResyncRequired(answer.status, body)) {
      return new GraphRequestError('GRAPH_RESYNC_REQUIRED', `Graph says the delta state is no longer valid (HTTP ${answer.status}${codes.length ? ` ${codes.join('/')}` : ''})`, url, answer.status, codes);
    }
    const detail = graphErrorMessage(body) ?? snippet(answer.text);
    const code = answer.status === 401 ? 'GRAPH_UNAUTHORIZED' : answer.status === 403 ? 'GRAPH_FORBIDDEN' : answer.status === 404 ? 'GRAPH_NOT_FOUND' : isRetryableStatus(answer.status) ? 'GRAPH_UNAVAILABLE' : 'GRAPH_REQUEST_FAILED';
    return new GraphRequestError(code, `Graph answered HTTP ${answer.status}${codes.length ? ` ${codes[0]}` : ''}: ${detail}`, url, answer.status, codes, retryAfterMs);
  }

  function classify(err: unknown): RetryVerdict {
    if (err instanceof GraphRequestError) {
      if (err.status !== undefined && isRetryableStatus(err.status)) {
        return { retryable: true, reason: String(err.status), ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) };
      }
      if (err.code === 'GRAPH_NETWORK') return { retryable: isTransientNetworkError(err.cause), reason: 'network' };
      return { retryable: false };
    }
    // The token endpoint briefly unreachable is worth the same patience as Graph itself.
    if (err instanceof EntraSyncError && err.code === 'AUTH_NETWORK') return { retryable: isTransientNetworkError(err.cause), reason: 'token endpoint network' };
    return { retryable: false };
  }

  // A Retry-After speaks about all of our requests, not one: the reads running side by side all wait.
  const gate = new PauseGate(Date.now, deps.retry?.sleep);
  const maxRetryAfterMs = deps.retry?.policy?.maxRetryAfterMs ?? DEFAULT_RETRY_POLICY.maxRetryAfterMs;

  async function getJson(url: string, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
    const absolute = /^https:\/\//i.test(url) ? url : `${apiRoot}${url.startsWith('/') ? '' : '/'}${url}`;
    let refreshedAfter401 = false;
    const answer = await withRetry(
      async () => {
        if (gate.paused) await gate.wait();
        let a = await send(absolute, headers, false);
        // One fresh token after a 401: the cached one may have been revoked or expired early.
        if (a.status === 401 && !refreshedAfter401) {
          refreshedAfter401 = true;
          a = await send(absolute, headers, true);
        }
        if (a.status < 200 || a.status >= 300) throw failure(absolute, a);
        return a;
      },
      classify,
      {
        ...deps.retry,
        onRetry: (info) => {
          deps.logger?.warn({ component: 'graph', url: absolute, attempt: info.attempt, delayMs: info.delayMs, reason: info.reason }, 'Graph request will be retried');
          const status = info.reason !== undefined && /^\d{3}$/.test(info.reason) ? Number(info.reason) : undefined;
          deps.observer?.retry({ service: 'graph', reason: retryReason(status), ...(status !== undefined ? { status } : {}), waitMs: info.delayMs, retryAfter: info.retryAfter });
          deps.retry?.onRetry?.(info);
        },
      },
    );
    const contentType = answer.headers.get('content-type') ?? '';
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.text);
    } catch {
      throw new GraphRequestError('GRAPH_BAD_RESPONSE', `Graph answered HTTP ${answer.status} with a body that is not JSON (${contentType || 'no content type'}: ${snippet(answer.text)})`, absolute, answer.status);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new GraphRequestError('GRAPH_BAD_RESPONSE', 'Graph answered with JSON that is not an object', absolute, answer.status);
    }
    return parsed as Record<string, unknown>;
  }

  function checkLink(kind: string, link: unknown, pageUrl: string): string | undefined {
    if (link === undefined || link === null) return undefined;
    let parsed: URL | undefined;
    try { parsed = typeof link === 'string' ? new URL(link) : undefined; } catch { parsed = undefined; }
    // A link to another origin would take our bearer token elsewhere (or silently leave the simulator/cloud).
    if (!parsed || parsed.protocol !== 'https:' || parsed.origin !== origin) {
      throw new GraphRequestError('GRAPH_BAD_RESPONSE', `Graph page has an unusable ${kind} (${snippet(String(link), 200)}); expected an https URL on ${origin}`, pageUrl, 200);
    }
    return link as string;
  }

  return {
    apiRoot,
    get requestCount() { return requestCount; },
    getJson,
    async getPage(url, headers) {
      const body = await getJson(url, headers);
      if (!Array.isArray(body.value)) {
        throw new GraphRequestError('GRAPH_BAD_RESPONSE', 'Graph page has no "value" array', url, 200);
      }
      const nextLink = checkLink('@odata.nextLink', body['@odata.nextLink'], url);
      const deltaLink = checkLink('@odata.deltaLink', body['@odata.deltaLink'], url);
      if (nextLink && deltaLink) throw new GraphRequestError('GRAPH_BAD_RESPONSE', 'Graph page has both a nextLink and a deltaLink', url, 200);
      const items = body.value as unknown[];
      for (const [i, item] of items.entries()) {
        if (!item || typeof item !== 'object' || typeof (item as { id?: unknown }).id !== 'string') {
          throw new GraphRequestError('GRAPH_BAD_RESPONSE', `Graph page item ${i} has no string "id"`, url, 200);
        }
      }
      return { value: items as Record<string, unknown>[], ...(nextLink ? { nextLink } : {}), ...(deltaLink ? { deltaLink } : {}) };
    },
  };
}
