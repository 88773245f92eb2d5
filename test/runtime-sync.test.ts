// The runtime's sync over real HTTP: the life of a tenant, one cycle per step, seen from the targets.
// Two targets from one config: `docuware` (its preset: disable, never delete) and `generic` (the scim
// preset with the delete action on, so a hard delete in Entra deletes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../src/runtime/runtime.js';
import type { CycleSummary } from '../src/sync/cycle.js';
import type { SourceUserRecord } from '../src/source/types.js';
import { startWorld, userNameOf, type World } from './runtime-world.js';

// The docuware preset takes the UPN's local part; the scim preset the whole UPN.
const userName = { docuware: userNameOf, generic: (upn: string) => upn };

describe('runtime.sync: each kind of change in Entra reaches both targets', () => {
  let world: World;
  let runtime: Runtime;
  let chosen: { renamed: SourceUserRecord; disabled: SourceUserRecord; softDeleted: SourceUserRecord; unassigned: SourceUserRecord };
  const summaryOf = (report: Awaited<ReturnType<Runtime['sync']>>, target: string) => report.targets.find((t) => t.target === target) as CycleSummary;
  const onTarget = (target: string, sourceId: string) => {
    const link = runtime.targets.link(target, 'user', sourceId);
    return link ? world.scim[target]!.user(link.targetId) : undefined;
  };

  beforeAll(async () => {
    world = await startWorld({
      targets: { docuware: 'docuware', generic: 'generic' },
      targetYaml: { generic: 'users:\n  actions: [create, update, disable, delete]\nhardDeleteAction: delete' },
    });
    runtime = await world.open();
  });
  afterAll(async () => { await world?.close(); });

  it('the initial sync creates every in-scope user and assigned group on both targets from one read', async () => {
    world.graph.counters.reset();
    const report = await runtime.sync();
    expect(report.read.full).toBe(true);
    expect(world.graph.counters.total).toBe(report.read.requests); // every Graph request was the one read
    const upns = world.inScope(runtime).map((u) => String(u.attributes.userPrincipalName));
    expect(upns.length).toBeGreaterThan(5);
    for (const name of ['docuware', 'generic'] as const) {
      expect(summaryOf(report, name)).toMatchObject({ status: 'success', failed: 0 });
      expect(world.scim[name]!.users().map((u) => u.userName).sort()).toEqual(upns.map(userName[name]).sort());
      expect(world.scim[name]!.groups()).toHaveLength(2);
    }
  });

  it('a sync with nothing changed in Entra sends nothing to either target', async () => {
    for (const s of Object.values(world.scim)) s.clearRequests();
    const report = await runtime.sync();
    expect(report.read.full).toBe(false);
    for (const name of ['docuware', 'generic']) {
      expect(summaryOf(report, name)).toMatchObject({ status: 'success', requests: 0 });
      expect(world.scim[name]!.requests).toHaveLength(0);
    }
  });

  it('rename, blocked sign-in, soft delete, unassignment, group rename and membership changes', async () => {
    const inScope = world.inScope(runtime);
    const directOnly = world.directOnly(runtime);
    const unassigned = directOnly[0]!;
    const [renamed, disabled, softDeleted] = inScope.filter((u) => u.id !== unassigned.id);
    chosen = { renamed: renamed!, disabled: disabled!, softDeleted: softDeleted!, unassigned };
    const tenant = world.graph.tenant;
    const group = tenant.assignments().find((a) => a.principalType === 'Group')!.principalId;
    const groupLinks = { docuware: runtime.targets.link('docuware', 'group', group)!.targetId, generic: runtime.targets.link('generic', 'group', group)!.targetId };
    const inScopeIds = new Set(inScope.map((u) => u.id));
    const outsider = tenant.users().find((u) => u.accountEnabled && !inScopeIds.has(u.id) && !tenant.isSoftDeleted(u.id))!;
    const newUpn = `renamed.${world.upn(renamed!.id)}`;

    tenant.updateUser(renamed!.id, { userPrincipalName: newUpn, surname: 'Renamed' });
    tenant.disableUser(disabled!.id);
    tenant.softDeleteUser(softDeleted!.id);
    tenant.unassign(unassigned.id);
    tenant.renameGroup(group, 'Renamed In Entra');
    tenant.addMember(group, outsider.id);

    for (const s of Object.values(world.scim)) s.clearRequests();
    const report = await runtime.sync();
    for (const name of ['docuware', 'generic'] as const) {
      expect(summaryOf(report, name)).toMatchObject({ status: 'success', failed: 0 });
      expect(onTarget(name, renamed!.id)).toMatchObject({ userName: userName[name](newUpn), active: true });
      for (const u of [disabled!, softDeleted!, unassigned]) expect(onTarget(name, u.id)?.active).toBe(false);
      const targetGroup = world.scim[name]!.group(groupLinks[name])!;
      expect(targetGroup.displayName).toBe('Renamed In Entra'); // the same target group, renamed
      const newcomer = runtime.targets.link(name, 'user', outsider.id)!;
      expect(((targetGroup.members as { value: string }[]) ?? []).map((m) => m.value)).toContain(newcomer.targetId);
      expect(world.scim[name]!.requests.map((r) => r.method)).not.toContain('DELETE');
      expect(world.scim[name]!.requests.filter((r) => r.method === 'POST')).toHaveLength(1); // only the newcomer
    }
  });

  it('a removed member is taken out of the target group', async () => {
    const tenant = world.graph.tenant;
    const group = tenant.assignments().find((a) => a.principalType === 'Group')!.principalId;
    const member = tenant.members(group).find((id) => runtime.targets.link('docuware', 'user', id)?.status === 'active')!;
    tenant.removeMember(group, member);
    await runtime.sync();
    for (const name of ['docuware', 'generic']) {
      const targetGroup = world.scim[name]!.group(runtime.targets.link(name, 'group', group)!.targetId)!;
      expect(((targetGroup.members as { value: string }[]) ?? []).map((m) => m.value)).not.toContain(runtime.targets.link(name, 'user', member)!.targetId);
    }
  });

  it('a restored user is enabled again, the same account', async () => {
    const before = onTarget('docuware', chosen.softDeleted.id)!.id;
    world.graph.tenant.restoreUser(chosen.softDeleted.id);
    const report = await runtime.sync();
    expect(summaryOf(report, 'docuware').counts.enable).toBe(1);
    expect(onTarget('docuware', chosen.softDeleted.id)).toMatchObject({ id: before, active: true });
    expect(onTarget('generic', chosen.softDeleted.id)?.active).toBe(true);
  });

  it('a hard delete deletes where the delete action is on, and only disables where it is not', async () => {
    const victim = chosen.renamed.id;
    const genericId = runtime.targets.link('generic', 'user', victim)!.targetId;
    for (const s of Object.values(world.scim)) s.clearRequests();
    world.graph.tenant.hardDeleteUser(victim);
    const report = await runtime.sync();
    expect(summaryOf(report, 'generic').counts.delete).toBe(1);
    expect(world.scim.generic!.user(genericId)).toBeUndefined();
    expect(world.scim.generic!.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    expect(world.scim.docuware!.requests.map((r) => r.method)).not.toContain('DELETE');
    expect(onTarget('docuware', victim)?.active).toBe(false);
  });
});
