// Loading the configuration file: parse YAML/JSON, replace `${ENV}` references, apply presets, validate
// against the schema, and compile every target (expressions, scoping filters). Every problem found is
// reported at once, each with its config path, its line in the file, what was expected and what was found;
// nothing runs until the file is fixed. Secret values are never printed.
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { EntraSyncError } from '../errors.js';
import { compileTargetReport } from '../engine/mapping.js';
import { compileExpression } from '../expressions/index.js';
import { configSchema, type Config } from './schema.js';
import { interpolateEnv, pathKey } from './env.js';
import { applyPreset, type MappingOrigin } from './merge.js';

export type { Config, TargetConfig } from './schema.js';

export interface ConfigIssue {
  /** `targets[0].users.mappings[2].expression`. */
  path: string;
  message: string;
  /** Line and column in the config file, when the path exists there. */
  line?: number;
  column?: number;
}

/** A configuration that cannot be used: every issue, each with its path. */
export class ConfigError extends EntraSyncError {
  readonly issues: ConfigIssue[];
  readonly source: string;

  constructor(source: string, unordered: ConfigIssue[]) {
    // In file order, so the list reads top to bottom like the file.
    const issues = [...unordered].sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
    const lines = issues.map((i) => `  - ${i.path || '(top level)'}${i.line ? ` (line ${i.line}${i.column ? `, column ${i.column}` : ''})` : ''}: ${i.message.replace(/\n/g, '\n      ')}`);
    super(
      'CONFIG_INVALID',
      `${source}: ${issues.length === 1 ? '1 problem' : `${issues.length} problems`}, nothing will run until ${issues.length === 1 ? 'it is' : 'they are'} fixed:\n${lines.join('\n')}`,
      { file: source, configPath: issues[0]?.path },
    );
    this.name = 'ConfigError';
    this.issues = issues;
    this.source = source;
  }
}

export interface LoadOptions {
  /** Environment for `${NAME}` references; defaults to process.env. */
  env?: Record<string, string | undefined>;
}

/** `['targets', 0, 'users']` → `targets[0].users`. */
export function formatConfigPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

const SECRET_KEY = /secret|token|password|passphrase|privatekey|^key$|apikey|credential/i;

function describeFound(value: unknown, secret: boolean): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (secret) return `a ${typeof value} (value hidden)`;
  if (typeof value === 'string') return `"${value.length > 60 ? `${value.slice(0, 60)}…` : value}"`;
  return `${typeof value} ${String(value)}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

/** Turn a zod issue into a sentence with "expected …, found …" where zod's own wording lacks the found value. */
function describeIssue(issue: z.core.$ZodIssue, found: unknown, secret: boolean): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}, found ${describeFound(found, secret)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, found ${describeFound(found, secret)}`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (check the spelling)`;
    case 'invalid_union':
      if ('discriminator' in issue && issue.discriminator) {
        const options = (issue as { options?: unknown[] }).options;
        return `expected one of ${options?.map((o) => JSON.stringify(o)).join(', ') ?? '…'}, found ${describeFound(found, secret)}`;
      }
      return `${issue.message}, found ${describeFound(found, secret)}`;
    case 'too_small':
    case 'too_big':
    case 'invalid_format':
      return `${issue.message}, found ${describeFound(found, secret)}`;
    default:
      return issue.message;
  }
}

interface DocumentContext {
  doc: Document | undefined;
  lineCounter: LineCounter;
}

/** Line/column of the deepest node of `path` present in the document. */
function positionOf(ctx: DocumentContext, path: readonly (string | number)[]): { line?: number; column?: number } {
  if (!ctx.doc) return {};
  for (let n = path.length; n >= 0; n--) {
    const node = ctx.doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) {
      const pos = ctx.lineCounter.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return {};
}

/** Translate a path in the merged (preset-applied) document back to the user's file. */
function userPath(path: readonly PropertyKey[], origins: Map<number, { users: MappingOrigin[]; groups: MappingOrigin[] }>): { path: (string | number)[]; preset?: string } {
  const p = path.map((x) => (typeof x === 'symbol' ? String(x) : x));
  if (p[0] === 'targets' && typeof p[1] === 'number' && (p[2] === 'users' || p[2] === 'groups') && p[3] === 'mappings' && typeof p[4] === 'number') {
    const origin = origins.get(p[1])?.[p[2]][p[4]];
    if (origin?.from === 'user') return { path: [...p.slice(0, 4), origin.index, ...p.slice(5)] };
    if (origin?.from === 'preset') return { path: p, preset: origin.preset };
  }
  return { path: p };
}

/** Compile every `expression` string of every mapping in the raw document; the problems found. */
function expressionProblems(document: Record<string, unknown>): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  if (!Array.isArray(document.targets)) return problems;
  document.targets.forEach((t: unknown, i: number) => {
    for (const kind of ['users', 'groups'] as const) {
      const mappings = (t as Record<string, { mappings?: unknown }> | null)?.[kind]?.mappings;
      if (!Array.isArray(mappings)) continue;
      mappings.forEach((m: unknown, j: number) => {
        const expression = (m as { expression?: unknown } | null)?.expression;
        if (typeof expression !== 'string') return;
        try {
          compileExpression(expression);
        } catch (err) {
          problems.push({ path: ['targets', i, kind, 'mappings', j, 'expression'], message: err instanceof Error ? err.message : String(err) });
        }
      });
    }
  });
  return problems;
}

/** Parse and validate configuration text. `source` names it in errors (a file name). */
export function parseConfig(text: string, source: string, env: Record<string, string | undefined> = process.env): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  const ctx: DocumentContext = { doc, lineCounter };
  const issues: ConfigIssue[] = [];
  for (const err of doc.errors) {
    const pos = err.linePos?.[0];
    issues.push({ path: '', message: `not valid YAML/JSON: ${err.message.split('\n')[0]}`, ...(pos ? { line: pos.line, column: pos.col } : {}) });
  }
  if (issues.length) throw new ConfigError(source, issues);
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, [{ path: '', message: `expected a mapping with source, targets, …, found ${describeFound(raw, false)}` }]);
  }

  const interpolated = interpolateEnv(raw, env);
  for (const p of interpolated.problems) issues.push({ path: formatConfigPath(p.path), message: p.message, ...positionOf(ctx, p.path) });

  // Presets are merged before validation so a preset's defaults and the user's overrides are checked together.
  const document = interpolated.value as Record<string, unknown>;
  const origins = new Map<number, { users: MappingOrigin[]; groups: MappingOrigin[] }>();
  if (Array.isArray(document.targets)) {
    document.targets = document.targets.map((t: unknown, i: number) => {
      if (t === null || typeof t !== 'object' || Array.isArray(t)) return t;
      const merged = applyPreset(t as Record<string, unknown>, ['targets', i]);
      origins.set(i, merged.origins);
      for (const p of merged.problems) issues.push({ path: formatConfigPath(p.path), message: p.message, ...positionOf(ctx, p.path) });
      return merged.target;
    });
  }
  if (issues.length) throw new ConfigError(source, issues);

  const parsed = configSchema.safeParse(document, { reportInput: false });
  if (!parsed.success) {
    // Report bad expressions in the same run as schema problems, so one `validate` shows everything.
    const schemaPaths = new Set(parsed.error.issues.map((i) => formatConfigPath(i.path)));
    for (const e of expressionProblems(document)) {
      const mapped = userPath(e.path, origins);
      if (schemaPaths.has(formatConfigPath(e.path))) continue;
      issues.push({ path: formatConfigPath(mapped.path), message: e.message, ...(mapped.preset ? {} : positionOf(ctx, mapped.path)) });
    }
    for (const issue of parsed.error.issues) {
      const mapped = userPath(issue.path, origins);
      const found = valueAt(document, issue.path);
      const lastKey = [...issue.path].reverse().find((k) => typeof k === 'string');
      const secret = (typeof lastKey === 'string' && SECRET_KEY.test(lastKey)) || interpolated.interpolatedPaths.has(pathKey(mapped.path));
      const message = describeIssue(issue, found, secret);
      issues.push({
        path: formatConfigPath(mapped.path),
        message: mapped.preset ? `${message} (in preset ${mapped.preset}'s mapping; override it in your target)` : message,
        ...(mapped.preset ? {} : positionOf(ctx, mapped.path)),
      });
    }
    throw new ConfigError(source, issues);
  }

  // Compile every target: expressions and matching are checked here, so `validate` finds them all.
  parsed.data.targets.forEach((target, i) => {
    for (const err of compileTargetReport(target, ['targets', i]).errors) {
      const rawPath = err.path;
      const mapped = userPath(rawPath, origins);
      const filePos = mapped.preset ? {} : positionOf(ctx, mapped.path);
      issues.push({
        path: formatConfigPath(mapped.path),
        message: mapped.preset ? `${err.message} (in preset ${mapped.preset}'s mapping)` : err.message,
        ...filePos,
      });
    }
  });
  if (issues.length) throw new ConfigError(source, issues);
  return parsed.data;
}

/** Read and validate a configuration file (YAML or JSON). */
export async function loadConfig(path: string, options: LoadOptions = {}): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new EntraSyncError(
      'CONFIG_UNREADABLE',
      code === 'ENOENT' ? `configuration file ${path} does not exist` : `cannot read configuration file ${path}: ${(err as Error).message}`,
      { file: path },
      { cause: err },
    );
  }
  return parseConfig(text, path, options.env ?? process.env);
}
