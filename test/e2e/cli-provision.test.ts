// `entra-sync provision --user` and `entra-sync preview --user` as printed for a person.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as preview from '../../src/cli/preview.js';
import * as provision from '../../src/cli/provision.js';
import { EntraSyncError } from '../../src/errors.js';
import { runCommand, startWorld, userNameOf, type World } from '../runtime-world.js';

describe('entra-sync provision / preview', () => {
  let world: World;
  let config: string[];
  let upn: string;

  beforeAll(async () => {
    world = await startWorld();
    config = ['--config', world.configFile];
    const direct = world.graph.tenant.assignments().find((a) => a.principalType === 'User' && world.graph.tenant.user(a.principalId)?.accountEnabled)!;
    upn = world.upn(direct.principalId);
  });
  afterAll(async () => { await world?.close(); });

  it('preview prints each attribute the target would receive and the operation', async () => {
    const { code, stdout } = await runCommand(preview, ['--user', upn, ...config]);
    expect(code).toBe(0);
    expect(stdout).toContain(`user ${upn}`);
    expect(stdout).toContain('docuware: in scope, not provisioned yet');
    expect(stdout).toMatch(new RegExp(`userName\\s+"${userNameOf(upn).replace(/\./g, '\\.')}"`));
    expect(stdout).toContain('operations:\n    create');
    expect(world.scim.docuware!.users()).toHaveLength(0);
  });

  it('provision --user prints every step and creates the user', async () => {
    const { code, stdout } = await runCommand(provision, ['--user', upn, ...config]);
    expect(code).toBe(0);
    for (const name of ['import', 'scope', 'match', 'action', 'export']) expect(stdout).toMatch(new RegExp(`✓ ${name}\\s`));
    expect(stdout).toContain(`userName: ∅ → "${userNameOf(upn)}"`);
    expect(world.scim.docuware!.users().map((u) => u.userName)).toEqual([userNameOf(upn)]);
  });

  it('provision without --user or --group is a usage error', async () => {
    const err = await runCommand(provision, config).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EntraSyncError);
    expect(err).toMatchObject({ code: 'CLI_USAGE' });
  });
});
