import { describe, expect, it } from 'vitest';
import { SyncMetrics } from '../../src/observability/metrics.js';
import { targetError } from './apply-fakes.js';
import { harness, user } from './cycle-fixtures.js';

describe('metrics from cycle events', () => {
  it('counts cycles, operations, failures and quarantine per target in Prometheus text format', async () => {
    const h = harness();
    const metrics = new SyncMetrics();
    metrics.subscribe(h.events);
    user(h.source, 'alice');
    user(h.source, 'bob');
    h.connector.intercept = (call) => { if (call.method === 'create' && (call.args as { userName: string }).userName === 'bob') throw targetError('badRequest', 'no', 400); };
    await h.cycle();
    expect(await metrics.value('entra_sync_objects_total', { target: 'dw', action: 'create', result: 'success' })).toBe(1);
    expect(await metrics.value('entra_sync_objects_total', { target: 'dw', action: 'create', result: 'failed' })).toBe(1);
    expect(await metrics.value('entra_sync_object_failures_total', { target: 'dw', action: 'create', error: 'badRequest' })).toBe(1);
    expect(await metrics.value('entra_sync_cycles_total', { target: 'dw', kind: 'sync', status: 'partial' })).toBe(1);
    expect(await metrics.value('entra_sync_cycle_duration_seconds_count', { target: 'dw', kind: 'sync', mode: 'incremental' })).toBe(1);

    h.connector.intercept = () => { throw targetError('unauthorized', 'HTTP 401', 401); };
    user(h.source, 'carol');
    await h.cycle();
    expect(await metrics.value('entra_sync_target_quarantined', { target: 'dw' })).toBe(1);
    const text = await metrics.render();
    expect(text).toContain('# TYPE entra_sync_objects_total counter');
    expect(text).toContain('entra_sync_objects_total{target="dw",action="create",result="success"} 1');
    expect(text).toContain('entra_sync_target_quarantined{target="dw"} 1');
  });
});
