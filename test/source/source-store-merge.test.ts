import { describe, expect, it } from 'vitest';
import { ID, loadInitialSamples, newStore, sample } from './helpers.js';

describe('source store: merging delta pages', () => {
  it('stores the initial round: later pages win, empty pages are harmless, unknown @removed ids create nothing', () => {
    const store = newStore();
    loadInitialSamples(store);
    // Bo appears on page 1 without a jobTitle and again on the last page with one.
    expect(store.user(ID.bo)?.attributes.jobTitle).toBe('Controller');
    expect(store.user(ID.emil)).toBeUndefined();
    expect(store.user(ID.dana)?.attributes.userPrincipalName).toBe('dana.petrovic_fabrikam.example#EXT#@contoso.onmicrosoft.com');
    expect(store.userByPrincipalName('DANA.PETROVIC_fabrikam.example#EXT#@contoso.onmicrosoft.com')?.id).toBe(ID.dana);
    expect(store.user(ID.avery)?.attributes.manager).toBe(ID.farah);
    expect(store.user(ID.avery)?.attributes).not.toHaveProperty('manager@delta');
    expect([...store.allUsers()].map((u) => u.id).sort()).toEqual([ID.avery, ID.bo, ID.chidi, ID.dana, ID.farah, ID.room].sort());
    expect(store.deltaLink('users')?.link).toContain('$deltatoken=FdhyunT');
  });

  it('merges an incremental round: explicit null clears, absent keeps, removals keep the last attributes', () => {
    const store = newStore();
    loadInitialSamples(store);
    store.stageUsers(sample('06').value); // Prefer: return=minimal — only changed properties
    store.commit({ users: { mode: 'incremental', deltaLink: 'https://graph.microsoft.com/v1.0/users/delta?$deltatoken=next', selectSignature: 's' } });
    const chidi = store.user(ID.chidi)!;
    expect(chidi.attributes.department).toBeNull();
    expect(chidi.attributes.accountEnabled).toBe(false);
    expect(chidi.attributes.jobTitle).toBe('Accountant'); // absent in the minimal page = unchanged
    expect(chidi.attributes.manager).toBeNull();
    expect(store.user(ID.avery)?.attributes.jobTitle).toBe('Principal SRE');
    expect(store.user(ID.avery)?.attributes.employeeId).toBe('E10442');
    expect(store.user(ID.gus)?.attributes.displayName).toBe('Gus Moreau');
    expect(store.user(ID.dana)).toMatchObject({ removed: 'changed' });
    expect(store.user(ID.dana)?.attributes.displayName).toBe('Dana Petrovic');
    expect(store.user(ID.room)).toMatchObject({ removed: 'deleted' });
  });

  it('default and minimal incremental pages give the same stored objects', () => {
    const a = newStore();
    const b = newStore();
    for (const [store, page] of [[a, '05'], [b, '06']] as const) {
      loadInitialSamples(store);
      store.stageUsers(sample(page).value);
      store.commit({ users: { mode: 'incremental', deltaLink: 'https://x/next', selectSignature: 's' } });
    }
    const strip = (s: typeof a) => [...s.allUsers()].map(({ seq: _seq, ...rest }) => rest);
    expect(strip(b)).toEqual(strip(a));
  });

  it('a restored user comes back as a plain object and is live again', () => {
    const store = newStore();
    loadInitialSamples(store);
    store.stageUsers([{ id: ID.dana, '@removed': { reason: 'changed' } }]);
    store.commit({ users: { mode: 'incremental', deltaLink: 'https://x/1', selectSignature: 's' } });
    expect(store.user(ID.dana)?.removed).toBe('changed');
    store.stageUsers([{ ...sample('03').value[1] }]);
    store.commit({ users: { mode: 'incremental', deltaLink: 'https://x/2', selectSignature: 's' } });
    expect(store.user(ID.dana)).toMatchObject({ removed: null, attributes: { userType: 'Guest' } });
  });

  it('a full round replaces objects and marks everything it did not see as deleted', () => {
    const store = newStore();
    loadInitialSamples(store);
    // Bo comes back without jobTitle (never set now); everyone else is gone.
    store.stageUsers([{ id: ID.bo, displayName: 'Bo Lindqvist', userPrincipalName: 'bo.lindqvist@contoso.example', accountEnabled: true }]);
    const summary = store.commit({ users: { mode: 'full', deltaLink: 'https://x/full', selectSignature: 's' } });
    expect(store.user(ID.bo)?.attributes).not.toHaveProperty('jobTitle');
    expect(store.user(ID.bo)?.removed).toBeNull();
    for (const id of [ID.avery, ID.chidi, ID.dana, ID.farah, ID.room]) expect(store.user(id)?.removed).toBe('deleted');
    expect(summary.usersRemoved).toBe(5);
  });

  it('merges a big group split across pages and applies members@delta additions and removals', () => {
    const store = newStore();
    loadInitialSamples(store);
    const members = () => store.groupMembers(ID.appUsers).map((m) => m.id).sort();
    expect(members()).toEqual([ID.avery, ID.chidi, ID.bo, ID.dana, ID.contractors].sort());
    store.stageGroups(sample('12').value);
    store.commit({ groups: { mode: 'incremental', deltaLink: 'https://x/g2', selectSignature: 'g' } });
    expect(members()).toEqual([ID.avery, ID.bo, ID.dana, ID.farah, ID.contractors].sort());
    expect(store.group(ID.appUsers)?.attributes.description).toBe('Everyone who may use the on-prem app (v2)');
    expect(store.group(ID.appAdmins)?.removed).toBe('deleted');
    expect(store.groupMembers(ID.appUsers, { transitive: true }).map((m) => m.id)).not.toContain(ID.contractors);
  });

  it('leaves stored state untouched until commit, and clearStage discards a partial round', () => {
    const store = newStore();
    loadInitialSamples(store);
    const before = [...store.allUsers()];
    store.stageUsers(sample('05').value);
    store.clearStage();
    store.commit({});
    expect([...store.allUsers()]).toEqual(before);
    expect(store.deltaLink('users')?.link).toContain('FdhyunT');
  });

  it('an incremental round that first lists a group known only from an on-demand read replaces its members', () => {
    const store = newStore();
    store.stageUsers([{ id: 'u1' }, { id: 'u2' }]);
    store.stageGroups([{ id: 'gOld', displayName: 'Old', 'members@delta': [{ '@odata.type': '#microsoft.graph.user', id: 'u1' }] }]);
    store.commit({ users: { mode: 'full', deltaLink: 'https://x/u' }, groups: { mode: 'full', deltaLink: 'https://x/g' } });
    // provision --group of a group created since: read whole, with both members
    store.stageGroups([{ id: 'gNew', displayName: 'New' }]);
    store.stageGroupMembers('gNew', [{ id: 'u1', type: 'user' }, { id: 'u2', type: 'user' }]);
    store.commit({ groups: { mode: 'snapshot' } });
    // u2 leaves; delta's first sight of gNew lists only u1; gOld gains u2 as a change
    store.stageGroups([
      { id: 'gNew', displayName: 'New', 'members@delta': [{ '@odata.type': '#microsoft.graph.user', id: 'u1' }] },
      { id: 'gOld', 'members@delta': [{ '@odata.type': '#microsoft.graph.user', id: 'u2' }] },
    ]);
    store.commit({ groups: { mode: 'incremental', deltaLink: 'https://x/g2' } });
    expect(store.groupMembers('gNew').map((m) => m.id)).toEqual(['u1']);
    expect(store.groupMembers('gOld').map((m) => m.id).sort()).toEqual(['u1', 'u2']);
    // from now on gNew is merged like any other group
    store.stageGroups([{ id: 'gNew', 'members@delta': [{ '@odata.type': '#microsoft.graph.user', id: 'u2' }] }]);
    store.commit({ groups: { mode: 'incremental', deltaLink: 'https://x/g3' } });
    expect(store.groupMembers('gNew').map((m) => m.id).sort()).toEqual(['u1', 'u2']);
  });
});
