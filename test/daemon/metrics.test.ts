// Events in, /metrics text out: each metric family the daemon exposes, read back from the Prometheus text
// served over HTTP (the same path a scraper takes), plus the gauges read from the state at scrape time.
import { afterEach, describe, expect, it } from 'vitest';
import type { DaemonApi } from '../../src/daemon/api.js';
import { startHttpServer, type HttpServer } from '../../src/daemon/server.js';
import type { PlannedOperation } from '../../src/engine/types.js';
import { SyncEvents } from '../../src/observability/events.js';
import { silentLogger } from '../../src/observability/logger.js';
import { SyncMetrics, type MetricsStateSource } from '../../src/observability/metrics.js';
import type { QuarantineState, RunRecord } from '../../src/state/targets-store.js';

let server: HttpServer | undefined;
afterEach(async () => { await server?.close(); server = undefined; });

/** Series → value, from Prometheus text (`name{a="b",c="d"} value`); labels sorted so lookups need no order. */
function parse(text: string): { series: Map<string, number>; types: Map<string, string> } {
  const series = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) { types.set(type[1]!, type[2]!); continue; }
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels = m[2] ? [...m[2].matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((l) => `${l[1]}=${l[2]}`).sort().join(',') : '';
    series.set(`${m[1]}{${labels}}`, Number(m[3]));
  }
  return { series, types };
}

const key = (name: string, labels: Record<string, string> = {}) => `${name}{${Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort().join(',')}}`;

async function scrape(metrics: SyncMetrics): Promise<{ series: Map<string, number>; types: Map<string, string>; text: string; contentType: string }> {
  const api = { metrics: () => metrics.exposition() } as unknown as DaemonApi;
  server ??= await startHttpServer({ api, host: '127.0.0.1', port: 0, adminToken: () => undefined, logger: silentLogger });
  const res = await fetch(`${server.url}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { ...parse(text), text, contentType: res.headers.get('content-type') ?? '' };
}

const op = (kind: PlannedOperation['kind']): PlannedOperation => ({ kind, type: 'user', sourceId: 'u1', displayName: 'alice' } as unknown as PlannedOperation);

describe('metrics from events', () => {
  it('exposes every family with the entra_sync_ prefix, fed by the events', async () => {
    const events = new SyncEvents();
    const metrics = new SyncMetrics();
    metrics.subscribe(events);
    const t = 'docuware';
    events.emit('cycle:end', { target: t, runId: 'r1', status: 'success', durationMs: 2500, summary: { kind: 'sync', full: true } });
    events.emit('cycle:end', { target: t, runId: 'r2', status: 'partial', durationMs: 400, summary: { kind: 'sync', full: false } });
    events.emit('cycle:end', { target: t, runId: 'r3', status: 'success', durationMs: 90, summary: { kind: 'provision', full: false } });
    events.emit('cycle:skipped', { target: t, reason: 'quarantined' });
    events.emit('object:planned', { target: t, runId: 'r1', type: 'user', sourceId: 'u1', kinds: ['create'] });
    events.emit('operation:sent', { target: t, runId: 'r1', operation: op('create'), outcome: 'created', durationMs: 12 });
    events.emit('operation:sent', { target: t, runId: 'r1', operation: op('create'), outcome: 'adopted', durationMs: 12 });
    events.emit('operation:sent', { target: t, runId: 'r1', operation: op('update'), outcome: 'updated', durationMs: 12 });
    events.emit('operation:failed', { target: t, runId: 'r1', operation: op('create'), error: { code: 'SCIM_400', kind: 'badRequest', message: 'no' }, retryAt: null });
    events.emit('operation:staged', { target: t, runId: 'r1', operation: op('delete') });
    events.emit('members:deferred', { target: t, runId: 'r1', groupSourceId: 'g1', memberSourceIds: ['a', 'b', 'c'] });
    events.emit('operation:recovered', { target: t, operation: op('create'), landed: true });
    events.emit('read:start', { full: true, at: new Date() });
    const during = await scrape(metrics);
    expect(during.series.get(key('entra_sync_graph_read_in_progress'))).toBe(1);
    events.emit('read:end', { full: true, status: 'success', durationMs: 3000, requests: 12 });
    events.emit('read:end', { full: false, status: 'failed', durationMs: 100, requests: 0, error: { code: 'AUTH_FAILED' } });
    events.emit('http:request', { service: 'graph', method: 'GET', status: 200, durationMs: 40 });
    events.emit('http:request', { service: 'graph', method: 'GET', status: 429, durationMs: 5 });
    events.emit('http:request', { service: 'target', target: t, method: 'POST', status: 201, durationMs: 20 });
    events.emit('http:request', { service: 'target', target: t, method: 'PATCH', status: 'error', durationMs: 3000 });
    events.emit('http:retry', { service: 'graph', reason: 'throttled', status: 429, waitMs: 2000, retryAfter: true });
    events.emit('http:retry', { service: 'graph', reason: 'throttled', status: 429, waitMs: 1000, retryAfter: true });
    events.emit('http:retry', { service: 'target', target: t, reason: 'unavailable', status: 503, waitMs: 500, retryAfter: false });
    events.emit('target:quarantined', { target: t, reason: 'unauthorized', message: 'HTTP 401', nextAttempt: new Date().toISOString() });

    const { series: s, types, text, contentType } = await scrape(metrics);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    // Cycle duration: a histogram by target, kind and mode.
    expect(types.get('entra_sync_cycle_duration_seconds')).toBe('histogram');
    expect(s.get(key('entra_sync_cycle_duration_seconds_count', { target: t, kind: 'sync', mode: 'full' }))).toBe(1);
    expect(s.get(key('entra_sync_cycle_duration_seconds_sum', { target: t, kind: 'sync', mode: 'full' }))).toBe(2.5);
    expect(s.get(key('entra_sync_cycle_duration_seconds_bucket', { target: t, kind: 'sync', mode: 'full', le: '1' }))).toBe(0);
    expect(s.get(key('entra_sync_cycle_duration_seconds_bucket', { target: t, kind: 'sync', mode: 'full', le: '5' }))).toBe(1);
    expect(s.get(key('entra_sync_cycle_duration_seconds_count', { target: t, kind: 'sync', mode: 'incremental' }))).toBe(1);
    expect(s.get(key('entra_sync_cycle_duration_seconds_count', { target: t, kind: 'provision', mode: 'incremental' }))).toBe(1);
    expect(s.get(key('entra_sync_cycles_total', { target: t, kind: 'sync', status: 'partial' }))).toBe(1);
    expect(s.get(key('entra_sync_cycles_skipped_total', { target: t }))).toBe(1);
    // The last successful sync cycle (a provision does not count as one).
    const last = s.get(key('entra_sync_last_success_timestamp_seconds', { target: t }))!;
    expect(Math.abs(last - Date.now() / 1000)).toBeLessThan(60);
    // Objects by action and result.
    expect(s.get(key('entra_sync_objects_planned_total', { target: t, type: 'user' }))).toBe(1);
    expect(s.get(key('entra_sync_objects_total', { target: t, action: 'create', result: 'success' }))).toBe(1);
    expect(s.get(key('entra_sync_objects_total', { target: t, action: 'adopt', result: 'success' }))).toBe(1);
    expect(s.get(key('entra_sync_objects_total', { target: t, action: 'update', result: 'success' }))).toBe(1);
    expect(s.get(key('entra_sync_objects_total', { target: t, action: 'create', result: 'failed' }))).toBe(1);
    expect(s.get(key('entra_sync_objects_total', { target: t, action: 'delete', result: 'staged' }))).toBe(1);
    expect(s.get(key('entra_sync_object_failures_total', { target: t, action: 'create', error: 'badRequest' }))).toBe(1);
    expect(s.get(key('entra_sync_members_deferred_total', { target: t }))).toBe(3);
    expect(s.get(key('entra_sync_operations_recovered_total', { target: t, landed: 'true' }))).toBe(1);
    // Graph reads.
    expect(s.get(key('entra_sync_graph_read_in_progress'))).toBe(0);
    expect(s.get(key('entra_sync_graph_read_duration_seconds_count', { mode: 'full', status: 'success' }))).toBe(1);
    expect(s.get(key('entra_sync_graph_read_duration_seconds_sum', { mode: 'full', status: 'success' }))).toBe(3);
    expect(s.get(key('entra_sync_graph_read_duration_seconds_count', { mode: 'incremental', status: 'failed' }))).toBe(1);
    // Requests by status, with latency histograms.
    expect(s.get(key('entra_sync_graph_requests_total', { method: 'GET', status: '200' }))).toBe(1);
    expect(s.get(key('entra_sync_graph_requests_total', { method: 'GET', status: '429' }))).toBe(1);
    expect(s.get(key('entra_sync_graph_request_duration_seconds_count', { method: 'GET' }))).toBe(2);
    expect(s.get(key('entra_sync_graph_request_duration_seconds_bucket', { method: 'GET', le: '0.025' }))).toBe(1);
    expect(s.get(key('entra_sync_target_requests_total', { target: t, method: 'POST', status: '201' }))).toBe(1);
    expect(s.get(key('entra_sync_target_requests_total', { target: t, method: 'PATCH', status: 'error' }))).toBe(1);
    expect(s.get(key('entra_sync_target_request_duration_seconds_sum', { target: t, method: 'PATCH' }))).toBe(3);
    // Throttles and Retry-After waits.
    expect(s.get(key('entra_sync_http_retries_total', { service: 'graph', target: '', reason: 'throttled', retry_after: 'true' }))).toBe(2);
    expect(s.get(key('entra_sync_http_retry_wait_seconds_total', { service: 'graph', target: '', reason: 'throttled' }))).toBe(3);
    expect(s.get(key('entra_sync_http_retries_total', { service: 'target', target: t, reason: 'unavailable', retry_after: 'false' }))).toBe(1);
    expect(s.get(key('entra_sync_target_quarantined', { target: t }))).toBe(1);
    // prom-client's process metrics, prefixed too.
    expect(s.has(key('entra_sync_process_cpu_user_seconds_total'))).toBe(true);
    expect(s.has(key('entra_sync_nodejs_heap_size_used_bytes'))).toBe(true);
    // Every name, samples and metadata alike.
    for (const line of text.split('\n').filter(Boolean)) expect(line.replace(/^# (HELP|TYPE) /, '')).toMatch(/^entra_sync_/);
  });

  it('reads quarantine, staged, failed objects, deferred members, delta-link age and the last success from the state at scrape time', async () => {
    const metrics = new SyncMetrics();
    const now = new Date('2025-06-01T12:00:00Z');
    const quarantined = new Set(['docuware']);
    const runs: Record<string, RunRecord[]> = {
      docuware: [
        { id: 'p', target: 'docuware', kind: 'provision', startedAt: '2025-06-01T11:59:00Z', endedAt: '2025-06-01T11:59:01Z', status: 'success', summary: null },
        { id: 's', target: 'docuware', kind: 'sync', startedAt: '2025-06-01T11:00:00Z', endedAt: '2025-06-01T11:10:00Z', status: 'partial', summary: null },
      ],
      kb: [{ id: 'f', target: 'kb', kind: 'sync', startedAt: '2025-06-01T11:00:00Z', endedAt: '2025-06-01T11:01:00Z', status: 'failed', summary: null }],
    };
    let names = ['docuware', 'kb'];
    const state: MetricsStateSource = {
      targetNames: () => names,
      targets: {
        quarantine: (target) => (quarantined.has(target) ? { target } as QuarantineState : undefined),
        staged: (target) => (target === 'docuware' ? [1, 2] : []),
        failures: (target) => (target === 'kb' ? [1, 2, 3, 4] : []),
        deferredMemberCount: (target) => (target === 'kb' ? 7 : 0),
        runs: (target) => runs[target] ?? [],
      },
      source: { deltaLink: (kind) => (kind === 'users' ? { updatedAt: '2025-06-01T11:40:00Z' } : undefined) },
      now: () => now,
    };
    metrics.observeState(state);
    const { series: s } = await scrape(metrics);
    expect(s.get(key('entra_sync_target_quarantined', { target: 'docuware' }))).toBe(1);
    expect(s.get(key('entra_sync_target_quarantined', { target: 'kb' }))).toBe(0);
    expect(s.get(key('entra_sync_staged_operations', { target: 'docuware' }))).toBe(2);
    expect(s.get(key('entra_sync_failed_objects', { target: 'kb' }))).toBe(4);
    expect(s.get(key('entra_sync_deferred_members', { target: 'kb' }))).toBe(7);
    expect(s.get(key('entra_sync_delta_link_age_seconds', { kind: 'users' }))).toBe(20 * 60);
    expect(s.has(key('entra_sync_delta_link_age_seconds', { kind: 'groups' }))).toBe(false);
    // The last successful sync cycle, not the later provision; none for a target whose only run failed.
    expect(s.get(key('entra_sync_last_success_timestamp_seconds', { target: 'docuware' }))).toBe(Date.parse('2025-06-01T11:10:00Z') / 1000);
    expect(s.has(key('entra_sync_last_success_timestamp_seconds', { target: 'kb' }))).toBe(false);

    // Lifted quarantine and a target gone from the configuration show at the next scrape.
    quarantined.clear();
    names = ['docuware'];
    const again = await scrape(metrics);
    expect(again.series.get(key('entra_sync_target_quarantined', { target: 'docuware' }))).toBe(0);
    expect(again.series.has(key('entra_sync_failed_objects', { target: 'kb' }))).toBe(false);
  });

  it('keeps two runtimes\' metrics apart (one registry each, not prom-client\'s global one)', async () => {
    const a = new SyncMetrics();
    const b = new SyncMetrics();
    const events = new SyncEvents();
    a.subscribe(events);
    events.emit('cycle:skipped', { target: 'docuware', reason: 'quarantined' });
    expect(await a.value('entra_sync_cycles_skipped_total', { target: 'docuware' })).toBe(1);
    expect(await b.value('entra_sync_cycles_skipped_total', { target: 'docuware' })).toBe(0);
    expect(await b.render()).not.toContain('entra_sync_cycles_skipped_total{');
  });
});
