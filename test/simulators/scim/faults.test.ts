// Injected faults (429 with Retry-After, 500, latency, connection resets), seeded and changeable at runtime.
import { afterEach, describe, expect, it } from 'vitest';
import { startScimSimulator, type ScimSimulator } from '../../../src/simulators/scim/index.js';
import { FaultDice, NO_FAULTS } from '../../../src/simulators/scim/faults.js';
import { call } from './helpers.js';

async function statuses(sim: ScimSimulator, n: number): Promise<(number | 'reset')[]> {
  const out: (number | 'reset')[] = [];
  for (let i = 0; i < n; i++) {
    try {
      const res = await fetch(`${sim.baseUrl}/Users?count=1`, { headers: { Authorization: 'Bearer scim-token' } });
      await res.arrayBuffer();
      out.push(res.status);
    } catch {
      out.push('reset');
    }
  }
  return out;
}

describe('SCIM simulator: faults', () => {
  let sim: ScimSimulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('answers 429 with Retry-After and a SCIM error at the configured rate', async () => {
    sim = await startScimSimulator({ faults: { rate429: 1, retryAfterSeconds: 7 } });
    const r = await call(sim.baseUrl, 'GET', '/Users');
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('7');
    expect(r.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '429' });
  });

  it('fails about the configured share of requests, the same ones for the same seed', async () => {
    sim = await startScimSimulator({ faults: { rate500: 0.3, seed: 42 } });
    const first = await statuses(sim, 60);
    const failures = first.filter((s) => s === 500).length;
    expect(failures).toBeGreaterThan(5);
    expect(failures).toBeLessThan(35);
    expect(first.filter((s) => s !== 500).every((s) => s === 200)).toBe(true);
    await sim.close();
    sim = await startScimSimulator({ faults: { rate500: 0.3, seed: 42 } });
    expect(await statuses(sim, 60)).toEqual(first);
  });

  it('resets connections without an answer, and can be switched off at runtime', async () => {
    sim = await startScimSimulator({ faults: { resetRate: 1 } });
    expect(await statuses(sim, 2)).toEqual(['reset', 'reset']);
    expect(sim.requests.map((r) => r.status)).toEqual([0, 0]);
    sim.faults.resetRate = 0;
    expect(await statuses(sim, 1)).toEqual([200]);
  });

  it('adds latency to every request', async () => {
    sim = await startScimSimulator({ faults: { latencyMs: 150 } });
    const started = performance.now();
    await call(sim.baseUrl, 'GET', '/Users');
    // A lower bound only: the delay is there; how long the machine adds on top is not asserted.
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('spreads the latency over latencyMs ± latencyJitterMs, the same way for the same seed', () => {
    const faults = { ...NO_FAULTS, latencyMs: 20, latencyJitterMs: 10, seed: 7 };
    const draws = (dice: FaultDice) => Array.from({ length: 1000 }, () => dice.latency(faults));
    const first = draws(new FaultDice());
    expect(Math.min(...first)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...first)).toBeLessThanOrEqual(30);
    // Spread over the whole range, not bunched: answers to requests sent together come back apart.
    expect(Math.max(...first) - Math.min(...first)).toBeGreaterThan(18);
    expect(first.filter((ms) => ms < 20).length).toBeGreaterThan(400);
    expect(draws(new FaultDice())).toEqual(first);
    expect(new FaultDice().latency({ ...faults, latencyJitterMs: 0 })).toBe(20);
    // A spread wider than the delay never makes a negative wait.
    const wide = new FaultDice();
    const clamped = Array.from({ length: 100 }, () => wide.latency({ ...faults, latencyMs: 1, latencyJitterMs: 50 }));
    expect(Math.min(...clamped)).toBe(0);
  });

  it('leaves the token endpoint alone', async () => {
    sim = await startScimSimulator({ oauth: { clientId: 'c', clientSecret: 's' }, faults: { rate500: 1 } });
    const res = await fetch(sim.tokenUrl, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=c&client_secret=s' });
    expect(res.status).toBe(200);
  });
});
