// Mapping one user for one target: scope and IsSoftDeleted, mapping kinds, types, defaults, create-only,
// IgnoreFlow, references and matching, with the real expression language.
import { describe, expect, it } from 'vitest';
import { desiredUser } from '../../src/engine/mapping.js';
import { planObject } from '../../src/engine/plan.js';
import type { Link } from '../../src/engine/types.js';
import { context, targetFromYaml, userRecord } from './helpers.js';

const ada = {
  userPrincipalName: 'ada@contoso.com',
  mail: null,
  givenName: 'Ada',
  surname: 'Lovelace',
  jobTitle: 'Manager',
  accountEnabled: true,
  department: 'Sales',
};

describe('the docuware preset', () => {
  const docuware = targetFromYaml(`  - name: dw
    type: scim
    preset: docuware
    baseUrl: https://dw.example/scim
`);

  it('produces the guide\'s attributes, typed, with userName as the match', () => {
    const d = desiredUser(userRecord(ada), docuware, context());
    expect(d.scope).toBe('inScope');
    expect(d.skip).toBeUndefined();
    expect(d.attributes).toEqual({
      userName: 'ada',
      active: true, // the Switch's "True" string becomes a real boolean
      'emails[type eq "work"].value': 'ada@contoso.com', // Coalesce falls back to the UPN when mail is null
      externalId: 'e91fccdf-0000-0000-0000-000000000001', // objectId is the Entra object id
      'name.givenName': 'Ada',
      'name.familyName': 'Lovelace',
    });
    expect(d.match).toEqual([{ path: 'userName', value: 'ada' }]);
    expect(d.displayName).toBe('ada@contoso.com');
  });

  it.each([
    ['soft-deleted', { removed: 'changed' as const }, {}, 'softDeleted'],
    ['unassigned', { assigned: false }, {}, 'unassigned'],
    ['sign-in blocked', {}, { accountEnabled: false }, 'accountDisabled'],
  ])('IsSoftDeleted is True when %s: active false', (_label, record, attrs, scope) => {
    const d = desiredUser(userRecord({ ...ada, ...attrs }, record), docuware, context());
    expect(d.scope).toBe(scope);
    expect(d.attributes.active).toBe(false);
  });

  it('a hard-deleted user has nothing to map', () => {
    const d = desiredUser(userRecord({}, { removed: 'deleted' }), docuware, context());
    expect(d).toMatchObject({ scope: 'hardDeleted', attributes: {}, match: [] });
  });

  it('mapping then planning an unchanged user gives no operation', () => {
    const d = desiredUser(userRecord(ada), docuware, context());
    const [create] = planObject(d, undefined, docuware.options);
    expect(create?.kind).toBe('create');
    const link: Link = { target: 'dw', type: 'user', sourceId: d.sourceId, targetId: 'T1', status: 'active', written: create!.kind === 'create' ? create!.attributes : {}, hash: '', updatedAt: '' };
    expect(planObject(desiredUser(userRecord(ada), docuware, context()), link, docuware.options)).toEqual([]);
    // A rename in Entra is one update of the one changed field.
    const renamed = desiredUser(userRecord({ ...ada, surname: 'King' }), docuware, context());
    expect(planObject(renamed, link, docuware.options)).toMatchObject([{ kind: 'update', changes: [{ path: 'name.familyName', before: 'Lovelace', after: 'King' }] }]);
  });

  it('asks Graph only for the attributes its mappings read', () => {
    expect(docuware.sourceAttributes).toEqual(['accountEnabled', 'givenName', 'mail', 'surname', 'userPrincipalName']);
  });
});

describe('the document360 preset', () => {
  const d360 = targetFromYaml(`  - name: d360
    type: scim
    preset: document360
    baseUrl: https://d360.example/scim
    auth: { type: bearer, token: t, secondaryToken: t2 }
`);
  const URN = 'urn:ietf:params:scim:schemas:extension:document360:2.0:User:isTeamAccount';

  it.each([
    ['Manager', true],
    ['Team Lead', true],
    ['Writer', false],
    [null, false],
  ])('jobTitle %s → isTeamAccount %s (a Boolean)', (jobTitle, expected) => {
    const d = desiredUser(userRecord({ ...ada, jobTitle }), d360, context());
    expect(d.attributes[URN]).toBe(expected);
  });

  it('never deletes: a hard-deleted user is disabled', () => {
    expect(d360.options.users.delete).toBe(false);
    expect(d360.options.hardDeleteAction).toBe('disable');
  });
});

describe('mapping kinds and options', () => {
  const t = targetFromYaml(`  - name: t
    type: scim
    baseUrl: https://t.example/scim
    users:
      mappings:
        - { target: userName, source: userPrincipalName, matchPriority: 2 }
        - { target: externalId, source: objectId, matchPriority: 1 }
        - { target: active, expression: 'Switch([IsSoftDeleted], , "False", "True", "True", "False")' }
        - { target: company, constant: Contoso }
        - { target: seats, constant: "3", type: Integer }
        - { target: employeeNumber, source: employeeId, type: Integer }
        - { target: hired, source: employeeHireDate, type: DateTime }
        - { target: preferredLanguage, source: preferredLanguage, default: en-US }
        - { target: nickName, source: mailNickname, apply: onCreate }
        - { target: title, expression: 'IgnoreFlowIfNullOrEmpty([jobTitle])' }
        - { target: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager', source: manager }
        - { target: costCenter, source: extensionAttribute3 }
`);

  const base = { ...ada, employeeId: '0042', employeeHireDate: '2024-05-01T08:00:00Z', mailNickname: 'ada', onPremisesExtensionAttributes: { extensionAttribute3: 'CC-7' } };

  it('direct, constant, typed values and extension attributes', () => {
    const d = desiredUser(userRecord(base), t, context());
    expect(d.attributes).toMatchObject({
      userName: 'ada@contoso.com',
      externalId: 'e91fccdf-0000-0000-0000-000000000001',
      active: true,
      company: 'Contoso',
      seats: 3,
      employeeNumber: 42,
      hired: '2024-05-01T08:00:00Z',
      costCenter: 'CC-7',
    });
  });

  it('matching attributes in priority order', () => {
    const d = desiredUser(userRecord(base), t, context());
    expect(d.match).toEqual([
      { path: 'externalId', value: 'e91fccdf-0000-0000-0000-000000000001' },
      { path: 'userName', value: 'ada@contoso.com' },
    ]);
  });

  it('default value if null: used, and only on create', () => {
    const d = desiredUser(userRecord(base), t, context());
    expect(d.attributes.preferredLanguage).toBe('en-US');
    expect(d.createOnly).toContain('preferredLanguage');
    const withValue = desiredUser(userRecord({ ...base, preferredLanguage: 'fr-FR' }), t, context());
    expect(withValue.attributes.preferredLanguage).toBe('fr-FR');
    expect(withValue.createOnly).not.toContain('preferredLanguage');
  });

  it('apply only during creation: marked create-only', () => {
    expect(desiredUser(userRecord(base), t, context()).createOnly).toContain('nickName');
  });

  it('IgnoreFlowIfNullOrEmpty: the attribute is absent, present when there is a value', () => {
    const without = desiredUser(userRecord({ ...base, jobTitle: '' }), t, context());
    expect(Object.hasOwn(without.attributes, 'title')).toBe(false);
    expect(desiredUser(userRecord(base), t, context()).attributes.title).toBe('Manager');
  });

  it('manager: resolved to the manager\'s target id once provisioned, pending before', () => {
    const path = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager';
    const record = userRecord({ ...base, manager: { id: 'mgr-1' } });
    const pending = desiredUser(record, t, context());
    expect(Object.hasOwn(pending.attributes, path)).toBe(false);
    expect(pending.pendingReferences).toEqual({ [path]: 'mgr-1' });
    const resolved = desiredUser(record, t, context({ 'mgr-1': 'T-77' }));
    expect(resolved.attributes[path]).toBe('T-77');
    expect(resolved.pendingReferences).toBeUndefined();
  });

  it('a value that cannot take its target type skips the object, naming the mapping', () => {
    const d = desiredUser(userRecord({ ...base, employeeId: 'E-42' }), t, context());
    expect(d.skip).toBe('mapping of employeeNumber failed: expected an Integer, got "E-42"');
  });

  it('a failing mapping does not stop the disable of a user who left scope', () => {
    const d = desiredUser(userRecord({ ...base, employeeId: 'E-42' }, { assigned: false }), t, context());
    expect(d.skip).toBeUndefined();
    expect(d.scope).toBe('unassigned');
  });

  it('a scoping filter decides outOfScope', () => {
    const filtered = targetFromYaml(`  - name: f
    type: scim
    preset: docuware
    baseUrl: https://t.example/scim
    users:
      scopingFilters:
        - clauses: [{ attribute: department, operator: EQUALS, value: Finance }]
`);
    const d = desiredUser(userRecord(ada), filtered, context());
    expect(d.scope).toBe('outOfScope');
    expect(d.attributes.active).toBe(false);
    expect(filtered.sourceAttributes).toContain('department');
    expect(desiredUser(userRecord({ ...ada, department: 'Finance' }), filtered, context()).scope).toBe('inScope');
  });
});

describe('expression flow and errors', () => {
  const t = targetFromYaml(`  - name: t
    type: scim
    baseUrl: https://t.example/scim
    users:
      mappings:
        - { target: userName, expression: 'IIF([department]="Contractors", IgnoreObjectFlow, [userPrincipalName])', matchPriority: 1 }
        - { target: hired, expression: 'FormatDateTime([employeeHireDate], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")' }
        - { target: login, expression: 'SelectUniqueValue(Join("", Left([givenName], 1), [surname]), Join("", Left([givenName], 2), [surname]))' }
`);

  it('IgnoreObjectFlow skips the object', () => {
    const d = desiredUser(userRecord({ ...ada, department: 'Contractors' }), t, context());
    expect(d.skip).toBe('IgnoreObjectFlow in the mapping of userName');
    expect(planObject(d, undefined, t.options)).toMatchObject([{ kind: 'skip', reason: 'IgnoreObjectFlow in the mapping of userName' }]);
  });

  it('a runtime error skips the object with the mapping path and the error, and never throws', () => {
    const d = desiredUser(userRecord({ ...ada, employeeHireDate: 'not a date' }), t, context());
    expect(d.skip).toMatch(/^mapping of hired failed: .+/);
  });

  it('SelectUniqueValue asks the context about the mapping\'s own target path', () => {
    const asked: [string, string][] = [];
    const ctx = { ...context(), valueExists: (path: string, value: string) => { asked.push([path, value]); return value === 'ALovelace'; } };
    const d = desiredUser(userRecord({ ...ada, employeeHireDate: '20240501080000.0Z' }), t, ctx);
    expect(d.attributes.login).toBe('AdLovelace');
    expect(asked[0]).toEqual(['login', 'ALovelace']);
  });
});
