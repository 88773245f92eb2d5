// The `bug` kind: an exception nobody classified (a TypeError, a programming error) is not a target's bad
// day. It is recorded on its object, retried once at the next cycle, then parked until the cycle gives up on
// it (28 days) instead of being retried on the transient schedule; the others go on; the log says it loudly.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyOperations, type ApplyContext } from '../../src/sync/apply.js';
import { SyncEvents, type SyncEventMap } from '../../src/observability/events.js';
import type { PlannedOperation } from '../../src/engine/types.js';
import { createLogger } from '../../src/observability/logger.js';
import { createTargetConnector } from '../../src/runtime/connectors.js';
import { openDatabase } from '../../src/state/db.js';
import { TargetsStore } from '../../src/state/targets-store.js';
import { toTargetError } from '../../src/targets/connector.js';
import { FakeConnector } from './apply-fakes.js';
import { startWorld, type World } from '../runtime-world.js';

const NOW = new Date('2025-03-01T12:00:00Z');
const DAY = 24 * 3_600_000;

const createUser = (id: string): PlannedOperation => ({
  kind: 'create', type: 'user', sourceId: id, displayName: id, attributes: { userName: id, active: true }, match: [{ path: 'userName', value: id }],
});

function setup(now: () => Date = () => NOW) {
  const store = new TargetsStore(openDatabase(':memory:'));
  const connector = new FakeConnector();
  const events = new SyncEvents();
  const failed: SyncEventMap['operation:failed'][] = [];
  events.on('operation:failed', (e) => failed.push(e));
  const ctx: ApplyContext = { store, connector, target: 't', runId: 'run1', events, now };
  return { store, connector, ctx, failed };
}

function bugOn(connector: FakeConnector, userName: string): void {
  connector.intercept = (call) => {
    if (call.method === 'create' && (call.args as { userName: string }).userName === userName) {
      const link = undefined as unknown as { targetId: string };
      void link.targetId; // a programming error, as a connector or mapping bug would throw it
    }
  };
}

describe('apply: an unexpected exception is a bug', () => {
  it('records it on its object with kind bug and its stack in the event, and goes on with the others', async () => {
    const { store, connector, ctx, failed } = setup();
    bugOn(connector, 'bob');
    const result = await applyOperations([createUser('alice'), createUser('bob'), createUser('carol')], ctx);
    expect(result.counts.create).toBe(2);
    expect(result.failures).toEqual([expect.objectContaining({ sourceId: 'bob', kind: 'bug', code: 'InternalError', retryAt: NOW.toISOString() })]);
    expect(failed[0]!.error).toMatchObject({ kind: 'bug', code: 'InternalError' });
    expect(failed[0]!.error.stack).toMatch(/^TypeError: Cannot read properties of undefined/);
    expect(failed[0]!.error.stack).toMatch(/apply-bug\.test\.ts:\d+/);
    expect(store.logEntries({ sourceId: 'bob' })[0]).toMatchObject({ status: 'failure', error: { code: 'InternalError' } });
  });

  it('is retried once at the next cycle, then parked until the give-up horizon instead of the transient schedule', async () => {
    let now = NOW;
    const { store, connector, ctx } = setup(() => now);
    bugOn(connector, 'bob');
    await applyOperations([createUser('bob')], ctx);
    expect(store.dueFailures('t', now).map((f) => f.sourceId)).toEqual(['bob']); // next cycle
    now = new Date(NOW.getTime() + 40 * 60_000);
    const second = await applyOperations([createUser('bob')], ctx);
    const parkedUntil = new Date(NOW.getTime() + 28 * DAY + 1).toISOString();
    expect(second.failures[0]).toMatchObject({ kind: 'bug', retryAt: parkedUntil });
    // Not retried during those 28 days (a transient fault would have been, 5 times and more).
    expect(store.dueFailures('t', new Date(NOW.getTime() + 27 * DAY))).toEqual([]);
    expect(store.failure('t', 'user', 'bob')).toMatchObject({ attempts: 2, code: 'InternalError' });
  });

  it('tells a bug from an unclassified network or system fault, which stays transient', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(toTargetError(reset, 't').kind).toBe('transient');
    expect(toTargetError(new TypeError('fetch failed', { cause: reset }), 't').kind).toBe('transient');
    expect(toTargetError(new DOMException('timed out', 'TimeoutError'), 't').kind).toBe('transient');
    expect(toTargetError(new TypeError('x.map is not a function'), 't').kind).toBe('bug');
    expect(toTargetError(new Error('update is not sent'), 't').kind).toBe('bug');
    expect(toTargetError('a string', 't').kind).toBe('bug');
  });
});

describe('runtime: a bug is logged loudly', () => {
  let world: World;
  beforeAll(async () => { world = await startWorld(); });
  afterAll(async () => { await world?.close(); });

  it('logs the failed operation at error level with its stack, naming it a bug', async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({ write(chunk: Buffer, _enc, done) { for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); done(); } });
    let thrown = false;
    const runtime = await world.open({
      logger: createLogger({ level: 'info', destination }),
      readInWorker: false,
      createConnector: (target, o) => {
        const real = createTargetConnector(target, o);
        const create = real.create.bind(real);
        // The first create hits a programming error; the rest go through.
        real.create = async (type, attributes) => {
          if (!thrown) { thrown = true; (attributes as unknown as { nested: { deeper: string } }).nested.deeper.toString(); }
          return create(type, attributes);
        };
        return real;
      },
    });
    const report = await runtime.sync();
    const outcome = report.targets[0] as { status: string; failures: { kind: string }[] };
    expect(outcome.status).toBe('partial');
    expect(outcome.failures.map((f) => f.kind)).toEqual(['bug']);
    const bug = lines.find((l) => l.level === 50 && /bug/.test(String(l.msg)));
    expect(bug).toBeDefined();
    expect((bug!.error as { stack: string }).stack).toMatch(/TypeError/);
    expect(lines.filter((l) => l.level === 40 && l.msg === 'operation failed')).toEqual([]);
  });
});
