// `entra-sync validate`: load the configuration exactly as the daemon would (env references, presets,
// schema, expressions, scoping filters) and print either a summary of what it will do or every problem.
// Prints no secret: only names, URLs without credentials or query, and counts.
import { access } from 'node:fs/promises';
import { loadConfig, ConfigError, formatConfigPath, type Config } from '../config/load.js';
import { compileTarget } from '../engine/mapping.js';
import { exitCodesHelp } from './exit-codes.js';
import { parseArgs } from './output.js';

export const summary = 'check a configuration file and summarize what it will do';

const HELP = `usage: entra-sync validate [--config <file>] [--json]

Loads the configuration as \`run\` would: \${ENV} references, presets, schema, expressions and scoping
filters. Prints OK and a summary, or every problem with its path and line.

options:
  -c, --config <file>  configuration file (default: $ENTRA_SYNC_CONFIG or ./entra-sync.yaml)
  --json               print the problems or the summary as JSON

${exitCodesHelp({ 0: 'valid', 1: 'invalid or unreadable' }).trimEnd()}`;

/** URL without credentials, query or fragment: safe to print. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Every `…File` path in the configuration, with its config path. */
function filePaths(value: unknown, path: (string | number)[] = []): { path: string; file: string }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => filePaths(v, [...path, i]));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) =>
      /File$/.test(k) && typeof v === 'string' ? [{ path: formatConfigPath([...path, k]), file: v }] : filePaths(v, [...path, k]),
    );
  }
  return [];
}

function summarize(config: Config): Record<string, unknown> {
  return {
    source: { tenantId: config.source.tenantId, servicePrincipalId: config.source.servicePrincipalId, scope: config.source.scope },
    state: config.state.path,
    schedule: config.schedule,
    targets: config.targets.map((t) => {
      const compiled = compileTarget(t);
      return {
        name: t.name,
        type: t.type,
        preset: t.preset ?? null,
        baseUrl: safeUrl(t.baseUrl),
        auth: t.auth.type,
        dryRun: t.dryRun,
        users: {
          mappings: t.users.mappings.map((m) => m.target),
          matching: compiled.users.matchPaths,
          scopingFilters: t.users.scopingFilters.length,
          actions: t.users.actions,
          hardDelete: compiled.options.hardDeleteAction,
          skipOutOfScopeDeletions: t.skipOutOfScopeDeletions,
        },
        groups: t.groups.enabled
          ? { mappings: compiled.groups.mappings.map((m) => m.target), matching: compiled.groups.matchPaths, actions: t.groups.actions, membership: t.groups.membership }
          : 'off',
        deleteThreshold: t.deleteThreshold,
        graphAttributes: compiled.sourceAttributes,
      };
    }),
  };
}

function printSummary(file: string, s: Record<string, unknown>, missingFiles: { path: string; file: string }[]): string {
  const lines = [`OK ${file}`];
  const source = s.source as { tenantId: string; scope: string };
  lines.push(`  source: tenant ${source.tenantId}, scope ${source.scope}`);
  lines.push(`  state: ${String(s.state)}; schedule: ${(s.schedule as { cron: string }).cron}`);
  for (const t of s.targets as Record<string, unknown>[]) {
    const users = t.users as Record<string, unknown>;
    const groups = t.groups as Record<string, unknown> | 'off';
    const threshold = t.deleteThreshold as { count?: number; percent?: number };
    lines.push(`  target ${String(t.name)} (${String(t.type)}${t.preset ? `, preset ${String(t.preset)}` : ''}${t.dryRun ? ', dry run' : ''}): ${String(t.baseUrl)}, auth ${String(t.auth)}`);
    lines.push(`    users: ${(users.mappings as string[]).length} mappings, match on ${(users.matching as string[]).join(' then ')}, actions ${(users.actions as string[]).join('/')}, hard delete → ${String(users.hardDelete)}${users.scopingFilters ? `, ${String(users.scopingFilters)} scoping filter(s)` : ''}${users.skipOutOfScopeDeletions ? ', skip out-of-scope deletions' : ''}`);
    lines.push(groups === 'off' ? '    groups: off' : `    groups: ${(groups.mappings as string[]).length} mappings, match on ${(groups.matching as string[]).join(' then ')}, actions ${(groups.actions as string[]).join('/')}, ${String(groups.membership)} membership`);
    lines.push(`    deletion threshold: ${threshold.count !== undefined ? `${threshold.count} per cycle` : ''}${threshold.count !== undefined && threshold.percent !== undefined ? ' or ' : ''}${threshold.percent !== undefined ? `${threshold.percent} % of linked objects` : ''}${threshold.count === undefined && threshold.percent === undefined ? 'none' : ''}`);
    lines.push(`    reads from Graph: ${(t.graphAttributes as string[]).join(', ')}`);
  }
  for (const m of missingFiles) lines.push(`  warning: ${m.path}: file ${m.file} is not readable here (fine if it exists where the daemon runs)`);
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { flags: ['json', 'help'], values: ['config'] });
  if (args.options.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const file = typeof args.options.config === 'string' ? args.options.config : (process.env.ENTRA_SYNC_CONFIG ?? './entra-sync.yaml');
  let config: Config;
  try {
    config = await loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError && args.options.json) {
      process.stdout.write(`${JSON.stringify({ ok: false, file, issues: err.issues }, null, 2)}\n`);
      return 1;
    }
    throw err;
  }
  const missing: { path: string; file: string }[] = [];
  for (const f of filePaths(config)) {
    try {
      await access(f.file);
    } catch {
      missing.push(f);
    }
  }
  const s = summarize(config);
  process.stdout.write(args.options.json ? `${JSON.stringify({ ok: true, file, ...s, warnings: missing }, null, 2)}\n` : `${printSummary(file, s, missing)}\n`);
  return 0;
}
