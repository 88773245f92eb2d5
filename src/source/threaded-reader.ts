// The source reader the runtime holds when the state is a file: the same SourceReader, with the Graph read
// on a worker thread (read-worker.ts). The worker writes the source state file through its own connection;
// this side reads it through the runtime's, once the worker says a commit has landed. The event loop that
// sends target requests then spends no time on Graph pages, staging or the read's commits.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EntraSyncError } from '../errors.js';
import { replayHttpEvents, type HttpObserver } from '../net/events.js';
import type { Logger } from '../observability/logger.js';
import type { SourceStoreImpl } from '../state/source-store.js';
import { LiveReadState, sourceEndpoints, userSelectList, type ReadOptions, type ReadSummary, type SourceReader } from './reader.js';
import type { SourceOptions } from './options.js';
import type { SourceGroupRecord, SourceUserRecord } from './types.js';
import { reviveError, type WorkerInit, type WorkerMessage, type WorkerRequest, type WorkerRequestBody } from './worker-protocol.js';

/**
 * The compiled worker beside this module; undefined when this module runs from TypeScript sources with no
 * compiled copy named in ENTRA_SYNC_WORKER_BUILD (the tests transpile src/ there: test/global-setup.ts).
 */
export function readWorkerScript(): string | undefined {
  if (import.meta.url.endsWith('.js')) return fileURLToPath(new URL('./read-worker.js', import.meta.url));
  const built = process.env.ENTRA_SYNC_WORKER_BUILD;
  return built ? path.join(built, 'src', 'source', 'read-worker.js') : undefined;
}

/**
 * The worker's V8 heap. It holds a page or two of Graph objects at a time (the stage is in SQLite), but a
 * heap left to V8's defaults grows to several times that before it collects: at 100,000 users the process
 * peaked at 322–330 MB with defaults. A young generation much smaller than this one makes every cycle's
 * read slower instead (objects of a page outlive it and are promoted: a no-op read took 0.53 s with 8 MB,
 * 0.38–0.45 s with 12–16 MB, 0.39 s on the event loop). docs/performance.md has the runs. A read that
 * needed more than the old generation's 96 MB would stop the thread: it fails with SOURCE_READER_STOPPED
 * and commits nothing more, as any failed read.
 */
const WORKER_HEAP = { maxYoungGenerationSizeMb: 12, maxOldGenerationSizeMb: 96 };

export interface ThreadedReaderDeps {
  /** The runtime's store on the source state file: what the worker commits is read through it. */
  store: SourceStoreImpl;
  sourceFile: string;
  workerScript: string;
  logger?: Logger | undefined;
  select: string[];
  groupSelect?: string[] | undefined;
  /** The source file's WAL is started over after a chunk once it passes this size (default 64 MB). */
  walLimitBytes?: number;
  /** Told of every Graph request and retry the worker made (they come over in batches). */
  http?: HttpObserver | undefined;
}

interface Pending {
  message: (m: WorkerMessage) => void;
  fail: (err: Error) => void;
}

export function createThreadedSourceReader(options: SourceOptions, deps: ThreadedReaderDeps): SourceReader {
  sourceEndpoints(options); // a bad Graph root fails here, as the in-process reader does, not at the first read
  const store = deps.store;
  const logger = deps.logger;
  const init: WorkerInit = {
    sourceFile: deps.sourceFile,
    options,
    select: deps.select,
    groupSelect: deps.groupSelect ?? [],
    logLevel: logger?.level ?? 'silent',
    walLimitBytes: deps.walLimitBytes ?? 64 * 1024 * 1024,
    httpEvents: deps.http !== undefined,
  };
  let worker: Worker | undefined;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  let closed = false;
  let closing: Promise<void> | undefined;

  function started(): Worker {
    if (worker) return worker;
    let w: Worker;
    try {
      w = new Worker(deps.workerScript, { workerData: init, resourceLimits: WORKER_HEAP });
    } catch (err) {
      throw new EntraSyncError('SOURCE_READER_STOPPED', `the Graph reader's worker thread did not start: ${(err as Error).message}`, { file: deps.workerScript }, { cause: err });
    }
    w.on('message', (m: WorkerMessage) => {
      if (m.kind === 'log') {
        logger?.[m.level](m.fields, m.message);
        return;
      }
      if (m.kind === 'http') {
        if (deps.http) replayHttpEvents(m.events, deps.http);
        return;
      }
      pending.get(m.id)?.message(m);
    });
    // The thread stopping outside `close` (a crash, or the file it loads missing) fails what it was doing;
    // the next request starts a new one.
    const stopped = (why: string) => {
      if (worker !== w) return;
      worker = undefined;
      const err = new EntraSyncError('SOURCE_READER_STOPPED', `the Graph reader's worker thread stopped: ${why}`, { file: deps.workerScript });
      for (const p of [...pending.values()]) p.fail(err);
      pending.clear();
    };
    w.on('error', (err) => stopped(err.message));
    w.on('exit', (code) => stopped(`exit code ${code}`));
    worker = w;
    return w;
  }

  /** Sends one request; `onMessage` sees its progress and chunk messages; settles with its `done`. */
  function request<T>(req: WorkerRequestBody, onMessage: (m: WorkerMessage) => void, result: (m: Extract<WorkerMessage, { kind: 'done' }>) => T): Promise<T> {
    if (closed) return Promise.reject(new EntraSyncError('SOURCE_READER_CLOSED', 'the source reader is closed'));
    const w = started();
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, {
        message: (m) => {
          if (m.kind === 'done' || m.kind === 'failed') {
            pending.delete(id);
            // Idle, the thread must not keep the process alive; while closing it must, until it has exited.
            if (pending.size === 0 && !closing) w.unref();
            // Every operation may have committed the app's role definitions, which the records read here carry.
            if (m.kind === 'done') { store.reloadRoleDefinitions(); resolve(result(m)); }
            else reject(reviveError(m.error));
            return;
          }
          onMessage(m);
        },
        fail: reject,
      });
      w.ref();
      w.postMessage({ ...req, id } as WorkerRequest);
    });
  }

  async function read(readOptions: ReadOptions = {}): Promise<ReadSummary> {
    const stream = readOptions.stream;
    const live = new LiveReadState();
    try {
      const summary = await request({ op: 'read', full: readOptions.full === true, chunkUsers: stream?.chunkUsers ?? 0, progress: readOptions.onProgress !== undefined }, (m) => {
        if (m.kind === 'progress') readOptions.onProgress?.(m.progress);
        else if (m.kind === 'live') {
          // The first chunk carries the assignments and app roles: the records read here must carry them too.
          store.reloadRoleDefinitions();
          stream?.onLive(live);
        } else if (m.kind === 'chunk') {
          stream?.onChunk?.();
          live.notify();
        }
      }, (m) => m.summary!);
      live.end('done');
      return summary;
    } catch (err) {
      live.end('failed');
      throw err;
    }
  }

  return {
    select: userSelectList(deps.select, options.select),
    read,
    readUser: async (key): Promise<SourceUserRecord> => {
      const id = await request({ op: 'readUser', key }, () => undefined, (m) => m.objectId!);
      return store.user(id)!;
    },
    readGroup: async (key): Promise<SourceGroupRecord> => {
      const id = await request({ op: 'readGroup', key }, () => undefined, (m) => m.objectId!);
      return store.group(id)!;
    },
    resetDeltaLinks: () => store.resetDeltaLinks(),
    close: () => closing ??= (async () => {
      const w = worker;
      if (w) {
        // Referenced (the thread and the timer) until the thread has exited: unreferenced, the event loop
        // could drain before its 'exit' event arrives, and this promise, the command's result and its exit
        // code would be lost with it.
        w.ref();
        const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
        // The worker finishes what it was doing first (its reader runs one operation at a time), then
        // closes its connections and exits.
        await request({ op: 'close' }, () => undefined, () => undefined).catch(() => undefined);
        closed = true;
        let timer: NodeJS.Timeout | undefined;
        const late = await Promise.race([
          exited.then(() => false),
          new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), 5000); }),
        ]);
        clearTimeout(timer);
        if (late && worker === w) await w.terminate();
      }
      closed = true;
    })(),
  };
}
