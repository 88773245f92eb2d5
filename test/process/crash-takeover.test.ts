// A `sync` killed with SIGKILL in the middle of its apply (an OOM kill, a `docker kill`), then `sync` at once:
// the dead holder of the state lock is noticed on this host and taken over with a log line, its target lease
// does not hold the target for the lease's 10 minutes (no TARGET_LEASED), the run finishes with nothing missing
// or doubled on the target, and `status` shows the killed run as interrupted.
import { afterEach, describe, expect, it } from 'vitest';
import { startWorld, userNameOf, type World } from '../runtime-world.js';
import { runCli, startCli, waitForOutput } from './cli.js';

let world: World | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

interface StatusJson {
  lock: { holder: { command: string; pid: number }; alive: boolean } | null;
  targets: { target: string; lastRuns: { kind: string; status: string; summary: { interrupted?: string } | null }[] }[];
}

describe('a sync killed in the middle of its apply', () => {
  it('is taken over at once by the next sync, which finishes the job; status shows the killed run as interrupted', async () => {
    world = await startWorld({
      tenant: { seed: 70, users: 300, groups: 4, membersPerGroup: 20, nestedGroups: 0, assignedUserFraction: 0.5, assignedGroups: 2 },
      // Slow enough that the apply is still going when the test kills it.
      targetYaml: { docuware: 'concurrency: 4' },
    });
    const w = world;
    const sim = w.scim.docuware!;
    const env = { TEST_ENTRA_SECRET: w.graph.clientSecret };
    sim.faults.latencyMs = 80;
    const created = () => sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/Users')).length;

    const doomed = startCli(['sync', '--config', w.configFile], { env, timeoutMs: 120_000 });
    await waitForOutput(() => ({ stdout: String(created()), stderr: '' }), () => created() >= 40, 60_000);
    doomed.child.kill('SIGKILL');
    const killed = await doomed.result;
    expect(killed.signal).toBe('SIGKILL');
    const sentBeforeKill = created();

    // The killed process's row, run and lease are still there: status (no lock) sees the holder as gone.
    const during = await runCli(['status', '--config', w.configFile, '--json'], { env });
    const duringStatus = JSON.parse(during.stdout) as StatusJson;
    expect(duringStatus.lock).toMatchObject({ alive: false, holder: { command: 'sync', pid: doomed.child.pid } });
    expect(duringStatus.targets[0]!.lastRuns[0]!.status).toBe('running');

    sim.faults.latencyMs = 0;
    const next = await runCli(['sync', '--config', w.configFile], { env, timeoutMs: 120_000 });
    const output = next.stdout + next.stderr;
    expect(output).not.toContain('TARGET_LEASED');
    expect(next.stderr).toContain(`took over the state lock from \`entra-sync sync\` (pid ${doomed.child.pid} on `);
    expect(next.stderr).toContain('which is no longer running');
    expect(next.code, output).toBe(0);
    expect(next.stdout).toMatch(/docuware: success/);

    // Nothing missing, nothing twice.
    const runtime = await w.open();
    const expected = w.inScope(runtime).map((u) => userNameOf(String(u.attributes.userPrincipalName)).toLowerCase()).sort();
    await runtime.close();
    expect(expected.length).toBeGreaterThan(sentBeforeKill);
    expect(sim.users().map((u) => String(u.userName).toLowerCase()).sort()).toEqual(expected);

    const status = await runCli(['status', '--config', w.configFile, '--json'], { env });
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as StatusJson;
    expect(report.lock).toBeNull();
    const runs = report.targets[0]!.lastRuns;
    expect(runs.map((r) => r.status)).toEqual(['success', 'interrupted']);
    expect(runs[1]!.summary?.interrupted).toContain(`pid ${doomed.child.pid}`);
    const text = await runCli(['status', '--config', w.configFile], { env });
    expect(text.stdout).toMatch(/run \S+ sync: interrupted \(`entra-sync sync` \(pid \d+ on .*ended before it finished\)/);
    expect(text.stdout).not.toMatch(/: running/);

    // And the next sync has nothing left to do.
    const before = sim.requests.length;
    const again = await runCli(['sync', '--config', w.configFile], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(sim.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
  }, 240_000);
});
