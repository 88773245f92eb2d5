// Shared helpers for the source tests: Graph sample payloads and a fresh in-memory source store.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../../src/state/db.js';
import { SourceStoreImpl, type ScopeSettings } from '../../src/state/source-store.js';

const SAMPLES = fileURLToPath(new URL('../fixtures/graph-samples', import.meta.url));

export function sample(name: string): { value: Record<string, unknown>[]; [k: string]: unknown } {
  const file = fs.readdirSync(SAMPLES).find((f) => f.startsWith(name));
  if (!file) throw new Error(`no sample ${name}`);
  return JSON.parse(fs.readFileSync(path.join(SAMPLES, file), 'utf8')) as { value: Record<string, unknown>[] };
}

export function newStore(settings?: ScopeSettings): SourceStoreImpl {
  return new SourceStoreImpl(openDatabase(':memory:'), settings);
}

export const ID = {
  avery: 'e91fccdf-7036-4811-9816-4d045ca15111',
  bo: '457a47f7-058e-4eed-a578-6b6c18778715',
  chidi: '835204e4-e1b3-41a9-af7a-4bdb6926ba9d',
  dana: '9d4ffd3b-65b0-42dc-8224-cbc978f570aa',
  emil: 'dbf82380-d039-401e-800f-eb35b1464de0',
  farah: '71ade391-52fe-4b7d-a161-850f29924828',
  gus: '40275454-5ad9-4a03-bdec-4a0257255e3d',
  room: '019742aa-133a-44d7-9adb-7ea61a8c5d93',
  appUsers: '54431364-24c9-4963-a9ea-af3b7f24d57d',
  appAdmins: '89865e69-970b-4882-b66d-3e4af89d4092',
  contractors: '1d957341-c7d8-4eef-9eab-4b978aff9c03',
  roleUser: '4c42850e-c80b-4bd0-9e41-6c1b0f798a98',
  roleDefault: '00000000-0000-0000-0000-000000000000',
};

/** Stages the initial users and groups rounds and the assignments from the samples, then commits them as full rounds. */
export function loadInitialSamples(store: SourceStoreImpl): void {
  for (const p of ['01', '02', '03', '04']) store.stageUsers(sample(p).value);
  for (const p of ['10', '11']) store.stageGroups(sample(p).value);
  store.stageAssignments(
    [...sample('20').value, ...sample('21').value]
      .filter((a) => a.principalType === 'User' || a.principalType === 'Group')
      .map((a) => ({ principalId: a.principalId as string, principalType: a.principalType as 'User' | 'Group', appRoleId: a.appRoleId as string })),
  );
  store.commit({
    users: { mode: 'full', deltaLink: sample('04')['@odata.deltaLink'] as string, selectSignature: 's' },
    groups: { mode: 'full', deltaLink: sample('11')['@odata.deltaLink'] as string, selectSignature: 'g' },
    assignments: true,
  });
}
