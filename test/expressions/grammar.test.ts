// What the parser accepts: Microsoft's grammar as its examples use it, with positions on every node.
import { describe, expect, it } from 'vitest';
import { evaluateExpression, ExpressionError, MAX_EXPRESSION_LENGTH, parseExpression, printExpression } from '../../src/expressions/index.js';

const value = (expression: string, attributes: Record<string, unknown> = {}) => evaluateExpression(expression, attributes).value;

describe('expression grammar', () => {
  it('reads attribute names with any character but ], case-sensitively', () => {
    expect(value('[extension_9a8b7c6d5e4f_costCenter]', { extension_9a8b7c6d5e4f_costCenter: 'CC-42' })).toBe('CC-42');
    expect(value('[odd name (with) "chars", =]', { 'odd name (with) "chars", =': 'x' })).toBe('x');
    expect(value('[Mail]', { mail: 'a@b.c' })).toBeNull();
  });

  it('unescapes \\" and \\\\ and keeps any other backslash escape as written', () => {
    expect(value('"Company name: \\"Contoso\\""')).toBe('Company name: "Contoso"');
    expect(value('"a\\\\b"')).toBe('a\\b');
    expect(value('"\\+49 \\d \\,"')).toBe('\\+49 \\d \\,');
  });

  it('keeps number literals as their text and reads VB hex literals', () => {
    expect(value('Join("", 1000, -10, 42568.75)')).toBe('1000-1042568.75');
    expect(value('BitAnd(&hFF, 15)')).toBe(15);
  });

  it('accepts empty arguments anywhere, including trailing ones', () => {
    expect(value('Switch([x], , "a", "1")', { x: 'a' })).toBe('1');
    expect(value('Replace([x],"-",,,"_",,)', { x: 'a-b' })).toBe('a_b');
    const tree = parseExpression('Replace([x], "-", , , "_", , )');
    expect(tree.kind === 'call' && tree.args.map((a) => a.kind)).toEqual(['attribute', 'string', 'empty', 'empty', 'string', 'empty', 'empty']);
  });

  it('matches function names in any case and allows space before the parenthesis', () => {
    expect(value('switch([x], "d", "a", "1")', { x: 'z' })).toBe('d');
    expect(value('Instr("abc", "c")')).toBe(3);
    expect(value('Append ("a", "b")')).toBe('ab');
  });

  it('reads comparisons inside arguments and as a whole expression', () => {
    expect(value('IIF([n] >= 10, "big", "small")', { n: '9' })).toBe('small');
    expect(value('IIF([n] >= 10, "big", "small")', { n: '10' })).toBe('big');
    expect(value('[a] <> [b]', { a: 'x', b: 'y' })).toBe(true);
    expect(value('Len([a]) < 3', { a: 'abcd' })).toBe(false);
  });

  it('ignores spaces, tabs and line breaks between tokens', () => {
    expect(value('Join(\r\n\t" ",\n  [givenName] ,\n  [surname]\n)', { givenName: 'John', surname: 'Doe' })).toBe('John Doe');
  });

  it('knows the bare constants', () => {
    expect(value('InStr("ABC", "b", 1, vbTextCompare)')).toBe(2);
    expect(value('InStr("ABC", "b", 1, vbBinaryCompare)')).toBe(0);
    expect(evaluateExpression('IIF([x]="skip", IgnoreObjectFlow, [x])', { x: 'skip' }).flow).toBe('ignoreObject');
    expect(evaluateExpression('IIF([x]="", IgnoreAttributeFlow, [x])', { x: '' }).flow).toBe('ignoreAttribute');
  });

  it('accepts exactly 10,000 characters and rejects 10,001', () => {
    const pad = (n: number) => `"${'a'.repeat(n - 2)}"`;
    expect(value(pad(MAX_EXPRESSION_LENGTH))).toHaveLength(MAX_EXPRESSION_LENGTH - 2);
    expect(() => parseExpression(pad(MAX_EXPRESSION_LENGTH + 1))).toThrow(expect.objectContaining({ code: 'EXPR_TOO_LONG' }));
  });

  it('records source spans on every node', () => {
    const tree = parseExpression('Item(Split([upn], "@"), 1)');
    expect(tree).toMatchObject({ kind: 'call', start: 0, end: 26 });
    if (tree.kind !== 'call') throw new Error('expected a call');
    expect(tree.args[0]).toMatchObject({ kind: 'call', name: 'Split', start: 5, end: 22 });
    expect(tree.args[1]).toMatchObject({ kind: 'number', text: '1', start: 24, end: 25 });
  });

  it('prints a tree that parses back to the same tree', () => {
    const source = 'Switch([x], , "a\\"b", IIF([n]<>1, "\\\\", Replace([y], , "\\d+", , "${0}", , )), "k", &HF)';
    const printed = printExpression(parseExpression(source));
    expect(printed).toBe('Switch([x], , "a\\"b", IIF([n] <> 1, "\\\\", Replace([y], , "\\\\d+", , "${0}", , )), "k", &HF)');
    expect(printExpression(parseExpression(printed))).toBe(printed);
  });

  it('rejects what is not part of the language with a syntax error', () => {
    for (const bad of ['"t-" & [alias]', "'single'", 'Append("@", %DomainFQDN%)', '[a] = [b] = [c]', '(1)', 'Append("a",)x', '']) {
      expect(() => parseExpression(bad), bad).toThrow(ExpressionError);
    }
  });
});
