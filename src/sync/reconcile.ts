// Reconcile: re-reads every linked object from the target and repairs what was changed there by hand —
// attributes we wrote, the active flag, members we added (and in exact mode every member Entra does not
// list), objects deleted outright. Entra never re-reads the target; this is how drift is found.
import type { PlannedOperation } from '../engine/types.js';
import { shownValue } from '../engine/redaction.js';
import type { ObjectType } from '../targets/connector.js';
import { diffAttributes } from './attributes.js';
import type { CycleSummary } from './cycle.js';
import { CyclePlanner } from './planner.js';
import { DEFAULT_CYCLE_POLICY } from './policy.js';
import { step } from './provisioning-log.js';
import { clearWritten } from './redacted.js';
import { withTarget, type RunInput } from './target-run.js';

export interface DriftFix {
  type: ObjectType;
  sourceId: string;
  targetId: string;
  displayName: string;
  fix: 'recreate' | 'attributes' | 'enable' | 'disable' | 'members';
  details: string;
}

/**
 * Re-reads every linked object from the target and repairs what was changed there by hand: attributes we
 * wrote, the active flag, members we added, objects deleted outright. Entra never re-reads the target.
 */
export async function reconcileTarget(input: RunInput): Promise<CycleSummary & { fixes: DriftFix[] }> {
  const fixes: DriftFix[] = [];
  const summary = await withTarget(input, 'reconcile', async (run) => {
    if (!input.options?.dryRun) await run.recover();
    const { store, connector } = input;
    const activePath = input.compiled.options.activeAttribute;
    const exact = input.compiled.options.groupMembership === 'exact';
    const mapAgain = new CyclePlanner(run).mappedAgain;
    for (const type of ['user', 'group'] as const) {
      let after = '';
      for (;;) {
        const page = store.linksPage(run.target, type, after, input.policy?.batchSize ?? DEFAULT_CYCLE_POLICY.batchSize);
        if (page.length === 0) break;
        after = page[page.length - 1]!.sourceId;
        const ops: PlannedOperation[] = [];
        for (const link of page) {
          if (link.status === 'deleted') continue;
          if (type === 'user') run.examined.users++; else run.examined.groups++;
          const base = { type, sourceId: link.sourceId, displayName: displayNameOf(link.written, link.sourceId) };
          const found = await connector.get(type, link.targetId);
          // Redacted values were stored as hashes: to send them again they are mapped again from the source.
          const written = clearWritten(type, link, mapAgain);
          const sealed = new Set(written.redacted);
          const redactedPaths = written.redacted.length ? { redactedPaths: written.redacted } : {};
          const unrestorable = written.dropped.length ? `; ${written.dropped.length} redacted attribute(s) cannot be restored without their source value (${written.dropped.join(', ')})` : '';
          if (!found) {
            fixes.push({ ...base, targetId: link.targetId, fix: 'recreate', details: `deleted on the target; created again from what we last wrote${unrestorable}` });
            ops.push({ kind: 'update', ...base, targetId: link.targetId, changes: Object.entries(written.attributes).map(([path, after]) => ({ path, before: null, after })), desired: { ...written.attributes }, ...redactedPaths });
            continue;
          }
          // Compare only what the connector could read back; the active flag follows the link status.
          const readable = Object.fromEntries(Object.entries(link.written).filter(([path]) => path in found.attributes && path !== activePath));
          const drifted = diffAttributes(found.attributes, readable, link.sourceId);
          const changes = drifted.filter((c) => !written.dropped.includes(c.path)).map((c) => (sealed.has(c.path) ? { ...c, after: written.attributes[c.path] } : c));
          if (drifted.length) {
            const shown = (path: string, v: unknown) => JSON.stringify(shownValue(path, v, sealed) ?? null);
            const details = drifted.map((c) => `${c.path}: ${shown(c.path, c.before)} → ${shown(c.path, c.after)}`).join('; ');
            fixes.push({ ...base, targetId: link.targetId, fix: 'attributes', details: `${details}${drifted.length > changes.length ? unrestorable : ''}` });
          }
          if (changes.length) ops.push({ kind: 'update', ...base, targetId: link.targetId, changes, desired: { ...written.attributes }, ...redactedPaths });
          if (type === 'user' && activePath in found.attributes) {
            const want = link.status === 'active';
            if (found.attributes[activePath] !== want) {
              fixes.push({ ...base, targetId: link.targetId, fix: want ? 'enable' : 'disable', details: `${activePath} was ${JSON.stringify(found.attributes[activePath])} on the target` });
              ops.push({ kind: want ? 'enable' : 'disable', type: 'user', sourceId: link.sourceId, displayName: base.displayName, targetId: link.targetId, reason: 'inScope' } as PlannedOperation);
            }
          }
          // Additive: only members we added are checked (and re-added). Exact: the target group must hold
          // exactly what Entra lists, so every member found there that is not wanted is removed too.
          if (type === 'group' && (link.members?.length || exact)) {
            const presentList = await connector.listMembers(link.targetId);
            const present = new Set(presentList);
            const linkMembers = link.members ?? [];
            const missing = linkMembers.filter((m) => {
              const member = store.linkOfMember(run.target, m);
              return member && member.status === 'active' && !present.has(member.targetId);
            });
            if (missing.length) {
              fixes.push({ ...base, targetId: link.targetId, fix: 'members', details: `${missing.length} member(s) we added were removed on the target: ${missing.join(', ')}` });
              if (!input.options?.dryRun) {
                // Forget them first, so a crash before the re-add leaves them for the next cycle's planner.
                store.putLink({ ...link, members: linkMembers.filter((m) => !missing.includes(m)) });
              }
              ops.push({ kind: 'addMembers', type: 'group', sourceId: link.sourceId, displayName: base.displayName, targetId: link.targetId, memberSourceIds: missing });
            }
            if (exact) {
              // Wanted: the members the link records plus those waiting for their own link.
              const wanted = new Set<string>();
              for (const m of [...linkMembers, ...store.deferredMembersOf(run.target, link.sourceId)]) {
                const member = store.linkOfMember(run.target, m);
                if (member && member.status !== 'deleted') wanted.add(member.targetId);
              }
              const ours: string[] = [];
              const foreign: string[] = [];
              for (const id of presentList) {
                if (wanted.has(id)) continue;
                const member = store.linkByTargetId(run.target, 'user', id) ?? store.linkByTargetId(run.target, 'group', id);
                if (member) ours.push(member.sourceId); else foreign.push(id);
              }
              if (ours.length || foreign.length) {
                fixes.push({
                  ...base, targetId: link.targetId, fix: 'members',
                  details: `${ours.length + foreign.length} member(s) on the target that Entra does not list were removed (exact membership): ${[...ours, ...foreign.map((id) => `target id ${id}`)].join(', ')}`,
                });
                ops.push({ kind: 'removeMembers', type: 'group', sourceId: link.sourceId, displayName: base.displayName, targetId: link.targetId, memberSourceIds: ours, ...(foreign.length ? { memberTargetIds: foreign } : {}) });
              }
            }
          }
        }
        if (input.options?.dryRun) run.collect(ops);
        else await run.apply(ops, () => [step('import', 'success', 'read back from the target by reconcile')]);
        if (run.stopped) return;
      }
    }
  });
  return { ...summary, fixes };
}

function displayNameOf(written: Record<string, unknown>, fallback: string): string {
  for (const key of ['userName', 'displayName']) if (typeof written[key] === 'string') return written[key];
  return fallback;
}
