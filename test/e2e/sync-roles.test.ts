// End to end, over real HTTP: app roles from the Graph simulator (role definitions + assignments) through the
// real reader, the mapping's role functions and the real SCIM connector into two SCIM simulators. Target A maps
// `roles` with AssertiveAppRoleAssignmentsComplex (replace), target B with AppRoleAssignmentsComplex (add only).
// Each test is one step of the tenant's life; they run in order on shared state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { runCycle } from '../../src/sync/cycle.js';
import { cyclePolicyFromConfig } from '../../src/sync/policy.js';
import { SyncEvents } from '../../src/observability/events.js';
import { compileTarget } from '../../src/engine/mapping.js';
import { startScimSimulator, type ScimSimulator } from '../../src/simulators/scim/index.js';
import type { SourceUserRecord } from '../../src/source/types.js';
import { TargetsStore } from '../../src/state/targets-store.js';
import { ScimConnector } from '../../src/targets/scim/connector.js';
import { scimTargetOptionsSchema } from '../../src/targets/scim/options.js';
import { startHarness, type Harness } from '../source/e2e-helpers.js';

const ROLE_TYPE = 'WindowsAzureActiveDirectoryRole';

function targetYaml(name: string, rolesExpression: string): string {
  return `  - name: ${name}
    type: scim
    baseUrl: https://${name}.example/scim
    auth: { type: bearer, token: abc }
    users:
      mappings:
        - { target: userName, source: userPrincipalName, matchPriority: 1 }
        - { target: active, expression: 'Switch([IsSoftDeleted], , "False", "True", "True", "False")' }
        - { target: externalId, source: objectId }
        - { target: roles, expression: '${rolesExpression}' }
`;
}

describe('sync: Entra app roles → roles on a SCIM target', () => {
  let graph: Harness;
  let store: TargetsStore;
  const events = new SyncEvents();
  const targets: Record<'assertive' | 'additive', { sim: ScimSimulator; connector: ScimConnector; compiled: ReturnType<typeof compileTarget>; policy: ReturnType<typeof cyclePolicyFromConfig> }> = {} as never;

  const cycle = async (name: 'assertive' | 'additive') => {
    const t = targets[name];
    const summary = await runCycle({ store, source: graph.store, compiled: t.compiled, connector: t.connector, policy: t.policy, events });
    expect(summary.status).toBe('success');
    return summary;
  };
  const scimUser = (name: 'assertive' | 'additive', upn: string) => targets[name].sim.users().find((u) => u.userName === upn);
  /** What Entra would send for this user's roles: each role with a value, in SCIM's role shape. */
  const expectedRoles = (u: SourceUserRecord) => (u.appRoles ?? [])
    .filter((r) => r.value && r.isEnabled)
    .map((r) => ({ primary: false, type: ROLE_TYPE, display: r.displayName, value: r.value }));
  const rolesOf = (name: 'assertive' | 'additive', upn: string) =>
    [...((scimUser(name, upn)?.roles as Record<string, unknown>[] | undefined) ?? [])].sort((a, b) => String(a.value).localeCompare(String(b.value)));

  beforeAll(async () => {
    const config = parseConfig(`source: { tenantId: t, clientId: c, clientSecret: s, servicePrincipalId: sp }
targets:
${targetYaml('assertive', 'AssertiveAppRoleAssignmentsComplex([appRoleAssignments])')}${targetYaml('additive', 'AppRoleAssignmentsComplex([appRoleAssignments])')}`, 'roles.yaml', {});
    // The reader is told what the mappings read, as the runtime does: this includes appRoleAssignments.
    const select = [...new Set(config.targets.flatMap((t) => compileTarget(t).sourceAttributes))];
    graph = await startHarness({ tenant: { users: 30, groups: 4, membersPerGroup: 6, seed: 5 }, pageSize: 25 }, {}, undefined, select);
    store = new TargetsStore(graph.store.db);
    for (const target of config.targets) {
      const sim = await startScimSimulator();
      const connector = new ScimConnector(target.name, scimTargetOptionsSchema.parse({ baseUrl: sim.baseUrl, auth: { type: 'bearer', token: 'scim-token' } }));
      targets[target.name as 'assertive' | 'additive'] = { sim, connector, compiled: compileTarget(target), policy: cyclePolicyFromConfig(target) };
    }
  });

  afterAll(async () => {
    for (const t of Object.values(targets ?? {})) {
      await t.connector.close();
      await t.sim.close();
    }
    await graph?.close();
  });

  it('initial sync: every provisioned user carries exactly its Entra roles, on both targets', async () => {
    await graph.reader.read();
    await cycle('assertive');
    await cycle('additive');
    const inScope = [...graph.store.allUsers()].filter((u) => u.assigned && !u.removed && u.attributes.accountEnabled !== false);
    expect(inScope.some((u) => expectedRoles(u).length > 0)).toBe(true);
    for (const u of inScope) {
      const upn = String(u.attributes.userPrincipalName);
      const want = expectedRoles(u).sort((a, b) => String(a.value).localeCompare(String(b.value)));
      expect(rolesOf('assertive', upn)).toEqual(want);
      expect(rolesOf('additive', upn)).toEqual(want);
    }
    // The create request itself carried the roles (not a later PATCH).
    const holder = inScope.find((u) => expectedRoles(u).length > 0)!;
    const post = targets.assertive.sim.requests.find((r) => r.method === 'POST' && (r.body as { userName?: string } | undefined)?.userName === holder.attributes.userPrincipalName);
    expect((post?.body as { roles?: unknown[] }).roles).toHaveLength(expectedRoles(holder).length);
  });

  const upn = 'rhea.roles@contoso.example';

  it('a user assigned Admin directly and User through a group gets both roles', async () => {
    const group = graph.sim.tenant.createGroup({ displayName: 'Role holders' });
    graph.sim.tenant.assign(group.id, graph.sim.appRoleIds.User);
    const u = graph.sim.tenant.createUser({ userPrincipalName: upn, displayName: 'Rhea Roles', accountEnabled: true });
    graph.sim.tenant.addMember(group.id, u.id);
    graph.sim.tenant.assign(u.id, graph.sim.appRoleIds.Admin);
    await graph.reader.read();
    await cycle('assertive');
    await cycle('additive');
    const both = [
      { primary: false, type: ROLE_TYPE, display: 'Administrator', value: 'Admin' },
      { primary: false, type: ROLE_TYPE, display: 'Standard user', value: 'User' },
    ];
    expect(rolesOf('assertive', upn)).toEqual(both);
    expect(rolesOf('additive', upn)).toEqual(both);
  });

  it('Admin taken away in Entra: the assertive target replaces it away, the additive target keeps it', async () => {
    const id = graph.store.userByPrincipalName(upn)!.id;
    graph.sim.tenant.unassign(id); // the direct Admin assignment; User still comes through the group
    await graph.reader.read();
    for (const t of Object.values(targets)) t.sim.clearRequests();
    await cycle('assertive');
    await cycle('additive');
    expect(rolesOf('assertive', upn)).toEqual([{ primary: false, type: ROLE_TYPE, display: 'Standard user', value: 'User' }]);
    const patch = targets.assertive.sim.requests.find((r) => r.method === 'PATCH');
    expect(patch?.body).toMatchObject({ Operations: [{ op: 'replace', path: 'roles' }] });
    expect(rolesOf('additive', upn).map((r) => r.value)).toEqual(['Admin', 'User']);
    expect(targets.additive.sim.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('Admin given back: the assertive target gets it again; the additive target still has it and is sent nothing', async () => {
    const id = graph.store.userByPrincipalName(upn)!.id;
    graph.sim.tenant.assign(id, graph.sim.appRoleIds.Admin);
    await graph.reader.read();
    for (const t of Object.values(targets)) t.sim.clearRequests();
    await cycle('assertive');
    await cycle('additive');
    expect(rolesOf('assertive', upn).map((r) => r.value)).toEqual(['Admin', 'User']);
    expect(rolesOf('additive', upn).map((r) => r.value)).toEqual(['Admin', 'User']);
    expect(targets.additive.sim.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('a role new to a user reaches the additive target as one SCIM add of that role entry', async () => {
    const u = graph.sim.tenant.createUser({ userPrincipalName: 'uma.user@contoso.example', displayName: 'Uma User', accountEnabled: true });
    graph.sim.tenant.assign(u.id, graph.sim.appRoleIds.User);
    await graph.reader.read();
    await cycle('additive');
    expect(rolesOf('additive', 'uma.user@contoso.example').map((r) => r.value)).toEqual(['User']);
    graph.sim.tenant.assign(u.id, graph.sim.appRoleIds.Admin);
    await graph.reader.read();
    targets.additive.sim.clearRequests();
    await cycle('additive');
    const patches = targets.additive.sim.requests.filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => r.body)).toEqual([expect.objectContaining({
      Operations: [{ op: 'add', path: 'roles', value: [{ value: 'Admin', primary: false, type: ROLE_TYPE, display: 'Administrator' }] }],
    })]);
    expect(rolesOf('additive', 'uma.user@contoso.example').map((r) => r.value)).toEqual(['Admin', 'User']);
  });

  it('a role renamed in Entra reaches its holders on the assertive target', async () => {
    const admin = graph.sim.appRoles.find((r) => r.value === 'Admin')!;
    admin.displayName = 'Tenant administrator';
    await graph.reader.read();
    await cycle('assertive');
    const holders = [...graph.store.allUsers()].filter((u) => u.assigned && !u.removed && u.attributes.accountEnabled !== false && u.appRoleIds.includes(admin.id));
    expect(holders.length).toBeGreaterThan(0);
    for (const u of holders) {
      expect(rolesOf('assertive', String(u.attributes.userPrincipalName))).toContainEqual({ primary: false, type: ROLE_TYPE, display: 'Tenant administrator', value: 'Admin' });
    }
  });
});
