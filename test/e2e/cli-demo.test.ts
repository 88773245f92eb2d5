// `entra-sync demo` (what `npm run demo` runs) exits 0, shows both cycles, the changes, one user's
// provisioning log, and every check on the target passes.
import fs from 'node:fs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import * as demo from '../../src/cli/demo.js';
import { runCommand } from '../runtime-world.js';

describe('entra-sync demo', () => {
  it('runs an initial and an incremental sync between the simulators, passes its checks and cleans up', async () => {
    const before = new Set(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('entra-sync-demo-')));
    const { code, stdout } = await runCommand(demo, ['--users', '120']);
    expect(code).toBe(0);
    expect(stdout).toContain('── Cycle 1: initial sync');
    expect(stdout).toMatch(/docuware: success in [\d.]+ s, \d+ target requests/);
    expect(stdout).toContain('── Cycle 2: incremental sync');
    expect(stdout).toMatch(/users incremental/);
    expect(stdout).toMatch(/update 2 · enable 0 · disable [3-9]/);
    expect(stdout).toMatch(/── Provisioning log of renamed\./);
    expect(stdout).toContain('modified properties:');
    expect(stdout).not.toContain('✗');
    const after = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('entra-sync-demo-') && !before.has(f));
    expect(after).toEqual([]);
  });
});
