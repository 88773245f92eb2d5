import { describe, expect, it } from 'vitest';
import { ID, loadInitialSamples, newStore } from './helpers.js';

const user = (id: string, extra: Record<string, unknown> = {}) => ({ id, userPrincipalName: `${id}@contoso.example`, accountEnabled: true, ...extra });

describe('source store: a users round committed in chunks while it is read', () => {
  it('a chunk is readable at once, but the delta link and the full round’s deletions wait for its end', () => {
    const store = newStore({ scope: 'all', flattenNestedGroups: false });
    loadInitialSamples(store);
    const linkBefore = store.deltaLink('users')?.link;
    const seqBefore = store.currentSeq();

    store.stageUsers([user('n1', { displayName: 'New One' }), user(ID.bo, { displayName: 'Bo Lindqvist' })]);
    store.commit({ users: { mode: 'full', partial: true } });
    expect(store.user('n1')?.attributes.displayName).toBe('New One');
    expect([...store.changedUsers(seqBefore)].map((u) => u.id).sort()).toEqual(['n1', ID.bo].sort());
    // Not listed yet is not gone yet: the round has not ended.
    for (const id of [ID.avery, ID.chidi, ID.farah]) expect(store.user(id)?.removed).toBeNull();
    expect(store.deltaLink('users')?.link).toBe(linkBefore);
    expect(store.stagedUsersPending()).toBe(0);

    store.stageUsers([user('n2')]);
    const end = store.commit({ users: { mode: 'full', deltaLink: 'https://x/after-chunks', selectSignature: 's' } });
    expect(store.user('n2')).toMatchObject({ removed: null });
    // Listed in the first chunk only: still there. Listed in no chunk: deleted.
    expect(store.user('n1')?.removed).toBeNull();
    expect(store.user(ID.bo)?.removed).toBeNull();
    for (const id of [ID.avery, ID.chidi, ID.dana, ID.farah, ID.room]) expect(store.user(id)?.removed).toBe('deleted');
    expect(end.usersRemoved).toBe(5);
    expect(store.deltaLink('users')?.link).toBe('https://x/after-chunks');
  });

  it('counts only what this round staged since its last commit (what the next chunk would hold)', () => {
    const store = newStore({ scope: 'all', flattenNestedGroups: false });
    store.stageUsers([user('a'), user('b'), user('c')]);
    store.commit({ users: { mode: 'full', deltaLink: 'https://x/1', selectSignature: 's' } });
    store.clearStage(['users']); // the next round starts
    expect(store.stagedUsersPending()).toBe(0);
    store.stageUsers([{ id: 'a', displayName: 'A' }]);
    expect(store.stagedUsersPending()).toBe(1);
    store.commit({ users: { mode: 'incremental', partial: true } });
    expect(store.stagedUsersPending()).toBe(0);
  });

  it('a user listed again in a later chunk keeps what the earlier page said and takes what the later one adds', () => {
    const store = newStore({ scope: 'all', flattenNestedGroups: false });
    store.stageUsers([user('u1', { displayName: 'One', department: 'Sales' })]);
    store.commit({ users: { mode: 'full', partial: true } });
    const firstSeq = store.user('u1')!.seq;
    store.stageUsers([{ id: 'u1', jobTitle: 'Lead' }]);
    store.commit({ users: { mode: 'full', partial: true } });
    expect(store.user('u1')?.attributes).toMatchObject({ displayName: 'One', department: 'Sales', jobTitle: 'Lead' });
    expect(store.user('u1')!.seq).toBeGreaterThan(firstSeq);
    store.commit({ users: { mode: 'full', deltaLink: 'https://x/1', selectSignature: 's' } });
    expect(store.user('u1')).toMatchObject({ removed: null, attributes: { displayName: 'One', jobTitle: 'Lead' } });
  });

  it('a chunk’s users get their scope from the assignments and groups already committed', () => {
    const store = newStore({ scope: 'assigned', flattenNestedGroups: false });
    store.stageAssignments([{ principalId: 'g1', principalType: 'Group', appRoleId: 'r1' }, { principalId: 'direct', principalType: 'User', appRoleId: 'r2' }]);
    store.stageGroups([{ id: 'g1', displayName: 'App users', 'members@delta': [{ '@odata.type': '#microsoft.graph.user', id: 'member' }] }]);
    store.stageUsers([user('member'), user('direct'), user('outsider')]);
    // The first chunk carries the groups and assignments, the next only users.
    store.commit({ users: { mode: 'full', partial: true }, groups: { mode: 'full', deltaLink: 'https://x/g', selectSignature: 'g' }, assignments: true });
    store.stageUsers([user('late-direct')]);
    store.commit({ users: { mode: 'full', partial: true } });
    expect(store.user('member')).toMatchObject({ assigned: true, appRoleIds: ['r1'] });
    expect(store.user('direct')).toMatchObject({ assigned: true, appRoleIds: ['r2'] });
    expect(store.user('outsider')).toMatchObject({ assigned: false, appRoleIds: [] });
    expect(store.user('late-direct')).toMatchObject({ assigned: false });
  });

  it('a round that fails after a chunk keeps the chunk and the old delta link, so the round is read again', () => {
    const store = newStore({ scope: 'all', flattenNestedGroups: false });
    loadInitialSamples(store);
    const linkBefore = store.deltaLink('users')?.link;
    store.stageUsers([user('n1')]);
    store.commit({ users: { mode: 'full', partial: true } });
    store.stageUsers([user('n2')]);
    store.clearStage(); // what the reader does when a later page fails
    expect(store.user('n1')).toMatchObject({ removed: null });
    expect(store.user('n2')).toBeUndefined();
    expect(store.user(ID.avery)?.removed).toBeNull();
    expect(store.deltaLink('users')?.link).toBe(linkBefore);
    // The repeated round starts from an empty stage: its own chunks and end apply as usual.
    store.stageUsers([user('n1'), user('n2')]);
    store.commit({ users: { mode: 'full', deltaLink: 'https://x/again', selectSignature: 's' } });
    expect(store.user('n2')).toMatchObject({ removed: null });
    expect(store.user(ID.avery)?.removed).toBe('deleted');
  });
});
