// Runtime.resume, in-process: the quarantine goes and every failed object becomes due now, whatever its retry
// schedule said; links and the rest stay. The command over the real binary: test/process/resume.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { startWorld, type World } from './runtime-world.js';

let world: World | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe('Runtime.resume', () => {
  it('lifts the quarantine and makes every failed object due for retry now', async () => {
    world = await startWorld();
    const runtime = await world.open();
    const now = new Date();
    for (const id of ['u1', 'u2']) runtime.targets.recordFailure({ target: 'docuware', type: 'user', sourceId: id, code: 'SCIM_400', message: 'invalid value', now });
    runtime.targets.enterQuarantine('docuware', 'EncounteredEscrowProportionThreshold', '12 of 20 operations failed', now, [3_600_000]);

    const before = runtime.status().targets[0]!;
    expect(before.failures).toMatchObject({ total: 2, due: 0 });
    expect(before.quarantine?.resume).toContain('entra-sync resume --target docuware');

    expect(runtime.resume()).toEqual({
      targets: [{ target: 'docuware', wasQuarantined: true, reason: 'EncounteredEscrowProportionThreshold: 12 of 20 operations failed', failuresDue: 2 }],
    });
    const after = runtime.status().targets[0]!;
    expect(after.quarantine).toBeNull();
    expect(after.failures).toMatchObject({ total: 2, due: 2 });
    expect(runtime.targets.dueFailures('docuware', new Date()).map((f) => f.sourceId).sort()).toEqual(['u1', 'u2']);

    // Again: nothing left to lift.
    expect(runtime.resume({ target: 'docuware' }).targets[0]).toMatchObject({ wasQuarantined: false, reason: null, failuresDue: 2 });
  });
});
