// Where Microsoft's docs contradict themselves we chose one behaviour (docs/expressions.md,
// "Choices where the docs disagree"); these tests pin each choice.
import { describe, expect, it } from 'vitest';
import { evaluateExpression } from '../../src/expressions/index.js';

const value = (expression: string, attributes: Record<string, unknown> = {}) => evaluateExpression(expression, attributes).value;

describe('IIF over null and empty values', () => {
  // The docs call these "unsupported" (the condition check fails), yet Microsoft's own default mappings use them.
  it('compares a missing attribute as ""', () => {
    expect(value('IIF([country]="","Other",[country])')).toBe('Other');
    expect(value('IIF([country]="","Other",[country])', { country: 'DE' })).toBe('DE');
  });
  it('IsNullOrEmpty and IsPresent work as conditions', () => {
    expect(value('IIF(IsNullOrEmpty([country]),"Other",[country])', { country: '' })).toBe('Other');
    expect(value('IIF(IsPresent([country]),[country],"Other")')).toBe('Other');
    expect(value('IIF(IsPresent([country]),[country],"Other")', { country: 'FR' })).toBe('FR');
  });
  it('a missing condition is false, not an error', () => {
    expect(value('IIF([flag], "yes", "no")')).toBe('no');
  });
});

describe('Coalesce and empty strings', () => {
  it('skips "" as well as null (the docs example v174 needs it)', () => {
    expect(value('Coalesce([preferredName], Join(", ", [surname], [givenName]))', { preferredName: '', surname: 'Smith', givenName: 'Robert' })).toBe('Smith, Robert');
  });
  it('returns "" when every source is null or "", and null when every source is null', () => {
    expect(value('Coalesce([a], [b], "")')).toBe('');
    expect(value('Coalesce([a], [b])', { a: '' })).toBe('');
    expect(value('Coalesce([a], [b])')).toBeNull();
  });
});

describe('Item out of range', () => {
  it('returns null (the attribute is not flowed), not an error that would hold the whole user back', () => {
    expect(value('Item([proxyAddresses], 3)', { proxyAddresses: ['a', 'b'] })).toBeNull();
    expect(value('Item(Split([upn], "@"), 2)', { upn: 'no-at-sign' })).toBeNull();
    expect(evaluateExpression('IgnoreFlowIfNullOrEmpty(Item([proxyAddresses], 2))', { proxyAddresses: ['a'] }).flow).toBe('ignoreAttribute');
  });
  it('reads a single value as a list of one', () => {
    expect(value('Item([mail], 1)', { mail: 'a@b.c' })).toBe('a@b.c');
  });
});

describe('Split does not trim (v058)', () => {
  it('keeps the space after the comma, as .NET String.Split does', () => {
    expect(value('Split([x], ",")', { x: 'a, b' })).toEqual(['a', ' b']);
  });
});

describe('Replace with a replacement attribute (pre-2023 docs say the opposite)', () => {
  it('returns the source when it has a value and extracts from the replacement attribute only when it is empty', () => {
    const expression = 'Replace([telephoneNumber], , "\\\\+(?<isd>\\\\d* )(?<phone>\\\\d{10})", "phone", , [mobile], )';
    expect(value(expression, { telephoneNumber: '+1 5551234567', mobile: '+91 8887779999' })).toBe('+1 5551234567');
    expect(value(expression, { mobile: '+91 8887779999' })).toBe('8887779999');
  });
});

describe('booleans', () => {
  it('read as "True"/"False" wherever they are used as text', () => {
    expect(value('Join("|", [accountEnabled], Not([accountEnabled]), IsNull([x]))', { accountEnabled: true })).toBe('True|False|True');
    expect(value('Switch([accountEnabled], "?", "True", "enabled", "False", "disabled")', { accountEnabled: false })).toBe('disabled');
  });
  it('come back as booleans from boolean functions, so a boolean target attribute gets a boolean', () => {
    expect(value('Not([IsSoftDeleted])', { IsSoftDeleted: 'False' })).toBe(true);
    expect(value('CBool([a] = [b])', { a: '1', b: '2' })).toBe(false);
  });
});

describe('Int64 from NumFromDate', () => {
  it('is a string of digits: exact beyond 2^53 and safe to put in JSON', () => {
    const result = evaluateExpression('NumFromDate("9999-12-31T23:59:59.9999999Z")', {});
    expect(result.value).toBe('2650467743999999999');
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    expect(BigInt(result.value as string) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
  });
});

describe('functions over missing values', () => {
  it.each([
    ['Left([x], 3)', ''],
    ['Word([x], 1, " ")', ''],
    ['Len([x])', 0],
    ['Count([x])', 0],
    ['InStr([x], "a")', 0],
    ['Join(",", [x], [y])', ''],
    ['Append([x], "-suffix")', '-suffix'],
    ['Mid([x], 1, 2)', null],
    ['ToLower([x])', null],
    ['Replace([x], "a", , , "b", , )', null],
    ['Split([x], ",")', null],
    ['CDate([x])', null],
    ['FormatDateTime([x], , "yyyy", "yy")', null],
    ['NumFromDate([x])', null],
    ['NormalizeDiacritics([x])', null],
    ['IsString([x])', false],
  ])('%s → %j', (expression, expected) => {
    expect(value(expression)).toEqual(expected);
  });
});
