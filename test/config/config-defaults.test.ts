// What a short configuration becomes: every default, in the units the rest of the program uses.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { compileTarget } from '../../src/engine/mapping.js';
import { SOURCE } from './helpers.js';

describe('defaults', () => {
  const config = parseConfig(`${SOURCE}targets:\n  - { name: wiki, type: scim, preset: scim, baseUrl: "https://wiki.example/scim" }\n`, 'c.yaml', {});
  const target = config.targets[0]!;

  it('state, schedule', () => {
    expect(config.state).toEqual({ path: './entra-sync.db' });
    expect(config.schedule).toEqual({ cron: '*/40 * * * *', runOnStart: true });
  });

  it('Entra\'s retry schedule (6h, 12h, 24h, then daily for 28 days) in milliseconds', () => {
    expect(target.failedObjectRetry).toEqual({ after: [21_600_000, 43_200_000, 86_400_000], thenEvery: 86_400_000, giveUpAfter: 2_419_200_000 });
  });

  it('threshold, quarantine, deletion behaviour, dry run', () => {
    expect(target.deleteThreshold).toEqual({ count: 500 });
    expect(target.quarantine).toEqual({ failureRatio: 0.4, minFailures: 10, maxBackoff: 86_400_000 });
    expect(target.skipOutOfScopeDeletions).toBe(false);
    expect(target.dryRun).toBe(false);
    const { options } = compileTarget(target);
    expect(options).toMatchObject({
      users: { create: true, update: true, disable: true, delete: false },
      groups: { create: true, update: true, delete: false },
      hardDeleteAction: 'disable',
      groupMembership: 'exact',
      activeAttribute: 'active',
      clearEmptiedValues: true,
    });
  });

  it('durations are written the way people say them', () => {
    const c = parseConfig(`${SOURCE}targets:\n  - { name: w, type: scim, preset: scim, baseUrl: "https://w.example", failedObjectRetry: { after: [30m, 2h], thenEvery: 1d, giveUpAfter: 2w }, users: { actions: [create, update, disable, delete] } }\n`, 'c.yaml', {});
    expect(c.targets[0]!.failedObjectRetry).toEqual({ after: [1_800_000, 7_200_000], thenEvery: 86_400_000, giveUpAfter: 1_209_600_000 });
    // With the delete action on and no hardDeleteAction, a hard delete deletes.
    expect(compileTarget(c.targets[0]!).options.hardDeleteAction).toBe('delete');
  });

  it('the connection part keeps the connector\'s own defaults', () => {
    expect(target).toMatchObject({ type: 'scim', auth: { type: 'none' }, compatibility: 'rfc7644', concurrency: 8 });
  });

  it('the example configurations in config/ are valid', async () => {
    const { loadConfig } = await import('../../src/config/load.js');
    const env = { DOCUWARE_TOKEN_URL: 'https://dw.example/token', DOCUWARE_CLIENT_ID: 'id', ENTRA_CLIENT_SECRET: 's', D360_PARENT_SCIM_URL: 'https://p.example/scim', D360_PARENT_TOKEN: 't', D360_CHILD_SCIM_URL: 'https://c.example/scim', WIKI_SCIM_TOKEN: 'w' };
    for (const file of ['docuware', 'document360', 'scim']) {
      const c = await loadConfig(new URL(`../../config/${file}.yaml`, import.meta.url).pathname, { env });
      for (const t of c.targets) expect(() => compileTarget(t)).not.toThrow();
    }
  });
});
