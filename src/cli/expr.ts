// `entra-sync expr`: evaluate an Entra mapping expression against a user, locally — the admin's
// replacement for the portal's expression builder. `--explain` shows every sub-result.
import { readFile } from 'node:fs/promises';
import { EntraSyncError } from '../errors.js';
import {
  compileExpression, explainExpression, ExpressionError, type EvaluateOptions, type EvaluationResult, type ExplainedNode,
} from '../expressions/index.js';
import { REDACTED } from '../engine/redaction.js';
import { SEED_MAPPING_SETS } from '../expressions/seed-mappings.js';
import { exitCodesHelp } from './exit-codes.js';
import { parseArgs } from './output.js';

export const summary = 'evaluate a mapping expression against a user (the expression builder, offline)';

const HELP = `usage: entra-sync expr '<expression>' [options]
       entra-sync expr --mappings docuware|document360 [options]

Evaluates an expression in Entra ID's attribute-mapping language and prints the result.

options:
  --user <file.json>        attributes of the user, Graph-shaped ({"userPrincipalName": …, "mail": …});
                            "id" is also read as objectId
  --attr name=value         set one attribute to a string (repeatable; overrides --user)
  --attr name:=<json>       set one attribute to a JSON value: true, null, ["a","b"] …
  --now <ISO date>          the clock for Now() (default: the current time)
  --default-domain <name>   the tenant's default domain, for DefaultDomain()
  --mappings <set>          evaluate a vendor guide's mapping set instead of one expression
  --explain                 print the evaluation tree with every sub-result
  --json                    print JSON (the result object, or the explanation tree)
  --reveal                  print values produced through Redact() instead of [redacted]

${exitCodesHelp({ 0: 'evaluated', 1: 'an expression or input error' }).trimEnd()}`;

type Attributes = Record<string, unknown>;

async function loadAttributes(options: Record<string, string | true | string[]>): Promise<Attributes> {
  const attributes: Attributes = {};
  const file = options.user;
  if (typeof file === 'string') {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new EntraSyncError('CLI_INPUT', `cannot read the user file: ${(err as Error).message}`, { file });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new EntraSyncError('CLI_INPUT', `the user file is not JSON: ${(err as Error).message}`, { file });
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new EntraSyncError('CLI_INPUT', 'the user file must hold one JSON object of attributes', { file });
    }
    Object.assign(attributes, parsed);
    // Graph calls the object id "id"; mappings call it objectId.
    if (attributes.objectId === undefined && typeof attributes.id === 'string') attributes.objectId = attributes.id;
  }
  const attrs = options.attr;
  for (const pair of Array.isArray(attrs) ? attrs : []) {
    const json = /^([^=:]+):=(.*)$/s.exec(pair);
    if (json) {
      try {
        attributes[json[1]!] = JSON.parse(json[2]!);
      } catch {
        throw new EntraSyncError('CLI_USAGE', `--attr ${json[1]}:= needs a JSON value, e.g. true, null or ["a","b"]`);
      }
      continue;
    }
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new EntraSyncError('CLI_USAGE', `--attr expects name=value, not "${pair}"`);
    attributes[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return attributes;
}

function evaluateOptions(options: Record<string, string | true | string[]>): EvaluateOptions {
  const out: EvaluateOptions = {};
  if (typeof options.now === 'string') {
    const now = new Date(options.now);
    if (Number.isNaN(now.getTime())) throw new EntraSyncError('CLI_USAGE', `--now "${options.now}" is not an ISO date such as 2024-05-01T08:00:00Z`);
    out.now = now;
  }
  if (typeof options['default-domain'] === 'string') out.defaultDomain = options['default-domain'];
  return out;
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function showResult(result: EvaluationResult, reveal: boolean): string {
  if (result.flow === 'ignoreAttribute') return '(attribute not flowed: IgnoreFlowIfNullOrEmpty/IgnoreAttributeFlow)';
  if (result.flow === 'ignoreObject') return '(object skipped: IgnoreObjectFlow)';
  if (result.redacted && !reveal) return REDACTED;
  return show(result.value);
}

function redactTree(node: ExplainedNode): ExplainedNode {
  return { ...node, ...(node.status === 'value' && node.value !== null ? { value: REDACTED } : {}), children: node.children.map(redactTree) };
}

function renderTree(node: ExplainedNode, redacted: boolean, reveal: boolean): string[] {
  const lines: string[] = [];
  const label = (n: ExplainedNode): string => {
    if (n.status === 'literal') return n.text;
    if (n.status === 'notEvaluated') return `${n.text}   (not evaluated)`;
    if (n.status === 'error') return `${n.text}   ✗ ${n.error}`;
    if (n.flow) return `${n.text}   → ${n.flow === 'ignoreAttribute' ? 'ignore attribute' : 'ignore object'}`;
    const value = redacted && !reveal ? REDACTED : n.value === null ? 'null' : JSON.stringify(n.value);
    return `${n.text}   → ${value}`;
  };
  const walk = (n: ExplainedNode, prefix: string, childPrefix: string): void => {
    lines.push(prefix + label(n));
    n.children.forEach((child, i) => {
      const last = i === n.children.length - 1;
      walk(child, childPrefix + (last ? '└─ ' : '├─ '), childPrefix + (last ? '   ' : '│  '));
    });
  };
  walk(node, '', '');
  return lines;
}

export async function run(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgs(argv, {
    flags: ['json', 'explain', 'reveal', 'help'],
    values: ['user', 'now', 'default-domain', 'mappings'],
    repeatable: ['attr'],
    positionals: true,
  });
  if (options.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const setName = typeof options.mappings === 'string' ? options.mappings : undefined;
  const set = setName === undefined ? undefined : SEED_MAPPING_SETS[setName.toLowerCase()];
  if (setName !== undefined && !set) {
    throw new EntraSyncError('CLI_USAGE', `--mappings must be one of ${Object.keys(SEED_MAPPING_SETS).join(', ')}`);
  }
  if (set ? positionals.length > 0 : positionals.length !== 1) {
    process.stderr.write(`${HELP}\n`);
    return 2;
  }
  const attributes = await loadAttributes(options);
  const evalOptions = evaluateOptions(options);
  const reveal = options.reveal === true;
  const mappings = set ?? [{ target: '', expression: positionals[0]! }];

  if (options.explain) {
    const explained = mappings.map((m) => ({ target: m.target, ...explainExpression(m.expression, attributes, evalOptions) }));
    if (options.json) {
      const out = explained.map((e) => {
        const hidden = e.redacted && !reveal;
        return {
          target: e.target || undefined,
          result: e.result && hidden ? { ...e.result, value: REDACTED } : e.result,
          error: e.error && { code: e.error.code, message: e.error.message },
          tree: hidden ? redactTree(e.tree) : e.tree,
        };
      });
      process.stdout.write(`${JSON.stringify(set ? out : out[0], null, 2)}\n`);
    } else {
      for (const e of explained) {
        if (e.target) process.stdout.write(`${e.target}:\n`);
        process.stdout.write(`${renderTree(e.tree, e.redacted, reveal).join('\n')}\n`);
        if (e.result) process.stdout.write(`= ${showResult(e.result, reveal)}\n`);
        if (set) process.stdout.write('\n');
      }
    }
    const failed = explained.find((e) => e.error);
    if (failed?.error) {
      process.stderr.write(`error ${failed.error.code}: ${failed.error.message}\n`);
      return 1;
    }
    return 0;
  }

  // In a mapping set one failing mapping is reported without hiding the others.
  const results = mappings.map((m) => {
    try {
      return { target: m.target, expression: m.expression, result: compileExpression(m.expression).evaluate(attributes, evalOptions) };
    } catch (err) {
      if (!set || !(err instanceof ExpressionError)) throw err;
      return { target: m.target, expression: m.expression, error: err };
    }
  });
  const hide = (r: EvaluationResult): EvaluationResult => (r.redacted && !reveal ? { ...r, value: REDACTED } : r);
  const failed = results.some((r) => r.error);
  if (options.json) {
    const out = set
      ? Object.fromEntries(results.map((r) => [r.target, r.result ? hide(r.result) : { error: { code: r.error!.code, message: r.error!.message } }]))
      : hide(results[0]!.result!);
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return failed ? 1 : 0;
  }
  if (!set) {
    process.stdout.write(`${showResult(results[0]!.result!, reveal)}\n`);
    return 0;
  }
  const rows = results.map((r) => ({
    target: r.target,
    shown: r.result ? showResult(r.result, reveal) : `✗ ${r.error!.code}: ${r.error!.message.split('\n')[0]}`,
    expression: r.expression,
  }));
  const targetWidth = Math.max(...rows.map((r) => r.target.length));
  const valueWidth = Math.max(...rows.map((r) => r.shown.length));
  for (const r of rows) {
    process.stdout.write(`${r.target.padEnd(targetWidth)}  ${r.shown.padEnd(valueWidth)}  ← ${r.expression}\n`);
  }
  return failed ? 1 : 0;
}
