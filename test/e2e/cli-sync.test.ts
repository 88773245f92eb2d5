// `entra-sync sync`, `status`, `approve` and `reject` as a user runs them (command modules in-process, real
// config file, both simulators over loopback): dry run first, then the real thing, then a mass disable held
// back by the deletion threshold until approved — or rejected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as approve from '../../src/cli/approve.js';
import * as reject from '../../src/cli/reject.js';
import * as status from '../../src/cli/status.js';
import * as sync from '../../src/cli/sync.js';
import type { StatusReport } from '../../src/runtime/runtime.js';
import { runCommand, startWorld, userNameOf, type World } from '../runtime-world.js';

describe('entra-sync sync / status / approve / reject', () => {
  let world: World;
  let config: string[];
  const scim = () => world.scim.docuware!;
  const statusJson = async () => JSON.parse((await runCommand(status, [...config, '--json'])).stdout) as StatusReport;
  const byUserName = (upn: string) => scim().users().find((u) => u.userName === userNameOf(upn));

  beforeAll(async () => {
    world = await startWorld({ targetYaml: { docuware: 'deleteThreshold: { count: 2 }' } });
    config = ['--config', world.configFile];
  });
  afterAll(async () => { await world?.close(); });

  it('sync --dry-run --json lists what would be created and sends nothing that changes the target', async () => {
    const { code, stdout } = await runCommand(sync, [...config, '--dry-run', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { targets: { dryRun: boolean; plan: { operations: { kind: string }[] } }[] };
    expect(report.targets[0]!.dryRun).toBe(true);
    expect(report.targets[0]!.plan.operations.filter((o) => o.kind === 'create').length).toBeGreaterThan(5);
    expect(scim().requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
    expect(scim().users()).toHaveLength(0);
  });

  it('sync provisions everything and prints counts per action, requests and duration', async () => {
    const { code, stdout } = await runCommand(sync, config);
    expect(code).toBe(0);
    const users = scim().users().length;
    expect(users).toBeGreaterThan(5);
    expect(stdout).toMatch(/^Read Entra in [\d.]+ s with \d+ Graph requests: users incremental/m); // the dry run already read everything
    expect(stdout).toMatch(new RegExp(`docuware: success in [\\d.]+ s, \\d+ target requests`));
    expect(stdout).toMatch(new RegExp(`create ${users + 2} ·`)); // the users and the two assigned groups
  });

  it('status says the target is up to date, with its links, and reads the state only', async () => {
    world.graph.counters.reset();
    const report = await statusJson();
    const t = report.targets[0]!;
    expect(t).toMatchObject({ target: 'docuware', behind: false, staged: 0, failures: { total: 0 }, quarantine: null });
    expect(t.links.user.active).toBe(scim().users().length);
    expect(t.lastRuns[0]).toMatchObject({ kind: 'sync', status: 'success' });
    expect(world.graph.counters.total).toBe(0);
    const text = (await runCommand(status, config)).stdout;
    expect(text).toContain('docuware (scim): up to date');
  });

  it('ENTRA_SYNC_CONFIG stands in for --config', async () => {
    process.env.ENTRA_SYNC_CONFIG = world.configFile;
    try {
      const { code, stdout } = await runCommand(status, []);
      expect(code).toBe(0);
      expect(stdout).toContain('docuware (scim)');
    } finally {
      delete process.env.ENTRA_SYNC_CONFIG;
    }
  });

  it('disables over the deletion threshold are held back until approved', async () => {
    const victims = world.inScope(await world.open()).slice(0, 3).map((u) => world.upn(u.id));
    for (const upn of victims) world.graph.tenant.disableUser(world.graph.tenant.users().find((u) => u.userPrincipalName === upn)!.id);
    const { stdout } = await runCommand(sync, config);
    expect(stdout).toContain('3 held back by the deletion threshold');
    expect(stdout).toContain('entra-sync approve --target docuware');
    for (const upn of victims) expect(byUserName(upn)?.active).toBe(true);
    expect((await statusJson()).targets[0]!.staged).toBe(3);

    const approved = await runCommand(approve, config);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/disable 3/);
    for (const upn of victims) expect(byUserName(upn)?.active).toBe(false);
    expect((await statusJson()).targets[0]!.staged).toBe(0);
    expect((await runCommand(approve, config)).stdout).toContain('nothing is waiting for approval');
  });

  it('rejected disables are dropped: the users stay active on the target', async () => {
    const runtime = await world.open();
    const victims = world.inScope(runtime).slice(0, 3).map((u) => u.id);
    for (const id of victims) world.graph.tenant.softDeleteUser(id);
    await runCommand(sync, config);
    const { stdout } = await runCommand(reject, config);
    expect(stdout).toContain('docuware: dropped 3 operation(s)');
    for (const id of victims) expect(byUserName(world.upn(id))?.active).toBe(true);
    expect((await statusJson()).targets[0]!.staged).toBe(0);
    const log = runtime.provisioningLog({ target: 'docuware', sourceId: victims[0]! })[0]!;
    expect(log.steps.at(-1)!.details).toContain('rejected by an administrator');
  });
});
