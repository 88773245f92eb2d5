// Provision on demand and preview through the runtime, over real HTTP: one user read fresh from Graph,
// each step shown; a dry run and a preview send nothing that changes the target.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTargetFailure, type ObjectTrace, type Runtime } from '../src/runtime/runtime.js';
import { EntraSyncError } from '../src/errors.js';
import { startWorld, userNameOf, type World } from './runtime-world.js';

describe('runtime.provision and runtime.preview', () => {
  let world: World;
  let runtime: Runtime;
  let upn: string;
  const mutating = () => world.scim.docuware!.requests.filter((r) => r.method !== 'GET');
  const traceOf = (report: Awaited<ReturnType<Runtime['provision']>>): ObjectTrace => {
    const t = report.targets[0]!;
    if (isTargetFailure(t)) throw new Error(t.error.message);
    return t.objects[0]!;
  };

  beforeAll(async () => {
    world = await startWorld();
    runtime = await world.open();
    // Never synced: the user is unknown to the state and the target until provisioned.
    const direct = world.graph.tenant.assignments().find((a) => a.principalType === 'User' && world.graph.tenant.user(a.principalId)?.accountEnabled)!;
    upn = world.upn(direct.principalId);
  });
  afterAll(async () => { await world?.close(); });

  it('preview shows the attributes the target would receive and the operation, and writes nothing', async () => {
    world.scim.docuware!.clearRequests();
    const report = await runtime.preview({ user: upn });
    expect(report.user.userPrincipalName).toBe(upn);
    const t = report.targets[0]!;
    expect(t).toMatchObject({ target: 'docuware', scope: 'inScope', link: null });
    expect(t.attributes).toMatchObject({ userName: userNameOf(upn), active: true, externalId: report.user.id });
    expect(t.operations.map((o) => o.kind)).toEqual(['create']);
    expect(world.scim.docuware!.requests).toHaveLength(0);
  });

  it('provision --dry-run shows the steps and sends nothing that changes the target', async () => {
    world.scim.docuware!.clearRequests();
    const report = await runtime.provision({ user: upn, dryRun: true });
    const trace = traceOf(report);
    expect(trace.steps.map((s) => s.name)).toEqual(['import', 'scope', 'match', 'action', 'export']);
    expect(trace.steps.find((s) => s.name === 'export')).toMatchObject({ status: 'skipped', details: expect.stringContaining('dry run') });
    expect(mutating()).toHaveLength(0);
    expect(world.scim.docuware!.users()).toHaveLength(0);
  });

  it('provision creates the one user, with import, scope, match, action and export steps', async () => {
    const report = await runtime.provision({ user: upn });
    const trace = traceOf(report);
    expect(trace).toMatchObject({ action: 'create', status: 'success' });
    expect(trace.steps.map((s) => s.name)).toEqual(['import', 'scope', 'match', 'action', 'export']);
    expect(trace.modifiedProperties).toContainEqual({ path: 'userName', before: null, after: userNameOf(upn) });
    expect(world.scim.docuware!.users().map((u) => u.userName)).toEqual([userNameOf(upn)]);
  });

  it('provisioning the same user again changes nothing and says so', async () => {
    world.scim.docuware!.clearRequests();
    const trace = traceOf(await runtime.provision({ user: upn }));
    expect(trace.status).toBe('unchanged');
    expect(mutating()).toHaveLength(0);
  });

  it('a change in Entra is previewed as an update with before and after, then provisioned', async () => {
    const id = runtime.source.userByPrincipalName(upn)!.id;
    world.graph.tenant.updateUser(id, { surname: 'Provisioned' });
    const preview = await runtime.preview({ user: id });
    const update = preview.targets[0]!.operations[0]!;
    expect(update).toMatchObject({ kind: 'update', changes: [expect.objectContaining({ path: 'name.familyName', after: 'Provisioned' })] });
    const trace = traceOf(await runtime.provision({ user: id }));
    expect(trace).toMatchObject({ action: 'update', status: 'success' });
    expect(world.scim.docuware!.users()[0]!.name).toMatchObject({ familyName: 'Provisioned' });
  });

  it('an unknown user is a clear error naming it', async () => {
    const err = await runtime.provision({ user: 'nobody@contoso.example' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EntraSyncError);
    expect(err).toMatchObject({ code: 'SOURCE_USER_NOT_FOUND', message: expect.stringContaining('nobody@contoso.example') });
  });

  it('a group is provisioned with the members that are already provisioned', async () => {
    const tenant = world.graph.tenant;
    const provisioned = runtime.source.userByPrincipalName(upn)!.id;
    const group = tenant.assignments().find((a) => a.principalType === 'Group')!.principalId;
    tenant.addMember(group, provisioned);
    const report = await runtime.provision({ group });
    const t = report.targets[0]!;
    if (isTargetFailure(t)) throw new Error(t.error.message);
    expect(t.objects.some((o) => o.type === 'group' && o.status === 'success')).toBe(true);
    const targetGroup = world.scim.docuware!.groups()[0]!;
    expect(targetGroup.displayName).toBe(tenant.groups().find((g) => g.id === group)!.displayName);
    expect(((targetGroup.members as { value: string }[]) ?? []).map((m) => m.value)).toEqual([runtime.targets.link('docuware', 'user', provisioned)!.targetId]);
  });
});
