// Runs the built `entra-sync` binary (dist/src/cli/main.js, built by test/global-setup.ts) as a child
// process, the way cron, a container or an admin runs it: its own process, its own exit code, its own
// stdout and stderr. Use these helpers for every behaviour of a command or of the daemon as a whole.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const CLI = path.resolve('dist/src/cli/main.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Killed with SIGKILL after this long (default 60 s); the result then has signal SIGKILL. */
  timeoutMs?: number;
  input?: string;
}

function childEnv(extra: CliOptions['env']): NodeJS.ProcessEnv {
  // The test runner's own variables (vitest's, NODE_OPTIONS loaders) must not leak into the child.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, LANG: 'C.UTF-8' };
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete env[k]; else env[k] = v;
  }
  return env;
}

/** Starts the CLI and returns the child; `result` settles when it exits. */
export function startCli(args: string[], options: CliOptions = {}): { child: ChildProcess; result: Promise<CliResult>; output: () => { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: childEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  if (options.input !== undefined) child.stdin!.end(options.input); else child.stdin!.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
  return { child, result, output: () => ({ stdout, stderr }) };
}

/** Runs the CLI to the end. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).result;
}

/** Resolves once `test` holds for the child's output so far (polled), or rejects after `timeoutMs`. */
export async function waitForOutput(
  output: () => { stdout: string; stderr: string },
  test: (o: { stdout: string; stderr: string }) => boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test(output())) {
    if (Date.now() > deadline) {
      const o = output();
      throw new Error(`timed out waiting for output\n--- stdout\n${o.stdout.slice(-2000)}\n--- stderr\n${o.stderr.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
