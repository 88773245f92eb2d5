// Groups: create, rename, membership PATCH forms (compliant, filtered, Entra legacy), remove-all,
// uniqueness, member lookups and the user's read-only `groups`.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScimSimulator, type ScimSimulator } from '../../../src/simulators/scim/index.js';
import { call, filterQuery, GROUP, patch, userBody } from './helpers.js';

const ENTRA_GROUP = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';

describe('SCIM simulator: groups', () => {
  let sim: ScimSimulator;
  const userIds: string[] = [];
  beforeAll(async () => {
    sim = await startScimSimulator();
  });
  afterAll(() => sim.close());
  beforeEach(async () => {
    sim.store.reset();
    userIds.length = 0;
    for (const name of ['u1', 'u2', 'u3', 'u4']) userIds.push((await call(sim.baseUrl, 'POST', '/Users', { body: userBody(name) })).body.id);
  });

  const createGroup = async (displayName: string, members: string[] = []): Promise<string> => {
    const r = await call(sim.baseUrl, 'POST', '/Groups', { body: { schemas: [GROUP, ENTRA_GROUP], displayName, externalId: `ext-${displayName}`, members: members.map((value) => ({ value })) } });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  const memberIds = (groupId: string): string[] => ((sim.group(groupId)?.members as { value: string }[] | undefined) ?? []).map((m) => m.value).sort();

  it('creates an empty group (Entra adds its own schema URI) and one with members', async () => {
    const empty = await createGroup('Empty');
    expect(sim.group(empty)).toMatchObject({ displayName: 'Empty', schemas: [GROUP], meta: { resourceType: 'Group' } });
    const full = await createGroup('Full', [userIds[0]!, userIds[1]!]);
    const got = await call(sim.baseUrl, 'GET', `/Groups/${full}`);
    expect(got.body.members).toEqual(
      expect.arrayContaining([{ value: userIds[0], type: 'User', $ref: `${sim.baseUrl}/Users/${userIds[0]}` }]),
    );
  });

  it('rejects a duplicate displayName with 409 uniqueness, also on rename', async () => {
    await createGroup('Finance');
    const dup = await call(sim.baseUrl, 'POST', '/Groups', { body: { schemas: [GROUP], displayName: 'FINANCE' } });
    expect(dup.status).toBe(409);
    expect(dup.body.scimType).toBe('uniqueness');
    const other = await createGroup('Sales');
    const rename = await call(sim.baseUrl, 'PATCH', `/Groups/${other}`, { body: patch({ op: 'replace', path: 'displayName', value: 'finance' }) });
    expect(rename.status).toBe(409);
  });

  it('renames with replace displayName and frees the old name', async () => {
    const id = await createGroup('Old Name');
    const r = await call(sim.baseUrl, 'PATCH', `/Groups/${id}`, { body: patch({ op: 'replace', path: 'displayName', value: 'New & Name' }) });
    expect(r.status).toBe(200);
    expect(sim.group(id)?.displayName).toBe('New & Name');
    await createGroup('Old Name');
  });

  it('adds members in one PATCH and ignores duplicates', async () => {
    const id = await createGroup('G', [userIds[0]!]);
    const r = await call(sim.baseUrl, 'PATCH', `/Groups/${id}`, { body: patch({ op: 'add', path: 'members', value: [{ value: userIds[0] }, { value: userIds[1] }, { value: userIds[2] }] }) });
    expect(r.status).toBe(200);
    expect(memberIds(id)).toEqual([userIds[0], userIds[1], userIds[2]].sort());
  });

  it('rejects the whole PATCH when one member does not exist (atomic)', async () => {
    const id = await createGroup('G');
    const r = await call(sim.baseUrl, 'PATCH', `/Groups/${id}`, { body: patch({ op: 'add', path: 'members', value: [{ value: userIds[0] }, { value: 'ghost' }] }) });
    expect(r.status).toBe(400);
    expect(r.body.scimType).toBe('invalidValue');
    expect(r.body.detail).toContain('ghost');
    expect(memberIds(id)).toEqual([]);
  });

  it('removes one member per filtered remove op (compliant form)', async () => {
    const id = await createGroup('G', userIds);
    const r = await call(sim.baseUrl, 'PATCH', `/Groups/${id}`, {
      body: patch({ op: 'remove', path: `members[value eq "${userIds[0]}"]` }, { op: 'remove', path: `members[value eq "${userIds[1]}"]` }),
    });
    expect(r.status).toBe(200);
    expect(memberIds(id)).toEqual([userIds[2], userIds[3]].sort());
  });

  it('removes members by value array (Entra legacy form, capitalised op)', async () => {
    const id = await createGroup('G', userIds);
    const r = await call(sim.baseUrl, 'PATCH', `/Groups/${id}`, { body: patch({ op: 'Remove', path: 'members', value: [{ value: userIds[3] }] }) });
    expect(r.status).toBe(200);
    expect(memberIds(id)).toEqual([userIds[0], userIds[1], userIds[2]].sort());
  });

  it('removes every member on remove of members without a filter or value', async () => {
    const id = await createGroup('G', userIds);
    await call(sim.baseUrl, 'PATCH', `/Groups/${id}`, { body: patch({ op: 'remove', path: 'members' }) });
    expect(memberIds(id)).toEqual([]);
  });

  it('replaces the member list on replace members', async () => {
    const id = await createGroup('G', [userIds[0]!, userIds[1]!]);
    await call(sim.baseUrl, 'PATCH', `/Groups/${id}`, { body: patch({ op: 'replace', path: 'members', value: [{ value: userIds[2] }] }) });
    expect(memberIds(id)).toEqual([userIds[2]]);
  });

  it('removes members matching a non-value filter', async () => {
    const inner = await createGroup('Inner');
    const id = await createGroup('Outer', [userIds[0]!, inner]);
    await call(sim.baseUrl, 'PATCH', `/Groups/${id}`, { body: patch({ op: 'remove', path: 'members[type eq "Group"]' }) });
    expect(memberIds(id)).toEqual([userIds[0]]);
  });

  it('changes members and the name in one PATCH (Entra-style no-path add)', async () => {
    const id = await createGroup('G');
    const r = await call(sim.baseUrl, 'PATCH', `/Groups/${id}`, { body: patch({ op: 'Add', value: { members: [{ $ref: null, value: userIds[0] }] } }, { op: 'Replace', path: 'displayName', value: 'G2' }) });
    expect(r.status).toBe(200);
    expect(memberIds(id)).toEqual([userIds[0]]);
    expect(sim.group(id)?.displayName).toBe('G2');
  });

  it('lists groups without members on excludedAttributes=members, and looks them up by displayName', async () => {
    await createGroup('Finance Team', userIds);
    const r = await call(sim.baseUrl, 'GET', `/Groups${filterQuery('displayName eq "finance team"')}&excludedAttributes=members`);
    expect(r.body.totalResults).toBe(1);
    expect(r.body.Resources[0].displayName).toBe('Finance Team');
    expect(r.body.Resources[0]).not.toHaveProperty('members');
    const withMembers = await call(sim.baseUrl, 'GET', `/Groups${filterQuery('externalId eq "ext-Finance Team"')}`);
    expect(withMembers.body.Resources[0].members).toHaveLength(4);
  });

  it('answers the membership probe `id eq … and members[value eq …]`', async () => {
    const id = await createGroup('G', [userIds[0]!]);
    const yes = await call(sim.baseUrl, 'GET', `/Groups${filterQuery(`id eq "${id}" and members[value eq "${userIds[0]}"]`)}&excludedAttributes=members`);
    expect(yes.body.totalResults).toBe(1);
    const no = await call(sim.baseUrl, 'GET', `/Groups${filterQuery(`id eq "${id}" and members[value eq "${userIds[1]}"]`)}`);
    expect(no.body.totalResults).toBe(0);
    const byValue = await call(sim.baseUrl, 'GET', `/Groups${filterQuery(`members.value eq "${userIds[0]}"`)}`);
    expect(byValue.body.totalResults).toBe(1);
  });

  it("shows a user's groups read-only and drops memberships when the user is deleted", async () => {
    const id = await createGroup('G', [userIds[0]!]);
    const user = await call(sim.baseUrl, 'GET', `/Users/${userIds[0]}`);
    expect(user.body.groups).toEqual([{ value: id, display: 'G', type: 'direct', $ref: `${sim.baseUrl}/Groups/${id}` }]);
    const write = await call(sim.baseUrl, 'PATCH', `/Users/${userIds[0]}`, { body: patch({ op: 'add', path: 'groups', value: [{ value: id }] }) });
    expect(write.body.scimType).toBe('mutability');
    await call(sim.baseUrl, 'DELETE', `/Users/${userIds[0]}`);
    expect(memberIds(id)).toEqual([]);
  });

  it('replaces a group with PUT and deletes it with 204', async () => {
    const id = await createGroup('G', [userIds[0]!]);
    const put = await call(sim.baseUrl, 'PUT', `/Groups/${id}`, { body: { schemas: [GROUP], displayName: 'G', members: [{ value: userIds[1] }] } });
    expect(put.status).toBe(200);
    expect(memberIds(id)).toEqual([userIds[1]]);
    expect(sim.group(id)).not.toHaveProperty('externalId');
    expect((await call(sim.baseUrl, 'DELETE', `/Groups/${id}`)).status).toBe(204);
    expect((await call(sim.baseUrl, 'GET', `/Groups/${id}`)).status).toBe(404);
    expect((await call(sim.baseUrl, 'GET', `/Users/${userIds[1]}`)).body).not.toHaveProperty('groups');
  });

  it('lets tests edit membership by hand through the store', async () => {
    const id = await createGroup('G', [userIds[0]!, userIds[1]!]);
    sim.store.removeMember(id, userIds[0]!);
    expect(memberIds(id)).toEqual([userIds[1]]);
    sim.store.putGroup({ id: 'hand-made', displayName: 'Hand', members: [{ value: userIds[2] }] });
    const got = await call(sim.baseUrl, 'GET', `/Groups${filterQuery('displayName eq "Hand"')}`);
    expect(got.body.Resources[0].members[0].value).toBe(userIds[2]);
  });
});
