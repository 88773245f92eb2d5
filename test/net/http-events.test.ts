// Every HTTP attempt to Graph and to a target is one `http:request` on the runtime's events, and every retry
// one `http:retry` (metrics count them). Graph is read on a worker thread: its events cross as batched
// messages, and none is lost on the way — the counts match what the simulators saw.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncEventMap } from '../../src/observability/events.js';
import { readWorkerScript } from '../../src/source/threaded-reader.js';
import { startWorld, type World } from '../runtime-world.js';

describe('http:request and http:retry events', () => {
  let world: World;
  beforeAll(async () => {
    // Short target backoff: the 429s below are retried quickly.
    world = await startWorld({ targetYaml: { docuware: 'retry: { maxAttempts: 8, baseDelayMs: 5, maxDelayMs: 20 }' } });
  });
  afterAll(async () => { await world?.close(); });

  it('reports each Graph and target attempt with its status, and each retry with its reason', async () => {
    expect(readWorkerScript()).toBeDefined(); // the read runs on the worker thread
    const runtime = await world.open();
    const requests: SyncEventMap['http:request'][] = [];
    const retries: SyncEventMap['http:retry'][] = [];
    runtime.events.on('http:request', (e) => requests.push(e));
    runtime.events.on('http:retry', (e) => retries.push(e));
    world.graph.faults.rate429 = 0.2;
    world.graph.faults.retryAfterSeconds = 0.01;
    world.scim.docuware!.faults.rate429 = 0.15;
    world.scim.docuware!.faults.retryAfterSeconds = 0;
    try {
      await runtime.sync();
    } finally {
      world.graph.faults.rate429 = 0;
      world.scim.docuware!.faults.rate429 = 0;
    }

    const graphSeen = world.graph.requests.filter((r) => r.url.startsWith('/v1.0/'));
    const graph = requests.filter((e) => e.service === 'graph');
    expect(graph.length).toBe(graphSeen.length);
    expect(graph.filter((e) => e.status === 429).length).toBe(graphSeen.filter((r) => r.status === 429).length);
    expect(graph.filter((e) => e.status === 429).length).toBeGreaterThan(0);
    const graphRetries = retries.filter((e) => e.service === 'graph');
    expect(graphRetries.length).toBe(graphSeen.filter((r) => r.status === 429).length);
    for (const r of graphRetries) expect(r).toMatchObject({ reason: 'throttled', status: 429, retryAfter: true });

    const scimSeen = world.scim.docuware!.requests;
    const target = requests.filter((e) => e.service === 'target');
    expect(target.every((e) => e.target === 'docuware')).toBe(true);
    expect(target.length).toBe(scimSeen.length);
    const throttled = scimSeen.filter((r) => r.status === 429).length;
    expect(throttled).toBeGreaterThan(0);
    expect(target.filter((e) => e.status === 429).length).toBe(throttled);
    const targetRetries = retries.filter((e) => e.service === 'target');
    expect(targetRetries.length).toBe(throttled);
    for (const r of targetRetries) expect(r).toMatchObject({ target: 'docuware', reason: 'throttled', status: 429, retryAfter: true });
    expect(requests.every((e) => typeof e.durationMs === 'number' && e.method.length > 0)).toBe(true);
  });
});
