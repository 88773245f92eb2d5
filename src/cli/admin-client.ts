// While `entra-sync run` holds the state, the commands that write it (sync, resync, provision, approve, reject,
// resume) ask the daemon through its admin API instead of opening the state: never a second writer. The daemon
// is found from the state lock (its row carries the HTTP address), the token from the same configuration.
// The answer is the very object the local command would have computed, so the output and exit code match.
import http from 'node:http';
import { loadConfig } from '../config/load.js';
import { adminTokenSource } from '../daemon/server.js';
import { EntraSyncError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { describeHolder, readStateLock, type StateLockHolder } from '../state/lock.js';

export type AdminAction = 'sync' | 'resync' | 'provision' | 'approve' | 'reject' | 'resume';

/**
 * Sends `action` to the running daemon and returns its answer, or undefined when no live daemon holds the state
 * (the command then runs here, taking the lock itself). A daemon that holds the state but cannot be asked (no
 * HTTP listener, no admin token) is an error naming it, unless `--wait` was given: then undefined, and the
 * command waits for the lock like any other.
 */
export async function viaDaemon<T>(configFile: string, wait: unknown, action: AdminAction, body: Record<string, unknown>): Promise<{ value: T } | undefined> {
  const config = await loadConfig(configFile);
  const daemon = runningDaemon(config.state.path);
  if (!daemon) return undefined;
  const waiting = wait !== undefined;
  const refuse = (code: string, why: string): undefined => {
    if (waiting) return undefined;
    throw new EntraSyncError(code, `${describeHolder(daemon)} is running on this state and ${why}; `
      + 'stop it, or give --wait to run this once it has stopped', { file: configFile });
  };
  if (!daemon.http) return refuse('DAEMON_NO_HTTP', 'has no HTTP listener to ask it through (`http` is not configured for it)');
  const token = adminTokenSource(config.http)();
  if (token === undefined) return refuse('DAEMON_NO_ADMIN_TOKEN', 'this configuration has no admin token to ask it with (set http.adminTokenFile or http.adminToken)');
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  const url = `${reachable(daemon.http)}/admin/${action}`;
  logger.info({ url, pid: daemon.pid }, `the daemon holds the state: asking it through ${url}`);
  try {
    return { value: await post<T>(url, token, body) };
  } catch (err) {
    // The daemon stopped between reading the lock and asking it: run here after all.
    if (err instanceof EntraSyncError && err.code === 'DAEMON_UNREACHABLE' && !runningDaemon(config.state.path)) return undefined;
    throw err;
  }
}

/** The live `run` process holding the state lock, if one does. */
function runningDaemon(statePath: string): StateLockHolder | undefined {
  const lock = readStateLock(statePath);
  return lock?.alive && lock.holder.command === 'run' ? lock.holder : undefined;
}

/** A daemon listening on every address (0.0.0.0, ::) is asked on the loopback one. */
function reachable(url: string): string {
  return url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:');
}

/** POSTs JSON and waits as long as the job takes (a full sync can take an hour): node:http has no time limit. */
function post<T>(url: string, token: string, body: Record<string, unknown>): Promise<T> {
  const payload = JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), Authorization: `Bearer ${token}` },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => reject(unreachable(url, err)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          reject(new EntraSyncError('DAEMON_BAD_ANSWER', `the daemon answered HTTP ${res.statusCode} with something other than JSON`, { url }));
          return;
        }
        if (res.statusCode === 200) { resolve(parsed as T); return; }
        const error = (parsed as { error?: { code?: unknown; message?: unknown } }).error;
        const code = typeof error?.code === 'string' ? error.code : `HTTP_${res.statusCode}`;
        const message = typeof error?.message === 'string' ? error.message : `HTTP ${res.statusCode}`;
        reject(new EntraSyncError(code, res.statusCode === 401
          ? `the daemon refused the admin token from this configuration (${message}): does it read the same token?`
          : `the daemon answered: ${message}`, { url }));
      });
    });
    req.on('error', (err) => reject(unreachable(url, err)));
    req.end(payload);
  });
}

function unreachable(url: string, err: Error): EntraSyncError {
  const code = (err as NodeJS.ErrnoException).code ?? err.message;
  return new EntraSyncError('DAEMON_UNREACHABLE', `cannot reach the daemon's admin API at ${url}: ${code}`, { url }, { cause: err });
}
