// Shared setup for the runtime and CLI tests: a Graph tenant simulator and SCIM simulators on loopback, a
// real configuration file written to a temp directory (as a user would write it), and the runtime opened
// on it. Everything goes through real HTTP, real MSAL and the real Graph client.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openRuntime, type Runtime, type RuntimeOptions } from '../src/runtime/runtime.js';
import { loadConfig } from '../src/config/load.js';
import { startGraphSimulator, type GenerateTenantOptions, type GraphSimulator } from '../src/simulators/graph/index.js';
import { startScimSimulator, type ProfileName, type ScimSimulator } from '../src/simulators/scim/index.js';
import type { SourceUserRecord } from '../src/source/types.js';

export interface WorldOptions {
  tenant?: GenerateTenantOptions;
  /** Target name → SCIM simulator profile. Default `{ docuware: 'docuware' }`. */
  targets?: Record<string, ProfileName>;
  /** YAML lines appended to each target (indented 4 spaces), by target name. */
  targetYaml?: Record<string, string>;
  /** Preset per target name (default: the profile name, or `scim` for `generic`). */
  presets?: Record<string, string>;
}

export interface World {
  graph: GraphSimulator;
  scim: Record<string, ScimSimulator>;
  dir: string;
  configFile: string;
  open(options?: RuntimeOptions): Promise<Runtime>;
  /** In-scope, enabled, live users of the source store as the runtime last read it. */
  inScope(runtime: Runtime): SourceUserRecord[];
  /** Users assigned to the app directly and in no assigned group: unassigning them takes them out of scope. */
  directOnly(runtime: Runtime): SourceUserRecord[];
  upn(id: string): string;
  close(): Promise<void>;
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const graph = await startGraphSimulator({
    tenant: options.tenant ?? { seed: 5, users: 40, groups: 4, membersPerGroup: 6, nestedGroups: 0, assignedUserFraction: 0.4, assignedGroups: 2 },
    pageSize: 25,
  });
  const targets = options.targets ?? { docuware: 'docuware' };
  const scim: Record<string, ScimSimulator> = {};
  for (const [name, profile] of Object.entries(targets)) scim[name] = await startScimSimulator({ profile });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-sync-runtime-'));
  fs.writeFileSync(path.join(dir, 'ca.pem'), graph.caPem);
  const configFile = path.join(dir, 'entra-sync.yaml');
  const targetBlocks = Object.entries(targets).map(([name, profile]) => `  - name: ${name}
    type: scim
    preset: ${options.presets?.[name] ?? (profile === 'generic' ? 'scim' : profile)}
    baseUrl: ${scim[name]!.baseUrl}
    auth:
      type: bearer
      token: scim-token
${(options.targetYaml?.[name] ?? '').split('\n').filter(Boolean).map((l) => `    ${l}`).join('\n')}`);
  fs.writeFileSync(configFile, `source:
  tenantId: ${graph.tenantId}
  clientId: ${graph.clientId}
  clientSecret: \${TEST_ENTRA_SECRET}
  servicePrincipalId: ${graph.servicePrincipalId}
  authorityHost: ${graph.authorityHost}
  graphBaseUrl: ${graph.graphBaseUrl}
  caFile: ${path.join(dir, 'ca.pem')}
  timeoutMs: 10000
state:
  path: ${path.join(dir, 'state.db')}
targets:
${targetBlocks.join('\n')}
`);
  process.env.TEST_ENTRA_SECRET = graph.clientSecret;
  const runtimes: Runtime[] = [];
  const directUserIds = () => new Set(graph.tenant.assignments().filter((a) => a.principalType === 'User').map((a) => a.principalId));
  const assignedGroupIds = () => graph.tenant.assignments().filter((a) => a.principalType === 'Group').map((a) => a.principalId);
  const world: World = {
    graph, scim, dir, configFile,
    async open(runtimeOptions = {}) {
      const config = await loadConfig(configFile, { env: { TEST_ENTRA_SECRET: graph.clientSecret } });
      const runtime = openRuntime(config, runtimeOptions);
      runtimes.push(runtime);
      return runtime;
    },
    inScope: (runtime) => [...runtime.source.allUsers()].filter((u) => u.assigned && !u.removed && u.attributes.accountEnabled !== false),
    directOnly(runtime) {
      const direct = directUserIds();
      const groups = assignedGroupIds().map((g) => new Set(graph.tenant.members(g)));
      return world.inScope(runtime).filter((u) => direct.has(u.id) && !groups.some((m) => m.has(u.id)));
    },
    upn: (id) => graph.tenant.user(id)?.userPrincipalName ?? id,
    async close() {
      for (const r of runtimes) await r.close();
      for (const s of Object.values(scim)) await s.close();
      await graph.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/** Runs a command module's `run(argv)` in-process and captures what it writes to stdout. */
export async function runCommand(mod: { run(argv: string[]): Promise<number> }, argv: string[]): Promise<{ code: number; stdout: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => { chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')); return true; }) as typeof process.stdout.write;
  try {
    const code = await mod.run(argv);
    return { code, stdout: chunks.join('') };
  } finally {
    process.stdout.write = write;
  }
}

/** Runs `fn` once, just after the simulator has answered its `n`-th request from now. */
export function afterRequests(sim: ScimSimulator, n: number, fn: () => void): void {
  const start = sim.requests.length;
  const push = sim.requests.push.bind(sim.requests);
  let done = false;
  sim.requests.push = (...entries) => {
    const length = push(...entries);
    if (!done && length - start >= n) { done = true; fn(); }
    return length;
  };
}

/** userName the docuware preset maps from a UPN. */
export const userNameOf = (upn: string): string => upn.split('@')[0]!;
