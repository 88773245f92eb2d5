// `entra-sync demo`: the whole product in a few seconds, on this machine only. Starts a simulated Entra
// tenant (Graph + token endpoint over HTTPS) and a DocuWare-style SCIM target, writes a config that uses the
// `docuware` preset, runs an initial sync, changes the tenant the ways a real one changes, runs an
// incremental sync, and prints each cycle's summary and one user's provisioning log. Then it checks that
// the target shows what a user would expect, cleans up, and exits 0 (1 if a check failed).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exitCodeOf, formatCycle, formatLogEntry, formatRead } from './format.js';
import { openRuntime, type SyncReport } from '../runtime/runtime.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import { startGraphSimulator, type GraphSimulator } from '../simulators/graph/index.js';
import { startScimSimulator, type ScimSimulator } from '../simulators/scim/index.js';
import { exitCodesHelp } from './exit-codes.js';
import { parseArgs } from './output.js';

export const summary = 'run a simulated tenant → DocuWare-style SCIM target sync on this machine and show what happens';

const HELP = `usage: entra-sync demo [--users n] [--keep]

Starts a simulated Entra tenant and a simulated DocuWare SCIM target on loopback, syncs, changes the
tenant (rename, disable, soft delete, unassign, group rename, membership add and remove), syncs again,
and prints each cycle's summary and one user's provisioning log. Nothing outside this machine is
contacted.

  --users n   tenant size (default 500)
  --keep      keep the temporary directory (config and state file) and print its path

${exitCodesHelp({ 0: 'the demo ran', 1: 'a step failed' })}`;

const DEMO_ENV = { secret: 'ENTRA_SYNC_DEMO_CLIENT_SECRET', token: 'ENTRA_SYNC_DEMO_SCIM_TOKEN' } as const;

function demoConfig(graph: GraphSimulator, scim: ScimSimulator, dir: string): string {
  return `# Written by \`entra-sync demo\`: a real configuration file, pointed at the two simulators.
source:
  tenantId: ${graph.tenantId}
  clientId: ${graph.clientId}
  clientSecret: \${${DEMO_ENV.secret}}      # secrets come from the environment (or a …File path)
  servicePrincipalId: ${graph.servicePrincipalId}
  authorityHost: ${graph.authorityHost}  # the simulator's login endpoint instead of login.microsoftonline.com
  graphBaseUrl: ${graph.graphBaseUrl}
  caFile: ${path.join(dir, 'simulator-ca.pem')}   # trust the simulator's TLS certificate
state:
  path: ${path.join(dir, 'entra-sync.db')}
targets:
  - name: docuware
    type: scim
    preset: docuware               # DocuWare's Entra guide: userName from the UPN, active from IsSoftDeleted …
    baseUrl: ${scim.baseUrl}
    auth:
      type: bearer
      token: \${${DEMO_ENV.token}}
    deleteThreshold: { percent: 20 }
`;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { flags: ['keep', 'help'], values: ['users'] });
  if (args.options.help) { process.stdout.write(HELP); return 0; }
  const users = typeof args.options.users === 'string' ? Number(args.options.users) : 500;
  if (!Number.isInteger(users) || users < 50 || users > 100_000) {
    process.stderr.write('entra-sync demo: --users takes a whole number between 50 and 100000\n');
    return 2;
  }
  const out = (...lines: string[]) => { process.stdout.write((lines.length ? lines : ['']).join('\n') + '\n'); };
  const started = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-sync-demo-'));
  let graph: GraphSimulator | undefined;
  let scim: ScimSimulator | undefined;
  let runtime: ReturnType<typeof openRuntime> | undefined;
  try {
    graph = await startGraphSimulator({
      tenant: { seed: 2024, users, groups: 20, membersPerGroup: Math.max(5, Math.round(users / 40)), nestedGroups: 0, assignedUserFraction: 0.3, assignedGroups: 8 },
      pageSize: 200,
    });
    scim = await startScimSimulator({ profile: 'docuware', tokens: ['demo-scim-token'] });
    fs.writeFileSync(path.join(dir, 'simulator-ca.pem'), graph.caPem);
    const configFile = path.join(dir, 'entra-sync.yaml');
    fs.writeFileSync(configFile, demoConfig(graph, scim, dir), { mode: 0o600 });
    const config = await loadConfig(configFile, { env: { ...process.env, [DEMO_ENV.secret]: graph.clientSecret, [DEMO_ENV.token]: 'demo-scim-token' } });
    runtime = openRuntime(config, { logger: createLogger({ level: process.env.LOG_LEVEL ?? 'error' }) });

    const tenant = graph.tenant;
    const directUsers = tenant.assignments().filter((a) => a.principalType === 'User').length;
    const assignedGroups = tenant.assignments().filter((a) => a.principalType === 'Group').map((a) => a.principalId);
    out('entra-sync demo: a simulated Entra tenant → a DocuWare-style SCIM target, both on this machine');
    out(`Tenant: ${tenant.users().length} users, ${tenant.groups().length} groups; assigned to the app: ${directUsers} users directly and ${assignedGroups.length} groups (their members are in scope)`);
    out(`Config: ${configFile} (docuware preset)`);

    out('', '── Cycle 1: initial sync');
    const first = await runtime.sync();
    printCycle(first, scim, out);

    // Pick the objects to change from what is in scope now.
    const source = runtime.source;
    const inScope = [...source.allUsers()].filter((u) => u.assigned && !u.removed && u.attributes.accountEnabled !== false);
    const direct = new Set(tenant.assignments().filter((a) => a.principalType === 'User').map((a) => a.principalId));
    const groupMembers = (id: string) => new Set(tenant.members(id));
    const inAssignedGroup = (id: string) => assignedGroups.some((g) => groupMembers(g).has(id));
    const directOnly = inScope.filter((u) => direct.has(u.id) && !inAssignedGroup(u.id));
    const [renamed, disabled, softDeleted, unassigned] = [inScope[0]!, inScope[1]!, inScope[2]!, directOnly.find((u) => u.id !== inScope[0]!.id && u.id !== inScope[1]!.id && u.id !== inScope[2]!.id)!];
    const group = assignedGroups[0]!;
    const groupName = tenant.groups().find((g) => g.id === group)!.displayName;
    const outsider = tenant.users().find((u) => u.accountEnabled && !direct.has(u.id) && !inAssignedGroup(u.id) && !tenant.isSoftDeleted(u.id))!;
    const leaving = [...groupMembers(group)].find((id) => !direct.has(id) && assignedGroups.filter((g) => groupMembers(g).has(id)).length === 1 && ![renamed, disabled, softDeleted].some((u) => u.id === id));
    const upn = (id: string) => tenant.user(id)?.userPrincipalName ?? id;
    const oldUpn = upn(renamed.id);
    const newUpn = `renamed.${oldUpn}`;

    out('', '── Changes in Entra');
    tenant.updateUser(renamed.id, { userPrincipalName: newUpn, surname: 'Renamed' });
    out(`  renamed user ${oldUpn} → ${newUpn} (surname → "Renamed")`);
    tenant.disableUser(disabled.id);
    out(`  blocked sign-in of ${upn(disabled.id)}`);
    tenant.softDeleteUser(softDeleted.id);
    out(`  soft-deleted ${upn(softDeleted.id)}`);
    tenant.unassign(unassigned.id);
    out(`  unassigned ${upn(unassigned.id)} from the app`);
    tenant.renameGroup(group, `${groupName} (renamed)`);
    out(`  renamed group "${groupName}" → "${groupName} (renamed)"`);
    tenant.addMember(group, outsider.id);
    out(`  added ${upn(outsider.id)} (not in scope before) to "${groupName} (renamed)"`);
    if (leaving) {
      tenant.removeMember(group, leaving);
      out(`  removed ${upn(leaving)} from "${groupName} (renamed)" (their only way into scope)`);
    }

    out('', '── Cycle 2: incremental sync');
    const second = await runtime.sync();
    printCycle(second, scim, out);

    out('', `── Provisioning log of ${newUpn} (oldest first)`);
    for (const entry of runtime.provisioningLog({ target: 'docuware', sourceId: renamed.id }).reverse()) out(formatLogEntry(entry, '  '));

    // What an admin would look at on the target afterwards.
    const link = (id: string) => runtime!.targets.link('docuware', 'user', id);
    const onTarget = (id: string) => { const l = link(id); return l ? scim!.user(l.targetId) : undefined; };
    const targetGroup = scim.group(runtime.targets.link('docuware', 'group', group)?.targetId ?? '');
    const memberIds = new Set(((targetGroup?.members as { value: string }[] | undefined) ?? []).map((m) => m.value));
    const checks: [string, boolean][] = [
      [`${newUpn} is "${newUpn.split('@')[0]}" on the target, same account`, onTarget(renamed.id)?.userName === newUpn.split('@')[0] && onTarget(renamed.id)?.active === true],
      [`${upn(disabled.id)} is inactive`, onTarget(disabled.id)?.active === false],
      [`${upn(softDeleted.id)} is inactive, not deleted`, onTarget(softDeleted.id)?.active === false],
      [`${upn(unassigned.id)} is inactive`, onTarget(unassigned.id)?.active === false],
      [`the target group kept its id and is now "${groupName} (renamed)"`, targetGroup?.displayName === `${groupName} (renamed)`],
      [`${upn(outsider.id)} was created and added to it`, onTarget(outsider.id)?.active === true && memberIds.has(link(outsider.id)?.targetId ?? '-')],
      ...(leaving ? [[`${upn(leaving)} was removed from it and deactivated`, !memberIds.has(link(leaving)?.targetId ?? '-') && onTarget(leaving)?.active === false] as [string, boolean]] : []),
      ['nothing was deleted on the target', scim.users().length === (runtime.status().targets[0]!.links.user.active + runtime.status().targets[0]!.links.user.disabled)],
    ];
    out('', '── On the target now');
    for (const [what, ok] of checks) out(`  ${ok ? '✓' : '✗'} ${what}`);
    out('', `Done in ${((Date.now() - started) / 1000).toFixed(1)} s. Try it on your tenant: see README.md, "Quick start".`);
    if (args.options.keep) out(`Kept ${dir} (config and state file; the simulators are gone).`);
    const failedChecks = checks.filter(([, ok]) => !ok).length;
    return failedChecks > 0 ? 1 : Math.max(exitCodeOf(first.targets), exitCodeOf(second.targets));
  } finally {
    await runtime?.close();
    await scim?.close();
    await graph?.close();
    if (!args.options.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

function printCycle(report: SyncReport, scim: ScimSimulator, out: (...lines: string[]) => void): void {
  out(`  ${formatRead(report.read)}`);
  for (const t of report.targets) out(formatCycle(t, '  '));
  const users = scim.users();
  out(`  the target holds ${users.length} users (${users.filter((u) => u.active === true).length} active) and ${scim.groups().length} groups`);
}
