// Redact(): a value that must never be shown reaches the target in clear, while plans, dry-run summaries,
// saved plans, the provisioning log, events, failure messages, reconcile fixes and every byte of the state
// file hold only `[redacted]` or a hash — and a change of the value is still detected and sent.
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteDatabase as Database } from '../../src/state/db.js';
import { afterEach, describe, expect, it } from 'vitest';
import { runCycle, type CycleOptions } from '../../src/sync/cycle.js';
import { reconcileTarget } from '../../src/sync/reconcile.js';
import { applySavedPlan, buildPlan, formatPlan } from '../../src/sync/saved-plans.js';
import { SyncEvents } from '../../src/observability/events.js';
import { desiredUser } from '../../src/engine/mapping.js';
import { openDatabase } from '../../src/state/db.js';
import { TargetsStore } from '../../src/state/targets-store.js';
import { FakeConnector, MemorySourceStore, targetError } from '../sync/apply-fakes.js';
import { compiledTarget, user } from '../sync/cycle-fixtures.js';
import { context } from './helpers.js';

const SECRET = 'S3CR3T-4711-zz';
const SECRET2 = 'S3CR3T-0815-yy';
const PATH = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber';
const MAPPING = `    users:
      mappings:
        - { target: '${PATH}', expression: 'Redact([employeeId])' }
`;

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function setup() {
  const dir = mkdtempSync(path.join(tmpdir(), 'entra-sync-redact-'));
  dirs.push(dir);
  const file = path.join(dir, 'state.db');
  const db = openDatabase(file);
  const store = new TargetsStore(db);
  const source = new MemorySourceStore();
  const connector = new FakeConnector();
  const events = new SyncEvents();
  const seen: string[] = [];
  events.on('operation:sent', (e) => seen.push(JSON.stringify(e)));
  events.on('operation:failed', (e) => seen.push(JSON.stringify(e)));
  const { compiled, policy } = compiledTarget(MAPPING);
  const now = () => new Date('2025-03-01T12:00:00Z');
  const input = { store, source, compiled, connector, events, policy };
  const cycle = (options: CycleOptions = {}) => runCycle({ ...input, options: { now, ...options } });
  return { file, db, store, source, connector, compiled, input, cycle, seen, now };
}

/** Every text value of every row of every table, read back through SQLite. */
function allText(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    const out: string[] = [];
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['target_links', 'target_journal', 'target_plans', 'target_log', 'target_runs', 'target_failures']));
    for (const { name } of tables) {
      for (const row of db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[]) {
        for (const v of Object.values(row)) if (typeof v === 'string') out.push(v);
      }
    }
    return out;
  } finally {
    db.close();
  }
}

describe('Redact(): secrets stay out of plans, logs and the state file', () => {
  it('marks the mapped path as redacted', () => {
    const { compiled } = compiledTarget(MAPPING);
    const desired = desiredUser({ id: 'u1', attributes: { userPrincipalName: 'ada@contoso.com', employeeId: SECRET, accountEnabled: true }, removed: null, assigned: true, appRoleIds: [], seq: 1 }, compiled, context());
    expect(desired.attributes[PATH]).toBe(SECRET);
    expect(desired.redactedPaths).toEqual([PATH]);
  });

  it('sends the clear value to the target, shows [redacted] everywhere, stores only a hash, and still detects a change', async () => {
    const h = setup();
    user(h.source, 'alice', { employeeId: SECRET });

    // Dry run and saved plan: the diff reads [redacted], nothing in the summary holds the value.
    const dry = await h.cycle({ dryRun: true });
    expect(JSON.stringify(dry)).not.toContain(SECRET);
    const text = formatPlan(dry.plan!.operations);
    expect(text).toContain(`${PATH}: [redacted]`);
    expect(text).not.toContain(SECRET);
    const { plan } = await buildPlan({ ...h.input, options: { now: h.now } });
    expect(plan.diff).toContain(`${PATH}: [redacted]`);
    expect(JSON.stringify(plan)).not.toContain(SECRET);

    // Applying the saved plan maps the value again and sends it in clear.
    const applied = await applySavedPlan({ ...h.input, planId: plan.id, options: { now: h.now } });
    expect(applied.counts.create).toBe(1);
    const link = h.store.link('dw', 'user', 'alice')!;
    expect(h.connector.objects.user.get(link.targetId)![PATH]).toBe(SECRET);
    expect(link.written[PATH]).toMatch(/^\[redacted sha256:[0-9a-f]{32}\]$/);
    const created = h.store.logEntries({ sourceId: 'alice', action: 'create' })[0]!;
    expect(created.modifiedProperties).toContainEqual({ path: PATH, before: null, after: '[redacted]' });

    // Nothing changed: the hash matches, no update, even on a full comparison.
    h.connector.calls.length = 0;
    expect((await h.cycle({ full: true })).counts.update).toBe(0);
    expect(h.connector.mutations()).toEqual([]);

    // The source value changes: an update with the new clear value, logged as [redacted] → [redacted].
    user(h.source, 'alice', { employeeId: SECRET2 });
    const changed = await h.cycle();
    expect(changed.counts.update).toBe(1);
    expect(h.connector.mutations('update').map((c) => (c.args as { changes: unknown }).changes)).toEqual([[{ path: PATH, before: link.written[PATH], after: SECRET2 }]]);
    expect(h.connector.objects.user.get(link.targetId)![PATH]).toBe(SECRET2);
    const updated = h.store.logEntries({ sourceId: 'alice', action: 'update' })[0]!;
    expect(updated.modifiedProperties).toEqual([{ path: PATH, before: '[redacted]', after: '[redacted]' }]);

    // A target that echoes the value in its error does not get it into the failure record or the log.
    user(h.source, 'alice', { employeeId: SECRET });
    h.connector.intercept = (call) => { if (call.method === 'update') throw targetError('badRequest', `employeeNumber "${SECRET}" is not allowed`, 400); };
    const refused = await h.cycle();
    expect(refused.failures[0]!.message).toBe('employeeNumber "[redacted]" is not allowed');
    h.connector.intercept = undefined;
    expect((await h.cycle({ full: true })).counts.update).toBe(1);

    // Someone edits the value on the target: reconcile restores it (mapped again from the source) and says so without the value.
    h.connector.objects.user.get(link.targetId)![PATH] = 'typed-by-hand';
    const reconciled = await reconcileTarget({ ...h.input, options: { now: h.now } });
    expect(reconciled.fixes).toEqual([expect.objectContaining({ fix: 'attributes', details: `${PATH}: "[redacted]" → "[redacted]"` })]);
    expect(h.connector.objects.user.get(link.targetId)![PATH]).toBe(SECRET);
    expect(JSON.stringify(reconciled)).not.toContain(SECRET);

    expect(h.seen.length).toBeGreaterThan(0);
    for (const event of h.seen) { expect(event).not.toContain(SECRET); expect(event).not.toContain(SECRET2); }
    for (const entry of h.store.logEntries({})) expect(JSON.stringify(entry)).not.toMatch(/S3CR3T/);

    // The state file: no text column of any table, and no byte of the file or its WAL, holds either value.
    h.db.close();
    const values = allText(h.file);
    expect(values.length).toBeGreaterThan(10);
    for (const v of values) { expect(v).not.toContain(SECRET); expect(v).not.toContain(SECRET2); }
    for (const f of [h.file, `${h.file}-wal`]) {
      if (!existsSync(f)) continue;
      const bytes = readFileSync(f).toString('latin1');
      expect(bytes).not.toContain(SECRET);
      expect(bytes).not.toContain(SECRET2);
    }
  });

  it('refuses a saved plan whose redacted value can no longer be mapped from the source', async () => {
    const h = setup();
    user(h.source, 'alice', { employeeId: SECRET });
    const { plan } = await buildPlan({ ...h.input, options: { now: h.now } });
    // A source at the same seq that no longer has the user: there is nothing to map the clear value from.
    const other = new MemorySourceStore();
    user(other, 'bob', { employeeId: SECRET2 });
    await expect(applySavedPlan({ ...h.input, source: other, planId: plan.id, options: { now: h.now } }))
      .rejects.toMatchObject({ code: 'PLAN_STALE', message: expect.stringContaining(`redacted value of ${PATH}`) });
    expect(h.connector.mutations()).toEqual([]);
  });

  it('replaces a clear value written before the mapping used Redact() by its hash, once', async () => {
    const h = setup();
    const plain = compiledTarget(`    users:
      mappings:
        - { target: '${PATH}', source: employeeId }
`).compiled;
    user(h.source, 'alice', { employeeId: SECRET });
    await runCycle({ ...h.input, compiled: plain, options: { now: h.now } });
    expect(h.store.link('dw', 'user', 'alice')!.written[PATH]).toBe(SECRET);
    const resealed = await h.cycle({ full: true });
    expect(resealed.counts.update).toBe(1);
    expect(h.store.link('dw', 'user', 'alice')!.written[PATH]).toMatch(/^\[redacted sha256:/);
    expect((await h.cycle({ full: true })).counts.update).toBe(0);
  });
});
