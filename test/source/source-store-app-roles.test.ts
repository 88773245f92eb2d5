// The app's role definitions in the source store: resolved onto each user record, replaced by each read,
// and a changed definition bumps exactly the users who hold that role. Plus the Graph answer's validation.
import { describe, expect, it } from 'vitest';
import { parseAppRoles } from '../../src/source/app-roles.js';
import type { SourceAppRole } from '../../src/source/types.js';
import { openDatabase } from '../../src/state/db.js';
import { SourceStoreImpl } from '../../src/state/source-store.js';
import { ID, loadInitialSamples, newStore } from './helpers.js';

const USER_ROLE: SourceAppRole = { id: ID.roleUser, value: 'User', displayName: 'Standard user', isEnabled: true };
const OTHER_ROLE: SourceAppRole = { id: 'a5c2f3d1-7b8e-4f60-9d21-3e4b5c6d7e8f', value: 'Admin', displayName: 'Administrator', isEnabled: true };

/** Users holding the sample's User role: the direct members of sg-App-Users and sg-App-Admins. */
function holders(store: SourceStoreImpl): string[] {
  return [...store.allUsers()].filter((u) => u.appRoleIds.includes(ID.roleUser)).map((u) => u.id).sort();
}

describe('source store: app role definitions', () => {
  it('each user record carries the definitions of the roles it holds; default access has none', () => {
    const store = newStore();
    loadInitialSamples(store);
    store.commit({ appRoles: [USER_ROLE, OTHER_ROLE] });
    expect(holders(store).length).toBeGreaterThan(0);
    for (const id of holders(store)) expect(store.user(id)!.appRoles).toEqual([USER_ROLE]);
    // Avery holds default access directly and User through sg-App-Users: only User has a definition.
    expect(store.user(ID.avery)).toMatchObject({ assigned: true, appRoleIds: [ID.roleDefault, ID.roleUser], appRoles: [USER_ROLE] });
    expect(store.appRoles(ID.avery)).toEqual([USER_ROLE]);
  });

  it('a changed definition bumps its holders only; the same definitions again bump nobody', () => {
    const store = newStore();
    loadInitialSamples(store);
    store.commit({ appRoles: [USER_ROLE, OTHER_ROLE] });
    let cursor = store.currentSeq();
    store.commit({ appRoles: [USER_ROLE, OTHER_ROLE] });
    expect([...store.changedUsers(cursor)]).toEqual([]);
    store.commit({ appRoles: [{ ...USER_ROLE, value: 'Member' }, OTHER_ROLE] });
    expect([...store.changedUsers(cursor)].map((u) => u.id).sort()).toEqual(holders(store));
    expect(store.user(holders(store)[0]!)!.appRoles).toEqual([{ ...USER_ROLE, value: 'Member' }]);
    cursor = store.currentSeq();
    // Nobody holds the Admin role in the samples: removing its definition changes no user.
    store.commit({ appRoles: [{ ...USER_ROLE, value: 'Member' }] });
    expect([...store.changedUsers(cursor)]).toEqual([]);
    expect(store.appRoleDefinitions()).toEqual([{ ...USER_ROLE, value: 'Member' }]);
  });

  it('definitions survive reopening the state file (migration 2 of module source)', () => {
    const db = openDatabase(':memory:');
    const store = new SourceStoreImpl(db);
    store.commit({ appRoles: [OTHER_ROLE] });
    expect(new SourceStoreImpl(db).appRoleDefinitions()).toEqual([OTHER_ROLE]);
    expect(db.prepare("SELECT version FROM schema_migrations WHERE module = 'source' ORDER BY version").all()).toContainEqual({ version: 2 });
  });
});

describe('parseAppRoles (GET /servicePrincipals/{id}?$select=appRoles)', () => {
  const url = 'https://graph.example/v1.0/servicePrincipals/sp?$select=appRoles';

  it('keeps id, value, displayName and isEnabled; an empty value is no value', () => {
    const body = {
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#servicePrincipals(appRoles)/$entity',
      appRoles: [
        { allowedMemberTypes: ['User'], description: 'Admins', displayName: 'Administrator', id: OTHER_ROLE.id, isEnabled: true, origin: 'Application', value: 'Admin' },
        { allowedMemberTypes: ['User'], description: 'msiam_access', displayName: 'msiam_access', id: 'b9632174-c057-4f7e-951b-be3adc52bfe6', isEnabled: false, origin: 'Application', value: null },
      ],
    };
    expect(parseAppRoles(body, url)).toEqual([
      OTHER_ROLE,
      { id: 'b9632174-c057-4f7e-951b-be3adc52bfe6', value: null, displayName: 'msiam_access', isEnabled: false },
    ]);
    expect(parseAppRoles({ appRoles: [] }, url)).toEqual([]);
  });

  it.each([
    [{}, 'no "appRoles" array'],
    [{ appRoles: [{ value: 'Admin' }] }, 'appRoles[0]: has no "id"'],
    [{ appRoles: [{ id: 'r1', value: 7 }] }, 'appRoles[0] (r1): "value" is not a string'],
    [{ appRoles: [{ id: 'r1', value: 'A', isEnabled: 'yes' }] }, 'appRoles[0] (r1): "isEnabled" is not a boolean'],
  ])('a malformed answer is GRAPH_BAD_RESPONSE naming the entry: %j', (body, message) => {
    expect(() => parseAppRoles(body, url)).toThrow(expect.objectContaining({ code: 'GRAPH_BAD_RESPONSE', message: expect.stringContaining(message) }));
  });
});
