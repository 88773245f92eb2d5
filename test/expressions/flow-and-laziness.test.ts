// Flow decisions (IgnoreFlowIfNullOrEmpty, IgnoreAttributeFlow, IgnoreObjectFlow) and lazy branches.
import { describe, expect, it } from 'vitest';
import { evaluateExpression } from '../../src/expressions/index.js';

describe('flow decisions', () => {
  it('drop the attribute when the wrapped value is null, "" or an empty list', () => {
    for (const department of [undefined, '', []]) {
      expect(evaluateExpression('IgnoreFlowIfNullOrEmpty([department])', { department })).toEqual({ value: null, flow: 'ignoreAttribute' });
    }
  });

  it('decide for the whole expression even when nested inside other functions', () => {
    expect(evaluateExpression('ToUpper(Join(",", IgnoreFlowIfNullOrEmpty([a]), [b]))', { b: 'x' }).flow).toBe('ignoreAttribute');
    expect(evaluateExpression('Append(IIF([type]="Guest", IgnoreObjectFlow, "member-"), [upn])', { type: 'Guest', upn: 'g@x' }).flow).toBe('ignoreObject');
    expect(evaluateExpression('Append(IIF([type]="Guest", IgnoreObjectFlow, "member-"), [upn])', { type: 'Member', upn: 'm@x' })).toEqual({ value: 'member-m@x', flow: 'flow' });
  });

  it('pass through IIF and Switch branches untouched', () => {
    expect(evaluateExpression('Switch([kind], IgnoreAttributeFlow, "a", "A")', { kind: 'b' }).flow).toBe('ignoreAttribute');
    expect(evaluateExpression('Switch([kind], IgnoreAttributeFlow, "a", "A")', { kind: 'a' }).value).toBe('A');
  });
});

describe('lazy evaluation', () => {
  it('IIF evaluates only the branch it takes', () => {
    // The untaken branch would fail (unreadable date); it must not be evaluated.
    expect(evaluateExpression('IIF(IsPresent([d]), CDate([d]), "none")', { d: '' }).value).toBe('none');
  });

  it('Switch evaluates only the matching value and the default only when nothing matches', () => {
    // The SuccessFactors pattern: an untaken default that would fail must not run (reference §3.4 point 4).
    const expression = 'Switch([endDate], NumFromDate(CDate([endDate])), "", "9223372036854775807")';
    expect(evaluateExpression(expression, { endDate: '' }).value).toBe('9223372036854775807');
    expect(evaluateExpression(expression, { endDate: '2025-12-31T23:59:59Z' }).value).toBe('134116991990000000');
  });

  it('Switch with computed keys compares them in order', () => {
    expect(evaluateExpression('Switch([x], "none", [a], "first", [b], "second")', { x: 'k', a: 'z', b: 'k' }).value).toBe('second');
  });
});
