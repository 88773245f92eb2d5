// Presets: usable as-is, overridable field by field; mappings merge by target path.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { DOCUMENT360_TEAM_ACCOUNT } from '../../src/config/presets/document360.js';
import { issuesOf, SOURCE } from './helpers.js';

const parse = (targets: string) => parseConfig(`${SOURCE}targets:\n${targets}`, 'c.yaml', {});

describe('presets', () => {
  it('docuware as-is: the guide\'s six user mappings, groups by displayName, additive, no delete', () => {
    const t = parse('  - { name: dw, type: scim, preset: docuware, baseUrl: "https://dw.example/scim" }\n').targets[0]!;
    expect(t.users.mappings.map((m) => [m.target, m.source ?? m.expression])).toEqual([
      ['userName', 'Item(Split([userPrincipalName], "@"), 1)'],
      ['active', 'Switch([IsSoftDeleted], , "False", "True", "True", "False")'],
      ['emails[type eq "work"].value', 'Coalesce([mail],[userPrincipalName])'],
      ['externalId', 'objectId'],
      ['name.givenName', 'givenName'],
      ['name.familyName', 'surname'],
    ]);
    expect(t.users.actions).toEqual(['create', 'update', 'disable']);
    expect(t.groups).toMatchObject({ matchBy: 'displayName', membership: 'additive', actions: ['create', 'update'] });
    expect(t.groups.mappings.map((m) => m.target)).toEqual(['displayName']);
  });

  it('document360: isTeamAccount is a Boolean from the job title with default False; deactivate, never delete', () => {
    const t = parse('  - { name: d, type: scim, preset: document360, baseUrl: "https://d.example/scim", auth: { type: bearer, token: a, secondaryToken: b } }\n').targets[0]!;
    expect(t.users.mappings.find((m) => m.target === DOCUMENT360_TEAM_ACCOUNT)).toEqual({
      target: DOCUMENT360_TEAM_ACCOUNT,
      expression: 'Switch([jobTitle], "False", "Manager", "True", "Senior Manager", "True", "Team Lead", "True")',
      default: 'False',
      type: 'Boolean',
      apply: 'always',
    });
    expect(t.users.actions).not.toContain('delete');
    expect(t.auth).toEqual({ type: 'bearer', token: 'a', secondaryToken: 'b' });
  });

  it('several document360 child targets from one source', () => {
    const c = parse(`  - { name: parent, type: scim, preset: document360, baseUrl: "https://p.example/scim" }
  - { name: child, type: scim, preset: document360, baseUrl: "https://c.example/scim" }
`);
    expect(c.targets.map((t) => t.name)).toEqual(['parent', 'child']);
  });

  it('a mapping with the same target path replaces the preset\'s in place; a new one is added; remove drops one', () => {
    const t = parse(`  - name: dw
    type: scim
    preset: docuware
    baseUrl: https://dw.example/scim
    users:
      mappings:
        - { target: userName, source: userPrincipalName, matchPriority: 1 }
        - { target: Name.FamilyName, remove: true }
        - { target: title, source: jobTitle }
`).targets[0]!;
    expect(t.users.mappings.map((m) => m.target)).toEqual([
      'userName', 'active', 'emails[type eq "work"].value', 'externalId', 'name.givenName', 'title',
    ]);
    expect(t.users.mappings[0]).toMatchObject({ source: 'userPrincipalName' });
  });

  it('other fields override one by one; untouched preset fields stay', () => {
    const t = parse(`  - name: dw
    type: scim
    preset: docuware
    baseUrl: https://dw.example/scim
    users: { actions: [create, update, disable, delete] }
    groups: { membership: exact }
    hardDeleteAction: delete
`).targets[0]!;
    expect(t.users.actions).toEqual(['create', 'update', 'disable', 'delete']);
    expect(t.users.mappings).toHaveLength(6);
    expect(t.groups).toMatchObject({ membership: 'exact', matchBy: 'displayName' });
    expect(t.hardDeleteAction).toBe('delete');
  });

  it('an error in an override points at the user\'s own mapping index', () => {
    const err = issuesOf(`${SOURCE}targets:
  - name: dw
    type: scim
    preset: docuware
    baseUrl: https://dw.example/scim
    users:
      mappings:
        - { target: title, source: jobTitle }
        - { target: department, source: department, apply: sometimes }
`);
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatchObject({ path: 'targets[0].users.mappings[1].apply', line: 14 });
  });

  it('unknown preset, removing what the preset does not have, remove without a preset', () => {
    expect(issuesOf(`${SOURCE}targets:\n  - { name: a, type: scim, preset: docuwhere, baseUrl: "https://a.example" }\n`).issues[0]).toMatchObject({
      path: 'targets[0].preset',
      message: 'expected one of scim, docuware, document360, found "docuwhere"',
    });
    expect(issuesOf(`${SOURCE}targets:\n  - { name: a, type: scim, preset: docuware, baseUrl: "https://a.example", users: { mappings: [{ target: title, remove: true }] } }\n`).issues[0]).toMatchObject({
      path: 'targets[0].users.mappings[0].target',
      message: 'preset docuware has no mapping for "title" to remove',
    });
    expect(issuesOf(`${SOURCE}targets:\n  - { name: a, type: scim, baseUrl: "https://a.example", users: { mappings: [{ target: title, remove: true }] } }\n`).issues[0]).toMatchObject({
      path: 'targets[0].users.mappings[0].remove',
    });
  });
});
