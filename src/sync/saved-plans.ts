// Saved plans: a cycle planned without sending anything, saved with what it was built on (the source seq, the
// cursor, the links version) and a readable diff, then applied exactly — or refused (PLAN_STALE) when the
// source or the target's links moved since: a plan reviewed against one state must not be applied to another.
import { EntraSyncError } from '../errors.js';
import type { PlannedOperation } from '../engine/types.js';
import { redactedPathsOf, shownValue } from '../engine/redaction.js';
import type { SavedPlan } from '../state/targets-store.js';
import { runCycle, type CycleInput, type CycleOptions, type CycleSummary } from './cycle.js';
import { CyclePlanner } from './planner.js';
import { unseal } from './redacted.js';
import { stage } from './staging.js';
import { withTarget } from './target-run.js';

/** Plans a cycle without sending anything and saves it with what it was built on; `applySavedPlan` applies exactly it. */
export async function buildPlan(input: CycleInput): Promise<{ plan: SavedPlan; summary: CycleSummary }> {
  const summary = await runCycle({ ...input, options: { ...input.options, dryRun: true, only: undefined } });
  const target = input.compiled.name;
  const plan = input.store.savePlan({
    target, sourceSeq: summary.cursor.to, cursorSeq: summary.cursor.from, linksVersion: input.store.linksVersion(target),
    full: summary.full, operations: summary.plan!.operations, staged: summary.plan!.staged,
    diff: formatPlan(summary.plan!.operations, summary.plan!.staged),
  });
  return { plan, summary };
}

/**
 * Applies a saved plan exactly, or refuses (EntraSyncError PLAN_STALE) if the source or the target's links
 * have moved since it was built: a plan reviewed against one state must not be applied to another.
 */
export async function applySavedPlan(input: Omit<CycleInput, 'options'> & { planId: string; options?: Pick<CycleOptions, 'now' | 'holder'> }): Promise<CycleSummary> {
  const plan = input.store.plan(input.planId);
  if (!plan) throw new EntraSyncError('PLAN_NOT_FOUND', `no saved plan with id "${input.planId}"`, { objectId: input.planId });
  if (plan.target !== input.compiled.name) throw new EntraSyncError('PLAN_WRONG_TARGET', `plan ${plan.id} was built for target "${plan.target}", not "${input.compiled.name}"`, { objectId: plan.id });
  if (plan.status !== 'pending') throw new EntraSyncError('PLAN_ALREADY_USED', `plan ${plan.id} was already ${plan.status}${plan.appliedAt ? ` at ${plan.appliedAt}` : ''}; build a new one with \`plan\``, { objectId: plan.id });
  return withTarget({ ...input, options: input.options ?? {} }, 'apply-plan', async (run) => {
    await run.recover();
    const reason = stalePlanReason(plan, input.source.currentSeq(), input.store.cursor(plan.target), input.store.linksVersion(plan.target));
    if (reason) {
      input.store.setPlanStatus(plan.id, 'refused');
      throw new EntraSyncError('PLAN_STALE', `plan ${plan.id} cannot be applied: ${reason}; run \`plan\` again and review the new plan`, { objectId: plan.id });
    }
    run.cursor = { from: plan.cursorSeq, to: plan.sourceSeq };
    const mapAgain = new CyclePlanner(run).mappedAgain;
    // The plan holds redacted values as hashes only; the clear values are mapped again from the same source state.
    const operations = plan.operations.map((op) => {
      const clear = unseal(op, mapAgain);
      if (typeof clear === 'string') {
        input.store.setPlanStatus(plan.id, 'refused');
        throw new EntraSyncError('PLAN_STALE', `plan ${plan.id} cannot be applied: ${clear}; run \`plan\` again and review the new plan`, { objectId: plan.id });
      }
      return clear;
    });
    for (const op of plan.staged) stage(run, op);
    await run.apply(operations, undefined);
    if (!run.stopped) input.store.setCursor(plan.target, plan.sourceSeq);
    input.store.setPlanStatus(plan.id, 'applied', run.now());
  });
}

function stalePlanReason(plan: SavedPlan, sourceSeq: number, cursor: number, linksVersion: number): string | null {
  if (sourceSeq !== plan.sourceSeq) return `the source has changed since it was built (source seq ${plan.sourceSeq} → ${sourceSeq})`;
  if (cursor !== plan.cursorSeq) return `another cycle has run for this target since it was built (cursor ${plan.cursorSeq} → ${cursor})`;
  if (linksVersion !== plan.linksVersion) return `what the target holds has changed since it was built (links version ${plan.linksVersion} → ${linksVersion})`;
  return null;
}

/** A readable diff: one line per operation, attribute changes indented under it. */
export function formatPlan(operations: readonly PlannedOperation[], staged: readonly PlannedOperation[] = []): string {
  const lines: string[] = [];
  const describe = (op: PlannedOperation, prefix: string) => {
    const who = `${op.type} ${op.displayName} (${op.sourceId})`;
    // Values that went through Redact() read `[redacted]`, whether the operation holds them clear or sealed.
    const redacted = redactedPathsOf(op);
    const show = (path: string, v: unknown) => {
      const shown = shownValue(path, v, redacted);
      return shown === null || shown === undefined ? '∅' : typeof shown === 'string' && shown !== v ? shown : JSON.stringify(shown);
    };
    switch (op.kind) {
      case 'create':
        lines.push(`${prefix}+ create ${who}${op.match.length ? `, unless one matches ${op.match.map((m) => `${m.path}=${show(m.path, m.value)}`).join(' or ')}` : ''}`);
        for (const [path, value] of Object.entries(op.attributes)) lines.push(`${prefix}    ${path}: ${show(path, value)}`);
        break;
      case 'update':
        lines.push(`${prefix}~ update ${who} → ${op.targetId}`);
        for (const c of op.changes) lines.push(`${prefix}    ${c.path}: ${show(c.path, c.before)} → ${show(c.path, c.after)}`);
        break;
      case 'disable': case 'enable': case 'delete':
        lines.push(`${prefix}${op.kind === 'enable' ? '+' : '-'} ${op.kind} ${who} → ${op.targetId} (${op.reason})`);
        break;
      case 'addMembers': case 'removeMembers': {
        const foreign = op.memberTargetIds ?? [];
        const names = [...op.memberSourceIds, ...foreign.map((id) => `target id ${id} (not ours)`)];
        lines.push(`${prefix}${op.kind === 'addMembers' ? '+' : '-'} ${op.kind === 'addMembers' ? 'add' : 'remove'} ${names.length} member(s) ${op.kind === 'addMembers' ? 'to' : 'from'} ${who}: ${names.join(', ')}`);
        break;
      }
      case 'unlink': case 'skip':
        lines.push(`${prefix}  ${op.kind} ${who}: ${op.reason}`);
        break;
    }
  };
  for (const op of operations) describe(op, '');
  if (staged.length) {
    lines.push(`held back by the deletion threshold (${staged.length}, need approval):`);
    for (const op of staged) describe(op, '  ');
  }
  if (lines.length === 0) lines.push('nothing to do: the target already holds what it should');
  return lines.join('\n');
}
