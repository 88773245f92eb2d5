// Typing mapped values for the target, and comparing them so unchanged objects yield no operation.
import { describe, expect, it } from 'vitest';
import { attributesHash, convertValue, valuesEqual, ValueConversionError } from '../../src/engine/values.js';

describe('convertValue', () => {
  it.each([
    ['True', 'Boolean', true],
    ['false', 'Boolean', false],
    [true, 'Boolean', true],
    ['42', 'Integer', 42],
    ['-7', 'Integer', -7],
    ['9223372036854775807', 'Integer', '9223372036854775807'], // Int64 beyond 2^53 stays exact
    [true, 'String', 'True'],
    [12, 'String', '12'],
    ['7/2/2021 3:33:38 PM', 'DateTime', '2021-07-02T15:33:38Z'], // Entra's DateTime rendering, UTC
    ['2024-05-01T08:00:00.000Z', 'DateTime', '2024-05-01T08:00:00Z'],
    ['2024-05-01', 'DateTime', '2024-05-01T00:00:00Z'],
    [{ id: 'm-1' }, 'Reference', 'm-1'],
    ['m-2', 'Reference', 'm-2'],
    [null, 'String', null],
    ['', 'Boolean', null],
    [['a', '', 'b'], 'String', ['a', 'b']],
  ] as const)('%j as %s → %j', (value, type, expected) => {
    expect(convertValue(value, type)).toEqual(expected);
  });

  it.each([
    ['yes', 'Boolean'],
    ['4.2', 'Integer'],
    ['soon', 'DateTime'],
    [{ a: 1 }, 'String'],
  ] as const)('%j cannot be a %s', (value, type) => {
    expect(() => convertValue(value, type)).toThrow(ValueConversionError);
  });
});

describe('valuesEqual', () => {
  it('compares after conversion to the target type', () => {
    expect(valuesEqual(true, 'True', 'Boolean')).toBe(true);
    expect(valuesEqual(42, '42', 'Integer')).toBe(true);
    expect(valuesEqual('2024-05-01T08:00:00Z', '2024-05-01T08:00:00.000Z', 'DateTime')).toBe(true);
  });
  it('is exact for strings (case matters)', () => {
    expect(valuesEqual('Ada@contoso.com', 'ada@contoso.com', 'String')).toBe(false);
  });
  it('treats null, absent and empty alike', () => {
    expect(valuesEqual(null, undefined)).toBe(true);
    expect(valuesEqual('', null, 'String')).toBe(true);
    expect(valuesEqual('x', null)).toBe(false);
  });
  it('compares lists and objects by content', () => {
    expect(valuesEqual(['a', 'b'], ['a', 'b'])).toBe(true);
    expect(valuesEqual(['a', 'b'], ['b', 'a'])).toBe(false);
    expect(valuesEqual({ b: 1, a: 2 }, { a: 2, b: 1 })).toBe(true);
  });
});

describe('attributesHash', () => {
  it('does not depend on key order and changes with any value', () => {
    expect(attributesHash({ a: 1, b: 'x' })).toBe(attributesHash({ b: 'x', a: 1 }));
    expect(attributesHash({ a: 1, b: 'x' })).not.toBe(attributesHash({ a: 1, b: 'y' }));
  });
});
