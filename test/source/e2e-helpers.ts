// End-to-end helpers: a Graph simulator over HTTPS plus a real reader (MSAL, graph client, undici) and an
// in-memory source store, wired the way the daemon wires them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startGraphSimulator, type GraphSimulator } from '../../src/simulators/graph/index.js';
import type { GraphSimulatorOptions } from '../../src/simulators/graph/index.js';
import { sourceOptionsSchema, type SourceOptions, type SourceOptionsInput } from '../../src/source/options.js';
import { createSourceReader, type SourceReader } from '../../src/source/reader.js';
import type { RetryOptions } from '../../src/net/retry.js';
import { openDatabase } from '../../src/state/db.js';
import { SourceStoreImpl } from '../../src/state/source-store.js';

export const SELECT = ['displayName', 'givenName', 'surname', 'mail', 'jobTitle', 'department'];

/**
 * Ids of the users the store changed since the previous call (the engine's view: seq above a cursor).
 * `store` is a getter because harnesses start in `beforeAll`, after the tracker is made.
 */
export function changeTracker(store: () => SourceStoreImpl): () => string[] {
  let cursor = 0;
  return () => {
    const ids = [...store().changedUsers(cursor)].map((u) => u.id);
    cursor = store().currentSeq();
    return ids;
  };
}

export interface Harness {
  sim: GraphSimulator;
  store: SourceStoreImpl;
  reader: SourceReader;
  options: SourceOptions;
  dir: string;
  /** A new reader over the same store with different options (auth modes, proxy …). */
  newReader(overrides: Partial<SourceOptionsInput>, retry?: RetryOptions): SourceReader;
  close(): Promise<void>;
}

export async function startHarness(
  simOptions: GraphSimulatorOptions = { tenant: { users: 30, groups: 4, membersPerGroup: 6, seed: 7 }, pageSize: 7 },
  overrides: Partial<SourceOptionsInput> = {},
  retry: RetryOptions = { policy: { baseDelayMs: 10, maxDelayMs: 50 } },
  /** What the mappings reference (add `appRoleAssignments` to have the reader read the app's roles). */
  select: string[] = SELECT,
): Promise<Harness> {
  const sim = await startGraphSimulator(simOptions);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-sync-graph-'));
  const caFile = path.join(dir, 'sim-ca.pem');
  fs.writeFileSync(caFile, sim.caPem);
  const base: SourceOptionsInput = {
    tenantId: sim.tenantId,
    clientId: sim.clientId,
    clientSecret: sim.clientSecret,
    servicePrincipalId: sim.servicePrincipalId,
    authorityHost: sim.authorityHost,
    graphBaseUrl: sim.graphBaseUrl,
    caFile,
    timeoutMs: 10_000,
  };
  const build = (o: Partial<SourceOptionsInput>): SourceOptions => {
    const merged: Record<string, unknown> = { ...base, ...o };
    for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
    return sourceOptionsSchema.parse(merged);
  };
  const store = new SourceStoreImpl(openDatabase(':memory:'));
  const options = build(overrides);
  const readers: SourceReader[] = [];
  const make = (o: SourceOptions, r: RetryOptions) => {
    const reader = createSourceReader(o, { store, select, retry: r });
    readers.push(reader);
    return reader;
  };
  const reader = make(options, retry);
  return {
    sim, store, reader, options, dir,
    newReader: (o, r) => make(build(o), r ?? retry),
    async close() {
      for (const r of readers) await r.close();
      store.db.close();
      await sim.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
