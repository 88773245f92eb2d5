// Benchmark of a whole sync, simulator to simulator over loopback, through the same runtime the CLI uses:
// initial sync of a 100,000-user / 2,000-group tenant (50 members a group on average), a no-op incremental
// cycle, and a cycle after 1 % of the users changed. Then a raw-POST baseline: the same users sent straight
// to a fresh SCIM simulator at the same concurrency, and the ratio. Both simulators run in child processes,
// so the RSS printed is the syncing process's own (runtime + SQLite + MSAL + connector).
//   npm run bench:sync                              (full size)
//   node dist/bench/sync.js --users 10000           (groups default to users/50)
//   node dist/bench/sync.js --users 10000 --bulk    (the SCIM simulator advertises /Bulk; the baseline stays plain POSTs)
//   node dist/bench/sync.js --target-latency-ms 20  (the SCIM simulator answers every request 20 ms late, in the
//                                                    sync and in the baseline alike: a target that costs what a real one does)
//   node dist/bench/sync.js --target-latency-ms 20 --target-jitter-ms 10
//                                                   (each answer takes 10 to 30 ms, spread evenly, as a real target's vary;
//                                                    with a fixed delay, answers to requests sent together come back together)
//   node dist/bench/sync.js --graph-latency-ms 300  (the Graph simulator answers every request 300 ms late, as Microsoft's
//                                                    Graph takes a few hundred ms for a page of users)
//   node dist/bench/sync.js --read-chunk-users 0    (read everything, then apply: no users applied while the read goes on)
//   node dist/bench/sync.js --batch-size 100        (objects mapped and planned per batch; default the cycle's 500)
//   node dist/bench/sync.js --no-baseline           (the three cycles only)
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import { Agent, request } from 'undici';
import { openRuntime, type SyncReport } from '../src/runtime/runtime.js';
import { loadConfig } from '../src/config/load.js';
import type { CycleSummary } from '../src/sync/cycle.js';
import { spawnScimSimulator, type ScimSimulatorProcess } from '../src/simulators/scim/child.js';

interface SimInfo { graphBaseUrl: string; authorityHost: string; caPem: string; tenantId: string; clientId: string; clientSecret: string; servicePrincipalId: string; generateMs: number }
type Reply = { type: 'ready'; info: SimInfo } | { type: 'changed'; users: number };

function arg(name: string, fallback: number, min = 1): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value < min) throw new Error(`--${name} needs a number ≥ ${min}`);
  return value;
}

const USERS = arg('users', 100_000);
const GROUPS = arg('groups', Math.max(1, Math.round(USERS / 50)));
const MEMBERS = arg('members', 50);
const CONCURRENCY = arg('concurrency', 16);
const BULK = process.argv.includes('--bulk');
const LATENCY_MS = arg('target-latency-ms', 0, 0);
const JITTER_MS = arg('target-jitter-ms', 0, 0);
const SCIM_FAULTS = LATENCY_MS > 0 ? { faults: { latencyMs: LATENCY_MS, latencyJitterMs: JITTER_MS } } : {};
const READ_CHUNK_USERS = arg('read-chunk-users', 5000, 0);
const GRAPH_LATENCY_MS = arg('graph-latency-ms', 0, 0);
const BATCH_SIZE = process.argv.includes('--batch-size') ? arg('batch-size', 500) : undefined;
const BASELINE = !process.argv.includes('--no-baseline');

/** Child side: the Graph tenant simulator, driven by the parent over IPC. */
async function graphChild(): Promise<void> {
  const { startGraphSimulator } = await import('../src/simulators/graph/index.js');
  const started = Date.now();
  const sim = await startGraphSimulator({
    tenant: { users: USERS, groups: GROUPS, membersPerGroup: MEMBERS, nestedGroups: 0, assignedUserFraction: 0, assignedGroups: GROUPS, seed: 3 },
    pageSize: 200,
    ...(GRAPH_LATENCY_MS > 0 ? { faults: { latencyMs: GRAPH_LATENCY_MS } } : {}),
  });
  const send = (m: Reply) => process.send!(m);
  process.on('disconnect', () => process.exit(0)); // the benchmark died: do not outlive it
  process.on('message', (m: { type: string; share?: number }) => {
    if (m.type === 'change') {
      // A surname change for every n-th user: each is one attribute update on the target.
      const users = sim.tenant.users();
      const step = Math.round(1 / (m.share ?? 0.01));
      let n = 0;
      for (let i = 0; i < users.length; i += step, n++) sim.tenant.updateUser(users[i]!.id, { surname: `Changed ${i}` });
      send({ type: 'changed', users: n });
    }
    if (m.type === 'close') void sim.close().then(() => process.exit(0));
  });
  send({ type: 'ready', info: { graphBaseUrl: sim.graphBaseUrl, authorityHost: sim.authorityHost, caPem: sim.caPem, tenantId: sim.tenantId, clientId: sim.clientId, clientSecret: sim.clientSecret, servicePrincipalId: sim.servicePrincipalId, generateMs: Date.now() - started } });
}

function ask<T extends Reply['type']>(child: ChildProcess, message: object | null, want: T): Promise<Extract<Reply, { type: T }>> {
  return new Promise((resolve) => {
    const on = (m: Reply) => {
      if (m.type === want) { child.off('message', on); resolve(m as Extract<Reply, { type: T }>); }
    };
    child.on('message', on);
    if (message) child.send(message);
  });
}

const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

/** CPU seconds (user + system) a process has used so far: this one, or a child by pid (Linux /proc). */
function cpuSeconds(pid?: number): number {
  if (pid === undefined) { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; }
  try {
    // Fields 14 and 15 (utime, stime) in clock ticks, after the command name in parentheses.
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** CPU used by each process between two points: where the 2 cores went during a phase. */
function cpuMeter(pids: Record<string, number | undefined>): () => string {
  const start = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  return () => Object.entries(pids).map(([name, pid]) => `${name} ${(cpuSeconds(pid) - start[name]!).toFixed(1)} s`).join(', ');
}
const fmt = (n: number) => n.toLocaleString('en-US');

function printCycle(label: string, report: SyncReport, wallMs: number, createdUsers?: () => number): CycleSummary {
  const s = report.targets[0] as CycleSummary;
  if (!('runId' in s)) throw new Error(`${label}: the target did not run: ${JSON.stringify(s)}`);
  const c = s.counts;
  console.log(`${label}`);
  console.log(`  wall time            ${(wallMs / 1000).toFixed(2)} s (Graph read ${(report.read.durationMs / 1000).toFixed(2)} s, apply ${(s.durationMs / 1000).toFixed(2)} s${report.read.chunks > 0 ? `, overlapping: users applied from ${report.read.chunks} chunks while read` : ''})`);
  console.log(`  Graph requests       ${fmt(report.read.requests)} (users ${report.read.users.mode}: ${fmt(report.read.users.items)} objects in ${report.read.users.pages} pages; groups ${fmt(report.read.groups.items)} in ${report.read.groups.pages} pages)`);
  console.log(`  target requests      ${fmt(s.requests)}`);
  console.log(`  operations           create ${fmt(c.create)}, update ${fmt(c.update)}, disable ${fmt(c.disable)}, add members ${fmt(c.addMembers)}, remove members ${fmt(c.removeMembers)}; failed ${s.failed}, unchanged ${fmt(c.unchanged)}`);
  if (createdUsers) console.log(`  target requests per created user  ${(s.requests / createdUsers()).toFixed(3)} (all target requests, groups and memberships included, ÷ ${fmt(createdUsers())} users created)`);
  const mem = process.memoryUsage();
  console.log(`  peak RSS (so far)    ${peakRssMb().toFixed(0)} MB (now: RSS ${(mem.rss / 1048576).toFixed(0)} MB, JS heap used ${(mem.heapUsed / 1048576).toFixed(0)} MB)`);
  return s;
}

/** The baseline: the same user resources POSTed straight to a fresh simulator, CONCURRENCY at a time. */
async function rawPostBaseline(resources: object[]): Promise<{ ms: number; cpu: string }> {
  const sim = await spawnScimSimulator({ profile: 'docuware', logRequests: false, ...SCIM_FAULTS }, fileURLToPath(new URL('../src/simulators/scim/serve.js', import.meta.url)));
  const dispatcher = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 30_000 });
  try {
    const limit = pLimit(CONCURRENCY);
    const cpu = cpuMeter({ client: undefined, 'SCIM simulator': sim.pid });
    const started = Date.now();
    await Promise.all(resources.map((body) => limit(async () => {
      const res = await request(`${sim.baseUrl}/Users`, {
        method: 'POST', dispatcher, body: JSON.stringify(body),
        headers: { 'content-type': 'application/scim+json', authorization: 'Bearer scim-token' },
      });
      await res.body.dump();
      if (res.statusCode !== 201) throw new Error(`baseline POST answered ${res.statusCode}`);
    })));
    return { ms: Date.now() - started, cpu: cpu() };
  } finally {
    await dispatcher.close();
    await sim.stop();
  }
}

async function main(): Promise<void> {
  console.log(`bench/sync: ${fmt(USERS)} users, ${fmt(GROUPS)} groups × ${MEMBERS} members, target concurrency ${CONCURRENCY}, ${BULK ? 'target advertises /Bulk' : 'no /Bulk (one POST per object)'}, target latency ${LATENCY_MS}${JITTER_MS > 0 && LATENCY_MS > 0 ? ` ± ${JITTER_MS}` : ''} ms per request, Graph latency ${GRAPH_LATENCY_MS} ms per request, ${READ_CHUNK_USERS > 0 ? `users applied while read, in chunks of ${fmt(READ_CHUNK_USERS)}` : 'read, then apply'}; node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const graph = fork(fileURLToPath(import.meta.url), ['--graph-child', ...process.argv.slice(2)], { stdio: 'inherit' });
  let scim: ScimSimulatorProcess | undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-sync-bench-sync-'));
  try {
    const { info } = await ask(graph, null, 'ready');
    console.log(`  (tenant generated in ${(info.generateMs / 1000).toFixed(1)} s in the simulator's process)`);
    scim = await spawnScimSimulator({ profile: 'docuware', logRequests: false, ...SCIM_FAULTS, ...(BULK ? { bulk: { enabled: true } } : {}) }, fileURLToPath(new URL('../src/simulators/scim/serve.js', import.meta.url)));
    fs.writeFileSync(path.join(dir, 'ca.pem'), info.caPem);
    const configFile = path.join(dir, 'entra-sync.yaml');
    fs.writeFileSync(configFile, `source:
  tenantId: ${info.tenantId}
  clientId: ${info.clientId}
  clientSecret: \${BENCH_SECRET}
  servicePrincipalId: ${info.servicePrincipalId}
  authorityHost: ${info.authorityHost}
  graphBaseUrl: ${info.graphBaseUrl}
  caFile: ${path.join(dir, 'ca.pem')}
  scope: all
state:
  path: ${path.join(dir, 'state.db')}
targets:
  - name: docuware
    type: scim
    preset: docuware
    baseUrl: ${scim.baseUrl}
    concurrency: ${CONCURRENCY}
    auth:
      type: bearer
      token: scim-token
`);
    const config = await loadConfig(configFile, { env: { BENCH_SECRET: info.clientSecret } });
    const runtime = openRuntime(config, { readChunkUsers: READ_CHUNK_USERS, ...(BATCH_SIZE ? { policy: { batchSize: BATCH_SIZE } } : {}) });
    try {
      const pids = { 'syncing process': undefined, 'Graph simulator': graph.pid, 'SCIM simulator': scim.pid };
      const cpu = cpuMeter(pids);
      let t = Date.now();
      const initialReport = await runtime.sync();
      const initialWall = Date.now() - t;
      printCycle('initial sync', initialReport, initialWall, () => runtime.targets.linkedCount('docuware', 'user'));
      console.log(`  CPU used             ${cpu()} (${os.cpus().length} cores × ${(initialWall / 1000).toFixed(1)} s available)`);

      t = Date.now();
      const noop = printCycle('no-op incremental cycle', await runtime.sync(), Date.now() - t);
      console.log(`  goal: ≤ 1 s with 0 target requests → ${Date.now() - t <= 1000 && noop.requests === 0 ? 'met' : 'NOT met'}`);

      const { users: changed } = await ask(graph, { type: 'change', share: 0.01 }, 'changed');
      t = Date.now();
      const onePercent = printCycle(`cycle after 1 % of users changed (${fmt(changed)} surname changes)`, await runtime.sync(), Date.now() - t);
      // A changed user who was never provisioned (sign-in blocked from the start) needs no request at all.
      const reaching = onePercent.counts.update;
      // With /Bulk the changes share requests: at most one request per change is the goal then.
      const perChangeMet = BULK ? onePercent.requests <= reaching : onePercent.requests === reaching;
      console.log(`  ${fmt(reaching)} of the ${fmt(changed)} changed users are provisioned: ${fmt(onePercent.requests)} target requests for ${fmt(reaching)} changes → goal of ${BULK ? 'at most ' : ''}one request per change ${perChangeMet ? 'met' : 'NOT met'}`);

      // The syncing process's peak, before the baseline's own resources and client share this process.
      const syncPeakMb = peakRssMb();
      if (!BASELINE) {
        console.log(`peak RSS of the syncing process over the three cycles: ${syncPeakMb.toFixed(0)} MB → goal ≤ 300 MB ${syncPeakMb <= 300 ? 'met' : 'NOT met'}`);
        return;
      }
      // The baseline sends what the initial sync created for each user, as a SCIM resource.
      const resources: object[] = [];
      for (let after = ''; ;) {
        const page = runtime.targets.linksPage('docuware', 'user', after, 5000);
        if (page.length === 0) break;
        after = page[page.length - 1]!.sourceId;
        for (const link of page) {
          const w = link.written;
          resources.push({
            schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: w.userName, active: w.active, externalId: w.externalId,
            name: { givenName: w['name.givenName'], familyName: w['name.familyName'] }, emails: [{ type: 'work', value: w['emails[type eq "work"].value'] }],
          });
        }
      }
      const { ms: baselineMs, cpu: baselineCpu } = await rawPostBaseline(resources);
      console.log('raw-POST baseline');
      console.log(`  ${fmt(resources.length)} POST /Users at concurrency ${CONCURRENCY}: ${(baselineMs / 1000).toFixed(2)} s`);
      console.log(`  CPU used             ${baselineCpu}`);
      const ratio = initialWall / baselineMs;
      console.log(`  initial sync ÷ baseline = ${ratio.toFixed(2)}× → goal ≤ 1.2× ${ratio <= 1.2 ? 'met' : 'NOT met'}`);
      console.log(`peak RSS of the syncing process over the three cycles: ${syncPeakMb.toFixed(0)} MB → goal ≤ 300 MB ${syncPeakMb <= 300 ? 'met' : 'NOT met'} (with the baseline run in the same process afterwards: ${peakRssMb().toFixed(0)} MB)`);
    } finally {
      await runtime.close();
    }
  } finally {
    await scim?.stop();
    graph.send({ type: 'close' });
    await new Promise((resolve) => graph.once('exit', resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--graph-child')) await graphChild();
else await main();
