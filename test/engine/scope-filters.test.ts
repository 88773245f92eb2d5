// Entra's scoping-filter operators, clause by clause, and how clauses and filters combine.
import { describe, expect, it } from 'vitest';
import { matchesClause, matchesScopingFilters, normalizeScopingOperator, type ScopingClause, type ScopingOperator } from '../../src/engine/scope.js';

const user = {
  department: 'Sales',
  userPrincipalName: 'ada@contoso.com',
  employeeId: '1042',
  costCenter: 77,
  accountEnabled: true,
  isContractor: 'False',
  jobTitle: '',
  proxyAddresses: ['SMTP:ada@contoso.com', 'smtp:a@contoso.com'],
  onPremisesExtensionAttributes: { extensionAttribute3: 'EMEA' },
};

const rows: [ScopingOperator, string, string | undefined, boolean][] = [
  ['EQUALS', 'department', 'Sales', true],
  ['EQUALS', 'department', 'sales', false], // case-sensitive
  ['EQUALS', 'costCenter', '77', true], // integers compare by their text
  ['EQUALS', 'accountEnabled', 'true', true],
  ['EQUALS', 'accountEnabled', 'False', false],
  ['EQUALS', 'jobTitle', '', false], // empty attribute: false
  ['EQUALS', 'missing', 'x', false],
  ['NOT EQUALS', 'department', 'Marketing', true],
  ['NOT EQUALS', 'department', 'Sales', false],
  ['NOT EQUALS', 'department', 'sales', true], // case-sensitive
  ['NOT EQUALS', 'missing', 'x', false], // documented: false when the value is null
  ['IS TRUE', 'accountEnabled', undefined, true],
  ['IS TRUE', 'isContractor', undefined, false],
  ['IS FALSE', 'isContractor', undefined, true],
  ['IS FALSE', 'accountEnabled', undefined, false],
  ['IS FALSE', 'missing', undefined, false],
  ['IS NULL', 'missing', undefined, true],
  ['IS NULL', 'jobTitle', undefined, true], // empty counts as null
  ['IS NULL', 'department', undefined, false],
  ['IS NOT NULL', 'department', undefined, true],
  ['IS NOT NULL', 'jobTitle', undefined, false],
  ['REGEX MATCH', 'userPrincipalName', '.*\\@contoso.com', true], // Microsoft's example
  ['REGEX MATCH', 'userPrincipalName', '@CONTOSO', false], // case-sensitive
  ['REGEX MATCH', 'userPrincipalName', '(?i)@CONTOSO', true], // .NET inline option
  ['REGEX MATCH', 'employeeId', '^(1[0-9][0-9][0-9])$', true],
  ['REGEX MATCH', 'missing', '.*', false],
  ['NOT REGEX MATCH', 'userPrincipalName', '@fabrikam\\.com$', true],
  ['NOT REGEX MATCH', 'userPrincipalName', '@contoso\\.com$', false],
  ['NOT REGEX MATCH', 'missing', 'x', false], // documented: false when null or empty
  ['NOT REGEX MATCH', 'jobTitle', 'x', false],
  ['GREATER_THAN', 'employeeId', '1000', true],
  ['GREATER_THAN', 'employeeId', '1042', false],
  ['GREATER_THAN', 'costCenter', '76', true],
  ['GREATER_THAN', 'department', '1', false], // not an integer: false
  ['GREATER_THAN_OR_EQUALS', 'employeeId', '1042', true],
  ['GREATER_THAN_OR_EQUALS', 'employeeId', '1043', false],
  ['LESS_THAN', 'employeeId', '2000', true],
  ['LESS_THAN', 'employeeId', '1042', false],
  ['LESS_THAN_OR_EQUALS', 'employeeId', '1042', true],
  ['LESS_THAN_OR_EQUALS', 'costCenter', '76', false],
  ['INCLUDES', 'userPrincipalName', 'contoso', true],
  ['INCLUDES', 'userPrincipalName', 'Contoso', false], // String.Contains is case-sensitive
  ['STARTS_WITH', 'userPrincipalName', 'ada@', true],
  ['STARTS_WITH', 'userPrincipalName', 'Ada@', false],
  ['ENDS_WITH', 'userPrincipalName', '@contoso.com', true],
  ['ENDS_WITH', 'userPrincipalName', '@contoso', false],
  ['&', 'department', 'Sales,Marketing', true], // the attribute's value appears in the clause value
  ['&', 'department', 'Marketing,HR', false],
  ['!&', 'department', 'Marketing,HR', true],
  ['EQUALS', 'proxyAddresses', 'SMTP:ada@contoso.com', false], // multi-valued attributes cannot be filtered
  ['IS NOT NULL', 'proxyAddresses', undefined, true],
  ['EQUALS', 'extensionAttribute3', 'EMEA', true], // Entra's flat name for onPremisesExtensionAttributes
];

describe('scoping clause operators', () => {
  for (const [operator, attribute, value, expected] of rows) {
    it(`${attribute} ${operator}${value === undefined ? '' : ` ${JSON.stringify(value)}`} → ${expected}`, () => {
      const clause: ScopingClause = value === undefined ? { attribute, operator } : { attribute, operator, value };
      expect(matchesClause(clause, user)).toBe(expected);
    });
  }
});

describe('combining clauses and filters', () => {
  const sales: ScopingClause = { attribute: 'department', operator: 'EQUALS', value: 'Sales' };
  const fabrikam: ScopingClause = { attribute: 'userPrincipalName', operator: 'ENDS_WITH', value: '@fabrikam.com' };
  const hasId: ScopingClause = { attribute: 'employeeId', operator: 'IS NOT NULL' };

  it('no filters: in scope', () => {
    expect(matchesScopingFilters([], user)).toBe(true);
  });
  it('clauses within a filter are ANDed', () => {
    expect(matchesScopingFilters([{ clauses: [sales, hasId] }], user)).toBe(true);
    expect(matchesScopingFilters([{ clauses: [sales, fabrikam] }], user)).toBe(false);
  });
  it('filters are ORed', () => {
    expect(matchesScopingFilters([{ clauses: [fabrikam] }, { clauses: [sales] }], user)).toBe(true);
    expect(matchesScopingFilters([{ clauses: [fabrikam] }, { clauses: [sales, fabrikam] }], user)).toBe(false);
  });
});

describe('operator spellings', () => {
  it.each([
    ['Greater_Than', 'GREATER_THAN'],
    ['greater than or equals', 'GREATER_THAN_OR_EQUALS'],
    ['NOT_EQUALS', 'NOT EQUALS'],
    ['regex match', 'REGEX MATCH'],
    ['Includes', 'INCLUDES'],
    ['contains', 'INCLUDES'],
    ['ends with', 'ENDS_WITH'],
    ['!&', '!&'],
  ])('%s → %s', (text, op) => {
    expect(normalizeScopingOperator(text)).toBe(op);
  });
  it('an unknown operator is not accepted', () => {
    expect(normalizeScopingOperator('LIKE')).toBeUndefined();
  });
});
