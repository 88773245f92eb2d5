// WAL checkpoints on a worker thread. SQLite's automatic checkpoint runs inside whichever commit pushes the
// WAL past its limit: on the event loop, copying every page written since the last one back into the
// database file and syncing it to disk. During an initial sync that is tens of milliseconds to seconds at a
// time in which no target answer is read and no request leaves. Here a second connection on a worker thread
// checkpoints every half second (PASSIVE: it never waits for, nor blocks, the main connection's commits), so
// the main connection's own checkpoint, now every 256 MB of WAL, finds nearly everything copied. Durability
// is unchanged: a commit is in the WAL either way, and SQLite replays the WAL on the next open if the process
// stops first.
import { Worker } from 'node:worker_threads';
import type { Db } from './db.js';

/** The worker's whole program (CommonJS, evaluated): open, checkpoint on a timer, close when told. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
const flag = new Int32Array(workerData.closed);
const checkpoint = () => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy or closing: next time */ } };
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  try { db.close(); } finally { Atomics.store(flag, 0, 1); Atomics.notify(flag, 0); parentPort.close(); }
});
`;

/** The main connection's automatic checkpoint when no worker does it: every 32 MB of WAL (SQLite's default is 4 MB). */
export const AUTOCHECKPOINT_PAGES = 8192;
/** … and beside the worker: every 256 MB, rarely (each is short, the worker having copied nearly everything). */
export const AUTOCHECKPOINT_PAGES_WITH_WORKER = 65536;

/**
 * Copies `db`'s WAL into the database file from a worker thread as it goes (file databases only). If the
 * worker cannot start or dies, the connection's own checkpoint every 32 MB does all of it, as without.
 * Closing `db` stops the worker first, so the main connection is the last one and its close checkpoints
 * and removes the WAL as before.
 */
export function checkpointInBackground(
  db: Db, file: string, driverPath: string,
  options: { intervalMs?: number; inlineEveryPages?: number } = {},
): void {
  const intervalMs = options.intervalMs ?? 500;
  const closed = new SharedArrayBuffer(4);
  let worker: Worker;
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver: driverPath, intervalMs, closed } });
  } catch {
    return; // the connection's own checkpoint does it all
  }
  worker.unref();
  // The main connection keeps its own checkpoint, every 256 MB of WAL: by then the worker has copied nearly
  // every page, so it is short, and it is what lets the next commit start the WAL over. (The worker's
  // checkpoints race the main connection's commits, so the WAL is never fully copied when one begins.) The
  // file is cut back to 64 MB when it starts over.
  db.pragma(`wal_autocheckpoint = ${options.inlineEveryPages ?? AUTOCHECKPOINT_PAGES_WITH_WORKER}`);
  db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  let running = true;
  const gone = () => {
    if (!running) return;
    running = false;
    if (db.open) db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`); // no worker: the usual 32 MB
  };
  worker.on('error', gone);
  worker.on('exit', gone);
  const close = db.close.bind(db);
  db.close = () => {
    if (running) {
      running = false;
      worker.removeAllListeners('exit');
      worker.postMessage('stop');
      // Wait (briefly) for the worker's connection to close, so this one is the last and cleans up the WAL.
      Atomics.wait(new Int32Array(closed), 0, 0, 2000);
    }
    return close();
  };
}
