// Shared setup for cycle tests: a DocuWare-style target compiled from YAML, its cycle policy, an
// in-memory source, a fake connector, and a state store, with a clock the test moves.
import { parseConfig } from '../../src/config/load.js';
import { runCycle, type CycleOptions } from '../../src/sync/cycle.js';
import { cyclePolicyFromConfig, type CyclePolicy } from '../../src/sync/policy.js';
import { SyncEvents } from '../../src/observability/events.js';
import { compileTarget, type CompiledTarget } from '../../src/engine/mapping.js';
import { openDatabase } from '../../src/state/db.js';
import { TargetsStore } from '../../src/state/targets-store.js';
import { FakeConnector, MemorySourceStore } from './apply-fakes.js';

export function compiledTarget(extraYaml = '', name = 'dw'): { compiled: CompiledTarget; policy: CyclePolicy } {
  const config = parseConfig(`source:
  tenantId: contoso.onmicrosoft.com
  clientId: app
  clientSecret: s
  servicePrincipalId: sp
targets:
  - name: ${name}
    type: scim
    preset: docuware
    baseUrl: https://dw.example.com/scim
    auth: { type: bearer, token: abc }
${extraYaml}`, 'test.yaml', {});
  const target = config.targets[0]!;
  return { compiled: compileTarget(target), policy: cyclePolicyFromConfig(target) };
}

export function user(source: MemorySourceStore, id: string, extra: Record<string, unknown> = {}) {
  return source.putUser(id, { userPrincipalName: `${id}@contoso.com`, mail: `${id}@contoso.com`, givenName: id, surname: 'Test', accountEnabled: true, ...extra });
}

export function harness(extraYaml = '') {
  const { compiled, policy } = compiledTarget(extraYaml);
  const store = new TargetsStore(openDatabase(':memory:'));
  const source = new MemorySourceStore();
  const connector = new FakeConnector();
  const events = new SyncEvents();
  let clock = new Date('2025-03-01T12:00:00Z');
  const h = {
    compiled, policy, store, source, connector, events,
    now: () => clock,
    advance(ms: number) { clock = new Date(clock.getTime() + ms); },
    cycle(options: CycleOptions = {}, policyOverrides: Partial<CyclePolicy> = {}) {
      return runCycle({ store, source, compiled, connector, events, policy: { ...policy, ...policyOverrides }, options: { now: h.now, ...options } });
    },
  };
  return h;
}
