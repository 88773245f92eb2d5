// A user's app roles reaching a `roles` mapping: AssertiveAppRoleAssignmentsComplex replaces the target's roles,
// AppRoleAssignmentsComplex only adds, SingleAppRoleAssignment gives one value; the default-access role, roles
// without a value and disabled roles are never provisioned.
import { describe, expect, it } from 'vitest';
import { desiredUser } from '../../src/engine/mapping.js';
import { planObject } from '../../src/engine/plan.js';
import { userSelectList } from '../../src/source/reader.js';
import type { Link } from '../../src/engine/types.js';
import type { SourceAppRole } from '../../src/source/types.js';
import { parseConfig } from '../../src/config/load.js';
import { context, targetFromYaml, userRecord } from './helpers.js';

const ADMIN: SourceAppRole = { id: 'a5c2f3d1-7b8e-4f60-9d21-3e4b5c6d7e8f', value: 'Admin', displayName: 'Administrator', isEnabled: true };
const USER: SourceAppRole = { id: '4c42850e-c80b-4bd0-9e41-6c1b0f798a98', value: 'User', displayName: 'Standard user', isEnabled: true };
const DEFAULT_ACCESS: SourceAppRole = { id: '00000000-0000-0000-0000-000000000000', value: null, displayName: null, isEnabled: true };
const ROLE = 'WindowsAzureActiveDirectoryRole';

const ada = { userPrincipalName: 'ada@contoso.com', accountEnabled: true };

function withRoles(roles: SourceAppRole[]) {
  return userRecord(ada, { appRoleIds: roles.map((r) => r.id), appRoles: roles });
}

function target(rolesMapping: string) {
  return targetFromYaml(`  - name: t
    type: scim
    baseUrl: https://t.example/scim
    users:
      mappings:
        - { target: userName, source: userPrincipalName, matchPriority: 1 }
        - ${rolesMapping}
`);
}

function linkOf(attributes: Record<string, unknown>): Link {
  return { target: 't', type: 'user', sourceId: 'e91fccdf-0000-0000-0000-000000000001', targetId: 'T1', status: 'active', written: attributes, hash: '', updatedAt: '' };
}

describe('AssertiveAppRoleAssignmentsComplex → roles', () => {
  const t = target(`{ target: roles, expression: 'AssertiveAppRoleAssignmentsComplex([appRoleAssignments])' }`);

  it('sends every role as a SCIM role entry (value, display, type, primary false); the default-access role is not a role', () => {
    const d = desiredUser(withRoles([ADMIN, DEFAULT_ACCESS, USER]), t, context());
    expect(d.skip).toBeUndefined();
    expect(d.attributes.roles).toEqual([
      { primary: false, type: ROLE, display: 'Administrator', value: 'Admin' },
      { primary: false, type: ROLE, display: 'Standard user', value: 'User' },
    ]);
  });

  it('a role taken away in Entra is replaced away on the target; losing every role clears them', () => {
    const both = desiredUser(withRoles([ADMIN, USER]), t, context());
    const link = linkOf(both.attributes);
    expect(planObject(desiredUser(withRoles([ADMIN, USER]), t, context()), link, t.options)).toEqual([]);
    const [update] = planObject(desiredUser(withRoles([USER]), t, context()), link, t.options);
    expect(update).toMatchObject({ kind: 'update', changes: [{ path: 'roles', after: [{ primary: false, type: ROLE, display: 'Standard user', value: 'User' }] }] });
    const [cleared] = planObject(desiredUser(withRoles([DEFAULT_ACCESS]), t, context()), link, t.options);
    expect(cleared).toMatchObject({ kind: 'update', changes: [{ path: 'roles', after: null }] });
  });

  it('disabled roles and roles defined without a value are not provisioned', () => {
    const disabled = { ...ADMIN, isEnabled: false };
    const valueless: SourceAppRole = { id: '11111111-2222-3333-4444-555555555555', value: null, displayName: 'msiam_access', isEnabled: true };
    const d = desiredUser(withRoles([disabled, valueless, USER]), t, context());
    expect(d.attributes.roles).toEqual([{ primary: false, type: ROLE, display: 'Standard user', value: 'User' }]);
  });

  it('tells the reader that roles are read (the reader keeps appRoleAssignments out of $select)', () => {
    expect(t.sourceAttributes).toContain('appRoleAssignments');
    expect(userSelectList(t.sourceAttributes)).not.toContain('appRoleAssignments');
  });
});

describe('AppRoleAssignmentsComplex → roles (add only)', () => {
  const t = target(`{ target: roles, expression: 'AppRoleAssignmentsComplex([appRoleAssignments])' }`);
  const adminPath = 'roles[value eq "Admin"]';
  const userPath = 'roles[value eq "User"]';

  it('each role is its own entry, created with the user', () => {
    const d = desiredUser(withRoles([ADMIN, USER]), t, context());
    expect(d.attributes).toEqual({
      userName: 'ada@contoso.com',
      [adminPath]: { primary: false, type: ROLE, display: 'Administrator', value: 'Admin' },
      [userPath]: { primary: false, type: ROLE, display: 'Standard user', value: 'User' },
    });
  });

  it('a new role is added; a role taken away in Entra stays on the target (no change planned)', () => {
    const link = linkOf(desiredUser(withRoles([USER]), t, context()).attributes);
    const [added] = planObject(desiredUser(withRoles([USER, ADMIN]), t, context()), link, t.options);
    expect(added).toMatchObject({ kind: 'update', changes: [{ path: adminPath, before: null, after: { value: 'Admin', display: 'Administrator' } }] });
    expect(planObject(desiredUser(withRoles([]), t, context()), link, t.options)).toEqual([]);
  });
});

describe('SingleAppRoleAssignment → roles[primary eq "True"].value', () => {
  const t = target(`{ target: 'roles[primary eq "True"].value', expression: 'SingleAppRoleAssignment([appRoleAssignments])' }`);

  it('gives the one role value; a user with default access only has none', () => {
    expect(desiredUser(withRoles([ADMIN]), t, context()).attributes['roles[primary eq "True"].value']).toBe('Admin');
    expect(desiredUser(withRoles([DEFAULT_ACCESS]), t, context()).attributes['roles[primary eq "True"].value']).toBeNull();
  });
});

it('a role list mapped to a sub-attribute is a config error naming the mapping', () => {
  const yaml = `source: { tenantId: t, clientId: c, clientSecret: s, servicePrincipalId: sp }
targets:
  - name: t
    type: scim
    baseUrl: https://t.example/scim
    users:
      mappings:
        - { target: userName, source: userPrincipalName, matchPriority: 1 }
        - { target: roles.value, expression: 'AssertiveAppRoleAssignmentsComplex([appRoleAssignments])' }
`;
  expect(() => parseConfig(yaml, 'test.yaml', {})).toThrow(/targets\[0\]\.users\.mappings\[1\]\.target .*map it to the multi-valued attribute itself \(roles\)/);
});
