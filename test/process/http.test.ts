// `entra-sync run` with `http:` configured, as ops and admins meet it: the built binary as a child process
// against the Graph and SCIM simulators, probed over real HTTP. Health and readiness before and after the
// first successful cycle, the admin API (token, provision on demand, body cap), /metrics after real cycles,
// and `entra-sync sync` from the CLI going through the running daemon instead of opening the state.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStateLock } from '../../src/state/lock.js';
import { startWorld, userNameOf, type World } from '../runtime-world.js';
import { runCli, startCli, waitForOutput } from './cli.js';

const TOKEN = 'process-test-admin-token-5f0c2a';

/** The daemon's JSON log lines so far. */
function logLines(stdout: string): Record<string, unknown>[] {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('entra-sync run with http', () => {
  let world: World;
  let daemon: ReturnType<typeof startCli>;
  let url: string;
  let upn: string;
  const env = () => ({ TEST_ENTRA_SECRET: world.graph.clientSecret, LOG_LEVEL: 'debug' });
  const auth = { authorization: `Bearer ${TOKEN}` };
  const post = (p: string, body: unknown, headers: Record<string, string> = auth) =>
    fetch(`${url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  beforeAll(async () => {
    world = await startWorld();
    const tokenFile = path.join(world.dir, 'admin-token');
    fs.writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    // No cycle on its own: the first successful cycle is the one the test asks for, so /readyz can be seen
    // before it. Port 0: the OS picks a free port; the daemon logs it and records it in the state lock.
    fs.appendFileSync(world.configFile, `schedule:
  cron: "0 0 1 1 *"
  runOnStart: false
http:
  host: 127.0.0.1
  port: 0
  adminTokenFile: ${tokenFile}
`);
    const direct = world.graph.tenant.assignments().find((a) => a.principalType === 'User' && world.graph.tenant.user(a.principalId)?.accountEnabled)!;
    upn = world.upn(direct.principalId);
    daemon = startCli(['run', '--config', world.configFile], { env: env(), timeoutMs: 180_000 });
    await waitForOutput(daemon.output, (o) => logLines(o.stdout).some((l) => typeof l.url === 'string'));
    url = logLines(daemon.output().stdout).find((l) => typeof l.url === 'string')!.url as string;
  });

  afterAll(async () => {
    if (daemon && daemon.child.exitCode === null) {
      daemon.child.kill('SIGTERM');
      await daemon.result;
    }
    await world?.close();
  });

  it('records its address in the state lock, for the CLI to find it', () => {
    const lock = readStateLock(path.join(world.dir, 'state.db'));
    expect(lock).toMatchObject({ alive: true, holder: { command: 'run', pid: daemon.child.pid, http: url } });
  });

  it('answers /healthz, and /readyz 503 with a reason before the first cycle', async () => {
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    const body = await ready.json() as { ready: boolean; reasons: { target?: string; code: string; message: string }[] };
    expect(body.ready).toBe(false);
    expect(body.reasons).toContainEqual(expect.objectContaining({ target: 'docuware', message: expect.stringMatching(/no successful cycle/) }));
  });

  it('refuses the admin API without the token or with a wrong one, and never logs it', async () => {
    const none = await post('/admin/sync', {}, {});
    expect(none.status).toBe(401);
    const wrong = await post('/admin/sync', {}, { authorization: 'Bearer not-the-token' });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain('not-the-token');
    expect(world.scim.docuware!.users()).toHaveLength(0);
    expect(daemon.output().stdout).not.toContain(TOKEN);
  });

  it('provisions one user on demand over POST /admin/provision, answering each step', async () => {
    const res = await post('/admin/provision', { user: upn });
    expect(res.status).toBe(200);
    const report = await res.json() as { object: { displayName: string }; targets: { target: string; objects: { status: string; steps: { name: string; status: string }[] }[] }[] };
    expect(report.object.displayName).toBe(upn);
    const [trace] = report.targets[0]!.objects;
    expect(trace!.status).toBe('success');
    expect(trace!.steps.map((s) => s.name)).toEqual(['import', 'scope', 'match', 'action', 'export']);
    expect(world.scim.docuware!.users().map((u) => u.userName)).toEqual([userNameOf(upn)]);
    // A provision is not a cycle: still not ready.
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
  });

  it('answers 413 to a body over the cap', async () => {
    const res = await post('/admin/provision', { user: 'x'.repeat(100 * 1024) });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'BODY_TOO_LARGE' } });
  });

  it('runs `entra-sync sync` from the CLI through the daemon: exit 0, the same output, no second writer', async () => {
    const before = logLines(daemon.output().stdout).length;
    const cli = await runCli(['sync', '--config', world.configFile], { env: { TEST_ENTRA_SECRET: world.graph.clientSecret } });
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^Read Entra in .* Graph requests: users full/);
    expect(cli.stdout).toMatch(/docuware: success in .*\n\s+create \d+/);
    // The daemon ran it as an admin job, and still holds the lock: the CLI never opened the state.
    const jobs = logLines(daemon.output().stdout).slice(before).filter((l) => l.job === 'sync');
    expect(jobs).toContainEqual(expect.objectContaining({ origin: 'admin' }));
    expect(readStateLock(path.join(world.dir, 'state.db'))).toMatchObject({ alive: true, holder: { command: 'run', pid: daemon.child.pid } });
    const runtime = await world.open();
    const expected = world.inScope(runtime).map((u) => userNameOf(String(u.attributes.userPrincipalName))).sort();
    await runtime.close();
    expect(expected.length).toBeGreaterThan(5);
    expect(world.scim.docuware!.users().map((u) => String(u.userName)).sort()).toEqual(expected);
  });

  it('is ready after the first successful cycle, and /metrics carries the cycles\' counts', async () => {
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, reasons: [] });

    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    const created = world.scim.docuware!.users().length + world.scim.docuware!.groups().length;
    // One create by the provision, the rest by the sync.
    expect(value('entra_sync_objects_total{target="docuware",action="create",result="success"}')).toBe(created);
    expect(value('entra_sync_cycles_total{target="docuware",kind="provision",status="success"}')).toBe(1);
    expect(value('entra_sync_cycles_total{target="docuware",kind="sync",status="success"}')).toBe(1);
    expect(value('entra_sync_cycle_duration_seconds_count{target="docuware",kind="sync",mode="incremental"}')).toBe(1);
    expect(value('entra_sync_graph_read_duration_seconds_count{mode="full",status="success"}')).toBe(1);
    expect(value('entra_sync_target_quarantined{target="docuware"}')).toBe(0);
    expect(value('entra_sync_failed_objects{target="docuware"}')).toBe(0);
    expect(value('entra_sync_delta_link_age_seconds{kind="users"}')).toBeGreaterThanOrEqual(0);
    expect(Math.abs(value('entra_sync_last_success_timestamp_seconds{target="docuware"}')! - Date.now() / 1000)).toBeLessThan(120);
    expect(value('entra_sync_process_resident_memory_bytes')).toBeGreaterThan(0);
    for (const line of text.split('\n').filter(Boolean)) expect(line.replace(/^# (HELP|TYPE) /, '')).toMatch(/^entra_sync_/);
    if (process.env.METRICS_SAMPLE) fs.writeFileSync(process.env.METRICS_SAMPLE, text);
  });

  it('stops on SIGTERM with exit 0 and gives the lock up', async () => {
    daemon.child.kill('SIGTERM');
    const result = await daemon.result;
    expect(result.code).toBe(0);
    expect(readStateLock(path.join(world.dir, 'state.db'))?.holder.command === 'run' && readStateLock(path.join(world.dir, 'state.db'))?.alive).toBeFalsy();
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});

describe('entra-sync run without http', () => {
  let world: World;
  let daemon: ReturnType<typeof startCli>;
  const env = () => ({ TEST_ENTRA_SECRET: world.graph.clientSecret });

  beforeAll(async () => {
    world = await startWorld();
    fs.appendFileSync(world.configFile, 'schedule:\n  cron: "0 0 1 1 *"\n  runOnStart: false\n');
    daemon = startCli(['run', '--config', world.configFile], { env: env(), timeoutMs: 180_000 });
    await waitForOutput(daemon.output, () => readStateLock(path.join(world.dir, 'state.db'))?.holder.command === 'run');
  });

  afterAll(async () => {
    if (daemon && daemon.child.exitCode === null) {
      daemon.child.kill('SIGTERM');
      await daemon.result;
    }
    await world?.close();
  });

  it('`sync` from the CLI exits 1 naming the daemon it cannot ask, and writes nothing', async () => {
    const cli = await runCli(['sync', '--config', world.configFile], { env: env() });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/error DAEMON_NO_HTTP: `entra-sync run` \(pid \d+ on .*\) is running on this state and has no HTTP listener/);
    expect(cli.stderr).toContain('--wait');
    expect(world.scim.docuware!.users()).toHaveLength(0);
  });

  it('`sync --wait` waits for the daemon to stop, then syncs here', async () => {
    const cli = startCli(['sync', '--wait', '--config', world.configFile], { env: env() });
    await waitForOutput(cli.output, (o) => o.stderr.includes('waiting for the state lock'));
    expect(world.scim.docuware!.users()).toHaveLength(0);
    daemon.child.kill('SIGTERM');
    expect((await daemon.result).code).toBe(0);
    const result = await cli.result;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/docuware: success/);
    expect(world.scim.docuware!.users().length).toBeGreaterThan(5);
  });
});
