// Small builders shared by the engine tests: a target compiled from YAML, and source records.
import { parseConfig } from '../../src/config/load.js';
import { compileTarget, type CompiledTarget, type MappingContext } from '../../src/engine/mapping.js';
import type { SourceGroupRecord, SourceUserRecord } from '../../src/source/types.js';

const SOURCE = `source:
  tenantId: contoso.onmicrosoft.com
  clientId: app
  clientSecret: s
  servicePrincipalId: sp
`;

/** Compile one target written as YAML (indented as a list item under `targets:`). */
export function targetFromYaml(targetYaml: string): CompiledTarget {
  const config = parseConfig(`${SOURCE}targets:\n${targetYaml}`, 'test.yaml', {});
  return compileTarget(config.targets[0]!);
}

export function userRecord(attributes: Record<string, unknown>, overrides: Partial<SourceUserRecord> = {}): SourceUserRecord {
  return { id: 'e91fccdf-0000-0000-0000-000000000001', attributes, removed: null, assigned: true, appRoleIds: [], seq: 1, ...overrides };
}

export function groupRecord(attributes: Record<string, unknown>, overrides: Partial<SourceGroupRecord> = {}): SourceGroupRecord {
  return { id: 'g-1', attributes, removed: null, assigned: true, seq: 1, ...overrides };
}

export function context(references: Record<string, string> = {}): MappingContext {
  return { now: new Date('2026-03-01T10:00:00Z'), resolveReference: (id) => references[id] ?? null };
}
