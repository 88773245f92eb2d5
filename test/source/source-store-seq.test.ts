import { describe, expect, it } from 'vitest';
import { ID, loadInitialSamples, newStore, sample } from './helpers.js';

describe('source store: change counter (seq)', () => {
  it('gives every stored object a distinct seq and currentSeq is the highest', () => {
    const store = newStore();
    expect(store.currentSeq()).toBe(0);
    loadInitialSamples(store);
    const seqs = [...store.allUsers(), ...store.allGroups()].map((o) => o.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(Math.max(...seqs)).toBe(store.currentSeq());
    expect(Math.min(...seqs)).toBeGreaterThan(0);
  });

  it('bumps exactly the users and groups an incremental round changed', () => {
    const store = newStore();
    loadInitialSamples(store);
    const cursor = store.currentSeq();
    store.stageUsers(sample('05').value);
    store.stageGroups(sample('12').value);
    const summary = store.commit({
      users: { mode: 'incremental', deltaLink: 'https://x/u', selectSignature: 's' },
      groups: { mode: 'incremental', deltaLink: 'https://x/g', selectSignature: 'g' },
    });
    // Avery (jobTitle), Chidi (attributes and left the assigned group), Gus (new), Dana (soft delete),
    // the room (hard delete), Farah (joined the assigned group). Bo did not change.
    expect([...store.changedUsers(cursor)].map((u) => u.id).sort()).toEqual([ID.avery, ID.chidi, ID.gus, ID.dana, ID.room, ID.farah].sort());
    expect([...store.changedGroups(cursor)].map((g) => g.id).sort()).toEqual([ID.appUsers, ID.appAdmins].sort());
    expect(summary).toMatchObject({ usersChanged: 6, usersRemoved: 2, groupsChanged: 2, groupsRemoved: 1 });
    const changed = [...store.changedUsers(cursor)].map((u) => u.seq);
    expect(changed).toEqual([...changed].sort((a, b) => a - b));
  });

  it('a replayed round (same items again) bumps nothing', () => {
    const store = newStore();
    loadInitialSamples(store);
    store.stageUsers(sample('05').value);
    store.commit({ users: { mode: 'incremental', deltaLink: 'https://x/u', selectSignature: 's' } });
    const cursor = store.currentSeq();
    store.stageUsers(sample('05').value);
    store.stageGroups([]);
    const summary = store.commit({ users: { mode: 'incremental', deltaLink: 'https://x/u2', selectSignature: 's' } });
    expect(summary.usersChanged).toBe(0);
    expect([...store.changedUsers(cursor)]).toEqual([]);
    expect(store.currentSeq()).toBe(cursor);
  });

  it('losing an assignment bumps the user even though the user object did not change', () => {
    const store = newStore();
    loadInitialSamples(store);
    const cursor = store.currentSeq();
    // Avery's direct assignment disappears; Avery is still a member of sg-App-Users so stays assigned, but loses a role.
    store.stageAssignments([
      { principalId: ID.appUsers, principalType: 'Group', appRoleId: ID.roleUser },
    ]);
    store.commit({ assignments: true });
    const changed = [...store.changedUsers(cursor)];
    expect(changed.map((u) => u.id)).toEqual([ID.avery]);
    expect(changed[0]).toMatchObject({ assigned: true, appRoleIds: [ID.roleUser] });
    expect([...store.changedGroups(cursor)].map((g) => g.id)).toEqual([ID.appAdmins]); // no longer assigned
  });

  it('streams more than one batch in seq order (keyset pages of 500) and lets the caller write meanwhile', () => {
    const store = newStore({ scope: 'all', flattenNestedGroups: false });
    const users = Array.from({ length: 1203 }, (_, i) => ({ id: `u${String(i).padStart(5, '0')}`, userPrincipalName: `u${i}@x.test` }));
    store.stageUsers(users);
    store.commit({ users: { mode: 'full', deltaLink: 'https://x/u', selectSignature: 's' } });
    let n = 0;
    let last = 0;
    for (const u of store.changedUsers(0)) {
      expect(u.seq).toBeGreaterThan(last);
      last = u.seq;
      if (n++ === 600) store.db.prepare('CREATE TABLE IF NOT EXISTS scratch (x)').run(); // a write mid-iteration
    }
    expect(n).toBe(1203);
    expect([...store.allUsers()].length).toBe(1203);
  });
});
