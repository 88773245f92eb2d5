// `entra-sync scope`: reads Entra (incrementally, like a sync cycle would) and lists the users and groups the
// enterprise app's assignments bring into scope, with the attributes read for them — the admin's first
// question is "what does it see?". Per target it also shows whether the target's scoping filters let each
// user through. Nothing is written to any target.
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/load.js';
import { compileTarget, groupScope, userScope } from '../engine/mapping.js';
import type { ScopeReason } from '../engine/types.js';
import { createLogger } from '../observability/logger.js';
import { createSourceReader, type ReadSummary } from '../source/reader.js';
import type { SourceUserRecord } from '../source/types.js';
import { openStateFiles } from '../state/files.js';
import { SourceStoreImpl } from '../state/source-store.js';
import { exitCodesHelp } from './exit-codes.js';
import { parseArgs } from './output.js';
import { WAIT_HELP, withStateLock } from './command.js';

export const summary = 'read Entra and list the users and groups in scope with their attributes';

const HELP = `usage: entra-sync scope [--config file] [--wait[=seconds]] [--json] [--full]

Reads the enterprise app's assignments and the users/groups delta (incrementally when a delta link is
stored), then lists every assigned user and group that exists in Entra, with the attributes read for it.

  -c, --config file  configuration file (default: $ENTRA_SYNC_CONFIG, else ./entra-sync.yaml)
${WAIT_HELP}
  --json          print JSON instead of a table
  --full          ignore stored delta links and read everything

${exitCodesHelp({ 0: 'listed', 1: 'Entra could not be read, or the configuration is invalid' })}`;

interface ScopedUser {
  id: string;
  appRoleIds: string[];
  /** Per target: inScope, outOfScope (a scoping filter), accountDisabled. */
  targets: Record<string, ScopeReason>;
  attributes: Record<string, unknown>;
}

interface ScopedGroup {
  id: string;
  members: number;
  targets: Record<string, ScopeReason>;
  attributes: Record<string, unknown>;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { optional: ['wait'], flags: ['json', 'full', 'help'], values: ['config'] });
  if (args.options.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const configPath = (args.options.config as string | undefined) ?? process.env.ENTRA_SYNC_CONFIG ?? './entra-sync.yaml';
  const config: Config = await loadConfig(configPath);
  const compiled = config.targets.map((t) => compileTarget(t));
  const select = [...new Set(compiled.flatMap((c) => c.sourceAttributes))];
  const groupSelect = [...new Set(compiled.flatMap((c) => c.groupSourceAttributes))];

  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  // What scope reads is committed to the source file: it writes the state, so it holds the state lock.
  const { read, users, groups, readSelect } = await withStateLock(config.state.path, { command: 'scope', wait: args.options.wait }, logger, async () => {
    const files = openStateFiles(config.state.path);
    const store = new SourceStoreImpl(files.sourceDb);
    const reader = createSourceReader(config.source, { store, logger, select, groupSelect });
    const interactive = !args.options.json && process.stderr.isTTY;
    let read: ReadSummary;
    try {
      read = await reader.read({
        full: args.options.full === true,
        ...(interactive ? { onProgress: (p) => process.stderr.write(`\rreading ${p.phase}: ${p.items} objects, ${p.pages} pages   `) } : {}),
      });
    } finally {
      if (interactive) process.stderr.write('\r\x1b[K');
      await reader.close();
    }

    const users: ScopedUser[] = [];
    for (const u of store.allUsers()) {
      if (!u.assigned || u.removed) continue;
      users.push({ id: u.id, appRoleIds: u.appRoleIds, targets: perTarget(compiled, (c) => userScope(u, c.users.scopingFilters)), attributes: selected(u, reader.select) });
    }
    const groups: ScopedGroup[] = [];
    for (const g of store.allGroups()) {
      if (!g.assigned || g.removed) continue;
      groups.push({ id: g.id, members: store.groupMembers(g.id).length, targets: perTarget(compiled, (c) => groupScope(g, c.groups.scopingFilters)), attributes: g.attributes });
    }
    files.close();
    return { read, users, groups, readSelect: reader.select };
  });

  if (args.options.json) {
    process.stdout.write(JSON.stringify({ read: readFacts(read), users, groups }, null, 2) + '\n');
    return 0;
  }
  const targetNames = config.targets.map((t) => t.name);
  process.stdout.write(`${describeRead(read)}\n\n`);
  process.stdout.write(`Users in scope: ${users.length}\n`);
  if (users.length) {
    const columns = readSelect.filter((a) => a !== 'id');
    process.stdout.write(table(
      ['id', ...columns, 'appRoles', ...targetNames],
      users.map((u) => [u.id, ...columns.map((c) => cell(u.attributes[c])), String(u.appRoleIds.length), ...targetNames.map((t) => u.targets[t] ?? '')]),
    ));
  }
  process.stdout.write(`\nGroups in scope: ${groups.length}\n`);
  if (groups.length) {
    process.stdout.write(table(
      ['id', 'displayName', 'mailNickname', 'members', ...targetNames],
      groups.map((g) => [g.id, cell(g.attributes.displayName), cell(g.attributes.mailNickname), String(g.members), ...targetNames.map((t) => g.targets[t] ?? '')]),
    ));
  }
  return 0;
}

function perTarget<T extends { name: string }>(compiled: T[], reason: (c: T) => ScopeReason): Record<string, ScopeReason> {
  return Object.fromEntries(compiled.map((c) => [c.name, reason(c)]));
}

function selected(u: SourceUserRecord, select: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of select) if (name in u.attributes) out[name] = u.attributes[name];
  return out;
}

function readFacts(r: ReadSummary): Record<string, unknown> {
  return {
    full: r.full, users: r.users, groups: r.groups, assignments: r.assignments,
    usersChanged: r.usersChanged, usersRemoved: r.usersRemoved, groupsChanged: r.groupsChanged, groupsRemoved: r.groupsRemoved,
    requests: r.requests, durationMs: r.durationMs,
  };
}

function describeRead(r: ReadSummary): string {
  const kind = (m: { mode: string; resynced: boolean }) => (m.resynced ? 'full (delta state had expired)' : m.mode);
  return `Read Entra in ${(r.durationMs / 1000).toFixed(1)} s with ${r.requests} requests: users ${kind(r.users)} (${r.users.items} items), groups ${kind(r.groups)} (${r.groups.items} items), ${r.assignments} assignments; ${r.usersChanged} users and ${r.groupsChanged} groups changed since the last read.`;
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

