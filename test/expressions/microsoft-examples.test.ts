// Every worked example in Microsoft's expression docs evaluates to the documented result (or, where the
// page prints a wrong result, to the right one; each such row says why in `note`).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateExpression, type EvaluateOptions } from '../../src/expressions/index.js';

interface Example {
  source: string;
  expression: string;
  attributes: Record<string, unknown>;
  expected: unknown;
  flow?: 'ignoreAttribute' | 'ignoreObject';
  redacted?: boolean;
  now?: string;
  defaultDomain?: string;
  existing?: string[];
  docStated?: unknown;
  note?: string;
}

const load = (name: string) => (JSON.parse(readFileSync(new URL(`../fixtures/expressions/${name}`, import.meta.url), 'utf8')) as { examples: Example[] }).examples;

describe.each([
  ['Microsoft documentation examples', load('microsoft-examples.json')],
  ["Microsoft's Workday expression guide", load('workday-guide-examples.json')],
])('%s', (_title, examples) => {
  it.each(examples.map((e) => [`${e.source}: ${e.expression.replace(/\s+/g, ' ')}`, e] as const))('%s', (_name, example) => {
    const options: EvaluateOptions = {};
    if (example.now) options.now = new Date(example.now);
    if (example.defaultDomain) options.defaultDomain = example.defaultDomain;
    if (example.existing) {
      const existing = new Set(example.existing);
      options.valueExists = (v) => existing.has(v);
    }
    const result = evaluateExpression(example.expression, example.attributes, options);
    expect(result.value).toEqual(example.expected);
    expect(result.flow).toBe(example.flow ?? 'flow');
    if (example.redacted) expect(result.redacted).toBe(true);
    if (example.docStated !== undefined) {
      // Rows where the page is wrong carry the reason, and really differ from what the page prints.
      expect(example.note).toBeTruthy();
      expect(result.value).not.toEqual(example.docStated);
    }
  });
});
