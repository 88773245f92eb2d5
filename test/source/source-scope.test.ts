import { describe, expect, it } from 'vitest';
import { ID, loadInitialSamples, newStore, sample } from './helpers.js';

const assignedIds = (store: ReturnType<typeof newStore>) => [...store.allUsers()].filter((u) => u.assigned).map((u) => u.id).sort();

describe('source store: assignment scope', () => {
  it('assigned = direct assignment or direct member of an assigned group, with the app roles of each', () => {
    const store = newStore();
    loadInitialSamples(store);
    expect(assignedIds(store)).toEqual([ID.avery, ID.bo, ID.chidi, ID.dana].sort());
    expect(store.user(ID.avery)?.appRoleIds).toEqual([ID.roleDefault, ID.roleUser]);
    expect(store.user(ID.bo)?.appRoleIds).toEqual([ID.roleUser]);
    expect(store.user(ID.farah)).toMatchObject({ assigned: false, appRoleIds: [] });
    expect(store.group(ID.appUsers)?.assigned).toBe(true);
    expect(store.group(ID.contractors)?.assigned).toBe(false);
  });

  it('nested group members are out of scope unless flattenNestedGroups is on', () => {
    for (const flatten of [false, true]) {
      const store = newStore({ scope: 'assigned', flattenNestedGroups: flatten });
      loadInitialSamples(store);
      store.stageUsers(sample('05').value.filter((u) => u.id === ID.gus)); // Gus is in sg-Contractors only
      store.commit({ users: { mode: 'incremental', deltaLink: 'https://x/u', selectSignature: 's' } });
      expect(store.user(ID.gus)?.assigned).toBe(flatten);
    }
  });

  it('flattening survives membership cycles', () => {
    const store = newStore({ scope: 'assigned', flattenNestedGroups: true });
    store.stageUsers([{ id: 'u1' }, { id: 'u2' }, { id: 'u3' }]);
    store.stageGroups([
      { id: 'gA', displayName: 'A', 'members@delta': [{ '@odata.type': '#microsoft.graph.group', id: 'gB' }, { '@odata.type': '#microsoft.graph.user', id: 'u1' }] },
      { id: 'gB', displayName: 'B', 'members@delta': [{ '@odata.type': '#microsoft.graph.group', id: 'gA' }, { '@odata.type': '#microsoft.graph.user', id: 'u2' }] },
    ]);
    store.stageAssignments([{ principalId: 'gA', principalType: 'Group', appRoleId: 'r' }]);
    store.commit({ users: { mode: 'full', deltaLink: 'https://x/u' }, groups: { mode: 'full', deltaLink: 'https://x/g' }, assignments: true });
    expect(assignedIds(store)).toEqual(['u1', 'u2']);
    expect(store.groupMembers('gB', { transitive: true }).map((m) => m.id)).toEqual(['u1', 'u2']);
  });

  it("scope 'all' puts every user and group in scope but keeps app roles from assignments", () => {
    const store = newStore({ scope: 'all', flattenNestedGroups: false });
    loadInitialSamples(store);
    expect(assignedIds(store)).toEqual([ID.avery, ID.bo, ID.chidi, ID.dana, ID.farah, ID.room].sort());
    expect(store.user(ID.farah)?.appRoleIds).toEqual([]);
    expect(store.user(ID.bo)?.appRoleIds).toEqual([ID.roleUser]);
    expect([...store.allGroups()].every((g) => g.assigned)).toBe(true);
  });

  it('a deleted assigned group takes its members out of scope; a changed setting re-scopes at the next commit', () => {
    const store = newStore();
    loadInitialSamples(store);
    store.stageGroups([{ id: ID.appUsers, '@removed': { reason: 'deleted' } }]);
    store.commit({ groups: { mode: 'incremental', deltaLink: 'https://x/g' } });
    expect(assignedIds(store)).toEqual([ID.avery]);
    const cursor = store.currentSeq();
    store.configure({ scope: 'all', flattenNestedGroups: false });
    store.commit({});
    expect([...store.changedUsers(cursor)].length).toBe(5); // everyone but Avery came into scope
  });
});
