// Waiting and retrying, for Graph and the targets alike: the Retry-After parser (seconds, fractional seconds
// or an HTTP date), the one backoff (bounded exponential, with jitter), the pause gate a Retry-After puts on
// every request to that server, and the retry loop Graph's reads run in. The target HTTP layer
// (src/targets/http.ts) runs its own loop around pacing and credential renewal, with these same parts.

export interface RetryPolicy {
  /** Retries after the first attempt (so at most maxRetries + 1 requests). */
  maxRetries: number;
  /** First backoff step when the server gives no Retry-After. */
  baseDelayMs: number;
  /** Cap of one computed backoff step. */
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the call fails instead (a cycle should not hang for hours). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 6,
  baseDelayMs: 1_000,
  maxDelayMs: 60_000,
  maxRetryAfterMs: 15 * 60_000,
};

/** What a failed attempt means for the retry loop. */
export interface RetryVerdict {
  retryable: boolean;
  /** Server-mandated wait (from Retry-After), in ms. */
  retryAfterMs?: number;
  /** Short description for logs: "429", "503", "ECONNRESET" … */
  reason?: string;
}

export interface RetryOptions {
  policy?: Partial<RetryPolicy>;
  /** Replaceable for tests; must honour fake timers when they are used. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onRetry?: (info: { attempt: number; delayMs: number; reason: string | undefined; retryAfter: boolean }) => void;
}

/**
 * Parses a Retry-After header into milliseconds. Graph sends seconds, sometimes fractional ("2.128");
 * RFC 9110 also allows an HTTP date. Returns undefined for a missing or unusable value.
 */
export function parseRetryAfter(value: string | readonly string[] | null | undefined, now: number = Date.now()): number | undefined {
  const raw = typeof value === 'string' ? value : value?.[0]; // a header given more than once: the first
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Exponential backoff for retry number `retry` (1-based), with "equal jitter": half fixed, half random. */
export function backoffDelay(retry: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/**
 * A pause every request of one client honours: a Retry-After speaks about all of our requests to that
 * server, not only the one it answered. `now` and `sleep` are replaceable for tests.
 */
export class PauseGate {
  private until = 0;

  constructor(
    private readonly now: () => number = Date.now,
    // Global setTimeout (not timers/promises) so fake timers control it, as in withRetry.
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  ) {}

  /** Nothing is sent for `ms` from now (a longer pause already set stays). */
  pauseFor(ms: number): void {
    this.until = Math.max(this.until, this.now() + ms);
  }

  get paused(): boolean {
    return this.until > this.now();
  }

  /** Resolves once the pause (extended meanwhile or not) is over. */
  async wait(): Promise<void> {
    for (let left = this.until - this.now(); left > 0; left = this.until - this.now()) await this.sleep(left);
  }
}

export class RetryAfterTooLongError extends Error {
  constructor(readonly retryAfterMs: number, override readonly cause: unknown) {
    super(`server asked to wait ${Math.round(retryAfterMs / 1000)} s, longer than the allowed maximum`);
    this.name = 'RetryAfterTooLongError';
  }
}

/**
 * Runs `attempt` until it succeeds, `classify` says the error is final, or the retries are spent.
 * The last error is rethrown unchanged so callers keep its details.
 */
export async function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  classify: (err: unknown) => RetryVerdict,
  options: RetryOptions = {},
): Promise<T> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  // Global setTimeout (not timers/promises) so vitest's fake timers control it.
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      const verdict = classify(err);
      if (!verdict.retryable || n > policy.maxRetries) throw err;
      if (verdict.retryAfterMs !== undefined && verdict.retryAfterMs > policy.maxRetryAfterMs) {
        throw new RetryAfterTooLongError(verdict.retryAfterMs, err);
      }
      const wait = verdict.retryAfterMs ?? backoffDelay(n, policy, random);
      options.onRetry?.({ attempt: n, delayMs: wait, reason: verdict.reason, retryAfter: verdict.retryAfterMs !== undefined });
      await sleep(wait);
    }
  }
}
