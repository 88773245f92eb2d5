// DocuWare's guide "How to integrate Azure Entra to DocuWare User provisioning", step by step, with
// entra-sync in place of Entra's provisioning service: every behaviour the guide promises, through the CLI
// commands (in-process `run(argv)`) against the Graph simulator and the SCIM simulator's docuware profile.
// The tests run in order on one tenant, as an admin would follow the guide.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as provision from '../../src/cli/provision.js';
import * as reconcile from '../../src/cli/reconcile.js';
import * as sync from '../../src/cli/sync.js';
import * as testConnection from '../../src/cli/test-connection.js';
import * as validate from '../../src/cli/validate.js';
import { startScimSimulator, type ScimResource, type ScimSimulator } from '../../src/simulators/scim/index.js';
import type { GraphUser } from '../../src/simulators/graph/types.js';
import { afterRequests, runCommand, startWorld, userNameOf, type World } from '../runtime-world.js';

const USER_KEYS = ['active', 'emails', 'externalId', 'name', 'schemas', 'userName'];

const memberIds = (g: ScimResource | undefined): string[] => ((g?.members as { value: string }[] | undefined) ?? []).map((m) => m.value).sort();

describe('DocuWare guide, with entra-sync in place of Entra\'s provisioning service', () => {
  let world: World;
  let dw: ScimSimulator;
  let config: string[];
  const tenant = () => world.graph.tenant;
  const dwUser = (upn: string) => dw.users().find((u) => u.userName === userNameOf(upn));
  const assignedUsers = () => tenant().assignments().filter((a) => a.principalType === 'User').map((a) => tenant().user(a.principalId)!).filter((u) => u.accountEnabled);
  const assignedGroups = () => tenant().assignments().filter((a) => a.principalType === 'Group').map((a) => a.principalId);

  beforeAll(async () => {
    world = await startWorld();
    dw = world.scim.docuware!;
    config = ['--config', world.configFile];
  });
  afterAll(async () => { await world?.close(); });

  it('Admin Credentials, Bearer Authentication: Test Connection passes with the Tenant URL and the bearer token', async () => {
    const { code, stdout } = await runCommand(testConnection, [...config, '--target', 'docuware']);
    expect(code).toBe(0);
    expect(stdout).toContain('✓ auth: bearer token accepted');
  });

  it('Admin Credentials, OAuth2 Client Credentials Grant: Test Connection, provisioning, and a token refreshed when DocuWare stops accepting it', async () => {
    const oauth = await startScimSimulator({ profile: 'docuware', oauth: { clientId: 'dw-app', clientSecret: 'dw-secret', tokenLifetimeSeconds: 3600 } });
    try {
      const file = path.join(world.dir, 'oauth.yaml');
      fs.writeFileSync(file, fs.readFileSync(world.configFile, 'utf8')
        .replace(`baseUrl: ${dw.baseUrl}`, `baseUrl: ${oauth.baseUrl}`)
        .replace('      type: bearer\n      token: scim-token', `      type: oauth2\n      tokenUrl: ${oauth.tokenUrl}\n      clientId: dw-app\n      clientSecret: dw-secret`)
        .replace(/path: (.*)state\.db/, 'path: $1oauth-state.db'));
      const tested = await runCommand(testConnection, ['--config', file, '--skip-graph']);
      expect(tested.code).toBe(0);
      expect(tested.stdout).toContain('✓ token endpoint: ');
      oauth.clearRequests();
      // DocuWare invalidates every issued token after a few requests: the connector fetches a new one and goes on.
      afterRequests(oauth, 4, () => oauth.expireTokens());
      const { code } = await runCommand(sync, ['--config', file]);
      expect(code).toBe(0);
      expect(oauth.requests.filter((r) => r.path === '/oauth2/token')).toHaveLength(2);
      // Requests in flight when the tokens were dropped got 401 and were sent again with the one new token.
      expect(oauth.requests.filter((r) => r.status === 401).length).toBeGreaterThan(0);
      expect(assignedUsers().length).toBeGreaterThan(0);
      expect(oauth.users().map((u) => u.userName)).toEqual(expect.arrayContaining(assignedUsers().map((u) => userNameOf(u.userPrincipalName))));
      expect(oauth.requests.filter((r) => r.status >= 400 && r.status !== 401)).toEqual([]);
    } finally {
      await oauth.close();
    }
  });

  it('Attribute Mapping: the four required and two optional mappings, and no extra mapping left', async () => {
    const { code, stdout } = await runCommand(validate, [...config, '--json']);
    expect(code).toBe(0);
    const target = (JSON.parse(stdout) as { targets: { users: { mappings: string[] }; groups: { mappings: string[] } }[] }).targets[0]!;
    expect(target.users.mappings).toEqual(['userName', 'active', 'emails[type eq "work"].value', 'externalId', 'name.givenName', 'name.familyName']);
    // Groups: "Delete the redundant mapping externalId → objectId".
    expect(target.groups.mappings).toEqual(['displayName']);
  });

  it('Searching for Groups: an existing DocuWare group with the displayName is updated, its members retained alongside the new ones', async () => {
    const groupId = assignedGroups()[0]!;
    const displayName = tenant().groups().find((g) => g.id === groupId)!.displayName;
    dw.store.putUser({ id: 'dw-own-user', userName: 'docuware.own', active: true });
    dw.store.putGroup({ id: 'dw-existing-group', displayName, members: [{ value: 'dw-own-user' }] });

    const { code } = await runCommand(sync, config);
    expect(code).toBe(0);
    const same = dw.groups().filter((g) => g.displayName === displayName);
    expect(same.map((g) => g.id)).toEqual(['dw-existing-group']); // looked up, not created a second time
    const members = memberIds(same[0]);
    expect(members).toContain('dw-own-user');
    const entraMembers = tenant().members(groupId).map((id) => dwUser(tenant().user(id)!.userPrincipalName)?.id).filter((id): id is string => id !== undefined);
    expect(entraMembers.length).toBeGreaterThan(0);
    expect(members).toEqual([...entraMembers, 'dw-own-user'].sort());
  });

  it('Automatic User Creation: each mapped attribute is exactly what the guide lists (userName from the UPN, active, work email falling back to the UPN, externalId = objectId, names)', async () => {
    const creates = dw.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/Users'));
    expect(creates.length).toBeGreaterThan(0);
    for (const r of creates) expect(Object.keys(r.body as object).sort()).toEqual(USER_KEYS);
    const inScope = world.inScope(await world.open());
    expect(inScope.length).toBeGreaterThan(0);
    let nullMail = 0;
    for (const u of inScope) {
      const entra = tenant().user(u.id)!;
      const created = dwUser(entra.userPrincipalName)!;
      if (entra.mail === null) nullMail++;
      expect(created).toMatchObject({
        userName: entra.userPrincipalName.split('@')[0],
        active: true,
        emails: [expect.objectContaining({ type: 'work', value: entra.mail ?? entra.userPrincipalName })],
        externalId: entra.id,
        name: { givenName: entra.givenName, familyName: entra.surname },
      });
    }
    expect(nullMail).toBeGreaterThan(0); // the fallback was exercised
  });

  it('Attribute Synchronization: a new UPN, mail and surname reach the same DocuWare user; attributes DocuWare does not keep send nothing', async () => {
    const [renamed, untouched] = assignedUsers();
    const before = dwUser(renamed!.userPrincipalName)!;
    tenant().updateUser(renamed!.id, { userPrincipalName: `renamed.${renamed!.userPrincipalName}`, mail: `renamed@contoso.example`, surname: 'Renamed' });
    tenant().updateUser(untouched!.id, { jobTitle: 'Chief Archivist', department: 'Records' } as Partial<GraphUser>);
    dw.clearRequests();
    const { code } = await runCommand(sync, config);
    expect(code).toBe(0);
    expect(dw.user(before.id)).toMatchObject({
      userName: `renamed.${userNameOf(renamed!.userPrincipalName)}`,
      emails: [expect.objectContaining({ type: 'work', value: 'renamed@contoso.example' })],
      name: expect.objectContaining({ familyName: 'Renamed' }),
    });
    const writes = dw.requests.filter((r) => r.method !== 'GET');
    expect(writes.map((r) => `${r.method} ${r.path}`)).toEqual([`PATCH /scim/v2/Users/${before.id}`]);
    expect(dw.requests.every((r) => r.status < 400)).toBe(true);
  });

  it('User Deactivation: a user blocked or deleted in Entra is disabled in DocuWare, not deleted', async () => {
    const [, , blocked, deleted] = assignedUsers();
    tenant().disableUser(blocked!.id);
    tenant().softDeleteUser(deleted!.id);
    dw.clearRequests();
    expect((await runCommand(sync, config)).code).toBe(0);
    expect(dwUser(blocked!.userPrincipalName)?.active).toBe(false);
    expect(dwUser(deleted!.userPrincipalName)?.active).toBe(false);
    expect(dw.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
  });

  it('After the first synchronization, a group renamed in Entra renames the same DocuWare group, found by its id, without removing members', async () => {
    const groupId = assignedGroups()[0]!;
    const before = dw.group('dw-existing-group')!;
    tenant().renameGroup(groupId, 'Records Management (renamed)');
    dw.clearRequests();
    expect((await runCommand(sync, config)).code).toBe(0);
    expect(dw.group('dw-existing-group')).toMatchObject({ displayName: 'Records Management (renamed)' });
    expect(memberIds(dw.group('dw-existing-group'))).toEqual(memberIds(before));
    expect(dw.groups().filter((g) => g.displayName === 'Records Management (renamed)')).toHaveLength(1);
    // By id: no lookup by the new displayName, one PATCH to the linked group.
    expect(dw.requests.some((r) => r.path.endsWith('/Groups') && r.method === 'GET')).toBe(false);
    expect(dw.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`)).toEqual(['PATCH /scim/v2/Groups/dw-existing-group']);
  });

  it('Preventing Duplicates: a full comparison adds no member twice and sends nothing for groups already right', async () => {
    dw.clearRequests();
    expect((await runCommand(sync, [...config, '--full'])).code).toBe(0);
    expect(dw.requests.filter((r) => r.path.includes('/Groups') && r.method !== 'GET')).toEqual([]);
    for (const g of dw.groups()) expect(new Set(memberIds(g)).size).toBe(memberIds(g).length);
  });

  it('Target Object Actions without Delete: a group deleted or unassigned in Entra stays in DocuWare', async () => {
    const [kept, deleted] = assignedGroups();
    const keptLink = dw.groups().filter((g) => g.id !== 'dw-existing-group').map((g) => g.id);
    tenant().deleteGroup(deleted ?? kept!);
    if (deleted) tenant().unassign(kept!);
    dw.clearRequests();
    expect((await runCommand(sync, config)).code).toBe(0);
    expect(dw.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    expect(dw.group('dw-existing-group')).toBeDefined();
    for (const id of keptLink) expect(dw.group(id)).toBeDefined();
  });

  it('Provision on demand: one user, then one group with a member assigned with it (provision --user, provision --group)', async () => {
    const newcomer = tenant().createUser({ userPrincipalName: 'on.demand@contoso.example', givenName: 'On', surname: 'Demand', displayName: 'On Demand', accountEnabled: true, mail: null } as Partial<GraphUser> & { userPrincipalName: string });
    tenant().assign(newcomer.id);
    const group = tenant().createGroup({ displayName: 'Scanning Team' });
    tenant().addMember(group.id, newcomer.id);
    tenant().assign(group.id);
    dw.clearRequests();

    const user = await runCommand(provision, [...config, '--user', 'on.demand@contoso.example']);
    expect(user.code).toBe(0);
    expect(dwUser('on.demand@contoso.example')).toMatchObject({ active: true, emails: [expect.objectContaining({ value: 'on.demand@contoso.example' })] });
    expect(dw.requests.filter((r) => r.method !== 'GET')).toHaveLength(1); // that user only

    const grp = await runCommand(provision, [...config, '--group', group.id]);
    expect(grp.code).toBe(0);
    const created = dw.groups().find((g) => g.displayName === 'Scanning Team')!;
    expect(memberIds(created)).toEqual([dwUser('on.demand@contoso.example')!.id]);
  });

  it('Leading system: a member removed by hand in DocuWare is not restored by sync (as with Entra), and `reconcile` restores it', async () => {
    const group = dw.groups().find((g) => g.displayName === 'Scanning Team')!;
    const member = memberIds(group)[0]!;
    dw.store.removeMember(group.id, member);
    // Default: like Entra, a cycle compares Entra with what entra-sync last wrote, so the hand edit stays.
    await runCommand(sync, config);
    await runCommand(sync, [...config, '--full']);
    expect(memberIds(dw.group(group.id))).toEqual([]);
    // Beyond Entra: reconcile reads the target back and re-adds the member entra-sync had added.
    const { code, stdout } = await runCommand(reconcile, config);
    expect(code).toBe(0);
    expect(stdout).toContain('member(s) we added were removed on the target');
    expect(memberIds(dw.group(group.id))).toEqual([member]);
  });
});
