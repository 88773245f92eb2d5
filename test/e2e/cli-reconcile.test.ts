// `entra-sync reconcile` after an admin edited the target by hand: every fix is reported and the target
// holds again what entra-sync wrote; a dry run only reports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as reconcile from '../../src/cli/reconcile.js';
import * as sync from '../../src/cli/sync.js';
import { runCommand, startWorld, type World } from '../runtime-world.js';

describe('entra-sync reconcile', () => {
  let world: World;
  let config: string[];

  beforeAll(async () => {
    world = await startWorld();
    config = ['--config', world.configFile];
    await runCommand(sync, config);
  });
  afterAll(async () => { await world?.close(); });

  it('reports and repairs a surname edited and a user deactivated by hand', async () => {
    const scim = world.scim.docuware!;
    const [edited, deactivated] = scim.users();
    const familyName = (edited!.name as { familyName: string }).familyName;
    scim.store.putUser({ ...edited!, name: { ...(edited!.name as object), familyName: 'Hand Edited' } });
    scim.store.putUser({ ...deactivated!, active: false });

    const dry = await runCommand(reconcile, [...config, '--dry-run']);
    expect(dry.stdout).toContain('docuware: 2 fix(es)');
    expect(dry.stdout).toContain('(dry run: nothing was fixed)');
    expect((scim.user(edited!.id)!.name as { familyName: string }).familyName).toBe('Hand Edited');

    const { code, stdout } = await runCommand(reconcile, config);
    expect(code).toBe(0);
    expect(stdout).toContain('docuware: 2 fix(es)');
    expect(stdout).toContain('"Hand Edited"');
    expect((scim.user(edited!.id)!.name as { familyName: string }).familyName).toBe(familyName);
    expect(scim.user(deactivated!.id)!.active).toBe(true);
    expect((await runCommand(reconcile, config)).stdout).toContain('docuware: no drift');
  });
});
