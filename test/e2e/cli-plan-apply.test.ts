// `entra-sync plan` then `entra-sync apply <id>`: the reviewed plan is applied exactly, and refused — with
// the reason and nothing sent — once Entra has moved since it was built.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as apply from '../../src/cli/apply.js';
import * as plan from '../../src/cli/plan.js';
import * as sync from '../../src/cli/sync.js';
import { EntraSyncError } from '../../src/errors.js';
import { runCommand, startWorld, userNameOf, type World } from '../runtime-world.js';

describe('entra-sync plan / apply', () => {
  let world: World;
  let config: string[];
  const planId = (stdout: string) => /: plan (\S+) \(/.exec(stdout)?.[1];

  beforeAll(async () => {
    world = await startWorld();
    config = ['--config', world.configFile];
  });
  afterAll(async () => { await world?.close(); });

  it('plan prints a readable diff with an id and sends nothing; apply <id> applies exactly it', async () => {
    const planned = await runCommand(plan, config);
    expect(planned.code).toBe(0);
    const id = planId(planned.stdout)!;
    expect(planned.stdout).toMatch(/\+ create user \S+@contoso\.example/);
    expect(planned.stdout).toContain(`apply it with: entra-sync apply ${id}`);
    expect(world.scim.docuware!.users()).toHaveLength(0);
    const creates = planned.stdout.split('\n').filter((l) => /^\s+\+ create user/.test(l)).length;

    const applied = await runCommand(apply, [id, ...config]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(`plan ${id} applied`);
    expect(world.scim.docuware!.users()).toHaveLength(creates);
  });

  it('a plan is refused once Entra changed after it was built, saying why, and nothing is sent', async () => {
    const user = world.inScope(await world.open())[0]!;
    world.graph.tenant.updateUser(user.id, { surname: 'Before Plan' });
    const planned = await runCommand(plan, config);
    const id = planId(planned.stdout)!;
    expect(planned.stdout).toContain('name.familyName');
    expect(planned.stdout).toContain('"Before Plan"');

    world.graph.tenant.updateUser(user.id, { surname: 'After Plan' });
    await runCommand(sync, [...config, '--dry-run']); // reads Entra: the source moves
    world.scim.docuware!.clearRequests();
    const err = await runCommand(apply, [id, ...config]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EntraSyncError);
    expect(err).toMatchObject({ code: 'PLAN_STALE', message: expect.stringContaining('the source has changed since it was built') });
    expect(world.scim.docuware!.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
    const onTarget = world.scim.docuware!.users().find((u) => u.userName === userNameOf(world.upn(user.id)))!;
    expect((onTarget.name as { familyName: string }).familyName).not.toBe('Before Plan');

    const again = await runCommand(apply, [id, ...config]).catch((e: unknown) => e);
    expect(again).toMatchObject({ code: 'PLAN_ALREADY_USED' });
  });

  it('an unknown plan id is refused with a clear error', async () => {
    const err = await runCommand(apply, ['00000000-0000-0000-0000-000000000000', ...config]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PLAN_NOT_FOUND' });
  });
});
