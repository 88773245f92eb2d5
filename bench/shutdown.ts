// How long `entra-sync run` takes from SIGTERM to exit: in the middle of a cycle's apply (a tenant of a few
// thousand users against a SCIM target answering 20 ms late: the batches in flight finish, the runtime closes,
// the lock is released) and, for comparison, idle between cycles. The daemon is the built binary in a child
// process, as a container runs it; the Graph and SCIM simulators run in this process.
//   npm run build && node dist/bench/shutdown.js
//   node dist/bench/shutdown.js --users 5000 --target-latency-ms 20 --rounds 5 --stop-after 1500
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGraphSimulator, type GraphSimulator } from '../src/simulators/graph/index.js';
import { startScimSimulator } from '../src/simulators/scim/index.js';

function arg(name: string, fallback: number, min = 0): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value < min) throw new Error(`--${name} needs a number ≥ ${min}`);
  return value;
}

const USERS = arg('users', 3000, 1);
const LATENCY_MS = arg('target-latency-ms', 20);
const ROUNDS = arg('rounds', 5, 1);
/** SIGTERM once the target holds this many users: well inside the apply. */
const STOP_AFTER = arg('stop-after', Math.round(USERS / 3), 1);
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');

interface LogLine { msg: string; [key: string]: unknown }

interface Round { exitMs: number; code: number | null; stopMs: number | null; usersAtStop: number; usersAtExit: number; cycleStatus: unknown }

async function round(graph: GraphSimulator, mode: 'apply' | 'idle'): Promise<Round> {
  const scim = await startScimSimulator({ profile: 'docuware', logRequests: false, faults: { latencyMs: LATENCY_MS } });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-sync-bench-shutdown-'));
  fs.writeFileSync(path.join(dir, 'ca.pem'), graph.caPem);
  const config = path.join(dir, 'entra-sync.yaml');
  fs.writeFileSync(config, `source:
  tenantId: ${graph.tenantId}
  clientId: ${graph.clientId}
  clientSecret: \${BENCH_ENTRA_SECRET}
  servicePrincipalId: ${graph.servicePrincipalId}
  authorityHost: ${graph.authorityHost}
  graphBaseUrl: ${graph.graphBaseUrl}
  caFile: ${path.join(dir, 'ca.pem')}
state:
  path: ${path.join(dir, 'state.db')}
schedule:
  cron: "0 0 0 1 1 *"
  runOnStart: ${mode === 'apply'}
targets:
  - name: docuware
    type: scim
    preset: docuware
    baseUrl: ${scim.baseUrl}
    auth: { type: bearer, token: scim-token }
`);
  const child = spawn(process.execPath, [CLI, 'run', '--config', config], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, BENCH_ENTRA_SECRET: graph.clientSecret },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = (): LogLine[] => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
  const until = async (test: () => boolean, what: string) => {
    const deadline = Date.now() + 300_000;
    while (!test()) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`gave up waiting for ${what}\n${stdout.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  try {
    if (mode === 'apply') await until(() => scim.users().length >= STOP_AFTER, `${STOP_AFTER} users on the target`);
    else await until(() => lines().some((l) => l.msg.startsWith('next scheduled cycle')), 'the daemon to be up');
    const usersAtStop = scim.users().length;
    const sent = performance.now();
    child.kill('SIGTERM');
    const code = await exited;
    const exitMs = performance.now() - sent;
    const stopped = lines().find((l) => l.msg === 'stopped');
    const cycle = lines().find((l) => l.msg === 'cycle ended');
    return { exitMs, code, stopMs: typeof stopped?.durationMs === 'number' ? stopped.durationMs : null, usersAtStop, usersAtExit: scim.users().length, cycleStatus: cycle?.status ?? null };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await scim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const ms = (x: number) => `${Math.round(x)} ms`;

async function main(): Promise<void> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const graph = await startGraphSimulator({
    tenant: { users: USERS, groups: Math.max(1, Math.round(USERS / 100)), membersPerGroup: 20, nestedGroups: 0, assignedUserFraction: 1, assignedGroups: 0, seed: 12 },
    pageSize: 200,
  });
  console.log(`SIGTERM to exit of \`entra-sync run\`: ${USERS} users, SCIM target answering ${LATENCY_MS} ms late, ${ROUNDS} rounds; ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}, node ${process.version}`);
  try {
    for (const mode of ['apply', 'idle'] as const) {
      const results: Round[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const r = await round(graph, mode);
        results.push(r);
        const during = mode === 'apply' ? `, users on the target ${r.usersAtStop} at SIGTERM → ${r.usersAtExit} at exit, cycle ${String(r.cycleStatus)}` : '';
        console.log(`  ${mode} round ${i + 1}: exit ${r.code} after ${ms(r.exitMs)} (the daemon's own stop: ${r.stopMs === null ? '?' : ms(r.stopMs)})${during}`);
        if (r.code !== 0) throw new Error(`exit code ${r.code}, not 0`);
      }
      const exits = results.map((r) => r.exitMs);
      console.log(`${mode === 'apply' ? 'during the apply' : 'idle'}: SIGTERM to exit median ${ms(median(exits))}, min ${ms(Math.min(...exits))}, max ${ms(Math.max(...exits))}`);
    }
  } finally {
    await graph.close();
  }
}

main().catch((err: unknown) => { console.error(err); process.exitCode = 1; });
