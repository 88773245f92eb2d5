// The Graph reader on its own thread. The runtime's event loop reads target answers and sends the next
// requests; the read's paging, staging and chunk commits would take it from them for seconds at a time
// (docs/performance.md). Here they run on a worker thread with their own connection to the source state
// file (a file of its own, so the two threads' commits never wait for each other's write lock). The parent
// reads what is committed through its own connection; this thread tells it when a commit has landed.
import fs from 'node:fs';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Logger } from '../observability/logger.js';
import { openDatabase, type Db } from '../state/db.js';
import { SourceStoreImpl } from '../state/source-store.js';
import { createSourceReader, type SourceReader } from './reader.js';
import { HttpEventBuffer } from '../net/events.js';
import { serializeError, type LogLevel, type WorkerInit, type WorkerMessage, type WorkerRequest } from './worker-protocol.js';

if (!parentPort) throw new Error('read-worker.js runs as a worker thread (the runtime starts it)');
const port: MessagePort = parentPort;
const init = workerData as WorkerInit;
// Graph requests and retries cross to the parent in batches (src/net/events.ts), each batch ahead of the next
// other message: the parent sees a read's requests before its end.
const http = init.httpEvents ? new HttpEventBuffer((events) => port.postMessage({ kind: 'http', events } satisfies WorkerMessage)) : undefined;
const post = (m: WorkerMessage): void => { http?.flush(); port.postMessage(m); };

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];
const floor = LEVELS.indexOf(init.logLevel as LogLevel);
const enabled = (level: LogLevel): boolean => init.logLevel !== 'silent' && LEVELS.indexOf(level) >= (floor < 0 ? 0 : floor);
// The reader logs `(fields, message)` at these four levels; the parent's logger writes (and redacts) them.
const forward = (level: LogLevel) => (fields: Record<string, unknown>, message: string): void => {
  if (enabled(level)) post({ kind: 'log', level, fields: JSON.parse(JSON.stringify(fields)) as Record<string, unknown>, message });
};
const logger = { debug: forward('debug'), info: forward('info'), warn: forward('warn'), error: forward('error') } as unknown as Logger;

/**
 * Keeps the source file's WAL from growing with the read. SQLite's own checkpoint (PASSIVE, inside a commit)
 * copies pages back but starts the WAL over only at a moment no reader is in it, and the runtime reads the
 * committed users all the time, so through a long read the WAL kept every page written: 88 MB at 100,000
 * users. After a chunk, once the WAL passes the limit, a TRUNCATE checkpoint waits for the runtime's reads
 * in progress (short statements) and starts the WAL over at 0 bytes. It blocks only this thread.
 */
function trimWal(db: Db): void {
  try {
    if (fs.statSync(`${init.sourceFile}-wal`).size > init.walLimitBytes) db.pragma('wal_checkpoint(TRUNCATE)');
  } catch {
    // No WAL file, or readers busy past the timeout: the next chunk tries again.
  }
}

// Opened with the first request, inside its error handling: a file that cannot be opened fails that request.
let opened: { db: Db; reader: SourceReader } | undefined;
function open(): { db: Db; reader: SourceReader } {
  if (opened) return opened;
  const db = openDatabase(init.sourceFile);
  try {
    opened = { db, reader: createSourceReader(init.options, { store: new SourceStoreImpl(db), logger, select: init.select, groupSelect: init.groupSelect, http }) };
  } catch (err) {
    db.close();
    throw err;
  }
  return opened;
}

async function handle(request: WorkerRequest): Promise<void> {
  const { id } = request;
  try {
    if (request.op === 'close') {
      await close(id);
      return;
    }
    const { db, reader } = open();
    switch (request.op) {
      case 'read': {
        const summary = await reader.read({
          full: request.full,
          ...(request.progress ? { onProgress: (progress) => post({ id, kind: 'progress', progress }) } : {}),
          ...(request.chunkUsers > 0 ? {
            stream: {
              chunkUsers: request.chunkUsers,
              onLive: () => post({ id, kind: 'live' }),
              onChunk: () => { post({ id, kind: 'chunk' }); trimWal(db); },
            },
          } : {}),
        });
        post({ id, kind: 'done', summary });
        trimWal(db);
        return;
      }
      case 'readUser':
        post({ id, kind: 'done', objectId: (await reader.readUser(request.key)).id });
        return;
      case 'readGroup':
        post({ id, kind: 'done', objectId: (await reader.readGroup(request.key)).id });
        return;
    }
  } catch (err) {
    post({ id, kind: 'failed', error: serializeError(err) });
  }
}

/**
 * Closes the reader and the connection and answers; the port is closed whatever failed, so the thread always
 * ends (the parent waits for that before its command can end).
 */
async function close(id: number): Promise<void> {
  try {
    if (opened) await opened.reader.close();
    post({ id, kind: 'done' });
  } catch (err) {
    post({ id, kind: 'failed', error: serializeError(err) });
  } finally {
    try { opened?.db.close(); } catch { /* closing is all that is left to do */ }
    opened = undefined;
    port.close();
  }
}

port.on('message', (request: WorkerRequest) => { void handle(request); });
