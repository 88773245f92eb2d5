// Injected faults for resilience tests and benchmarks: 429 with Retry-After, 500, added latency and
// connection resets, each at a configurable rate drawn from a seeded generator so a run can be repeated.

export interface ScimFaults {
  /** Share of requests answered 429 (0..1). */
  rate429: number;
  /** Retry-After seconds sent with a 429. */
  retryAfterSeconds: number;
  /** Share of requests answered 500 (0..1). */
  rate500: number;
  /** Milliseconds added before every request is handled. */
  latencyMs: number;
  /**
   * Spread of that delay: each request waits a draw from latencyMs ± latencyJitterMs (uniform, never below 0).
   * A real target's answers vary; with a fixed delay, answers to requests sent together come back together.
   */
  latencyJitterMs: number;
  /** Share of requests whose connection is destroyed without an answer (0..1). */
  resetRate: number;
  /** Seed of the generator that decides which requests fail. */
  seed: number;
}

export const NO_FAULTS: ScimFaults = { rate429: 0, retryAfterSeconds: 1, rate500: 0, latencyMs: 0, latencyJitterMs: 0, resetRate: 0, seed: 1 };

export type FaultDecision = 'reset' | '429' | '500' | 'none';

/** mulberry32: small, fast and good enough to spread faults; reseeded whenever `faults.seed` changes. */
export class FaultDice {
  private state = 0;
  private seededWith: number | undefined;

  roll(faults: ScimFaults): FaultDecision {
    if (faults.resetRate <= 0 && faults.rate429 <= 0 && faults.rate500 <= 0) return 'none';
    const r = this.draw(faults);
    if (r < faults.resetRate) return 'reset';
    if (r < faults.resetRate + faults.rate429) return '429';
    if (r < faults.resetRate + faults.rate429 + faults.rate500) return '500';
    return 'none';
  }

  /** How long this request waits before it is handled: latencyMs, spread by latencyJitterMs. */
  latency(faults: ScimFaults): number {
    if (faults.latencyJitterMs <= 0) return faults.latencyMs;
    return Math.max(0, faults.latencyMs + (this.draw(faults) * 2 - 1) * faults.latencyJitterMs);
  }

  private draw(faults: ScimFaults): number {
    if (this.seededWith !== faults.seed) {
      this.seededWith = faults.seed;
      this.state = faults.seed >>> 0;
    }
    return this.next();
  }

  private next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
