// The one HTTP layer every target connector goes through. It decides *when* a request leaves and what an
// answer means, so the connectors only decide *what* to send:
// - pacing: a concurrency cap (p-limit) and a requests-per-second budget per target;
// - a Retry-After gate: one 429/503 makes the whole target wait, not just the request that got it;
// - bounded exponential backoff with jitter for 5xx and network errors (src/net/retry.ts, shared with Graph);
// - the way out: src/net/dispatcher.ts (the configured proxy or HTTPS_PROXY/HTTP_PROXY, NO_PROXY, an extra CA);
// - every attempt and every retry told to the observer (the runtime's http:request and http:retry events);
// - credentials from the authenticator, renewed or switched once on 401/403;
// - dry run: a mutating request throws TargetError 'dryRun' before anything leaves the process;
// - errors as TargetError kinds, with the server's SCIM `detail`/`scimType`, and `METHOD /path` without query.
import pLimit, { type LimitFunction } from 'p-limit';
import { Agent, request, type Dispatcher } from 'undici';
import { createDispatcher } from '../net/dispatcher.js';
import { retryReason, type HttpObserver } from '../net/events.js';
import { backoffDelay, parseRetryAfter, PauseGate } from '../net/retry.js';
import { TargetError, type TargetErrorKind } from './connector.js';
import { createAuthenticator, type TargetAuthenticator } from './auth.js';
import type { TargetConnectionOptions } from './scim/options.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  /** Relative to the target's baseUrl, already URL-encoded where it holds ids: `/Users/abc%40x`. */
  path: string;
  /** Raw values; encoded here with %20 for spaces. */
  query?: Record<string, string | number | undefined>;
  /** Serialised as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the answer is JSON, otherwise the text (empty string for no body). */
  body: unknown;
}

/** Counters for metrics and benchmarks. `requests` counts every attempt that left the process. */
export interface TargetRequestStats {
  requests: number;
  byMethod: Record<HttpMethod, number>;
  /** Attempts repeated after a 429/503, 5xx or network error. */
  retries: number;
  /** 429 and 503 answers. */
  throttled: number;
  /** Requests given up with an error (any kind). */
  failed: number;
  /** Requests repeated with renewed or switched credentials. */
  reauthenticated: number;
  /** Mutating requests refused in dry-run mode. */
  dryRunRefused: number;
}

export interface TargetHttpDeps {
  target: string;
  dryRun?: boolean;
  /** Sent as Content-Type of request bodies and in Accept. */
  contentType?: string;
  accept?: string;
  /** Injected for tests: waits (backoff, Retry-After, pacing) and the clock. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
  /** Replace the authenticator (tests); normally built from options.auth. */
  authenticator?: TargetAuthenticator;
  /** Told of every attempt that leaves the process and every retry. */
  observer?: HttpObserver | undefined;
}

/** Longest single wait a Retry-After may impose before the request is given up as transient. */
const MAX_RETRY_AFTER_MS = 5 * 60_000;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function emptyStats(): TargetRequestStats {
  return {
    requests: 0,
    byMethod: { GET: 0, POST: 0, PUT: 0, PATCH: 0, DELETE: 0 },
    retries: 0,
    throttled: 0,
    failed: 0,
    reauthenticated: 0,
    dryRunRefused: 0,
  };
}

/** The pieces of a SCIM (or plain JSON / text) error body worth showing to a person. */
export function describeErrorBody(body: unknown): { detail: string | undefined; scimType: string | undefined } {
  if (typeof body === 'string') {
    const text = body.trim();
    return { detail: text === '' ? undefined : text.slice(0, 500), scimType: undefined };
  }
  if (body === null || typeof body !== 'object') return { detail: undefined, scimType: undefined };
  const record = body as Record<string, unknown>;
  const pick = (value: unknown): string | undefined => {
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    if (Array.isArray(value)) return value.map((v) => pick(v)).filter((v) => v !== undefined).join('; ') || undefined;
    if (value && typeof value === 'object') return pick((value as Record<string, unknown>).message);
    return undefined;
  };
  // SCIM uses `detail`; REST APIs commonly `message`, `error_description` or `error`.
  const detail = pick(record.detail) ?? pick(record.message) ?? pick(record.error_description) ?? pick(record.error) ?? pick(record.title);
  const scimType = typeof record.scimType === 'string' ? record.scimType : undefined;
  return { detail: detail?.slice(0, 500), scimType };
}

export function kindForStatus(status: number): TargetErrorKind {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404 || status === 410) return 'notFound';
  if (status === 409 || status === 412) return 'conflict';
  if (status === 429 || status >= 500) return 'transient';
  return 'badRequest';
}

function isMutating(method: HttpMethod): boolean {
  return method !== 'GET';
}

export class TargetHttp {
  readonly stats: TargetRequestStats = emptyStats();
  private readonly target: string;
  private readonly base: string;
  private readonly basePath: string;
  private readonly limit: LimitFunction;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly minSpacingMs: number;
  private readonly auth: TargetAuthenticator;
  private readonly dispatcher: Dispatcher;
  private readonly setupError: Error | undefined;
  private nextSlotAt = 0;
  private readonly gate: PauseGate;

  constructor(
    private readonly options: TargetConnectionOptions,
    private readonly deps: TargetHttpDeps,
  ) {
    this.target = deps.target;
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.basePath = new URL(this.base).pathname.replace(/\/+$/, '');
    this.limit = pLimit(options.concurrency);
    this.sleep = deps.sleep ?? defaultSleep;
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.gate = new PauseGate(this.now, this.sleep);
    this.minSpacingMs = options.requestsPerSecond ? 1000 / options.requestsPerSecond : 0;
    let dispatcher: Dispatcher;
    try {
      // Keep-alive connections to the target (or through its proxy), as many as requests may be in flight.
      dispatcher = createDispatcher({
        proxy: options.proxy, caFile: options.caFile, timeoutMs: options.timeoutMs, connections: options.concurrency, keepAliveTimeoutMs: 10_000,
        caFileSetting: { code: 'TARGET_CA_FILE', configPath: `targets.${deps.target}.caFile` },
      });
    } catch (err) {
      // A missing CA file surfaces on the first request, as a TargetError naming the file.
      this.setupError = err as Error;
      dispatcher = new Agent();
    }
    this.dispatcher = dispatcher;
    this.auth =
      deps.authenticator ??
      createAuthenticator(options.auth, { target: deps.target, dispatcher, timeoutMs: options.timeoutMs, now: deps.now });
  }

  describeAuth(): string {
    return this.auth.describe();
  }

  /** `PATCH /Users/123`: what a person needs to find the request, no query string (filters hold user data). */
  describe(method: HttpMethod, path: string): string {
    return `${method} ${this.basePath}${path.split('?')[0]}`;
  }

  /** Send one request under the target's pacing; resolves with a 2xx/304 answer, throws TargetError otherwise. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const where = this.describe(req.method, req.path);
    if (this.deps.dryRun && isMutating(req.method)) {
      this.stats.dryRunRefused++;
      throw new TargetError({ kind: 'dryRun', target: this.target, request: where, message: `dry run: refused to send ${where}` });
    }
    if (this.setupError) {
      this.stats.failed++;
      const cause = (this.setupError.cause ?? this.setupError) as NodeJS.ErrnoException;
      const message = `cannot read caFile ${this.options.caFile}: ${cause.code ?? this.setupError.message}`;
      throw new TargetError({ kind: 'unauthorized', target: this.target, request: where, message, cause: this.setupError });
    }
    const url = this.url(req);
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const { retry } = this.options;
    let attempt = 0;
    let reauthentications = 0;
    for (;;) {
      attempt++;
      if (this.gate.paused) await this.gate.wait();
      const outcome = await this.limit(() => this.attempt(req, url, body));
      if (outcome.kind === 'response') {
        const { response, authorization } = outcome;
        const status = response.status;
        if ((status >= 200 && status < 300) || status === 304) return response;
        if ((status === 401 || status === 403) && reauthentications < 2 && (await this.auth.rejected(authorization))) {
          reauthentications++;
          this.stats.reauthenticated++;
          attempt--; // a credential switch is not a failed attempt
          continue;
        }
        const retryable = status === 429 || status >= 500;
        if (status === 429 || status === 503) this.stats.throttled++;
        if (retryable && attempt < retry.maxAttempts) {
          const retryAfter = status === 429 || status === 503 ? parseRetryAfter(response.headers['retry-after'], this.now()) : undefined;
          if (retryAfter === undefined || retryAfter <= MAX_RETRY_AFTER_MS) {
            const delay = Math.max(retryAfter ?? 0, this.backoff(attempt));
            // The whole target waits: the server spoke about all of our requests, not this one.
            if (retryAfter !== undefined) this.gate.pauseFor(delay);
            this.stats.retries++;
            this.deps.observer?.retry({ service: 'target', target: this.target, reason: retryReason(status), status, waitMs: delay, retryAfter: retryAfter !== undefined });
            await this.sleep(delay);
            continue;
          }
        }
        this.stats.failed++;
        throw this.errorFor(where, status, response.body, retryable && attempt >= retry.maxAttempts ? attempt : undefined);
      }
      // Network error or timeout: the request may or may not have arrived; callers treat a repeated create's 409 as adopt.
      if (attempt < retry.maxAttempts) {
        this.stats.retries++;
        const delay = this.backoff(attempt);
        this.deps.observer?.retry({ service: 'target', target: this.target, reason: 'network', waitMs: delay, retryAfter: false });
        await this.sleep(delay);
        continue;
      }
      this.stats.failed++;
      throw new TargetError({
        kind: 'transient',
        target: this.target,
        request: where,
        message: `${where} failed after ${attempt} attempt(s): ${outcome.error.message}`,
        cause: outcome.error,
      });
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private url(req: HttpRequest): string {
    let url = this.base + req.path;
    if (req.query) {
      const parts: string[] = [];
      for (const [key, value] of Object.entries(req.query)) {
        if (value === undefined) continue;
        parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
      }
      if (parts.length > 0) url += (url.includes('?') ? '&' : '?') + parts.join('&');
    }
    return url;
  }

  private backoff(attempt: number): number {
    return backoffDelay(attempt, this.options.retry, this.random);
  }

  /** Requests-per-second budget: each request takes the next free slot, spaced 1/rps apart. */
  private async takeSlot(): Promise<void> {
    if (this.minSpacingMs === 0) return;
    const now = this.now();
    const slot = Math.max(now, this.nextSlotAt);
    this.nextSlotAt = slot + this.minSpacingMs;
    if (slot > now) await this.sleep(slot - now);
  }

  private async attempt(
    req: HttpRequest,
    url: string,
    body: string | undefined,
  ): Promise<{ kind: 'response'; response: HttpResponse; authorization: string | undefined } | { kind: 'error'; error: Error }> {
    // A Retry-After may have arrived while this request queued for a slot.
    if (this.gate.paused) await this.gate.wait();
    if (this.minSpacingMs > 0) await this.takeSlot();
    const headers: Record<string, string> = {
      accept: this.deps.accept ?? 'application/json',
      ...this.options.headers,
      ...req.headers,
    };
    if (body !== undefined) headers['content-type'] = this.deps.contentType ?? 'application/json';
    let authorization: string | undefined;
    try {
      authorization = await this.auth.authorization();
    } catch (err) {
      if (err instanceof TargetError) throw err;
      return { kind: 'error', error: err as Error };
    }
    if (authorization !== undefined) headers.authorization = authorization;
    this.stats.requests++;
    this.stats.byMethod[req.method]++;
    const started = Date.now();
    try {
      const res = await request(url, {
        method: req.method,
        headers,
        body,
        dispatcher: this.dispatcher,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      const text = await res.body.text();
      this.deps.observer?.request({ service: 'target', target: this.target, method: req.method, status: res.statusCode, durationMs: Date.now() - started });
      return { kind: 'response', response: { status: res.statusCode, headers: res.headers, body: parseBody(text, res.headers['content-type']) }, authorization };
    } catch (err) {
      this.deps.observer?.request({ service: 'target', target: this.target, method: req.method, status: 'error', durationMs: Date.now() - started });
      return { kind: 'error', error: err as Error };
    }
  }

  private errorFor(where: string, status: number, body: unknown, attempts: number | undefined): TargetError {
    const { detail, scimType } = describeErrorBody(body);
    const kind = kindForStatus(status);
    const after = attempts !== undefined ? ` after ${attempts} attempts` : '';
    const tail = [scimType ? `scimType ${scimType}` : undefined, detail].filter(Boolean).join(': ');
    return new TargetError({
      kind,
      target: this.target,
      status,
      scimType,
      request: where,
      message: `${where} answered HTTP ${status}${after}${tail ? ` (${tail})` : ''}`,
    });
  }
}

function parseBody(text: string, contentType: string | string[] | undefined): unknown {
  if (text === '') return '';
  const type = Array.isArray(contentType) ? contentType[0] : contentType;
  if ((type && /json/i.test(type)) || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}
