// A cycle fed by a read still under way (`live`): it plans what is committed, waits for the next chunk, and
// ends with the read. A user the read commits twice (it changed during the round) while the create from its
// first commit is still in flight must be updated afterwards, never created a second time.
import { describe, expect, it } from 'vitest';
import { runCycle } from '../../src/sync/cycle.js';
import type { LiveRead } from '../../src/source/types.js';
import { harness, user } from './cycle-fixtures.js';

function fakeLiveRead() {
  let waiting: (() => void)[] = [];
  const wake = () => { const w = waiting; waiting = []; for (const resolve of w) resolve(); };
  const live = {
    state: 'reading' as LiveRead['state'],
    changed: () => (live.state === 'reading' ? new Promise<void>((resolve) => waiting.push(resolve)) : Promise.resolve()),
    committed: wake,
    end(state: 'done' | 'failed') { live.state = state; wake(); },
  };
  return live;
}

const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cycle with a live read', () => {
  it('a user committed again while its create is in flight is updated once that create lands, not created twice', async () => {
    const h = harness();
    const live = fakeLiveRead();
    user(h.source, 'u1', { surname: 'First' });
    // The first create reaches the target only when released; meanwhile the read commits u1 again (and u2).
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => { release = resolve; });
    const create = h.connector.create.bind(h.connector);
    let creates = 0;
    h.connector.create = async (...args) => {
      if (creates++ === 0) {
        void tick().then(() => {
          user(h.source, 'u1', { surname: 'Second' });
          user(h.source, 'u2');
          live.committed();
          return tick(20);
        }).then(() => { release(); return tick(20); }).then(() => live.end('done'));
        await held;
      }
      return create(...args);
    };
    const summary = await runCycle({
      store: h.store, source: h.source, compiled: h.compiled, connector: h.connector, events: h.events, live,
      policy: { ...h.policy, batchSize: 1 }, options: { now: h.now },
    });
    expect(summary).toMatchObject({ status: 'success', counts: { create: 2, update: 1, adopt: 0 } });
    expect([...h.connector.objects.user.values()].map((a) => a.userName).sort()).toEqual(['u1', 'u2']);
    expect(h.store.link('dw', 'user', 'u1')?.written['name.familyName']).toBe('Second');
    expect(summary.cursor.to).toBe(h.source.currentSeq());
  });

  it('a read that fails stops the cycle after what it applied, without moving the cursor', async () => {
    const h = harness();
    const live = fakeLiveRead();
    user(h.source, 'u1');
    h.events.on('operation:sent', () => { void tick().then(() => live.end('failed')); });
    await expect(runCycle({
      store: h.store, source: h.source, compiled: h.compiled, connector: h.connector, events: h.events, live,
      policy: h.policy, options: { now: h.now },
    })).rejects.toMatchObject({ code: 'SOURCE_READ_FAILED' });
    expect(h.store.link('dw', 'user', 'u1')?.status).toBe('active');
    expect(h.store.cursor('dw')).toBe(0);
  });
});

describe('cycle batches', () => {
  it('the next batch starts once every operation of the last has started, not once they have all finished', async () => {
    const h = harness();
    user(h.source, 'u1');
    user(h.source, 'u2');
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => { release = resolve; });
    const timer = setTimeout(() => release(), 1000); // one batch at a time would otherwise wait forever
    const create = h.connector.create.bind(h.connector);
    const seen: string[] = [];
    h.connector.create = async (...args) => {
      const name = String(args[1].userName);
      seen.push(`${name} sent`);
      // u1's create answers only once u2's has been sent.
      if (name === 'u1') await held;
      else release();
      const out = await create(...args);
      seen.push(`${name} answered`);
      return out;
    };
    const summary = await h.cycle({}, { batchSize: 1 });
    clearTimeout(timer);
    expect(seen.slice(0, 2)).toEqual(['u1 sent', 'u2 sent']);
    expect(summary).toMatchObject({ status: 'success', counts: { create: 2 } });
  });
});
