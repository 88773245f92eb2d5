// Two `sync` processes started in the same instant (two cron entries; cron and an admin) on one state: the
// state lock lets exactly one of them read and apply; the other exits 1 naming the holder, or with --wait runs
// after it and finds nothing to do. Afterwards the SCIM target holds exactly one user per in-scope user, and a
// later `sync` sends nothing. Each case is run several times, so that a race, if there were one, would show.
import { afterEach, describe, expect, it } from 'vitest';
import { startWorld, userNameOf, type World } from '../runtime-world.js';
import { runCli, startCli, waitForOutput, type CliResult } from './cli.js';

// Large enough that a sync takes a while (pages of 25 users, a few hundred SCIM requests), so the two overlap.
const TENANT = { users: 450, groups: 6, membersPerGroup: 30, nestedGroups: 0, assignedUserFraction: 0.5, assignedGroups: 3 };
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let world: World | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

function env(w: World): Record<string, string> {
  return { TEST_ENTRA_SECRET: w.graph.clientSecret };
}

/** Starts two CLI processes in the same instant and returns both results with their pids. */
async function together(w: World, args: string[]): Promise<{ pid: number; result: CliResult }[]> {
  const a = startCli(args, { env: env(w), timeoutMs: 120_000 });
  const b = startCli(args, { env: env(w), timeoutMs: 120_000 });
  return Promise.all([a, b].map(async (p) => ({ pid: p.child.pid!, result: await p.result })));
}

/** The target must hold exactly the in-scope users: none missing, none twice. */
async function expectTargetMatchesSource(w: World, atLeast = 150): Promise<number> {
  const runtime = await w.open();
  const expected = w.inScope(runtime).map((u) => userNameOf(String(u.attributes.userPrincipalName)).toLowerCase()).sort();
  await runtime.close();
  const held = w.scim.docuware!.users().map((u) => String(u.userName).toLowerCase()).sort();
  expect(expected.length).toBeGreaterThan(atLeast);
  expect(held).toEqual(expected);
  return expected.length;
}

async function expectLaterSyncSendsNothing(w: World): Promise<void> {
  const before = w.scim.docuware!.requests.length;
  const later = await runCli(['sync', '--config', w.configFile], { env: env(w) });
  expect(later.stderr).toBe('');
  expect(later.code).toBe(0);
  expect(w.scim.docuware!.requests.slice(before).filter((r) => MUTATING.has(r.method))).toEqual([]);
}

function winnerAndLoser(runs: { pid: number; result: CliResult }[]): { winner: { pid: number; result: CliResult }; loser: { pid: number; result: CliResult } } {
  const codes = runs.map((r) => r.result.code).sort();
  expect(codes, runs.map((r) => r.result.stderr).join('\n---\n')).toEqual([0, 1]);
  return { winner: runs.find((r) => r.result.code === 0)!, loser: runs.find((r) => r.result.code === 1)! };
}

describe('two processes started together', () => {
  it('on a fresh state: exactly one syncs, the other exits 1 naming it; nothing is missing or doubled', async () => {
    for (let round = 0; round < 3; round++) {
      world = await startWorld({ tenant: { seed: 40 + round, ...TENANT } });
      const runs = await together(world, ['sync', '--config', world.configFile]);
      const { winner, loser } = winnerAndLoser(runs);
      expect(loser.result.stderr).toContain('error STATE_LOCKED');
      expect(loser.result.stderr).toContain(`\`entra-sync sync\` (pid ${winner.pid} on `);
      expect(loser.result.stderr).toContain('--wait');
      expect(loser.result.stdout).toBe('');
      expect(winner.result.stdout).toMatch(/docuware: success/);
      const users = await expectTargetMatchesSource(world);
      await expectLaterSyncSendsNothing(world);
      console.log(`concurrent start, fresh state, round ${round + 1}: pid ${winner.pid} synced ${users} users; pid ${loser.pid} exited 1 (STATE_LOCKED)`);
      await world.close();
      world = undefined;
    }
  }, 300_000);

  it('on an existing state with changes waiting: exactly one applies them', async () => {
    world = await startWorld({ tenant: { seed: 50, ...TENANT } });
    const first = await runCli(['sync', '--config', world.configFile], { env: env(world), timeoutMs: 120_000 });
    expect(first.code, first.stderr).toBe(0);
    for (let round = 0; round < 3; round++) {
      // New assigned users and renamed ones: work for the next cycle.
      for (let i = 0; i < 20; i++) {
        const user = world.graph.tenant.createUser({ userPrincipalName: `race${round}-${i}@${world.graph.tenant.users()[0]!.userPrincipalName.split('@')[1]}`, displayName: `Race ${round} ${i}` });
        world.graph.tenant.assign(user.id);
      }
      const runs = await together(world, ['sync', '--config', world.configFile]);
      const { winner, loser } = winnerAndLoser(runs);
      expect(loser.result.stderr).toContain(`error STATE_LOCKED`);
      expect(loser.result.stderr).toContain(`pid ${winner.pid}`);
      expect(winner.result.stdout).toMatch(/create 20 /);
      await expectTargetMatchesSource(world);
      await expectLaterSyncSendsNothing(world);
    }
  }, 300_000);

  it('status reads while a sync writes, and names it; another writer is refused meanwhile', async () => {
    // One request at a time, each slow: the sync is still applying while the others start.
    world = await startWorld({ targetYaml: { docuware: 'concurrency: 1' } });
    const w = world;
    const sim = w.scim.docuware!;
    sim.faults.latencyMs = 300;
    const running = startCli(['sync', '--config', w.configFile], { env: env(w), timeoutMs: 120_000 });
    await waitForOutput(() => ({ stdout: '', stderr: '' }), () => sim.requests.some((r) => r.method === 'POST'), 60_000);

    const status = await runCli(['status', '--config', w.configFile, '--json'], { env: env(w) });
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as { lock: { alive: boolean; holder: { command: string; pid: number } } | null; targets: { lastRuns: { status: string }[] }[] };
    expect(report.lock).toMatchObject({ alive: true, holder: { command: 'sync', pid: running.child.pid } });
    expect(report.targets[0]!.lastRuns[0]!.status).toBe('running');
    const text = await runCli(['status', '--config', w.configFile], { env: env(w) });
    expect(text.stdout).toContain(`in use by \`entra-sync sync\` (pid ${running.child.pid} on `);

    const refused = await runCli(['resync', '--config', w.configFile], { env: env(w) });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`error STATE_LOCKED`);
    expect(refused.stderr).toContain(`\`entra-sync sync\` (pid ${running.child.pid} on `);

    sim.faults.latencyMs = 0;
    const done = await running.result;
    expect(done.code, done.stderr).toBe(0);
    await expectTargetMatchesSource(w, 10);
  }, 180_000);

  it('with --wait: the second waits for the first, then finds nothing to do', async () => {
    for (let round = 0; round < 2; round++) {
      world = await startWorld({ tenant: { seed: 60 + round, ...TENANT } });
      const runs = await together(world, ['sync', '--config', world.configFile, '--wait=120']);
      for (const r of runs) expect(r.result.code, r.result.stderr).toBe(0);
      const waited = runs.filter((r) => r.result.stderr.includes('waiting for the state lock held by `entra-sync sync`'));
      expect(waited).toHaveLength(1);
      const first = runs.find((r) => r !== waited[0])!;
      await expectTargetMatchesSource(world);
      // The first created every in-scope user (and the assigned groups).
      expect(first.result.stdout).toMatch(/create [1-9]\d* /);
      expect(waited[0]!.result.stdout).toMatch(/create 0 · adopt 0 · update 0 /);
      expect(waited[0]!.result.stdout).toContain('examined 0 users');
      await expectLaterSyncSendsNothing(world);
      await world.close();
      world = undefined;
    }
  }, 300_000);
});
