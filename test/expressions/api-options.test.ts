// The programmatic API: compile once, references for $select, and every evaluation option.
import { describe, expect, it } from 'vitest';
import { compileExpression, evaluateExpression, ExpressionError } from '../../src/expressions/index.js';
import * as pkg from '../../src/index.js';

describe('compileExpression', () => {
  it('lists the attributes an expression reads, once each, in order', () => {
    const compiled = compileExpression('IIF(IsPresent([mail]), [mail], Join("@", [mailNickname], [extension_abc_domain]))');
    expect(compiled.references).toEqual(['mail', 'mailNickname', 'extension_abc_domain']);
    expect(compiled.source).toContain('IIF(');
  });

  it('evaluates the same compiled expression against many users independently', () => {
    const compiled = compileExpression('Coalesce([mail],[userPrincipalName])');
    expect(compiled.evaluate({ mail: 'a@x' }).value).toBe('a@x');
    expect(compiled.evaluate({ userPrincipalName: 'b@x' }).value).toBe('b@x');
  });

  it('reads only own attributes, never the object prototype', () => {
    expect(evaluateExpression('IsNull([constructor])', {}).value).toBe(true);
    expect(evaluateExpression('[toString]', {}).value).toBeNull();
  });

  it('is exported from the package entry point', () => {
    expect(pkg.compileExpression).toBe(compileExpression);
    expect(pkg.evaluateExpression).toBe(evaluateExpression);
    expect(pkg.ExpressionError).toBe(ExpressionError);
  });
});

describe('evaluation options', () => {
  it('SelectUniqueValue asks valueExists and holds the object back when every candidate is taken', () => {
    const expression = 'SelectUniqueValue(Join(".", [g], [s]), Join(".", Left([g], 1), [s]))';
    const attrs = { g: 'John', s: 'Smith' };
    expect(evaluateExpression(expression, attrs, { valueExists: (v) => v === 'John.Smith' }).value).toBe('J.Smith');
    expect(() => evaluateExpression(expression, attrs, { valueExists: () => true })).toThrow(/every candidate already exists on the target \("John.Smith", "J.Smith"\)/);
    expect(evaluateExpression(expression, attrs).value).toBe('John.Smith');
  });

  it('app role assignments come from the options for [appRoleAssignments]', () => {
    const appRoleAssignments = [
      { id: 'r1', value: 'Admin', displayName: 'Administrator' },
      { id: 'r2', value: 'Reader' },
    ];
    expect(evaluateExpression('SingleAppRoleAssignment([appRoleAssignments])', {}, { appRoleAssignments }).value).toBe('Admin');
    expect(evaluateExpression('AppRoleAssignmentsComplex([appRoleAssignments])', {}, { appRoleAssignments }).value).toEqual([
      { primary: false, type: 'WindowsAzureActiveDirectoryRole', displayName: 'Administrator', value: 'Admin' },
      { primary: false, type: 'WindowsAzureActiveDirectoryRole', value: 'Reader' },
    ]);
    expect(evaluateExpression('AssertiveAppRoleAssignmentsComplex([appRoleAssignments])', {}, { appRoleAssignments: [] }).value).toEqual([]);
    expect(evaluateExpression('SingleAppRoleAssignment([appRoleAssignments])', {}).value).toBeNull();
  });

  it('Guid and RandomString use the injected randomness and honour their rules', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const id = evaluateExpression('Guid()', {}, { random }).value as string;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(evaluateExpression('Guid()', {}).value).toMatch(/^[0-9a-f-]{36}$/);
    for (let i = 0; i < 50; i++) {
      const s = evaluateExpression('RandomString(10,2,2,2,1,"?,")', {}, { random }).value as string;
      expect(s).toHaveLength(10);
      expect(s.replace(/\D/g, '').length).toBeGreaterThanOrEqual(2);
      expect(s.replace(/[A-Za-z0-9]/g, '').length).toBeGreaterThanOrEqual(2);
      expect(s.replace(/[^A-Z]/g, '').length).toBeGreaterThanOrEqual(2);
      expect(s.replace(/[^a-z]/g, '').length).toBeGreaterThanOrEqual(1);
      expect(s).not.toMatch(/[?,]/);
    }
    const six = evaluateExpression('RandomString(6,3,0,0,3)', {}, { random }).value as string;
    expect(six.replace(/\D/g, '')).toHaveLength(3);
    expect(six.replace(/[^a-z]/g, '')).toHaveLength(3);
  });

  it('Redact marks the result so logs and plans hide it, even for a random password', () => {
    const result = evaluateExpression('Redact(RandomString(6,3,0,0,3))', {});
    expect(result.redacted).toBe(true);
    expect(result.value).toMatch(/^[0-9a-z]{6}$/);
    expect(evaluateExpression('[mail]', { mail: 'x' }).redacted).toBeUndefined();
  });

  it('every result survives JSON', () => {
    const result = evaluateExpression('Join(",", Now(), NumFromDate(Now()), Count(Split("a,b", ",")))', {}, { now: new Date('2030-01-01T00:00:00Z') });
    expect(JSON.parse(JSON.stringify(result))).toEqual({ value: '1/1/2030 12:00:00 AM,135379296000000000,2', flow: 'flow' });
  });
});
