// The daemon's job queue in-process, with jobs that are plain promises: order, one at a time, short jobs
// between a cycle's batches once every target's cycle is paused, coalescing, and the shutdown.
import { describe, expect, it } from 'vitest';
import { JobQueue, type JobContext } from '../../src/daemon/queue.js';

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('JobQueue', () => {
  it('runs jobs one at a time, in the order they came', async () => {
    const queue = new JobQueue();
    const log: string[] = [];
    const first = deferred();
    const a = queue.push({ kind: 'sync', origin: 'admin', work: async () => { log.push('a start'); await first.promise; log.push('a end'); return 'a'; } });
    const b = queue.push({ kind: 'resync', origin: 'admin', work: async () => { log.push('b'); return 'b'; } });
    const c = queue.push({ kind: 'sync', target: 'x', origin: 'admin', work: async () => { log.push('c'); return 'c'; } });
    await tick();
    expect(log).toEqual(['a start']);
    expect(queue.queued).toBe(2);
    first.resolve();
    expect(await Promise.all([a, b, c])).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a start', 'a end', 'b', 'c']);
  });

  it('a failing job rejects its caller and the next one still runs', async () => {
    const queue = new JobQueue();
    const failed = queue.push({ kind: 'sync', origin: 'admin', work: () => Promise.reject(new Error('boom')) });
    const next = queue.push({ kind: 'reject', origin: 'admin', work: () => Promise.resolve('ran') });
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
  });

  it('a short job waits until every target cycle of the running cycle is between batches, then both go on', async () => {
    const queue = new JobQueue();
    const log: string[] = [];
    let ctx!: JobContext;
    const started = deferred();
    const finish = deferred();
    const cycle = queue.push({
      kind: 'sync', origin: 'schedule', targets: ['a', 'b'],
      work: async (c) => { ctx = c; started.resolve(); await finish.promise; },
    });
    await started.promise;
    const provision = queue.push({ kind: 'provision', origin: 'admin', work: async () => { log.push('provision'); return 'done'; } });
    expect(queue.hasShortJob()).toBe(true);

    // Target a reaches a pause point; b still has a batch in flight: a is held, the provision waits.
    const aHeld = ctx.pause.between('a').then(() => log.push('a resumed'));
    await tick();
    expect(log).toEqual([]);
    // b reaches one too: the provision runs, then both cycles go on.
    const bHeld = ctx.pause.between('b').then(() => log.push('b resumed'));
    await Promise.all([aHeld, bHeld]);
    expect(log).toEqual(['provision', 'a resumed', 'b resumed']);
    await expect(provision).resolves.toBe('done');
    expect(queue.running.outer?.kind).toBe('sync');

    // Nothing queued: a pause point does not hold.
    await ctx.pause.between('a');
    finish.resolve();
    await cycle;
  });

  it('a target cycle that has ended no longer holds the others back', async () => {
    const queue = new JobQueue();
    let ctx!: JobContext;
    const started = deferred();
    const finish = deferred();
    const cycle = queue.push({ kind: 'sync', origin: 'schedule', targets: ['a', 'b'], work: async (c) => { ctx = c; started.resolve(); await finish.promise; } });
    await started.promise;
    let ran = false;
    const approve = queue.push({ kind: 'approve', origin: 'admin', work: async () => { ran = true; } });
    const aHeld = ctx.pause.between('a');
    await tick();
    expect(ran).toBe(false);
    ctx.pause.done('b');
    await aHeld;
    expect(ran).toBe(true);
    await approve;
    finish.resolve();
    await cycle;
  });

  it('a short job queued before any target cycle pauses runs after the cycle job when none pauses', async () => {
    const queue = new JobQueue();
    const order: string[] = [];
    const finish = deferred();
    const cycle = queue.push({ kind: 'sync', origin: 'schedule', targets: ['a'], work: async () => { await finish.promise; order.push('sync'); } });
    const provision = queue.push({ kind: 'provision', origin: 'admin', work: async () => { order.push('provision'); } });
    await tick();
    finish.resolve();
    await Promise.all([cycle, provision]);
    expect(order).toEqual(['sync', 'provision']);
  });

  it('an identical cycle job already waiting answers for a second one', async () => {
    const queue = new JobQueue();
    const finish = deferred();
    let runs = 0;
    const running = queue.push({ kind: 'sync', origin: 'schedule', coalesceKey: 'sync:*:false', work: () => finish.promise });
    const one = queue.push({ kind: 'sync', origin: 'admin', coalesceKey: 'sync:*:false', work: async () => ++runs });
    const two = queue.push({ kind: 'sync', origin: 'admin', coalesceKey: 'sync:*:false', work: async () => ++runs });
    const full = queue.push({ kind: 'sync', origin: 'admin', coalesceKey: 'sync:*:true', work: async () => ++runs });
    expect(queue.cyclePending().running?.origin).toBe('schedule');
    expect(queue.cyclePending().waiting?.origin).toBe('admin');
    finish.resolve();
    await running;
    expect(await Promise.all([one, two, full])).toEqual([1, 1, 2]);
  });

  it('close: refuses what waits and what comes, aborts the running job\'s signal, resolves once it ended', async () => {
    const queue = new JobQueue();
    let signal!: AbortSignal;
    const started = deferred();
    let ended = false;
    const running = queue.push({
      kind: 'sync', origin: 'schedule', targets: ['a'],
      work: async (c) => {
        signal = c.signal;
        started.resolve();
        await new Promise((r) => c.signal.addEventListener('abort', r));
        await tick(); // the batches in flight finish
        ended = true;
        return 'aborted';
      },
    });
    await started.promise;
    const waiting = queue.push({ kind: 'provision', origin: 'admin', work: async () => 'never' });
    await queue.close('SIGTERM');
    expect(signal.aborted).toBe(true);
    expect(ended).toBe(true);
    await expect(running).resolves.toBe('aborted');
    await expect(waiting).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
    await expect(queue.push({ kind: 'sync', origin: 'admin', work: async () => 'late' })).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
  });

  it('close releases a target cycle held at a pause point', async () => {
    const queue = new JobQueue();
    let ctx!: JobContext;
    const started = deferred();
    const go = deferred();
    let held = false;
    const cycle = queue.push({
      kind: 'sync', origin: 'schedule', targets: ['a', 'b'],
      work: async (c) => { ctx = c; started.resolve(); await go.promise; held = true; await c.pause.between('a'); return 'went on'; },
    });
    await started.promise;
    const provision = queue.push({ kind: 'provision', origin: 'admin', work: async () => 'never' });
    go.resolve();
    await tick();
    expect(held).toBe(true);
    await queue.close('SIGTERM');
    await expect(cycle).resolves.toBe('went on');
    await expect(provision).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
    expect(ctx.signal.aborted).toBe(true);
  });
});
