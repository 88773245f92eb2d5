// `entra-sync resume` over the real binary: a target quarantined because it started refusing our token in the
// middle of a sync stays quarantined once it accepts it again (sync skips it for an hour); `status` says why and
// what to run; `resume` lifts the quarantine and the next `sync` provisions everything; `resume --sync` does
// both at once.
import { afterEach, describe, expect, it } from 'vitest';
import { startWorld, userNameOf, type World } from '../runtime-world.js';
import type { ScimSimulator } from '../../src/simulators/scim/index.js';
import { runCli } from './cli.js';

let world: World | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** The target revokes our token once the sync has created its first user (discovery went through). */
function refuseAfterFirstCreate(sim: ScimSimulator): void {
  const push = sim.requests.push.bind(sim.requests);
  let done = false;
  sim.requests.push = (...entries) => {
    const length = push(...entries);
    if (!done && entries.some((e) => e.method === 'POST')) { done = true; sim.refuseCredentials(true); }
    return length;
  };
}

async function expectTargetMatchesSource(w: World): Promise<void> {
  const runtime = await w.open();
  const expected = w.inScope(runtime).map((u) => userNameOf(String(u.attributes.userPrincipalName)).toLowerCase()).sort();
  await runtime.close();
  expect(expected.length).toBeGreaterThan(0);
  expect(w.scim.docuware!.users().map((u) => String(u.userName).toLowerCase()).sort()).toEqual(expected);
}

interface StatusJson { targets: { quarantine: { reason: string; message: string; resume: string } | null }[] }

describe('resume', () => {
  it('lifts a quarantine caused by a refused token once it is fixed; the next sync provisions everything', async () => {
    world = await startWorld();
    const w = world;
    const env = { TEST_ENTRA_SECRET: w.graph.clientSecret };
    const cli = (...args: string[]) => runCli([...args, '--config', w.configFile], { env });

    refuseAfterFirstCreate(w.scim.docuware!);
    const refused = await cli('sync');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/quarantined \(EncounteredQuarantineException\)/);

    const status = await cli('status');
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/QUARANTINED since .*\(EncounteredQuarantineException\): the target refused our credentials/);
    expect(status.stdout).toContain('to restart: fix the cause, then run `entra-sync resume --target docuware`');
    const statusJson = JSON.parse((await cli('status', '--json')).stdout) as StatusJson;
    expect(statusJson.targets[0]!.quarantine).toMatchObject({ reason: 'EncounteredQuarantineException', resume: expect.stringContaining('entra-sync resume') as unknown });

    // The admin fixes the token; the quarantine still holds the target back until its next attempt (an hour).
    w.scim.docuware!.refuseCredentials(false);
    const before = w.scim.docuware!.users().length;
    const held = await cli('sync');
    expect(held.code).toBe(1);
    expect(held.stdout).toMatch(/docuware: skipped: target is quarantined/);
    expect(w.scim.docuware!.users()).toHaveLength(before);

    const resumed = await cli('resume');
    expect(resumed.stderr).toContain('quarantine lifted by resume');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('docuware: quarantine lifted (was EncounteredQuarantineException: the target refused our credentials');
    expect(resumed.stdout).toContain('The next cycle retries them');
    // resume alone sends nothing: the next cycle does.
    expect(w.scim.docuware!.users()).toHaveLength(before);

    const after = await cli('status', '--json');
    expect(after.code).toBe(0);
    expect((JSON.parse(after.stdout) as StatusJson).targets[0]!.quarantine).toBeNull();

    const synced = await cli('sync');
    expect(synced.code, synced.stdout + synced.stderr).toBe(0);
    expect(synced.stdout).toMatch(/docuware: success/);
    await expectTargetMatchesSource(w);
  }, 180_000);

  it('--sync runs the cycle at once; a target that was not quarantined says so', async () => {
    world = await startWorld();
    const w = world;
    const env = { TEST_ENTRA_SECRET: w.graph.clientSecret };
    const cli = (...args: string[]) => runCli([...args, '--config', w.configFile], { env });

    const clean = await cli('resume', '--target', 'docuware');
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('docuware: was not quarantined; no failed object to retry');

    refuseAfterFirstCreate(w.scim.docuware!);
    expect((await cli('sync')).code).toBe(1);
    w.scim.docuware!.refuseCredentials(false);
    const resumed = await cli('resume', '--sync', '--json');
    expect(resumed.code, resumed.stderr).toBe(0);
    const report = JSON.parse(resumed.stdout) as { targets: { target: string; wasQuarantined: boolean; reason: string }[]; sync: { targets: { status: string }[] } };
    expect(report.targets[0]).toMatchObject({ target: 'docuware', wasQuarantined: true, reason: expect.stringContaining('EncounteredQuarantineException') as unknown });
    expect(report.sync.targets[0]!.status).toBe('success');
    await expectTargetMatchesSource(w);
  }, 180_000);

  it('says it needs a target that exists', async () => {
    world = await startWorld();
    const w = world;
    const result = await runCli(['resume', '--target', 'nope', '--config', w.configFile], { env: { TEST_ENTRA_SECRET: w.graph.clientSecret } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no target named "nope"');
  }, 60_000);
});
