// Benchmark: create N users (default 100,000) in the SCIM simulator
//   1. with a minimal raw loop (fetch, same concurrency, no logic) — the baseline — and the same loop on
//      undici.request, the client the connector itself uses, which isolates the connector's own overhead;
//   2. through the SCIM connector, one POST per user (Bulk off);
//   3. through the SCIM connector with /Bulk (maxOperations from the simulator's discovery).
// Prints wall times, the connector/raw ratio (goal ≤ 1.15) and requests per user (goal with Bulk ≤ 0.02).
// The simulator runs in a child process (one per run, fresh store) so it does not share the client's event loop.
// On a machine with fewer cores than client + simulator need, both compete for CPU: read figures with the load.
//   BENCH_USERS=20000 BENCH_CONCURRENCY=8 BENCH_BULK_MAX_OPERATIONS=100 npm run bench:scim-write
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { spawnScimSimulator } from '../src/simulators/scim/child.js';
import type { BulkOperation } from '../src/targets/connector.js';
import { createConnector } from '../src/targets/factory.js';

const users = Number(process.env.BENCH_USERS ?? 100_000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
const bulkMaxOperations = Number(process.env.BENCH_BULK_MAX_OPERATIONS ?? 100);
const TOKEN = 'bench-token';

function userResource(i: number): Record<string, unknown> {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: `user${i}@bench.example`,
    externalId: `ext-${i}`,
    active: true,
    name: { givenName: 'Bench', familyName: `User ${i}` },
    emails: [{ type: 'work', value: `user${i}@bench.example` }],
  };
}

function userAttributes(i: number): Record<string, unknown> {
  return {
    userName: `user${i}@bench.example`,
    externalId: `ext-${i}`,
    active: true,
    'name.givenName': 'Bench',
    'name.familyName': `User ${i}`,
    'emails[type eq "work"].value': `user${i}@bench.example`,
  };
}

/** `concurrency` workers POSTing user i = 0, 1, 2 … with `post`, which answers the HTTP status. */
async function postLoop(post: (i: number) => Promise<number>): Promise<{ ms: number; requests: number; failed: number }> {
  let next = 0;
  let failed = 0;
  const start = performance.now();
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= users) return;
      if ((await post(i)) !== 201) failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ms: performance.now() - start, requests: users, failed };
}

const POST_HEADERS = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' };

function rawLoop(baseUrl: string): Promise<{ ms: number; requests: number; failed: number }> {
  return postLoop(async (i) => {
    const res = await fetch(`${baseUrl}/Users`, { method: 'POST', headers: POST_HEADERS, body: JSON.stringify(userResource(i)) });
    await res.arrayBuffer();
    return res.status;
  });
}

/** The same raw loop on undici.request, the client the connector uses: isolates the connector's own overhead. */
async function rawUndiciLoop(baseUrl: string): Promise<{ ms: number; requests: number; failed: number }> {
  const dispatcher = new Agent({ connections: concurrency });
  try {
    return await postLoop(async (i) => {
      const res = await request(`${baseUrl}/Users`, { method: 'POST', dispatcher, headers: POST_HEADERS, body: JSON.stringify(userResource(i)) });
      await res.body.arrayBuffer();
      return res.statusCode;
    });
  } finally {
    await dispatcher.close();
  }
}

async function throughConnector(baseUrl: string, bulk: boolean): Promise<{ ms: number; requests: number; failed: number }> {
  const connector = createConnector('bench', { type: 'scim', baseUrl, auth: { type: 'bearer', token: TOKEN }, concurrency, bulk });
  const operations: BulkOperation[] = Array.from({ length: users }, (_, i) => ({ op: 'create', type: 'user', ref: String(i), attributes: userAttributes(i) }));
  const start = performance.now();
  const results = await connector.bulk(operations);
  const ms = performance.now() - start;
  const failed = results.filter((r) => !r.ok).length;
  const requests = connector.stats.requests;
  await connector.close();
  return { ms, requests, failed };
}

async function run<T>(simOptions: Parameters<typeof spawnScimSimulator>[0], body: (baseUrl: string) => Promise<T>): Promise<T> {
  const sim = await spawnScimSimulator({ tokens: [TOKEN], logRequests: false, ...simOptions });
  try {
    return await body(sim.baseUrl);
  } finally {
    await sim.stop();
  }
}

const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const rate = (ms: number): string => `${Math.round(users / (ms / 1000)).toLocaleString('en-US')} users/s`;

console.log(`scim-write: ${users.toLocaleString('en-US')} users, concurrency ${concurrency}, ${cpus().length} CPUs, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const raw = await run({}, rawLoop);
console.log(`raw fetch loop            ${fmt(raw.ms)}  ${rate(raw.ms)}  requests/user ${(raw.requests / users).toFixed(3)}  failed ${raw.failed}`);
const rawUndici = await run({}, rawUndiciLoop);
console.log(`raw undici.request loop   ${fmt(rawUndici.ms)}  ${rate(rawUndici.ms)}  requests/user ${(rawUndici.requests / users).toFixed(3)}  failed ${rawUndici.failed}`);
const single = await run({}, (url) => throughConnector(url, false));
console.log(`connector (no Bulk)       ${fmt(single.ms)}  ${rate(single.ms)}  requests/user ${(single.requests / users).toFixed(3)}  failed ${single.failed}`);
const bulk = await run({ bulk: { enabled: true, maxOperations: bulkMaxOperations } }, (url) => throughConnector(url, true));
console.log(`connector (Bulk ≤ ${bulkMaxOperations})    ${fmt(bulk.ms)}  ${rate(bulk.ms)}  requests/user ${(bulk.requests / users).toFixed(4)}  failed ${bulk.failed}`);
const ratio = single.ms / raw.ms;
console.log(`ratio connector/raw fetch (no Bulk): ${ratio.toFixed(3)} (goal ≤ 1.15)`);
console.log(`ratio connector/raw undici.request (no Bulk): ${(single.ms / rawUndici.ms).toFixed(3)} (the connector's own overhead)`);
console.log(`requests per user with Bulk: ${(bulk.requests / users).toFixed(4)} (goal ≤ 0.02; includes the discovery GET)`);
console.log(`load after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
