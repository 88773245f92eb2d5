// Prometheus text-exposition metrics for the sync engine, fed only by SyncEvents: the engine never
// calls into metrics. `render()` returns the text an HTTP /metrics endpoint serves (the endpoint lives in
// the daemon). Labels are target names and operation kinds: a small, bounded set.
import type { SyncEvents } from './events.js';

type Labels = Record<string, string>;

interface Family {
  help: string;
  type: 'counter' | 'gauge';
  values: Map<string, { labels: Labels; value: number }>;
}

export class SyncMetrics {
  private readonly families = new Map<string, Family>();

  constructor() {
    this.define('entra_sync_cycles_total', 'counter', 'Cycles run, by target, kind and final status.');
    this.define('entra_sync_cycles_skipped_total', 'counter', 'Cycles not run because the target is quarantined.');
    this.define('entra_sync_cycle_duration_seconds', 'gauge', 'Duration of the last cycle.');
    this.define('entra_sync_last_cycle_timestamp_seconds', 'gauge', 'Unix time the last cycle ended.');
    this.define('entra_sync_objects_planned_total', 'counter', 'Source objects mapped and planned.');
    this.define('entra_sync_operations_total', 'counter', 'Operations sent to the target, by kind and outcome.');
    this.define('entra_sync_operation_failures_total', 'counter', 'Operations that failed, by kind and error kind.');
    this.define('entra_sync_operations_staged_total', 'counter', 'Disables and deletes held back by the deletion threshold.');
    this.define('entra_sync_members_deferred_total', 'counter', 'Group members deferred until they are provisioned.');
    this.define('entra_sync_operations_recovered_total', 'counter', 'In-flight operations resolved after a restart, by whether they had landed.');
    this.define('entra_sync_last_cycle_failures', 'gauge', 'Failed operations in the last cycle.');
    this.define('entra_sync_last_cycle_staged', 'gauge', 'Operations staged in the last cycle.');
    this.define('entra_sync_target_quarantined', 'gauge', '1 while the target is quarantined.');
  }

  /** Subscribes to the engine's events; returns a function that unsubscribes. */
  subscribe(events: SyncEvents): () => void {
    const offs = [
      events.on('cycle:end', (e) => {
        const summary = e.summary as { kind?: string; failed?: number; staged?: number };
        this.inc('entra_sync_cycles_total', { target: e.target, kind: summary.kind ?? 'sync', status: e.status });
        this.set('entra_sync_cycle_duration_seconds', { target: e.target }, e.durationMs / 1000);
        this.set('entra_sync_last_cycle_timestamp_seconds', { target: e.target }, Math.floor(Date.now() / 1000));
        this.set('entra_sync_last_cycle_failures', { target: e.target }, summary.failed ?? 0);
        this.set('entra_sync_last_cycle_staged', { target: e.target }, summary.staged ?? 0);
      }),
      events.on('cycle:skipped', (e) => this.inc('entra_sync_cycles_skipped_total', { target: e.target })),
      events.on('object:planned', (e) => this.inc('entra_sync_objects_planned_total', { target: e.target, type: e.type })),
      events.on('operation:sent', (e) => this.inc('entra_sync_operations_total', { target: e.target, kind: e.operation.kind, outcome: e.outcome })),
      events.on('operation:failed', (e) => this.inc('entra_sync_operation_failures_total', { target: e.target, kind: e.operation.kind, error: e.error.kind })),
      events.on('operation:staged', (e) => this.inc('entra_sync_operations_staged_total', { target: e.target, kind: e.operation.kind })),
      events.on('members:deferred', (e) => this.inc('entra_sync_members_deferred_total', { target: e.target }, e.memberSourceIds.length)),
      events.on('operation:recovered', (e) => this.inc('entra_sync_operations_recovered_total', { target: e.target, landed: String(e.landed) })),
      events.on('target:quarantined', (e) => this.set('entra_sync_target_quarantined', { target: e.target }, 1)),
      events.on('target:released', (e) => this.set('entra_sync_target_quarantined', { target: e.target }, 0)),
    ];
    return () => { for (const off of offs) off(); };
  }

  /** Current value (tests, status output). */
  value(name: string, labels: Labels = {}): number {
    return this.families.get(name)?.values.get(labelKey(labels))?.value ?? 0;
  }

  /** Prometheus text exposition format, version 0.0.4. */
  render(): string {
    const lines: string[] = [];
    for (const [name, family] of this.families) {
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
      for (const { labels, value } of family.values.values()) lines.push(`${name}${formatLabels(labels)} ${formatNumber(value)}`);
    }
    return lines.join('\n') + '\n';
  }

  private define(name: string, type: Family['type'], help: string): void {
    this.families.set(name, { help, type, values: new Map() });
  }

  private inc(name: string, labels: Labels, by = 1): void {
    const family = this.families.get(name)!;
    const key = labelKey(labels);
    const entry = family.values.get(key);
    if (entry) entry.value += by;
    else family.values.set(key, { labels, value: by });
  }

  private set(name: string, labels: Labels, value: number): void {
    this.families.get(name)!.values.set(labelKey(labels), { labels, value });
  }
}

function labelKey(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',');
}

function formatLabels(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  // Escape backslash, double quote and newline, as the exposition format requires.
  return `{${keys.map((k) => `${k}="${labels[k]!.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}

function formatNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN';
}
