// Errors a person can act on: code, line and column, a caret under the problem, the function and attribute.
import { describe, expect, it } from 'vitest';
import { compileExpression, evaluateExpression, ExpressionError } from '../../src/expressions/index.js';
import { EntraSyncError } from '../../src/errors.js';

function thrown(fn: () => unknown): ExpressionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ExpressionError);
    expect(err).toBeInstanceOf(EntraSyncError);
    return err as ExpressionError;
  }
  throw new Error('expected an ExpressionError');
}

describe('syntax errors', () => {
  it('name line and column and show the expression with a caret', () => {
    const err = thrown(() => compileExpression('Append([givenName], "x"'));
    expect(err.code).toBe('EXPR_SYNTAX');
    expect(err.where).toEqual({ line: 1, column: 7 });
    expect(err.message).toBe('the call to Append is not closed with ")" at line 1, column 7:\n    Append([givenName], "x"\n          ^');
  });

  it('point into the right line of a multi-line expression', () => {
    const err = thrown(() => compileExpression('Switch([Active], ,\n  "1", "True",\n  "0" "False")'));
    expect(err.where).toEqual({ line: 3, column: 7 });
    expect(err.message).toContain('\n      "0" "False")\n          ^');
  });

  it('explain what to use instead of unsupported syntax', () => {
    expect(thrown(() => compileExpression('"t-" & [alias]')).message).toMatch(/use Append or Join/);
    expect(thrown(() => compileExpression('Append("@", %DomainFQDN%)')).message).toMatch(/DefaultDomain/);
    expect(thrown(() => compileExpression("Switch([x], 'a', 'b', 'c')")).message).toMatch(/double quotes/);
  });
});

describe('compile-time errors', () => {
  it('unknown function, with a suggestion', () => {
    const err = thrown(() => compileExpression('Join(",", Repalce([x], "a", , , "b", , ))'));
    expect(err.code).toBe('EXPR_UNKNOWN_FUNCTION');
    expect(err.where).toEqual({ line: 1, column: 11 });
    expect(err.message).toMatch(/^unknown function "Repalce"; did you mean Replace\? at line 1, column 11:/);
  });

  it('wrong argument count, before anything is evaluated', () => {
    expect(thrown(() => compileExpression('Left([x])'))).toMatchObject({ code: 'EXPR_ARITY', functionName: 'Left' });
    expect(thrown(() => compileExpression('Switch([x], "d", "k")')).message).toMatch(/Switch takes at least 4 arguments but was given 3/);
    expect(thrown(() => compileExpression('Switch([x], "d", "k", "v", "k2")')).message).toMatch(/pairs/);
    expect(thrown(() => compileExpression('Guid(1)')).message).toMatch(/Guid takes 0 arguments but was given 1/);
  });

  it('literal arguments of the wrong type', () => {
    const err = thrown(() => compileExpression('Left([x], "three")'));
    expect(err).toMatchObject({ code: 'EXPR_TYPE', where: { line: 1, column: 11 } });
    expect(err.message).toContain('NumChars must be a number');
    expect(thrown(() => compileExpression('DateAdd("days", 1, Now())')).message).toMatch(/not a date interval/);
    expect(thrown(() => compileExpression('Item([x], 0)')).message).toMatch(/1-based/);
    expect(thrown(() => compileExpression('ToLower([x], "not a culture!")')).code).toBe('EXPR_TYPE');
    expect(thrown(() => compileExpression('Replace([x], , "(unclosed", , "", , )')).code).toBe('EXPR_REGEX');
    expect(thrown(() => compileExpression('RandomString(4, 2, 2, 2, 0)')).message).toMatch(/shorter than the sum/);
    expect(thrown(() => compileExpression('InStr("a", "b", 1, "vbSomething")')).code).toBe('EXPR_TYPE');
  });

  it('an unknown bare name, and a Replace whose filled slots match no form', () => {
    expect(thrown(() => compileExpression('Append([x], vbCrLf)'))).toMatchObject({ code: 'EXPR_UNKNOWN_CONSTANT', where: { column: 13 } });
    expect(thrown(() => compileExpression('Replace([x], "a", "b", , , , )')).message).toMatch(/not one of Replace's forms/);
  });

  it('IgnoreFlowIfNullOrEmpty as the condition of IIF (unsupported per the 2026 reference)', () => {
    const err = thrown(() => compileExpression('IIF(IgnoreFlowIfNullOrEmpty([country]),[country],"Other")'));
    expect(err).toMatchObject({ code: 'EXPR_PLACEMENT', where: { line: 1, column: 5 } });
    expect(err.message).toMatch(/wrap the whole IIF in it instead/);
  });

  it('SelectUniqueValue nested inside another function', () => {
    expect(thrown(() => compileExpression('ToLower(SelectUniqueValue("a", "b"))'))).toMatchObject({ code: 'EXPR_PLACEMENT', where: { column: 9 } });
  });
});

describe('runtime errors', () => {
  it('name the function and the attribute behind the bad value', () => {
    const err = thrown(() => evaluateExpression('FormatDateTime([hireDate], , "yyyy-MM-dd", "dd.MM.yyyy")', { hireDate: '31/12/2024' }));
    expect(err).toMatchObject({ code: 'EXPR_RUNTIME', functionName: 'FormatDateTime', attributes: ['hireDate'] });
    expect(err.message).toMatch(/^FormatDateTime: "31\/12\/2024" does not match the format "yyyy-MM-dd".*\(from \[hireDate\]\) at line 1, column 16$/);
  });

  it('an unreadable date in CDate', () => {
    const err = thrown(() => evaluateExpression('CDate([StatusHireDate])', { StatusHireDate: 'next Tuesday' }));
    expect(err.message).toMatch(/^CDate: "next Tuesday" is not a date/);
    expect(err.attributes).toEqual(['StatusHireDate']);
  });

  it('a multi-valued attribute where one value is needed', () => {
    const err = thrown(() => evaluateExpression('ToUpper([proxyAddresses])', { proxyAddresses: ['a', 'b'] }));
    expect(err).toMatchObject({ code: 'EXPR_TYPE', functionName: 'ToUpper', attributes: ['proxyAddresses'] });
  });

  it('a computed index below 1 in Item', () => {
    expect(thrown(() => evaluateExpression('Item([x], [i])', { x: ['a'], i: '0' })).message).toMatch(/^Item: the index is 1-based/);
  });

  it('DefaultDomain without a configured domain', () => {
    expect(thrown(() => evaluateExpression('DefaultDomain()', {})).message).toMatch(/no default domain is configured/);
  });
});
