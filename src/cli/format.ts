// Readable text for what the runtime returns: a cycle's summary (counts per action, requests, duration),
// a Graph read, a provisioning trace with its steps, status, plans and drift fixes. Shared by the commands
// and the demo so the same thing always reads the same way. JSON output uses the plain objects instead.
import type { CycleSummary } from '../sync/cycle.js';
import type { DriftFix } from '../sync/reconcile.js';
import type { PlannedOperation, ProvisioningLogEntry } from '../engine/types.js';
import type { ReadSummary } from '../source/reader.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { isTargetFailure, type ObjectTrace, type PreviewReport, type StatusReport, type TargetFailure, type TargetOutcome } from '../runtime/runtime.js';

const ACTIONS = ['create', 'adopt', 'update', 'enable', 'disable', 'delete', 'addMembers', 'removeMembers', 'unlink', 'skip'] as const;
type Action = (typeof ACTIONS)[number];
const LABEL: Record<Action, string> = {
  create: 'create', adopt: 'adopt', update: 'update', enable: 'enable', disable: 'disable', delete: 'delete',
  addMembers: 'add members', removeMembers: 'remove members', unlink: 'unlink', skip: 'skip',
};

export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
}

const int = (n: number) => n.toLocaleString('en-US');

export function formatRead(read: ReadSummary): string {
  const mode = (m: ReadSummary['users']) => (m.resynced ? 'full (delta state had expired)' : m.mode);
  return `Read Entra in ${seconds(read.durationMs)} with ${int(read.requests)} Graph requests: users ${mode(read.users)} (${int(read.users.items)} objects), `
    + `groups ${mode(read.groups)} (${int(read.groups.items)} objects), ${int(read.assignments)} assignments; `
    + `${int(read.usersChanged)} users and ${int(read.groupsChanged)} groups changed`
    + `${read.chunks > 0 ? `; users applied in ${int(read.chunks)} chunks while the read went on` : ''}.`;
}

/** Operation counts per action: what was applied, or on a dry run what would be. */
export function actionCounts(summary: CycleSummary): Record<Action, number> & { unchanged: number } {
  if (!summary.dryRun) return { ...summary.counts };
  const counts = { create: 0, adopt: 0, update: 0, enable: 0, disable: 0, delete: 0, addMembers: 0, removeMembers: 0, unlink: 0, skip: 0, unchanged: summary.counts.unchanged };
  for (const op of summary.plan?.operations ?? []) counts[op.kind]++;
  return counts;
}

export function formatCycle(outcome: TargetOutcome, indent = ''): string {
  if (isTargetFailure(outcome)) return `${indent}${outcome.target}: did not run: ${outcome.error.message} (${outcome.error.code})`;
  const s = outcome;
  const lines: string[] = [];
  if (s.skippedReason) return `${indent}${s.target}: skipped: ${s.skippedReason}`;
  const head = `${indent}${s.target}: ${s.dryRun ? 'dry run, nothing sent' : s.status} in ${seconds(s.durationMs)}, ${int(s.requests)} target requests`
    + `${s.full ? ', full comparison' : ''}; examined ${int(s.examined.users)} users and ${int(s.examined.groups)} groups`
    + `${s.examined.retries ? ` (${s.examined.retries} retries due)` : ''}`;
  lines.push(head);
  const counts = actionCounts(s);
  const verb = s.dryRun ? 'would ' : '';
  lines.push(`${indent}  ${verb}${ACTIONS.filter((a) => a !== 'unlink' && a !== 'skip' || counts[a] > 0).map((a) => `${LABEL[a]} ${int(counts[a])}`).join(' · ')} · unchanged ${int(counts.unchanged)}`);
  const extra: string[] = [];
  if (s.failed) extra.push(`${s.failed} failed (retried later)`);
  if (s.staged) extra.push(`${s.staged} held back by the deletion threshold`);
  if (s.deferredMembers) extra.push(`${s.deferredMembers} members wait for their user`);
  if (s.recovered.landed || s.recovered.replanned) extra.push(`${s.recovered.landed + s.recovered.replanned} in-flight operations from an earlier run resolved`);
  if (extra.length) lines.push(`${indent}  ${extra.join(' · ')}`);
  for (const f of s.failures.slice(0, 10)) lines.push(`${indent}  ✗ ${f.operation} ${f.type} ${f.displayName} (${f.sourceId}): ${f.message} [${f.code}]${f.retryAt ? `, retry at ${f.retryAt}` : ''}`);
  if (s.failures.length > 10) lines.push(`${indent}  … and ${s.failures.length - 10} more failures (see the provisioning log)`);
  if (s.staged && !s.dryRun) lines.push(`${indent}  review with \`entra-sync status --target ${s.target}\`, then \`entra-sync approve --target ${s.target}\` or \`entra-sync reject --target ${s.target}\``);
  if (s.quarantine) lines.push(`${indent}  quarantined (${s.quarantine.reason}): ${s.quarantine.message}; next attempt at ${s.quarantine.nextAttempt}`);
  return lines.join('\n');
}

export function formatOutcomes(outcomes: readonly TargetOutcome[]): string {
  return outcomes.length ? outcomes.map((o) => formatCycle(o)).join('\n') : 'no target had anything to do';
}

/** What an exit code is decided from: each target's outcome, or its failure to run at all. */
export type ExitOutcome = TargetFailure | Pick<CycleSummary, 'status'>;

/**
 * The exit code of a command that ran targets (docs/commands.md): 1 when a target could not run, failed
 * outright or is quarantined; else 3 when some objects failed (listed, retried later); else 0.
 */
export function exitCodeOf(outcomes: readonly ExitOutcome[]): ExitCode {
  if (outcomes.some((o) => isTargetFailure(o) || o.status === 'failed' || o.status === 'quarantined')) return EXIT.error;
  if (outcomes.some((o) => !isTargetFailure(o) && o.status === 'partial')) return EXIT.objectsFailed;
  return EXIT.ok;
}

const show = (v: unknown) => (v === null || v === undefined ? '∅' : JSON.stringify(v));

export function formatTrace(trace: ObjectTrace | ProvisioningLogEntry, indent = ''): string {
  const lines = [`${indent}${trace.type} ${trace.displayName} (${trace.sourceId})${trace.targetId ? ` → ${trace.targetId}` : ''}: ${trace.action}, ${trace.status}`];
  for (const s of trace.steps) lines.push(`${indent}  ${s.status === 'success' ? '✓' : s.status === 'failure' ? '✗' : '–'} ${s.name.padEnd(6)} ${s.details}`);
  if (trace.modifiedProperties.length) {
    lines.push(`${indent}  modified properties:`);
    for (const p of trace.modifiedProperties) lines.push(`${indent}    ${p.path}: ${show(p.before)} → ${show(p.after)}`);
  }
  if (trace.error) lines.push(`${indent}  error ${trace.error.code}: ${trace.error.message}`);
  return lines.join('\n');
}

export function formatLogEntry(entry: ProvisioningLogEntry, indent = ''): string {
  return `${indent}${entry.at}  ${formatTrace(entry, '').replace(/\n/g, `\n${indent}`)}`;
}

export function formatPreview(report: PreviewReport): string {
  const u = report.user;
  const lines = [`user ${u.userPrincipalName} (${u.id})${u.removed ? `, ${u.removed === 'deleted' ? 'hard-deleted' : 'soft-deleted'}` : ''}${u.assigned ? '' : ', not assigned to the app'}`];
  for (const t of report.targets) {
    lines.push('', `${t.target}: ${t.scope === 'inScope' ? 'in scope' : `out of scope (${t.scope})`}${t.link ? `, linked to ${t.link.targetId} (${t.link.status})` : ', not provisioned yet'}`);
    if (t.skip) lines.push(`  skipped: ${t.skip}`);
    const paths = Object.keys(t.attributes);
    if (paths.length) {
      const width = Math.max(...paths.map((p) => p.length));
      lines.push('  attributes:');
      for (const p of paths) lines.push(`    ${p.padEnd(width)}  ${show(t.attributes[p])}${t.createOnly.includes(p) ? '  (on create only)' : ''}`);
    }
    if (!t.link && t.match.length) lines.push(`  matched on: ${t.match.map((m) => `${m.path} eq ${show(m.value)}`).join(', then ')}`);
    lines.push(t.operations.length ? `  operations:\n${t.operations.map((op) => `    ${describeOp(op)}`).join('\n')}` : '  operations: none (the target already holds this)');
  }
  return lines.join('\n');
}

function describeOp(op: PlannedOperation): string {
  switch (op.kind) {
    case 'create': return 'create';
    case 'update': return `update ${op.changes.map((c) => `${c.path}: ${show(c.before)} → ${show(c.after)}`).join('; ')}`;
    case 'disable': case 'enable': case 'delete': return `${op.kind} (${op.reason})`;
    case 'addMembers': case 'removeMembers': return `${op.kind} ${op.memberSourceIds.join(', ')}`;
    case 'unlink': case 'skip': return `${op.kind} (${op.reason})`;
  }
}

export function formatStatus(report: StatusReport): string {
  const lines = [`state ${report.state}: source seq ${report.source.seq}, next read ${report.source.usersDeltaLink && report.source.groupsDeltaLink ? 'incremental (delta links stored)' : 'full (no delta link yet)'}`];
  const lock = report.lock;
  if (lock) {
    const h = lock.holder;
    lines.push(lock.alive
      ? `in use by \`entra-sync ${h.command}\` (pid ${h.pid} on ${h.host}, since ${h.acquiredAt})${h.http ? `, admin API at ${h.http}` : ''}`
      : `last held by \`entra-sync ${h.command}\` (pid ${h.pid} on ${h.host}, since ${h.acquiredAt}), which is no longer running: the next command takes over`);
  }
  for (const t of report.targets) {
    lines.push('', `${t.target} (${t.type}${t.dryRun ? ', dry run' : ''}): ${t.behind ? `behind the source (cursor ${t.cursor} < seq ${t.sourceSeq}): the next cycle has changes to apply` : `up to date (cursor ${t.cursor})`}`);
    lines.push(`  users: ${t.links.user.active} active, ${t.links.user.disabled} disabled, ${t.links.user.deleted} deleted · groups: ${t.links.group.active} linked, ${t.links.group.deleted} deleted`);
    lines.push(`  failures: ${t.failures.total}${t.failures.total ? ` (${t.failures.due} due now${t.failures.nextRetryAt ? `, next retry ${t.failures.nextRetryAt}` : ''})` : ''} · staged: ${t.staged}${t.staged ? ' (approve or reject)' : ''} · members waiting: ${t.deferredMembers}`);
    if (t.quarantine) {
      lines.push(`  QUARANTINED since ${t.quarantine.seriesBegan} (${t.quarantine.reason}): ${t.quarantine.message}; next attempt ${t.quarantine.nextAttempt}`);
      lines.push(`  to restart: ${t.quarantine.resume}`);
    }
    if (t.pendingPlans.length) lines.push(`  saved plans not applied: ${t.pendingPlans.map((p) => `${p.id} (${p.createdAt})`).join(', ')}`);
    for (const r of t.lastRuns) {
      const s = r.summary as (Partial<CycleSummary> & { interrupted?: string }) | null;
      if (r.status === 'interrupted') {
        lines.push(`  run ${r.startedAt} ${r.kind}: interrupted${s?.interrupted ? ` (${s.interrupted})` : ''}`);
        continue;
      }
      const counts = s?.counts ? ACTIONS.filter((a) => (s.counts![a] ?? 0) > 0).map((a) => `${LABEL[a]} ${s.counts![a]}`).join(', ') : '';
      lines.push(`  run ${r.startedAt} ${r.kind}: ${r.status}${s?.durationMs !== undefined ? ` in ${seconds(s.durationMs)}` : ''}${counts ? ` (${counts})` : ''}${s?.failed ? `, ${s.failed} failed` : ''}`);
    }
    if (t.lastRuns.length === 0) lines.push('  no run yet');
  }
  return lines.join('\n');
}

export function formatFixes(target: string, fixes: readonly DriftFix[]): string {
  if (fixes.length === 0) return `${target}: no drift: every linked object holds what we wrote`;
  return [`${target}: ${fixes.length} fix(es)`, ...fixes.map((f) => `  ${f.fix.padEnd(10)} ${f.type} ${f.displayName} (${f.sourceId} → ${f.targetId}): ${f.details}`)].join('\n');
}
