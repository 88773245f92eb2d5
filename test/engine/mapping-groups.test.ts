// Mapping one group: DocuWare semantics (match by displayName, additive), members without duplicates,
// nested groups as configured, and group provisioning switched off.
import { describe, expect, it } from 'vitest';
import { desiredGroup } from '../../src/engine/mapping.js';
import { context, groupRecord, targetFromYaml } from './helpers.js';

const docuware = targetFromYaml(`  - name: dw
    type: scim
    preset: docuware
    baseUrl: https://dw.example/scim
`);

describe('desiredGroup', () => {
  it('docuware: displayName only, matched by displayName, additive membership, no group delete', () => {
    const d = desiredGroup(groupRecord({ displayName: 'Finance' }), [], docuware, context());
    expect(d.attributes).toEqual({ displayName: 'Finance' });
    expect(d.match).toEqual([{ path: 'displayName', value: 'Finance' }]);
    expect(docuware.options.groupMembership).toBe('additive');
    expect(docuware.options.groups).toEqual({ create: true, update: true, delete: false });
  });

  it('members: users once each, the group itself never, nested groups left out by default', () => {
    const d = desiredGroup(
      groupRecord({ displayName: 'Finance' }),
      [{ id: 'u1', type: 'user' }, { id: 'u2', type: 'user' }, { id: 'u1', type: 'user' }, { id: 'g-2', type: 'group' }, { id: 'g-1', type: 'group' }],
      docuware,
      context(),
    );
    expect(d.members).toEqual(['u1', 'u2']);
  });

  it('nestedGroups: members keeps nested groups as members', () => {
    const t = targetFromYaml(`  - name: t
    type: scim
    preset: scim
    baseUrl: https://t.example/scim
    groups: { nestedGroups: members }
`);
    const d = desiredGroup(groupRecord({ displayName: 'Finance' }), [{ id: 'u1', type: 'user' }, { id: 'g-2', type: 'group' }], t, context());
    expect(d.members).toEqual(['u1', 'g-2']);
    expect(d.attributes).toEqual({ displayName: 'Finance', externalId: 'g-1' });
  });

  it('scope: unassigned, soft- and hard-deleted groups', () => {
    expect(desiredGroup(groupRecord({ displayName: 'F' }, { assigned: false }), [], docuware, context()).scope).toBe('unassigned');
    expect(desiredGroup(groupRecord({ displayName: 'F' }, { removed: 'changed' }), [], docuware, context()).scope).toBe('softDeleted');
    expect(desiredGroup(groupRecord({}, { removed: 'deleted' }), [], docuware, context())).toMatchObject({ scope: 'hardDeleted', attributes: {} });
  });

  it('groups switched off: every group is skipped with that reason', () => {
    const t = targetFromYaml(`  - name: t
    type: scim
    preset: docuware
    baseUrl: https://t.example/scim
    groups: { enabled: false }
`);
    expect(desiredGroup(groupRecord({ displayName: 'F' }), [], t, context()).skip).toBe('group provisioning is off for this target');
  });

  it('a groups section without mappings gets Entra\'s default group mapping', () => {
    const t = targetFromYaml(`  - name: t
    type: scim
    baseUrl: https://t.example/scim
    users:
      mappings: [{ target: userName, source: userPrincipalName, matchPriority: 1 }]
`);
    const d = desiredGroup(groupRecord({ displayName: 'Finance' }), [], t, context());
    expect(d.attributes).toEqual({ displayName: 'Finance', externalId: 'g-1' });
    expect(d.match).toEqual([{ path: 'displayName', value: 'Finance' }]);
    expect(t.groupSourceAttributes).toEqual(['displayName']);
  });
});
