// Crash recovery: resolves the journal entries a stopped process left 'pending', by looking each object up
// on the target. A create that landed is linked (never sent twice); one that did not is re-planned (never
// lost). Runs before a target's next unit of work, under its lease (target-run.ts).
import type { Link, PlannedOperation } from '../engine/types.js';
import { isRedactedMarker, markerMatches } from '../engine/redaction.js';
import type { SyncEvents } from '../observability/events.js';
import type { TargetAttributes, TargetConnector } from '../targets/connector.js';
import { applyChanges, diffAttributes, statusOf } from './attributes.js';
import type { SyncStore } from './store.js';

type RecoveryStore = Pick<SyncStore, 'pendingOperations' | 'journalEnd' | 'putLink' | 'recordFailure' | 'transaction' | 'link' | 'linkOfMember'>;

export interface RecoveryContext {
  store: RecoveryStore;
  connector: TargetConnector;
  target: string;
  events?: SyncEvents | undefined;
  now?: (() => Date) | undefined;
}

export interface RecoveryReport {
  /** Pending operations found to have reached the target: their link is now written. */
  landed: PlannedOperation[];
  /** Pending operations that did not reach the target: their object is due for re-planning in the next cycle. */
  replanned: PlannedOperation[];
}

/**
 * Resolves operations left 'pending' by a stopped process, by looking each object up on the target:
 * a create that landed is linked (never sent twice); one that did not is re-planned (never lost).
 * Must run before a target's next cycle, under its lease.
 */
export async function recoverInFlight(ctx: RecoveryContext): Promise<RecoveryReport> {
  const { store, connector, target } = ctx;
  const now = ctx.now ?? (() => new Date());
  const report: RecoveryReport = { landed: [], replanned: [] };
  for (const entry of store.pendingOperations(target)) {
    const op = entry.operation;
    let landed: Omit<Link, 'hash' | 'updatedAt'> | null | 'no-link-change' = null;
    try {
      landed = await landedLink(op, store, connector, target);
    } catch {
      landed = null; // The target cannot tell us now: re-plan, which looks it up again before sending.
    }
    const at = now();
    store.transaction(() => {
      if (landed) {
        if (landed !== 'no-link-change') store.putLink({ ...landed, updatedAt: at.toISOString() });
        store.journalEnd(entry.id);
      } else {
        store.journalEnd(entry.id);
        // Due at once: the next cycle re-plans this object even though its change may be below the cursor.
        store.recordFailure({ target, type: op.type, sourceId: op.sourceId, code: 'INTERRUPTED', message: `${op.kind} was interrupted before its result was recorded`, now: at, retryAt: at, countsForQuarantine: false });
      }
    });
    (landed ? report.landed : report.replanned).push(op);
    ctx.events?.emit('operation:recovered', { target, operation: op, landed: landed !== null });
  }
  return report;
}

async function landedLink(op: PlannedOperation, store: RecoveryStore, connector: TargetConnector, target: string): Promise<Omit<Link, 'hash' | 'updatedAt'> | null | 'no-link-change'> {
  const link = store.link(target, op.type, op.sourceId);
  switch (op.kind) {
    case 'create': {
      if (link && link.status !== 'deleted') return 'no-link-change';
      for (const criterion of op.match) {
        // A redacted match value was journalled as a hash and cannot be looked up: re-planning looks it up again.
        if (isRedactedMarker(criterion.value)) continue;
        const found = await connector.find(op.type, criterion);
        if (!found) continue;
        // What the target holds now, so that a half-finished adopt is finished by the next plan's update.
        const written: TargetAttributes = {};
        for (const [path, value] of Object.entries(op.attributes)) {
          written[path] = isRedactedMarker(value) ? (markerMatches(value, op.sourceId, path, found.attributes[path]) ? value : null) : path in found.attributes ? found.attributes[path] : value;
        }
        return { target, type: op.type, sourceId: op.sourceId, targetId: found.id, status: statusOf(written), written, ...(op.type === 'group' ? { members: [] } : {}) };
      }
      return null;
    }
    case 'update': {
      const found = await connector.get(op.type, op.targetId);
      if (!found || diffAttributes(found.attributes, Object.fromEntries(op.changes.map((c) => [c.path, c.after])), op.sourceId).length) return null;
      return { ...(link ?? { target, type: op.type, sourceId: op.sourceId, targetId: op.targetId, status: 'active' }), written: applyChanges(link?.written ?? {}, op.changes) };
    }
    case 'disable':
    case 'enable': {
      const found = await connector.get(op.type, op.targetId);
      const active = op.kind === 'enable';
      if (!found || found.attributes.active !== active || !link) return null;
      return { ...link, status: active ? 'active' : 'disabled', written: 'active' in link.written ? { ...link.written, active } : link.written };
    }
    case 'delete': {
      const found = await connector.get(op.type, op.targetId);
      if (found) return null;
      return link ? { ...link, status: 'deleted' } : 'no-link-change';
    }
    case 'addMembers':
    case 'removeMembers': {
      if (!link) return null;
      const current = new Set(await connector.listMembers(link.targetId));
      const members = new Set(link.members ?? []);
      for (const memberSourceId of op.memberSourceIds) {
        const member = store.linkOfMember(target, memberSourceId);
        if (!member) continue;
        const present = current.has(member.targetId);
        if (op.kind === 'addMembers' && !present) return null;
        if (op.kind === 'removeMembers' && present) return null;
        if (op.kind === 'addMembers') members.add(memberSourceId); else members.delete(memberSourceId);
      }
      if (op.kind === 'removeMembers' && (op.memberTargetIds ?? []).some((id) => current.has(id))) return null;
      return { ...link, members: [...members] };
    }
    case 'skip':
    case 'unlink':
      return 'no-link-change';
  }
}
