// A bad configuration is rejected with every problem at once, each naming its path, its line, what was
// expected and what was found, and never printing a secret.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { issuesOf, SOURCE } from './helpers.js';

describe('configuration errors', () => {
  it('reports several problems at once, each with path, line, expected and found', () => {
    const err = issuesOf(`${SOURCE}targets:
  - name: wiki
    type: scim
    baseUrl: https://wiki.example/scim
    concurent: 4
    users:
      mappings:
        - { target: userName, source: userPrincipalName, matchPriority: 1 }
        - { target: active, expression: 'Switch([IsSoftDeleted], , "False", "True", "True", "False")', type: Bool }
      actions: [create, update, purge]
    deleteThreshold: { count: "many" }
`);
    expect(err.code).toBe('CONFIG_INVALID');
    const byPath = Object.fromEntries(err.issues.map((i) => [i.path, i]));
    expect(byPath['targets[0]']?.message).toBe('unknown key "concurent" (check the spelling)');
    expect(byPath['targets[0].users.mappings[1].type']).toMatchObject({
      line: 14,
      message: 'expected one of "String", "Boolean", "Integer", "DateTime", "Reference", found "Bool"',
    });
    expect(byPath['targets[0].users.actions[2]']?.message).toBe('expected one of "create", "update", "disable", "delete", found "purge"');
    expect(byPath['targets[0].deleteThreshold.count']?.message).toBe('expected number, found "many"');
    expect(err.issues).toHaveLength(4);
    expect(err.message).toContain('entra-sync.yaml: 4 problems');
    expect(err.message).toContain('targets[0].users.mappings[1].type (line 14');
  });

  it('a bad expression is a config error with the mapping path and the expression\'s line and column', () => {
    const err = issuesOf(`${SOURCE}targets:
  - name: wiki
    type: scim
    baseUrl: https://wiki.example/scim
    users:
      mappings:
        - { target: userName, source: userPrincipalName, matchPriority: 1 }
        - { target: displayName, expression: 'Join(" ", [givenName], [surname]' }
        - { target: title, expression: 'Frobnicate([jobTitle])' }
`);
    expect(err.issues.map((i) => i.path)).toEqual(['targets[0].users.mappings[1].expression', 'targets[0].users.mappings[2].expression']);
    expect(err.issues[0]!.message).toMatch(/line 1, column \d+/);
    expect(err.issues[0]!.line).toBe(13);
    expect(err.issues[1]!.message).toMatch(/Frobnicate/);
  });

  it('schema problems and expression problems are reported in the same run, in file order', () => {
    const err = issuesOf(`${SOURCE}targets:
  - name: wiki
    type: scim
    baseUrl: https://wiki.example/scim
    users:
      mappings:
        - { target: userName, source: userPrincipalName, matchPriority: 1 }
        - { target: active, expression: 'Switch([IsSoftDeleted], , "False", "True", "True", "False")', type: Bool }
        - { target: title, expression: 'Frobnicate([jobTitle])' }
`);
    expect(err.issues.map((i) => [i.path, i.line])).toEqual([
      ['targets[0].users.mappings[1].type', 13],
      ['targets[0].users.mappings[2].expression', 14],
    ]);
    expect(err.issues[1]!.message).toMatch(/^unknown function "Frobnicate" at line 1, column 1/);
  });

  it('scoping filters: unknown operator, missing value, non-integer comparison, bad regex', () => {
    const err = issuesOf(`${SOURCE}targets:
  - name: wiki
    type: scim
    preset: scim
    baseUrl: https://wiki.example/scim
    users:
      scopingFilters:
        - clauses:
            - { attribute: department, operator: LIKE, value: Sales }
            - { attribute: department, operator: EQUALS }
            - { attribute: employeeId, operator: Greater_Than, value: ten }
            - { attribute: upn, operator: REGEX MATCH, value: '(unclosed' }
            - { attribute: x, operator: IS NULL, value: y }
`);
    const messages = Object.fromEntries(err.issues.map((i) => [i.path, i.message]));
    const at = 'targets[0].users.scopingFilters[0].clauses';
    expect(messages[`${at}[0].operator`]).toMatch(/^expected one of EQUALS, NOT EQUALS, .*found "LIKE"$/);
    expect(messages[`${at}[1].value`]).toBe('EQUALS needs a value');
    expect(messages[`${at}[2].value`]).toBe('GREATER_THAN compares integers: expected an integer, found "ten"');
    expect(messages[`${at}[3].value`]).toMatch(/^not a valid regular expression/);
    expect(messages[`${at}[4].value`]).toBe('IS NULL takes no value');
  });

  it('mapping rules: one of source/constant/expression, unique targets, a matching attribute, matching paths that exist', () => {
    const err = issuesOf(`${SOURCE}targets:
  - name: wiki
    type: scim
    baseUrl: https://wiki.example/scim
    users:
      mappings:
        - { target: userName, source: userPrincipalName, constant: x }
        - { target: title }
  - name: other
    type: scim
    baseUrl: https://other.example/scim
    users:
      mappings:
        - { target: userName, source: userPrincipalName }
        - { target: UserName, source: mail }
      matching: [externalId]
`);
    const messages = Object.fromEntries(err.issues.map((i) => [i.path, i.message]));
    expect(messages['targets[0].users.mappings[0].constant']).toBe('give one of source, constant or expression, not source and constant');
    expect(messages['targets[0].users.mappings[1].source']).toBe('expected one of source, constant or expression (or a default alone)');
    // Compile-time checks run once the schema is satisfied: fix the first target to see the second's.
    const second = issuesOf(`${SOURCE}targets:
  - name: other
    type: scim
    baseUrl: https://other.example/scim
    users:
      mappings:
        - { target: userName, source: userPrincipalName }
        - { target: UserName, source: mail }
      matching: [externalId]
`);
    expect(second.issues.map((i) => [i.path, i.message])).toEqual([
      ['targets[0].users.mappings[1].target', '"UserName" is already mapped by mappings[0]; each target attribute takes one mapping'],
      ['targets[0].users.matching[0]', '"externalId" is not a mapped target attribute; match on one of userName'],
    ]);
  });

  it('hardDeleteAction delete needs the delete action; names are unique; cron is valid', () => {
    const err = issuesOf(`${SOURCE}schedule: { cron: "every 40 minutes" }
targets:
  - { name: a, type: scim, preset: scim, baseUrl: "https://a.example", hardDeleteAction: delete }
  - { name: A, type: scim, preset: scim, baseUrl: "https://b.example" }
`);
    const messages = Object.fromEntries(err.issues.map((i) => [i.path, i.message]));
    expect(messages['schedule.cron']).toMatch(/^not a valid cron expression/);
    expect(messages['targets[0].hardDeleteAction']).toBe('hardDeleteAction "delete" needs "delete" in users.actions');
    expect(messages['targets[1].name']).toBe('target name "A" is already used by targets[0]');
  });

  it('an unknown target type names the accepted ones', () => {
    const err = issuesOf(`${SOURCE}targets:\n  - { name: a, type: ldap, baseUrl: "https://a.example" }\n`);
    expect(err.issues).toEqual([{ path: 'targets[0].type', line: 7, column: 22, message: 'expected one of "scim", "rest", found "ldap"' }]);
  });

  it('never prints a secret value, even when it is the wrong type', () => {
    const err = issuesOf(`source:
  tenantId: contoso.onmicrosoft.com
  clientId: app
  clientSecret: 12345678
  servicePrincipalId: sp
targets:
  - { name: a, type: scim, preset: scim, baseUrl: "https://a.example", auth: { type: bearer, token: 987654 } }
`);
    expect(err.message).not.toContain('12345678');
    expect(err.message).not.toContain('987654');
    const messages = Object.fromEntries(err.issues.map((i) => [i.path, i.message]));
    expect(messages['source.clientSecret']).toBe('expected string, found a number (value hidden)');
  });

  it('invalid YAML names the line', () => {
    const err = issuesOf('source:\n  tenantId: [unclosed\ntargets: []\n');
    expect(err.issues[0]!.message).toMatch(/^not valid YAML\/JSON: /);
    expect(err.issues[0]!.line).toBe(3);
  });

  it('JSON works too', () => {
    const err = issuesOf('{"source": {"tenantId": "t", "clientId": "c", "clientSecret": "s", "servicePrincipalId": "p"}, "targets": []}');
    expect(err.issues).toEqual([{ path: 'targets', line: 1, column: 107, message: 'expected at least one target, found a list of 0' }]);
  });

  it('a missing file is a clear error', async () => {
    await expect(loadConfig('/nonexistent/entra-sync.yaml')).rejects.toMatchObject({
      code: 'CONFIG_UNREADABLE',
      message: 'configuration file /nonexistent/entra-sync.yaml does not exist',
    });
  });
});
