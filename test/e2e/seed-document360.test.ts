// Document360's guide "Managing users and readers with SCIM in Entra", step by step, with entra-sync in place
// of Entra's provisioning service: every behaviour the guide describes, through the CLI commands (in-process
// `run(argv)`) against the Graph simulator and the SCIM simulator's document360 profile. The tests run in
// order on one tenant, as an admin would follow the guide.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as provision from '../../src/cli/provision.js';
import * as sync from '../../src/cli/sync.js';
import * as testConnection from '../../src/cli/test-connection.js';
import { startScimSimulator, type ScimResource, type ScimSimulator } from '../../src/simulators/scim/index.js';
import type { GraphUser } from '../../src/simulators/graph/types.js';
import { afterRequests, runCommand, startWorld, type World } from '../runtime-world.js';

const EXT = 'urn:ietf:params:scim:schemas:extension:document360:2.0:User';
const PRIMARY = 'd360-primary-secret';
const SECONDARY = 'd360-secondary-secret';

const teamAccount = (u: ScimResource | undefined): unknown => (u?.[EXT] as { isTeamAccount?: unknown } | undefined)?.isTeamAccount;
const memberIds = (g: ScimResource | undefined): string[] => ((g?.members as { value: string }[] | undefined) ?? []).map((m) => m.value).sort();

describe('Document360 guide, with entra-sync in place of Entra\'s provisioning service', () => {
  let world: World;
  let d360: ScimSimulator;
  /** Accepted tokens of the project: the test regenerates them as the Document360 admin would. */
  const tokens = [PRIMARY, SECONDARY];
  let configFile: string;
  let config: string[];
  const tenant = () => world.graph.tenant;
  const byUpn = (upn: string) => d360.users().find((u) => u.userName === upn);
  const person = (upn: string, jobTitle: string | null) => {
    const u = tenant().createUser({ userPrincipalName: upn, displayName: upn.split('@')[0], givenName: 'Given', surname: 'Sur', jobTitle, accountEnabled: true } as Partial<GraphUser> & { userPrincipalName: string });
    tenant().assign(u.id);
    return u;
  };

  beforeAll(async () => {
    world = await startWorld({ targets: { parent: 'document360' } });
    d360 = await startScimSimulator({ profile: 'document360', tokens });
    configFile = path.join(world.dir, 'document360.yaml');
    // The project's secret tokens: the primary in a file (so it can be regenerated), the secondary on standby.
    fs.writeFileSync(path.join(world.dir, 'primary.token'), PRIMARY);
    fs.writeFileSync(configFile, fs.readFileSync(world.configFile, 'utf8')
      .replace(`baseUrl: ${world.scim.parent!.baseUrl}`, `baseUrl: ${d360.baseUrl}`)
      .replace('      token: scim-token', `      tokenFile: ${path.join(world.dir, 'primary.token')}\n      secondaryToken: ${SECONDARY}`));
    config = ['--config', configFile];
  });
  afterAll(async () => {
    await d360?.close();
    await world?.close();
  });

  it('Test Connection with the secret token passes once the Document360 SSO configuration is saved', async () => {
    const { code, stdout } = await runCommand(testConnection, [...config, '--skip-graph']);
    expect(code).toBe(0);
    expect(stdout).toContain('✓ auth: bearer token (primary, secondary on standby) accepted');
    expect(stdout).not.toContain(PRIMARY);
  });

  it('Provision on demand: a user (Manager → User) and a reader (other title → Reader), each alone', async () => {
    person('mia.manager@contoso.example', 'Manager');
    person('rob.reader@contoso.example', 'Technical Writer');
    d360.clearRequests();
    expect((await runCommand(provision, [...config, '--user', 'mia.manager@contoso.example'])).code).toBe(0);
    expect(d360.users().map((u) => u.userName)).toEqual(['mia.manager@contoso.example']);
    expect(teamAccount(byUpn('mia.manager@contoso.example'))).toBe(true);
    expect((await runCommand(provision, [...config, '--user', 'rob.reader@contoso.example'])).code).toBe(0);
    expect(teamAccount(byUpn('rob.reader@contoso.example'))).toBe(false);
    expect(d360.users()).toHaveLength(2);
  });

  it('isTeamAccount from the Switch on Job Title, default False: Manager, Senior Manager, Team Lead → User; any other or no title → Reader; sent as a real Boolean', async () => {
    const titles: Record<string, string | null> = {
      'sam.senior@contoso.example': 'Senior Manager', 'tina.lead@contoso.example': 'Team Lead',
      'dan.dev@contoso.example': 'Developer', 'nora.none@contoso.example': null, 'lara.lower@contoso.example': 'manager',
    };
    for (const [upn, title] of Object.entries(titles)) person(upn, title);
    d360.clearRequests();
    expect((await runCommand(sync, config)).code).toBe(0);
    const expected = { 'sam.senior@contoso.example': true, 'tina.lead@contoso.example': true, 'dan.dev@contoso.example': false, 'nora.none@contoso.example': false, 'lara.lower@contoso.example': false };
    for (const [upn, value] of Object.entries(expected)) {
      expect(teamAccount(byUpn(upn)), upn).toBe(value);
      const post = d360.requests.find((r) => r.method === 'POST' && (r.body as { userName?: string }).userName === upn)!;
      const ext = (post.body as Record<string, unknown>)[EXT] as Record<string, unknown>;
      expect(typeof ext.isTeamAccount, upn).toBe('boolean'); // JSON true/false, never "True"/"False"
      expect((post.body as { schemas: string[] }).schemas).toContain(EXT);
    }
  });

  it('A user whose job title changes to Team Lead becomes a User in Document360', async () => {
    const dan = tenant().users().find((u) => u.userPrincipalName === 'dan.dev@contoso.example')!;
    tenant().updateUser(dan.id, { jobTitle: 'Team Lead' });
    expect((await runCommand(sync, config)).code).toBe(0);
    expect(teamAccount(byUpn('dan.dev@contoso.example'))).toBe(true);
  });

  it('Provision on demand of a group: created with its members', async () => {
    const group = tenant().createGroup({ displayName: 'Docs Reviewers' });
    for (const upn of ['rob.reader@contoso.example', 'mia.manager@contoso.example']) tenant().addMember(group.id, tenant().users().find((u) => u.userPrincipalName === upn)!.id);
    tenant().assign(group.id);
    d360.clearRequests();
    const { code, stdout } = await runCommand(provision, [...config, '--group', group.id]);
    expect(code).toBe(0);
    expect(stdout).toContain('Docs Reviewers');
    const created = d360.groups().find((g) => g.displayName === 'Docs Reviewers')!;
    expect(memberIds(created)).toEqual([byUpn('rob.reader@contoso.example')!.id, byUpn('mia.manager@contoso.example')!.id].sort());
  });

  it('Group membership changes in Entra are reflected in Document360 (removed members too)', async () => {
    const group = tenant().groups().find((g) => g.displayName === 'Docs Reviewers')!;
    expect((await runCommand(sync, config)).code).toBe(0); // the first cycle that reads the group
    const rob = tenant().users().find((u) => u.userPrincipalName === 'rob.reader@contoso.example')!;
    tenant().removeMember(group.id, rob.id);
    expect((await runCommand(sync, config)).code).toBe(0);
    expect(memberIds(d360.groups().find((g) => g.displayName === 'Docs Reviewers'))).toEqual([byUpn('mia.manager@contoso.example')!.id]);
    tenant().addMember(group.id, rob.id);
    expect((await runCommand(sync, config)).code).toBe(0);
    expect(memberIds(d360.groups().find((g) => g.displayName === 'Docs Reviewers'))).toHaveLength(2);
  });

  // The next delta round's first sight of a group created after the stored delta link lists only its
  // current members: the store replaces what the on-demand read stored instead of merging.
  it('A member removed between a group\'s provision on demand and the next cycle is removed in Document360', async () => {
    const group = tenant().createGroup({ displayName: 'Late Reviewers' });
    const [a, b] = ['sam.senior@contoso.example', 'lara.lower@contoso.example'].map((upn) => tenant().users().find((u) => u.userPrincipalName === upn)!);
    tenant().addMember(group.id, a!.id);
    tenant().addMember(group.id, b!.id);
    tenant().assign(group.id);
    expect((await runCommand(provision, [...config, '--group', group.id])).code).toBe(0);
    tenant().removeMember(group.id, b!.id);
    expect((await runCommand(sync, config)).code).toBe(0);
    expect(memberIds(d360.groups().find((g) => g.displayName === 'Late Reviewers'))).toEqual([byUpn('sam.senior@contoso.example')!.id]);
  });

  it('Update a user: a new name in Entra, provisioned on demand, is reflected in Document360', async () => {
    const mia = tenant().users().find((u) => u.userPrincipalName === 'mia.manager@contoso.example')!;
    tenant().updateUser(mia.id, { givenName: 'Maria', surname: 'Managerova', displayName: 'Maria Managerova' });
    expect((await runCommand(provision, [...config, '--user', mia.id])).code).toBe(0);
    expect(byUpn('mia.manager@contoso.example')).toMatchObject({ displayName: 'Maria Managerova', name: expect.objectContaining({ givenName: 'Maria', familyName: 'Managerova' }) });
  });

  it('Deleting a user in Entra does not remove them from Document360: their status changes to Inactive', async () => {
    const soft = tenant().users().find((u) => u.userPrincipalName === 'tina.lead@contoso.example')!;
    const hard = tenant().users().find((u) => u.userPrincipalName === 'nora.none@contoso.example')!;
    tenant().softDeleteUser(soft.id);
    tenant().hardDeleteUser(hard.id);
    d360.clearRequests();
    expect((await runCommand(sync, config)).code).toBe(0);
    for (const upn of ['tina.lead@contoso.example', 'nora.none@contoso.example']) expect(byUpn(upn)?.active, upn).toBe(false);
    expect(d360.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    expect(d360.users().map((u) => u.userName)).toEqual(expect.arrayContaining(['tina.lead@contoso.example', 'nora.none@contoso.example']));
  });

  it('Reactivate the account in Entra if access needs to be restored: the same Document360 account is active again', async () => {
    const soft = tenant().users().find((u) => u.userPrincipalName === 'tina.lead@contoso.example')!;
    const before = byUpn('tina.lead@contoso.example')!.id;
    tenant().restoreUser(soft.id);
    expect((await runCommand(sync, config)).code).toBe(0);
    expect(byUpn('tina.lead@contoso.example')).toMatchObject({ id: before, active: true });
    expect(d360.users().filter((u) => u.userName === 'tina.lead@contoso.example')).toHaveLength(1);
  });

  it('Use the secondary token for safe rotation: the primary regenerated mid-cycle, provisioning continues on the secondary; then the new primary takes over', async () => {
    // One request at a time: see the known bug below for concurrent requests.
    const serial = path.join(world.dir, 'serial.yaml');
    fs.writeFileSync(serial, fs.readFileSync(configFile, 'utf8').replace('    preset: document360\n', '    preset: document360\n    concurrency: 1\n'));
    for (let i = 0; i < 6; i++) person(`rotation.${i}@contoso.example`, i % 2 ? 'Manager' : 'Support');
    d360.clearRequests();
    // The Document360 admin regenerates the primary token while a cycle is running.
    afterRequests(d360, 3, () => { tokens.splice(tokens.indexOf(PRIMARY), 1, 'd360-new-primary'); });
    const { code, stdout } = await runCommand(sync, ['--config', serial, '--json']);
    expect(code).toBe(0);
    const summary = (JSON.parse(stdout) as { targets: { failed: number; counts: { create: number } }[] }).targets[0]!;
    expect(summary).toMatchObject({ failed: 0, counts: expect.objectContaining({ create: 6 }) });
    for (let i = 0; i < 6; i++) expect(byUpn(`rotation.${i}@contoso.example`)).toMatchObject({ active: true, [EXT]: { isTeamAccount: i % 2 === 1 } });
    expect(d360.requests.filter((r) => r.status === 401)).toHaveLength(1); // refused once, then on the secondary

    // The admin stores the new primary, then regenerates the secondary: entra-sync moves back to the primary.
    fs.writeFileSync(path.join(world.dir, 'primary.token'), 'd360-new-primary');
    tokens.splice(tokens.indexOf(SECONDARY), 1, 'd360-new-secondary');
    tenant().updateUser(tenant().users().find((u) => u.userPrincipalName === 'rotation.0@contoso.example')!.id, { surname: 'Rotated' });
    const after = await runCommand(sync, [...config, '--json']);
    expect(after.code).toBe(0);
    expect((JSON.parse(after.stdout) as { targets: { failed: number }[] }).targets[0]!.failed).toBe(0);
    expect(byUpn('rotation.0@contoso.example')).toMatchObject({ name: expect.objectContaining({ familyName: 'Rotated' }) });
  });

  // Several requests refused at once must all move to the secondary token, none back to the revoked primary.
  it('Use the secondary token for safe rotation, with concurrent requests in flight when the primary is regenerated', async () => {
    const own = [PRIMARY, SECONDARY];
    const sim = await startScimSimulator({ profile: 'document360', tokens: own });
    try {
      const file = path.join(world.dir, 'concurrent.yaml');
      fs.writeFileSync(file, fs.readFileSync(configFile, 'utf8').replace(`baseUrl: ${d360.baseUrl}`, `baseUrl: ${sim.baseUrl}`).replace(/path: (.*)state\.db/, 'path: $1concurrent-state.db'));
      fs.writeFileSync(path.join(world.dir, 'primary.token'), PRIMARY);
      afterRequests(sim, 3, () => { own.splice(own.indexOf(PRIMARY), 1); });
      const { code, stdout } = await runCommand(sync, ['--config', file, '--json']);
      expect((JSON.parse(stdout) as { targets: { failed: number }[] }).targets[0]!.failed).toBe(0);
      expect(code).toBe(0);
    } finally {
      fs.writeFileSync(path.join(world.dir, 'primary.token'), 'd360-new-primary');
      await sim.close();
    }
  });

  it('Inherit from another application: one Entra read serves the parent and its child projects; a child added later gets every user and group on its first cycle', async () => {
    const child = await startScimSimulator({ profile: 'document360', tokens: ['child-token'] });
    try {
      const block = fs.readFileSync(configFile, 'utf8');
      const withChild = path.join(world.dir, 'with-child.yaml');
      fs.writeFileSync(withChild, `${block}  - name: child
    type: scim
    preset: document360
    baseUrl: ${child.baseUrl}
    auth:
      type: bearer
      token: child-token
`);
      const graphBefore = world.graph.counters.byRoute['users/delta'] ?? 0;
      d360.clearRequests();
      const { code, stdout } = await runCommand(sync, ['--config', withChild, '--json']);
      expect(code).toBe(0);
      const report = JSON.parse(stdout) as { read: { users: { mode: string } }; targets: { target: string; failed: number }[] };
      expect(report.read.users.mode).toBe('incremental'); // no second read of Entra for the child
      expect((world.graph.counters.byRoute['users/delta'] ?? 0) - graphBefore).toBe(1);
      expect(report.targets.map((t) => [t.target, t.failed])).toEqual([['parent', 0], ['child', 0]]);
      expect(d360.requests.filter((r) => r.method !== 'GET')).toEqual([]); // the parent had nothing to do
      // Every account and group of the parent, with the same role and status, in the child; except a user
      // deleted from Entra for good before the child existed, whom the child never needs.
      const live = new Set(tenant().users().map((u) => u.userPrincipalName));
      expect(live.has('nora.none@contoso.example')).toBe(false);
      const project = (sim: ScimSimulator) => sim.users().filter((u) => live.has(String(u.userName))).map((u) => [u.userName, u.active, teamAccount(u)]).sort();
      expect(child.users().map((u) => u.userName)).not.toContain('nora.none@contoso.example');
      expect(project(child)).toEqual(project(d360));
      expect(project(child).length).toBeGreaterThan(20);
      expect(child.groups().map((g) => [g.displayName, memberIds(g).length]).sort()).toEqual(d360.groups().map((g) => [g.displayName, memberIds(g).length]).sort());
    } finally {
      await child.close();
    }
  });
});
