// `entra-sync run`, the daemon, as a container runs it: the built binary in a child process against a Graph
// tenant simulator and a SCIM simulator over real HTTP, its JSON log lines on stdout, signals from outside.
// What is asserted is what an operator sees: the log, the exit code, and what the target holds.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { readStateLock } from '../../src/state/lock.js';
import { startWorld, userNameOf, type World } from '../runtime-world.js';
import { CLI, runCli, startCli, waitForOutput, type CliResult } from './cli.js';

interface LogLine { level: number; msg: string; [key: string]: unknown }

let world: World | undefined;
const children: { kill(signal?: NodeJS.Signals): boolean; exitCode: number | null }[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await world?.close();
  world = undefined;
});

/** Appends the daemon's sections to the world's config file. */
function configure(w: World, yaml: string): void {
  fs.appendFileSync(w.configFile, yaml);
}

function env(w: World): Record<string, string> {
  return { TEST_ENTRA_SECRET: w.graph.clientSecret };
}

/** The daemon's JSON log lines so far (stdout is not a TTY here, so every line is JSON). */
function logs(stdout: string): LogLine[] {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
}

function startDaemon(w: World, args: string[] = [], extraEnv: Record<string, string> = {}) {
  const daemon = startCli(['run', '--config', w.configFile, ...args], { env: { ...env(w), ...extraEnv }, timeoutMs: 240_000 });
  children.push(daemon.child);
  const lines = () => logs(daemon.output().stdout);
  const waitForLog = (test: (line: LogLine) => boolean, timeoutMs = 60_000) =>
    waitForOutput(daemon.output, (o) => logs(o.stdout).some(test), timeoutMs);
  return { ...daemon, lines, waitForLog };
}

const syncDone = (origin: string) => (l: LogLine) => l.msg === 'sync done' && l.origin === origin;

/** The target must hold exactly the in-scope users: none missing, none twice. */
async function expectTargetMatchesSource(w: World): Promise<number> {
  const runtime = await w.open();
  const expected = w.inScope(runtime).map((u) => userNameOf(String(u.attributes.userPrincipalName)).toLowerCase()).sort();
  await runtime.close();
  const held = w.scim.docuware!.users().map((u) => String(u.userName).toLowerCase()).sort();
  expect(held).toEqual(expected);
  return expected.length;
}

/** Every user the target holds was created by exactly one POST: nothing was sent twice. */
function expectEachUserCreatedOnce(w: World): void {
  const created = w.scim.docuware!.requests.filter((r) => r.method === 'POST' && /\/Users$/.test(r.path) && r.status === 201);
  expect(created.length).toBe(w.scim.docuware!.users().length);
}

function newAssignedUser(w: World, name: string): { id: string; userName: string } {
  const domain = w.graph.tenant.users()[0]!.userPrincipalName.split('@')[1]!;
  const user = w.graph.tenant.createUser({ userPrincipalName: `${name}@${domain}`, displayName: name });
  w.graph.tenant.assign(user.id);
  return { id: user.id, userName: name };
}

const hasUser = (w: World, userName: string) => w.scim.docuware!.users().some((u) => String(u.userName).toLowerCase() === userName.toLowerCase());

async function until(test: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('entra-sync run', () => {
  it('runs a cycle at start, picks a tenant change up at the next scheduled tick, and stops cleanly on SIGTERM', async () => {
    world = await startWorld();
    configure(world, 'schedule:\n  cron: "*/2 * * * * *"\n  runOnStart: true\n');
    const daemon = startDaemon(world);
    await daemon.waitForLog(syncDone('start'));
    const start = daemon.lines().find((l) => l.msg.startsWith('entra-sync ') && l.msg.includes('running'))!;
    expect(start).toMatchObject({ targets: ['docuware'], schedule: { cron: '*/2 * * * * *', runOnStart: true }, http: null });
    expect(world.scim.docuware!.users().length).toBeGreaterThan(5);

    const added = newAssignedUser(world, 'added.by.admin');
    await until(() => hasUser(world!, added.userName), 'the new user on the target');
    await daemon.waitForLog(syncDone('schedule'));

    daemon.child.kill('SIGTERM');
    const result = await daemon.result;
    expect(result.code, result.stderr).toBe(0);
    const messages = logs(result.stdout).map((l) => l.msg);
    expect(messages.some((m) => m.includes('finishing current batches'))).toBe(true);
    expect(messages.at(-1)).toBe('stopped');
    // Never two cycles at once: every start is followed by its end before the next start.
    const cycleLog = logs(result.stdout).filter((l) => l.msg.startsWith('sync started') || l.msg === 'sync done').map((l) => l.msg.split(' (')[0]);
    expect(cycleLog.length).toBeGreaterThanOrEqual(4);
    for (let i = 0; i < cycleLog.length; i++) expect(cycleLog[i]).toBe(i % 2 === 0 ? 'sync started' : 'sync done');
    await expectTargetMatchesSource(world);
    expectEachUserCreatedOnce(world);
  });

  it('skips a scheduled tick that falls inside a running cycle, and says so', async () => {
    world = await startWorld({ tenant: { seed: 7, users: 120, groups: 3, membersPerGroup: 10, nestedGroups: 0, assignedUserFraction: 0.6, assignedGroups: 2 } });
    world.scim.docuware!.faults.latencyMs = 40;
    configure(world, 'schedule:\n  cron: "* * * * * *"\n  runOnStart: true\n');
    const daemon = startDaemon(world);
    await daemon.waitForLog((l) => l.msg.startsWith('scheduled cycle skipped'));
    const skipped = daemon.lines().find((l) => l.msg.startsWith('scheduled cycle skipped'))!;
    expect(skipped.msg).toContain('a sync is running');
    expect(skipped).toMatchObject({ busy: { kind: 'sync', origin: 'start' } });
    // Only one cycle ran until then: the one at start, still running when the tick came.
    expect(daemon.lines().filter((l) => l.msg.startsWith('sync started'))).toHaveLength(1);
    daemon.child.kill('SIGTERM');
    expect((await daemon.result).code).toBe(0);
  });

  it('SIGTERM during a cycle: finishes the batches in flight, exits 0, and leaves nothing half-done', async () => {
    world = await startWorld({ tenant: { seed: 8, users: 300, groups: 4, membersPerGroup: 20, nestedGroups: 0, assignedUserFraction: 0.6, assignedGroups: 2 } });
    world.scim.docuware!.faults.latencyMs = 30;
    configure(world, 'schedule:\n  cron: "0 0 0 1 1 *"\n  runOnStart: true\n');
    const daemon = startDaemon(world);
    await until(() => world!.scim.docuware!.users().length >= 30, 'the first users on the target');
    daemon.child.kill('SIGTERM');
    const result = await daemon.result;
    expect(result.code, result.stderr).toBe(0);
    const lines = logs(result.stdout);
    expect(lines.some((l) => l.msg.includes('finishing current batches'))).toBe(true);
    // The cycle was cut short: the target does not hold everyone yet.
    const ended = lines.find((l) => l.msg === 'cycle ended')!;
    expect(ended).toMatchObject({ target: 'docuware', status: 'aborted' });
    const heldAtStop = world.scim.docuware!.users().length;

    // A following `sync` finds everything that was sent recorded: nothing to recover, nothing sent twice.
    const after = await runCli(['sync', '--config', world.configFile], { env: env(world), timeoutMs: 120_000 });
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).not.toContain('in-flight operations from an earlier run resolved');
    const expected = await expectTargetMatchesSource(world);
    expect(heldAtStop).toBeLessThan(expected);
    expectEachUserCreatedOnce(world);
  });

  it('a second SIGTERM exits at once with 143; the next sync resolves what was in flight', async () => {
    world = await startWorld({ tenant: { seed: 9, users: 200, groups: 3, membersPerGroup: 10, nestedGroups: 0, assignedUserFraction: 0.6, assignedGroups: 2 } });
    world.scim.docuware!.faults.latencyMs = 30;
    configure(world, 'schedule:\n  cron: "0 0 0 1 1 *"\n  runOnStart: true\n');
    const daemon = startDaemon(world);
    await until(() => world!.scim.docuware!.users().length >= 10, 'the first users on the target');
    // Slow enough that the batches in flight cannot finish before the second signal.
    world.scim.docuware!.faults.latencyMs = 5_000;
    daemon.child.kill('SIGTERM');
    await daemon.waitForLog((l) => l.msg.includes('finishing current batches'));
    daemon.child.kill('SIGTERM');
    const result: CliResult = await daemon.result;
    expect(result.code).toBe(143);
    const last = logs(result.stdout).at(-1)!;
    expect(last.msg).toBe('second signal: exiting now');
    expect(logs(result.stdout).some((l) => l.msg === 'stopped')).toBe(false);

    world.scim.docuware!.faults.latencyMs = 0;
    const after = await runCli(['sync', '--config', world.configFile], { env: env(world), timeoutMs: 120_000 });
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toContain('in-flight operations from an earlier run resolved');
    await expectTargetMatchesSource(world);
    expectEachUserCreatedOnce(world);
  });

  it('runs a scheduled run missed while it was down once at start, and nothing at start when none was missed', async () => {
    world = await startWorld();
    // Daily at midnight, runOnStart off: a cycle at start can only come from a missed run.
    configure(world, 'schedule:\n  cron: "0 0 0 * * *"\n  runOnStart: false\n');
    const first = await runCli(['sync', '--config', world.configFile], { env: env(world) });
    expect(first.code, first.stderr).toBe(0);

    // The last cycle was just now: nothing was missed, the daemon waits for midnight.
    let daemon = startDaemon(world);
    await daemon.waitForLog((l) => l.msg.startsWith('next scheduled cycle at'));
    expect(daemon.lines().some((l) => l.msg.startsWith('cycle at start'))).toBe(false);
    daemon.child.kill('SIGTERM');
    expect((await daemon.result).code).toBe(0);
    expect(logs(daemon.output().stdout).some((l) => l.msg.startsWith('sync started'))).toBe(false);

    // The last cycle two days ago (the daemon was down over a midnight): run once, now.
    const db = new Database(path.join(world.dir, 'state.db'));
    db.prepare('UPDATE target_runs SET started_at = ?, ended_at = ?').run(new Date(Date.now() - 2 * 86_400_000).toISOString(), new Date(Date.now() - 2 * 86_400_000 + 1000).toISOString());
    db.close();
    const added = newAssignedUser(world, 'added.while.down');
    daemon = startDaemon(world);
    await daemon.waitForLog(syncDone('missed'));
    expect(daemon.lines().find((l) => l.msg.startsWith('cycle at start'))!.msg).toMatch(/the run scheduled at .* was missed/);
    expect(hasUser(world, added.userName)).toBe(true);
    daemon.child.kill('SIGTERM');
    expect((await daemon.result).code).toBe(0);
  });

  it('a provision asked for during a long cycle runs between two of its batches, not after the whole cycle', async () => {
    world = await startWorld({ tenant: { seed: 11, users: 300, groups: 4, membersPerGroup: 20, nestedGroups: 0, assignedUserFraction: 0.6, assignedGroups: 2 } });
    world.scim.docuware!.faults.latencyMs = 150;
    configure(world, 'schedule:\n  cron: "0 0 0 1 1 *"\n  runOnStart: true\nhttp:\n  host: 127.0.0.1\n  port: 0\n  adminToken: test-admin-token\n');
    const daemon = startDaemon(world);
    await daemon.waitForLog((l) => typeof l.http === 'string');
    const url = daemon.lines().find((l) => typeof l.http === 'string')!.http as string;
    await until(() => world!.scim.docuware!.users().length >= 20, 'the first users on the target');
    // Created after the cycle read Entra: only the provision can bring it.
    const added = newAssignedUser(world, 'provisioned.now');
    const response = await fetch(`${url}/admin/provision`, {
      method: 'POST',
      headers: { Authorization: 'Bearer test-admin-token', 'Content-Type': 'application/json' },
      body: JSON.stringify({ user: world.upn(added.id) }),
    });
    const report = await response.json() as { targets: { target: string; objects: { status: string; action: string }[] }[] };
    expect(response.status, JSON.stringify(report)).toBe(200);
    expect(report.targets[0]).toMatchObject({ target: 'docuware', objects: [{ action: 'create', status: 'success' }] });
    expect(hasUser(world, added.userName)).toBe(true);
    // The answer came while the cycle was still running: it waited for a batch, not for the cycle.
    expect(daemon.lines().some(syncDone('start'))).toBe(false);
    expect(daemon.lines().find((l) => l.msg.startsWith('provision started'))!.msg).toContain('between two batches of the running sync');
    world.scim.docuware!.faults.latencyMs = 0;
    await daemon.waitForLog(syncDone('start'));
    daemon.child.kill('SIGTERM');
    const result = await daemon.result;
    expect(result.code).toBe(0);
    // Neither the admin token nor the Graph secret reaches the log.
    expect(result.stdout + result.stderr).not.toContain('test-admin-token');
    expect(result.stdout + result.stderr).not.toContain(world.graph.clientSecret);
    await expectTargetMatchesSource(world);
    expectEachUserCreatedOnce(world);
  });

  it('with two targets, one done and one slow, a provision runs between the slow one\'s batches and reaches both', async () => {
    world = await startWorld({
      tenant: { seed: 12, users: 300, groups: 4, membersPerGroup: 20, nestedGroups: 0, assignedUserFraction: 0.6, assignedGroups: 2 },
      targets: { docuware: 'docuware', generic: 'generic' },
    });
    world.scim.docuware!.faults.latencyMs = 150;
    configure(world, 'schedule:\n  cron: "0 0 0 1 1 *"\n  runOnStart: true\nhttp:\n  host: 127.0.0.1\n  port: 0\n  adminToken: test-admin-token\n');
    const daemon = startDaemon(world);
    // The fast target's cycle has ended; the slow one is still applying.
    await daemon.waitForLog((l) => l.msg === 'cycle ended' && l.target === 'generic');
    expect(daemon.lines().some((l) => l.msg === 'cycle started' && l.target === 'docuware')).toBe(true);
    const url = daemon.lines().find((l) => typeof l.http === 'string')!.http as string;
    const added = newAssignedUser(world, 'provisioned.on.both');
    const response = await fetch(`${url}/admin/provision`, {
      method: 'POST',
      headers: { Authorization: 'Bearer test-admin-token', 'Content-Type': 'application/json' },
      body: JSON.stringify({ user: world.upn(added.id) }),
    });
    const report = await response.json() as { targets: { target: string; objects: { status: string }[] }[] };
    expect(response.status, JSON.stringify(report)).toBe(200);
    expect(report.targets.map((t) => [t.target, t.objects[0]?.status])).toEqual([['docuware', 'success'], ['generic', 'success']]);
    expect(daemon.lines().some(syncDone('start'))).toBe(false);
    expect(world.scim.generic!.users().some((u) => String(u.userName) === world!.upn(added.id))).toBe(true);
    expect(hasUser(world, added.userName)).toBe(true);
    world.scim.docuware!.faults.latencyMs = 0;
    await daemon.waitForLog(syncDone('start'));
    daemon.child.kill('SIGTERM');
    expect((await daemon.result).code).toBe(0);
    expectEachUserCreatedOnce(world);
  });

  it('refuses to start (exit 1, naming the holder) while another process holds the state lock', async () => {
    world = await startWorld();
    configure(world, 'schedule:\n  cron: "0 0 0 1 1 *"\n  runOnStart: false\n');
    const first = startDaemon(world);
    await first.waitForLog((l) => l.msg.startsWith('next scheduled cycle at'));
    const second = await runCli(['run', '--config', world.configFile], { env: env(world) });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('error STATE_LOCKED');
    expect(second.stderr).toContain(`\`entra-sync run\` (pid ${first.child.pid} on `);
    expect(first.child.exitCode).toBe(null);
    first.child.kill('SIGINT');
    expect((await first.result).code).toBe(0);
  });

  it('--once: one cycle as the daemon runs it, then it stops and exits as sync does', async () => {
    world = await startWorld();
    configure(world, 'schedule:\n  cron: "0 0 0 1 1 *"\n  runOnStart: false\n');
    const result = await runCli(['run', '--config', world.configFile, '--once'], { env: env(world) });
    expect(result.code, result.stderr).toBe(0);
    const lines = logs(result.stdout);
    expect(lines.some(syncDone('once'))).toBe(true);
    expect(lines.at(-1)!.msg).toBe('stopped');
    await expectTargetMatchesSource(world);

    // A target that refuses our token cannot run: 1, as `sync` says.
    fs.writeFileSync(world.configFile, fs.readFileSync(world.configFile, 'utf8').replace('token: scim-token', 'token: wrong-token'));
    newAssignedUser(world, 'to.be.refused');
    const refused = await runCli(['run', '--config', world.configFile, '--once'], { env: env(world) });
    expect(refused.code).toBe(1);
  });

  it('logs at log.level from the config; LOG_LEVEL overrides it', async () => {
    world = await startWorld();
    configure(world, 'schedule:\n  cron: "0 0 0 1 1 *"\n  runOnStart: false\nlog:\n  level: warn\n');
    const quiet = startDaemon(world);
    // Nothing at warn or above to say: up once it holds the state lock.
    await until(() => readStateLock(path.join(world!.dir, 'state.db'))?.holder.pid === quiet.child.pid, 'the daemon to hold the lock');
    quiet.child.kill('SIGTERM');
    const quietResult = await quiet.result;
    expect(quietResult.code).toBe(0);
    expect(logs(quietResult.stdout).filter((l) => l.level < 40)).toEqual([]);

    const loud = startDaemon(world, [], { LOG_LEVEL: 'debug' });
    await loud.waitForLog((l) => l.msg.startsWith('next scheduled cycle at'));
    loud.child.kill('SIGTERM');
    expect((await loud.result).code).toBe(0);
    expect(logs(loud.output().stdout).map((l) => l.msg)).toContain('stopped');
  });

  it('refuses to start (exit 1) when its HTTP port is taken, and leaves the state lock free', async () => {
    world = await startWorld();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      configure(world, `schedule:\n  cron: "0 0 0 1 1 *"\n  runOnStart: true\nhttp:\n  host: 127.0.0.1\n  port: ${port}\n`);
      const result = await runCli(['run', '--config', world.configFile], { env: env(world) });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('HTTP_LISTEN_FAILED');
      expect(result.stderr).toContain(String(port));
      expect(world.scim.docuware!.users()).toHaveLength(0);
      const after = await runCli(['sync', '--config', world.configFile], { env: env(world) });
      expect(after.code, after.stderr).toBe(0);
    } finally {
      blocker.close();
    }
  });

  // Node as PID 1 (a container without an init) gets no default signal handlers: without its own, SIGTERM
  // would be ignored and the container killed after its grace period. A PID namespace makes the daemon PID 1.
  it.skipIf(!canRunAsPid1())('as PID 1 of its own PID namespace, SIGTERM still stops it cleanly', async () => {
    world = await startWorld();
    configure(world, 'schedule:\n  cron: "*/2 * * * * *"\n  runOnStart: true\n');
    const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', process.execPath, CLI, 'run', '--config', world.configFile], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env(world) }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await waitForOutput(() => ({ stdout, stderr: '' }), (o) => logs(o.stdout).some(syncDone('start')));
    expect(logs(stdout).find((l) => l.msg.includes(' running: '))).toMatchObject({ pid: 1 });
    // The daemon is unshare's child: signal it directly, as a container runtime signals its PID 1.
    const daemonPid = Number(execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).trim());
    process.kill(daemonPid, 'SIGTERM');
    expect(await exited).toBe(0);
    expect(logs(stdout).at(-1)!.msg).toBe('stopped');
  });
});

function canRunAsPid1(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    execFileSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
