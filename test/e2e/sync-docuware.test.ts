// End to end, over real HTTP: the Graph tenant simulator read by the real reader into the SQLite source
// store, then runCycle with the docuware preset through the real SCIM connector into the SCIM simulator
// (docuware profile). Each test is one step of a tenant's life; they run in order on shared state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCycle, type CycleSummary } from '../../src/sync/cycle.js';
import { reconcileTarget } from '../../src/sync/reconcile.js';
import { SyncEvents } from '../../src/observability/events.js';
import { startScimSimulator, type ScimSimulator } from '../../src/simulators/scim/index.js';
import { TargetsStore } from '../../src/state/targets-store.js';
import { ScimConnector } from '../../src/targets/scim/connector.js';
import { scimTargetOptionsSchema } from '../../src/targets/scim/options.js';
import { compiledTarget } from '../sync/cycle-fixtures.js';
import { startHarness, type Harness } from '../source/e2e-helpers.js';

type Compiled = ReturnType<typeof compiledTarget>;

describe('sync: Graph simulator → docuware preset → SCIM simulator', () => {
  let graph: Harness;
  let scim: ScimSimulator;
  let scim2: ScimSimulator;
  let store: TargetsStore;
  let dw: Compiled;
  let dw2: Compiled;
  let connector: ScimConnector;
  let connector2: ScimConnector;
  const events = new SyncEvents();

  const connect = (sim: ScimSimulator, name: string) =>
    new ScimConnector(name, scimTargetOptionsSchema.parse({ baseUrl: sim.baseUrl, auth: { type: 'bearer', token: 'scim-token' } }));
  const cycle = (options: { full?: boolean } = {}): Promise<CycleSummary> =>
    runCycle({ store, source: graph.store, compiled: dw.compiled, connector, policy: dw.policy, events, options });
  const scimUser = (sim: ScimSimulator, userName: string) => sim.users().find((u) => u.userName === userName);
  const userNameOf = (upn: string) => upn.split('@')[0]!;
  const inScopeUsers = () => [...graph.store.allUsers()].filter((u) => u.assigned && !u.removed && u.attributes.accountEnabled !== false);

  beforeAll(async () => {
    graph = await startHarness({ tenant: { users: 40, groups: 4, membersPerGroup: 6, seed: 11 }, pageSize: 25 });
    scim = await startScimSimulator({ profile: 'docuware' });
    scim2 = await startScimSimulator({ profile: 'docuware' });
    store = new TargetsStore(graph.store.db); // one state file for source and targets, as the daemon has it
    dw = compiledTarget('    deleteThreshold: { percent: 50 }\n', 'docuware');
    dw2 = compiledTarget('', 'docuware-child');
    connector = connect(scim, 'docuware');
    connector2 = connect(scim2, 'docuware-child');
  });

  afterAll(async () => {
    await connector?.close();
    await connector2?.close();
    await scim?.close();
    await scim2?.close();
    await graph?.close();
  });

  it('initial sync creates every in-scope user and the assigned groups with their members', async () => {
    await graph.reader.read();
    const summary = await cycle();
    const expected = inScopeUsers();
    expect(summary.status).toBe('success');
    expect(summary.counts.create + summary.counts.adopt).toBe(expected.length + [...graph.store.allGroups()].filter((g) => g.assigned && !g.removed).length);
    expect(scim.users().map((u) => u.userName).sort()).toEqual(expected.map((u) => userNameOf(String(u.attributes.userPrincipalName))).sort());
    const sample = expected[0]!;
    const created = scimUser(scim, userNameOf(String(sample.attributes.userPrincipalName)))!;
    expect(created).toMatchObject({ active: true, externalId: sample.id });
    for (const g of [...graph.store.allGroups()].filter((x) => x.assigned && !x.removed)) {
      const link = store.link('docuware', 'group', g.id)!;
      const target = scim.group(link.targetId)!;
      expect(target.displayName).toBe(g.attributes.displayName);
      const memberIds = ((target.members as { value: string }[] | undefined) ?? []).map((m) => m.value).sort();
      const expectedMembers = graph.store.groupMembers(g.id)
        .map((m) => store.link('docuware', 'user', m.id))
        .filter((l) => l && l.status === 'active').map((l) => l!.targetId).sort();
      expect(memberIds).toEqual(expectedMembers);
    }
    expect(store.cursor('docuware')).toBe(graph.store.currentSeq());
  });

  it('a cycle with no change in the tenant sends no request to the target', async () => {
    await graph.reader.read();
    scim.clearRequests();
    const summary = await cycle();
    expect(summary).toMatchObject({ status: 'success', requests: 0, examined: { users: 0, groups: 0 } });
    expect(scim.requests).toHaveLength(0);
  });

  it('each kind of change becomes the right request', async () => {
    const [renamed, disabled, softDeleted, unassigned] = inScopeUsers().filter((u) => graph.sim.tenant.assignments().some((a) => a.principalId === u.id));
    expect(unassigned).toBeDefined();
    graph.sim.tenant.updateUser(renamed!.id, { surname: 'Renamed' });
    graph.sim.tenant.disableUser(disabled!.id);
    graph.sim.tenant.softDeleteUser(softDeleted!.id);
    graph.sim.tenant.unassign(unassigned!.id);
    const group = [...graph.store.allGroups()].find((g) => g.assigned && !g.removed)!;
    graph.sim.tenant.renameGroup(group.id, 'Renamed Group');
    const newcomer = graph.sim.tenant.createUser({ userPrincipalName: 'new.member@contoso.example', displayName: 'New Member', givenName: 'New', surname: 'Member', accountEnabled: true });
    graph.sim.tenant.addMember(group.id, newcomer.id); // members of assigned groups are in scope

    await graph.reader.read();
    scim.clearRequests();
    const summary = await cycle();
    expect(summary.failed).toBe(0);
    expect(summary.counts).toMatchObject({ update: 2, disable: 3, create: 1, addMembers: 1 });

    const link = (id: string) => store.link('docuware', 'user', id)!;
    expect(scim.user(link(renamed!.id).targetId)).toMatchObject({ name: expect.objectContaining({ familyName: 'Renamed' }) });
    for (const u of [disabled!, softDeleted!, unassigned!]) {
      expect(scim.user(link(u.id).targetId)?.active).toBe(false);
      expect(link(u.id).status).toBe('disabled');
    }
    const groupLink = store.link('docuware', 'group', group.id)!;
    expect(scim.group(groupLink.targetId)?.displayName).toBe('Renamed Group'); // the same target group, renamed
    expect(((scim.group(groupLink.targetId)!.members as { value: string }[]) ?? []).map((m) => m.value)).toContain(link(newcomer.id).targetId);
    const methods = scim.requests.map((r) => r.method);
    expect(methods.filter((m) => m === 'POST')).toHaveLength(1); // only the newcomer is created
    expect(methods).not.toContain('DELETE'); // docuware: disable, never delete
  });

  it('reconcile repairs what an admin changed by hand on the target and reports it', async () => {
    const victim = inScopeUsers()[0]!;
    const link = store.link('docuware', 'user', victim.id)!;
    const current = scim.user(link.targetId)!;
    scim.store.putUser({ ...current, name: { ...(current.name as object), familyName: 'Hand Edited' } });
    const report = await reconcileTarget({ store, compiled: dw.compiled, connector, policy: dw.policy, events });
    expect(report.fixes).toEqual([expect.objectContaining({ sourceId: victim.id, fix: 'attributes', details: expect.stringContaining('"Hand Edited" →') })]);
    expect((scim.user(link.targetId)!.name as { familyName: string }).familyName).toBe(victim.attributes.surname);
    expect((await reconcileTarget({ store, compiled: dw.compiled, connector, policy: dw.policy })).fixes).toEqual([]);
  });

  it('one Graph read serves a second target with its own links and cursor', async () => {
    const graphRequests = graph.sim.counters.total;
    const summary = await runCycle({ store, source: graph.store, compiled: dw2.compiled, connector: connector2, policy: dw2.policy });
    expect(graph.sim.counters.total).toBe(graphRequests); // no Graph request for the second target
    expect(summary.status).toBe('success');
    expect(scim2.users().map((u) => u.userName).sort()).toEqual(inScopeUsers().map((u) => userNameOf(String(u.attributes.userPrincipalName))).sort());
    expect(store.cursor('docuware-child')).toBe(graph.store.currentSeq());
    expect(store.linkedCount('docuware-child', 'user')).toBe(inScopeUsers().length);
  });
});
