// Benchmark of the Graph reader: an initial read of a 100,000-user / 2,000-group tenant from the simulator,
// then 100 changes and an incremental read. Prints wall time, Graph requests and peak RSS for each.
// The simulator runs in a child process so the RSS printed is the reader's own (reader + SQLite + MSAL).
//   npm run bench:graph-read            (defaults)
//   node dist/bench/graph-read.js --users 20000 --groups 400 --members 50
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceOptionsSchema } from '../src/source/options.js';
import { createSourceReader } from '../src/source/reader.js';
import { openDatabase } from '../src/state/db.js';
import { SourceStoreImpl } from '../src/state/source-store.js';

interface SimInfo { graphBaseUrl: string; authorityHost: string; caPem: string; tenantId: string; clientId: string; clientSecret: string; servicePrincipalId: string; generateMs: number }
type Reply = { type: 'ready'; info: SimInfo } | { type: 'counters'; total: number } | { type: 'mutated'; changes: number };

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

/** Child side: runs the simulator and answers the parent over IPC. */
async function simulatorChild(): Promise<void> {
  const { startGraphSimulator } = await import('../src/simulators/graph/index.js');
  const started = Date.now();
  const sim = await startGraphSimulator({
    tenant: { users: arg('users', 100_000), groups: arg('groups', 2_000), membersPerGroup: arg('members', 50), seed: 1 },
    pageSize: 200,
  });
  const generateMs = Date.now() - started;
  const send = (m: Reply) => process.send!(m);
  process.on('message', (m: { type: string }) => {
    if (m.type === 'counters') send({ type: 'counters', total: sim.counters.total });
    if (m.type === 'mutate') send({ type: 'mutated', changes: applyChanges(sim) });
    if (m.type === 'close') void sim.close().then(() => process.exit(0));
  });
  send({ type: 'ready', info: { graphBaseUrl: sim.graphBaseUrl, authorityHost: sim.authorityHost, caPem: sim.caPem, tenantId: sim.tenantId, clientId: sim.clientId, clientSecret: sim.clientSecret, servicePrincipalId: sim.servicePrincipalId, generateMs } });
}

/** 100 changes of every kind the reader handles. */
function applyChanges(sim: Awaited<ReturnType<typeof import('../src/simulators/graph/index.js').startGraphSimulator>>): number {
  const t = sim.tenant;
  const users = t.users();
  const groups = t.groups();
  let n = 0;
  for (let i = 0; i < 40; i++, n++) t.updateUser(users[i * 997 % users.length]!.id, { jobTitle: `Bench Title ${i}` });
  for (let i = 0; i < 10; i++, n++) t.createUser({ userPrincipalName: `bench.new${i}@contoso.example`, displayName: `Bench New ${i}` });
  for (let i = 0; i < 10; i++, n++) t.disableUser(users[(i * 7919 + 13) % users.length]!.id);
  for (let i = 0; i < 10; i++, n++) t.softDeleteUser(users[(i * 104_729 + 29) % users.length]!.id);
  for (let i = 0; i < 10; i++, n++) t.addMember(groups[i]!.id, users[(i * 31 + 50_000) % users.length]!.id);
  for (let i = 0; i < 10; i++, n++) {
    const g = groups[i + 10]!;
    const members = t.members(g.id);
    if (members.length) t.removeMember(g.id, members[0]!);
  }
  for (let i = 0; i < 5; i++, n++) t.assign(users[(i * 211 + 7) % users.length]!.id);
  for (let i = 0; i < 5; i++, n++) t.renameGroup(groups[i + 20]!.id, `bench-renamed-${i}`);
  return n;
}

function ask<T extends Reply['type']>(child: ChildProcess, type: string, want: T): Promise<Extract<Reply, { type: T }>> {
  return new Promise((resolve) => {
    const on = (m: Reply) => {
      if (m.type === want) { child.off('message', on); resolve(m as Extract<Reply, { type: T }>); }
    };
    child.on('message', on);
    if (type) child.send({ type });
  });
}

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['--simulator', ...process.argv.slice(2)], { stdio: 'inherit' });
  const { info } = await ask(child, '', 'ready');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-sync-bench-'));
  const caFile = path.join(dir, 'ca.pem');
  fs.writeFileSync(caFile, info.caPem);
  const options = sourceOptionsSchema.parse({
    tenantId: info.tenantId, clientId: info.clientId, clientSecret: info.clientSecret, servicePrincipalId: info.servicePrincipalId,
    authorityHost: info.authorityHost, graphBaseUrl: info.graphBaseUrl, caFile,
  });
  const db = openDatabase(path.join(dir, 'state.db'));
  const store = new SourceStoreImpl(db);
  const reader = createSourceReader(options, { store, select: ['displayName', 'givenName', 'surname', 'mail', 'jobTitle', 'department', 'employeeId', 'manager'] });

  console.log(`graph-read benchmark: ${arg('users', 100_000)} users, ${arg('groups', 2_000)} groups × ${arg('members', 50)} members (simulator generated in ${(info.generateMs / 1000).toFixed(1)} s, in a child process)`);
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const rssBefore = process.resourceUsage().maxRSS;
  let simBefore = (await ask(child, 'counters', 'counters')).total;
  const initial = await reader.read();
  let simAfter = (await ask(child, 'counters', 'counters')).total;
  const rssInitial = process.resourceUsage().maxRSS;
  let users = 0;
  for (const _user of store.allUsers()) users++; // streamed, as the engine would; never an array of the tenant
  console.log(`initial read:     ${(initial.durationMs / 1000).toFixed(1)} s, ${simAfter - simBefore} requests seen by the simulator (${initial.requests} counted by the reader), ${initial.users.items} user items, ${initial.groups.items} group items, ${initial.assignments} assignments, ${users} users stored, ${initial.usersChanged} users changed; peak RSS ${mb(rssInitial)} (before reading: ${mb(rssBefore)})`);

  const { changes } = await ask(child, 'mutate', 'mutated');
  simBefore = (await ask(child, 'counters', 'counters')).total;
  const incremental = await reader.read();
  simAfter = (await ask(child, 'counters', 'counters')).total;
  const rssIncremental = process.resourceUsage().maxRSS;
  console.log(`incremental read after ${changes} changes: ${(incremental.durationMs / 1000).toFixed(2)} s, ${simAfter - simBefore} requests (users ${incremental.users.pages} pages / ${incremental.users.items} items, groups ${incremental.groups.pages} pages / ${incremental.groups.items} items, assignments ${incremental.assignments}), ${incremental.usersChanged} users and ${incremental.groupsChanged} groups changed; peak RSS so far ${mb(rssIncremental)}`);
  console.log(`goal: peak RSS <= 300 MB: ${rssIncremental <= 300 * 1024 ? 'met' : 'NOT met'}`);

  await reader.close();
  db.close();
  child.send({ type: 'close' });
  await new Promise((resolve) => child.once('exit', resolve));
  fs.rmSync(dir, { recursive: true, force: true });
}

if (process.argv.includes('--simulator')) void simulatorChild();
else main().catch((err: unknown) => { console.error(err); process.exitCode = 1; });
