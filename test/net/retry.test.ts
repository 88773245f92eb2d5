import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, DEFAULT_RETRY_POLICY, parseRetryAfter, RetryAfterTooLongError, withRetry } from '../../src/net/retry.js';

class Throttled extends Error {
  constructor(readonly retryAfterMs?: number) { super('throttled'); }
}
const classify = (err: unknown) => err instanceof Throttled
  ? { retryable: true, ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) }
  : { retryable: false };

describe('retry timing', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('parses Retry-After seconds, fractional seconds and HTTP dates', () => {
    expect(parseRetryAfter('10')).toBe(10_000);
    expect(parseRetryAfter('2.128')).toBe(2_128);
    expect(parseRetryAfter(' 0 ')).toBe(0);
    const now = Date.parse('2026-05-12T09:14:00Z');
    expect(parseRetryAfter('Tue, 12 May 2026 09:14:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('waits exactly Retry-After before the next attempt, not a millisecond less', async () => {
    const attempts: number[] = [];
    const start = Date.now();
    const p = withRetry(async () => {
      attempts.push(Date.now() - start);
      if (attempts.length < 3) throw new Throttled(attempts.length === 1 ? 2_128 : 500);
      return 'ok';
    }, classify);
    await vi.advanceTimersByTimeAsync(2_127);
    expect(attempts).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(attempts).toEqual([0, 2_128]);
    await vi.advanceTimersByTimeAsync(500);
    await expect(p).resolves.toBe('ok');
    expect(attempts).toEqual([0, 2_128, 2_628]);
  });

  it('backs off exponentially with jitter within bounds when there is no Retry-After', async () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1000, maxDelayMs: 8000 };
    for (const r of [0, 0.5, 0.999]) {
      const d = [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy, () => r));
      d.forEach((ms, i) => {
        const cap = Math.min(8000, 1000 * 2 ** i);
        expect(ms).toBeGreaterThanOrEqual(cap / 2);
        expect(ms).toBeLessThanOrEqual(cap);
      });
    }
    const waits: number[] = [];
    const p = withRetry(async () => { throw new Throttled(); }, classify, { policy: { maxRetries: 3, baseDelayMs: 100 }, random: () => 1, onRetry: (i) => waits.push(i.delayMs) });
    const settled = expect(p).rejects.toBeInstanceOf(Throttled);
    await vi.advanceTimersByTimeAsync(10_000);
    await settled;
    expect(waits).toEqual([100, 200, 400]);
  });

  it('gives up at once on a final error and refuses absurd Retry-After values', async () => {
    let calls = 0;
    await expect(withRetry(async () => { calls++; throw new Error('403'); }, classify)).rejects.toThrow('403');
    expect(calls).toBe(1);
    await expect(withRetry(async () => { throw new Throttled(24 * 3600_000); }, classify)).rejects.toBeInstanceOf(RetryAfterTooLongError);
  });
});
