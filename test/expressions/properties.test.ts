// Properties over random input: only ExpressionError ever escapes, print→parse round-trips, and
// evaluation is total over random attribute bags.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ExpressionNode } from '../../src/expressions/ast.js';
import {
  compileExpression, ExpressionError, FUNCTION_NAMES, parseExpression, printExpression,
} from '../../src/expressions/index.js';
import { DOCUMENT360_USER_MAPPINGS, DOCUWARE_USER_MAPPINGS } from '../../src/expressions/seed-mappings.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/expressions/microsoft-examples.json', import.meta.url), 'utf8')) as { examples: { expression: string }[] };

/** Removes positions so trees from different texts compare by structure. */
function shape(node: ExpressionNode): unknown {
  const { start: _s, end: _e, ...rest } = node;
  if (node.kind === 'call') return { ...rest, args: node.args.map(shape) };
  if (node.kind === 'comparison') return { ...rest, left: shape(node.left), right: shape(node.right) };
  return rest;
}

const ATTRIBUTE_NAMES = ['userPrincipalName', 'mail', 'IsSoftDeleted', 'jobTitle', 'givenName', 'proxyAddresses', 'objectId', 'extension_abc_x'];
const attributeValue = fc.oneof(
  fc.constant(null), fc.string(), fc.boolean(), fc.integer(), fc.double(),
  fc.constantFrom('', 'True', 'False', '2024-02-29T10:00:00Z', '1', '0', '-3', 'a@b.c', '129699324000000000'),
  fc.array(fc.oneof(fc.string(), fc.constant(null)), { maxLength: 3 }),
  fc.constant(undefined),
);
const attributeBag = fc.dictionary(fc.constantFrom(...ATTRIBUTE_NAMES), attributeValue);

const nameArb = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,8}$/);
const numberText = fc.tuple(fc.boolean(), fc.nat({ max: 99999 }), fc.option(fc.nat({ max: 999 }), { nil: undefined }))
  .map(([neg, int, dec]) => `${neg ? '-' : ''}${int}${dec === undefined ? '' : `.${dec}`}`);

function trees(functionName: fc.Arbitrary<string>) {
  // Generated nodes carry no positions; printExpression does not read them.
  return fc.letrec<{ node: unknown; operand: unknown; arg: unknown }>((tie) => ({
    operand: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.record({ kind: fc.constant('attribute' as const), name: fc.string({ minLength: 1 }).filter((s) => !s.includes(']') && s.trim() !== '') }),
      fc.record({ kind: fc.constant('string' as const), value: fc.string() }),
      fc.record({ kind: fc.constant('number' as const), text: numberText }),
      fc.nat({ max: 0xffffff }).map((v) => ({ kind: 'hex' as const, text: `&H${v.toString(16).toUpperCase()}`, value: v })),
      fc.record({ kind: fc.constant('identifier' as const), name: fc.constantFrom('vbTextCompare', 'vbBinaryCompare', 'IgnoreAttributeFlow', 'IgnoreObjectFlow', 'UTF8') }),
      fc.record({ kind: fc.constant('call' as const), name: functionName, args: fc.array(tie('arg'), { maxLength: 5 }) })
        .filter((c) => !(c.args.length === 1 && (c.args[0] as { kind: string }).kind === 'empty')),
    ),
    node: fc.oneof(
      { depthSize: 'small' },
      tie('operand'),
      fc.record({ kind: fc.constant('comparison' as const), operator: fc.constantFrom('=', '<>', '>', '>=', '<', '<=' as const), left: tie('operand'), right: tie('operand') }),
    ),
    arg: fc.oneof({ depthSize: 'small' }, tie('node'), fc.constant({ kind: 'empty' as const })),
  })).node.map((n) => n as ExpressionNode);
}

// Positions are irrelevant to printing; the generated trees carry none.
const anyTree = trees(nameArb);
const libraryTree = trees(fc.constantFrom(...FUNCTION_NAMES));

function onlyExpressionErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    // evaluate() wraps an internal bug as EXPR_RUNTIME with the raw exception as cause; that is a failure here.
    if (err.cause !== undefined) throw err.cause;
  }
}

describe('properties', () => {
  it('any text either compiles or fails with an ExpressionError', () => {
    const alphabet = fc.constantFrom(...'[]()",\\ &H=<>-.0123456789abcIIFSwitchItemSplit\n\t%\''.split(''));
    fc.assert(fc.property(fc.oneof(fc.string(), fc.string({ unit: alphabet, maxLength: 60 })), (text) => {
      onlyExpressionErrors(() => compileExpression(text));
    }), { numRuns: 3000 });
  });

  it('printing a tree and parsing it back gives the same tree, and printing is stable', () => {
    fc.assert(fc.property(anyTree, (tree) => {
      const printed = printExpression(tree);
      const reparsed = parseExpression(printed);
      expect(shape(reparsed)).toEqual(shape({ ...tree, start: 0, end: 0 } as ExpressionNode));
      expect(printExpression(reparsed)).toBe(printed);
    }), { numRuns: 1500 });
  });

  it('random calls of real functions over random attribute bags never throw anything but ExpressionError', () => {
    fc.assert(fc.property(libraryTree, attributeBag, fc.date({ noInvalidDate: true }), (tree, bag, now) => {
      onlyExpressionErrors(() => {
        const compiled = compileExpression(printExpression(tree));
        const result = compiled.evaluate(bag, { now, defaultDomain: 'contoso.com', valueExists: () => false });
        expect(['flow', 'ignoreAttribute', 'ignoreObject']).toContain(result.flow);
        JSON.stringify(result);
      });
    }), { numRuns: 3000 });
  });

  it('every documented example is total over random attribute bags', () => {
    const compiled = fixture.examples.map((e) => compileExpression(e.expression));
    fc.assert(fc.property(attributeBag, (bag) => {
      for (const c of compiled) onlyExpressionErrors(() => c.evaluate(bag, { defaultDomain: 'contoso.com' }));
    }), { numRuns: 300 });
  });

  it('the seed mappings never fail for any single-valued user', () => {
    const mappings = [...DOCUWARE_USER_MAPPINGS, ...DOCUMENT360_USER_MAPPINGS].map((m) => compileExpression(m.expression));
    const scalar = fc.oneof(fc.constant(null), fc.string(), fc.boolean(), fc.constant(undefined));
    const user = fc.record({ userPrincipalName: scalar, mail: scalar, IsSoftDeleted: scalar, objectId: scalar, jobTitle: scalar });
    fc.assert(fc.property(user, (bag) => {
      for (const m of mappings) {
        const result = m.evaluate(bag);
        expect(result.flow).toBe('flow');
        expect(result.value === null || typeof result.value === 'string' || typeof result.value === 'boolean').toBe(true);
      }
    }), { numRuns: 2000 });
  });
});
