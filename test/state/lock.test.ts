// The state lock (src/state/lock.ts) in-process: who may take it, when a holder counts as dead (pid gone, pid
// reused by a process started at another time, another host's stale heartbeat), waiting, losing it, and that
// its heartbeat never keeps a finished process alive. Two real processes racing for it: test/process/.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os, { hostname } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EntraSyncError } from '../../src/errors.js';
import { createLogger } from '../../src/observability/logger.js';
import { SqliteDatabase } from '../../src/state/db.js';
import { acquireStateLock, isAlive, readStateLock, startTicks, stateLockPath, type AcquireStateLockOptions, type StateLock } from '../../src/state/lock.js';

const linux = process.platform === 'linux';
let dir: string;
let statePath: string;
const held: StateLock[] = [];

/** A logger whose lines land in `lines` (pino JSON). */
function capture(): { logger: ReturnType<typeof createLogger>; lines: () => { level: number; msg: string }[] } {
  const chunks: string[] = [];
  const destination = { write: (s: string) => { chunks.push(s); return true; } } as unknown as NodeJS.WritableStream;
  return { logger: createLogger({ level: 'info', destination }), lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string }) };
}

async function take(command: string, options: Omit<AcquireStateLockOptions, 'command'> = {}): Promise<StateLock> {
  const lock = await acquireStateLock(statePath, { command, ...options });
  held.push(lock);
  return lock;
}

/** Rewrites the lock row behind the holder's back, as another process's row would look. */
function rewriteRow(set: Record<string, string | number | null>): void {
  const db = new SqliteDatabase(stateLockPath(statePath)!);
  const columns = Object.keys(set);
  db.prepare(`UPDATE state_lock SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE id = 1`).run(...columns.map((c) => set[c]));
  db.close();
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'state-lock-'));
  statePath = path.join(dir, 'entra-sync.db');
});

afterEach(() => {
  for (const lock of held.splice(0)) lock.release();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('state lock', () => {
  it('lives in a 0600 file beside the state file and names its holder', async () => {
    expect(stateLockPath('/data/entra-sync.db')).toBe('/data/entra-sync.lock.db');
    expect(stateLockPath('/data/state')).toBe('/data/state.lock');
    expect(stateLockPath(':memory:')).toBeUndefined();
    expect(readStateLock(statePath)).toBeNull();
    const lock = await take('sync');
    expect(fs.statSync(stateLockPath(statePath)!).mode & 0o777).toBe(0o600);
    expect(lock.holder).toMatchObject({ command: 'sync', pid: process.pid, host: hostname(), http: null });
    const read = readStateLock(statePath);
    expect(read).toMatchObject({ alive: true, holder: { command: 'sync', pid: process.pid, host: hostname() } });
    lock.setHttp('http://127.0.0.1:9400');
    expect(readStateLock(statePath)?.holder.http).toBe('http://127.0.0.1:9400');
    lock.release();
    expect(readStateLock(statePath)).toBeNull();
  });

  it('refuses a second holder at once, naming the first (command, host, pid, since) and what to do', async () => {
    const first = await take('sync');
    const err = await acquireStateLock(statePath, { command: 'resync' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EntraSyncError);
    const e = err as EntraSyncError;
    expect(e.code).toBe('STATE_LOCKED');
    expect(e.message).toContain('`entra-sync sync`');
    expect(e.message).toContain(`pid ${process.pid} on ${hostname()}`);
    expect(e.message).toContain(`since ${first.holder.acquiredAt}`);
    expect(e.message).toContain('--wait');
    expect(readStateLock(statePath)?.holder.command).toBe('sync');
  });

  it('says so when the holder is the daemon, with its admin address', async () => {
    const daemon = await take('run');
    daemon.setHttp('http://127.0.0.1:9400');
    const err = await acquireStateLock(statePath, { command: 'sync' }).catch((e: unknown) => e as EntraSyncError);
    expect((err as EntraSyncError).code).toBe('STATE_LOCKED');
    expect((err as EntraSyncError).message).toMatch(/daemon .*http:\/\/127\.0\.0\.1:9400/);
  });

  it('waits for the holder to release it (--wait), and gives up after the time given', async () => {
    const first = await take('sync');
    const expired = await acquireStateLock(statePath, { command: 'sync', waitSeconds: 0.3 }).catch((e: unknown) => e as EntraSyncError);
    expect((expired as EntraSyncError).code).toBe('STATE_LOCKED');
    expect((expired as EntraSyncError).message).toContain('waited 0.3 s');
    const { logger, lines } = capture();
    const waiting = take('resync', { waitSeconds: Infinity, logger });
    await new Promise((r) => setTimeout(r, 300));
    expect(lines().some((l) => l.msg.startsWith('waiting for the state lock held by `entra-sync sync`'))).toBe(true);
    first.release();
    const second = await waiting;
    expect(second.tookOverFrom).toBeNull();
    expect(readStateLock(statePath)?.holder.command).toBe('resync');
  });

  it.runIf(linux)('treats a row with our pid but another start time as dead (a reused pid) and takes it over with a warning', async () => {
    expect(isAlive({ host: hostname(), boot_id: null, pid: process.pid, start_ticks: startTicks(process.pid), heartbeat_at: new Date().toISOString() }, 60_000)).toBe(true);
    expect(isAlive({ host: hostname(), boot_id: null, pid: process.pid, start_ticks: '1', heartbeat_at: new Date().toISOString() }, 60_000)).toBe(false);
    // A previous life of this very pid (PID 1 in a restarted container): same host, same pid, fresh heartbeat.
    await take('sync', { heartbeatMs: 3_600_000 });
    rewriteRow({ token: 'previous-life', start_ticks: '1', command: 'run' });
    const { logger, lines } = capture();
    const lock = await take('sync', { logger });
    expect(lock.tookOverFrom).toMatchObject({ command: 'run', pid: process.pid });
    const warning = lines().find((l) => l.msg.startsWith('took over the state lock from `entra-sync run`'));
    expect(warning?.msg).toContain('which is no longer running');
    expect(warning?.level).toBe(40);
  });

  it('takes over from a holder whose process is gone', async () => {
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(child.stdout);
    await take('sync', { heartbeatMs: 3_600_000 });
    rewriteRow({ token: 'gone', pid: deadPid, start_ticks: linux ? '1' : null });
    const lock = await take('sync');
    expect(lock.tookOverFrom?.pid).toBe(deadPid);
  });

  it('judges a holder on another host by its heartbeat alone', async () => {
    await take('run', { heartbeatMs: 3_600_000 });
    rewriteRow({ token: 'elsewhere', host: 'another-host', pid: 1, start_ticks: '1', heartbeat_at: new Date().toISOString() });
    expect(readStateLock(statePath)).toMatchObject({ alive: true, holder: { host: 'another-host' } });
    const refused = await acquireStateLock(statePath, { command: 'sync' }).catch((e: unknown) => e as EntraSyncError);
    expect((refused as EntraSyncError).code).toBe('STATE_LOCKED');
    rewriteRow({ heartbeat_at: new Date(Date.now() - 61_000).toISOString() });
    expect(readStateLock(statePath)?.alive).toBe(false);
    const lock = await take('sync');
    expect(lock.tookOverFrom?.host).toBe('another-host');
  });

  it('notices on its heartbeat that another process took the row, and says so once', async () => {
    const lock = await take('run', { heartbeatMs: 20 });
    let calls = 0;
    lock.onLost(() => { calls++; });
    rewriteRow({ token: 'usurper', host: 'another-host', command: 'sync' });
    for (let i = 0; i < 100 && !lock.lost; i++) await new Promise((r) => setTimeout(r, 20));
    expect(lock.lost).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(1);
    lock.release();
    // Releasing a lost lock leaves the new holder's row alone.
    expect(readStateLock(statePath)?.holder.host).toBe('another-host');
  });

  it('never keeps a process alive: a process that takes it and forgets to release it still exits', async () => {
    const lockModule = pathToFileURL(path.resolve('dist/src/state/lock.js')).href;
    const child = spawn(process.execPath, ['--input-type=module', '-e',
      `import { acquireStateLock } from ${JSON.stringify(lockModule)}; await acquireStateLock(${JSON.stringify(statePath)}, { command: 'sync', heartbeatMs: 50 }); console.log('taken');`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(null); }, 30_000);
      child.on('exit', (c) => { clearTimeout(timer); resolve(c); });
    });
    expect(out).toContain('taken');
    expect(code).toBe(0);
    // It did not release: the row names a process that is gone, and the next one takes over.
    expect(readStateLock(statePath)).toMatchObject({ alive: false, holder: { pid: child.pid } });
    const lock = await take('sync');
    expect(lock.tookOverFrom?.pid).toBe(child.pid);
  });
});
