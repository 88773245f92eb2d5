// Replace's five forms and .NET regex semantics on JavaScript's engine.
import { describe, expect, it } from 'vitest';
import { evaluateExpression } from '../../src/expressions/index.js';

const value = (expression: string, attributes: Record<string, unknown> = {}) => evaluateExpression(expression, attributes).value;

describe('Replace', () => {
  it('replaces every occurrence of a plain oldValue, case-sensitively, with no regex meaning', () => {
    expect(value('Replace([x], ".", , , "_", , )', { x: 'a.b.c' })).toBe('a_b_c');
    expect(value('Replace([x], "A", , , "_", , )', { x: 'aAa' })).toBe('a_a');
  });

  it('puts the source into every oldValue of the template', () => {
    expect(value('Replace([x], "{u}", , , , , "{u}@contoso.com; {u}@fabrikam.com")', { x: 'jo' })).toBe('jo@contoso.com; jo@fabrikam.com');
  });

  it('expands .NET substitutions: numbered, named, $$, $&', () => {
    expect(value('Replace([x], , "(\\\\w+)@(?<d>.+)", , "$1 at ${d} ($$) [$&]", , )', { x: 'jo@contoso.com' })).toBe('jo at contoso.com ($) [jo@contoso.com]');
    expect(value('Replace([x], , "(?<a>x)", , "${missing}", , )', { x: 'x' })).toBe('${missing}');
  });

  it('replaces every match, empty matches included, like Regex.Replace', () => {
    expect(value('Replace([x], , "a*", , "-", , )', { x: 'baac' })).toBe('-b--c-');
  });

  it('supports lookahead, lazy quantifiers and a leading (?i)', () => {
    expect(value('Replace([dn], , "^.*?,(?=(?:CN|OU|DC)=)", , "", , )', { dn: 'CN=Doe\\, John,OU=Sales,DC=contoso' })).toBe('OU=Sales,DC=contoso');
    expect(value('Replace([x], , "(?i)smtp:", , "", , )', { x: 'SMTP:a@b.c' })).toBe('a@b.c');
  });

  it('rewrites .NET-only anchors and quoted group names', () => {
    expect(value('Replace([x], , "\\\\Aab", , "X", , )', { x: 'abab' })).toBe('Xab');
    expect(value('Replace([x], , "(?\'n\'\\\\d+)", "n", "#", , )', { x: 'a1b22' })).toBe('a#b#');
  });

  it('reports constructs JavaScript cannot run instead of matching something else', () => {
    expect(() => value('Replace([x], , "(?>a+)b", , "", , )', { x: 'a' })).toThrow(/atomic groups/);
    expect(() => value('Replace([x], , "[a-z-[aeiou]]", , "", , )', { x: 'a' })).toThrow(/subtraction/);
    expect(() => value('Replace([x], , "a(?i)b", , "", , )', { x: 'a' })).toThrow(/only at the start/);
  });

  it('a computed pattern is checked at run time and named in the error', () => {
    expect(() => value('Replace([x], , [pattern], , "", , )', { x: 'a', pattern: '(' })).toThrow(/Replace: the regular expression cannot be used.*\(from \[pattern\]\)/);
  });

  it('a named group that the pattern lacks is an error, not a silent no-op', () => {
    expect(() => value('Replace([x], , "(?<a>\\\\d)", "b", "#", , )', { x: '1' })).toThrow(/no group named "b"/);
  });

  it('unknown single-backslash escapes reach the regex as written (Workday guide v109–v111)', () => {
    expect(value('Replace([x], , "\\+(?<isd>49|44) ", , "00${isd}-", , )', { x: '+49 301234' })).toBe('0049-301234');
  });
});
