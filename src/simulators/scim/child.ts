// Start the SCIM simulator in a child process (serve.js) and learn its URLs from the line it prints:
// benchmarks use this so the simulator's work does not share the client's event loop.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ScimSimulatorOptions } from './index.js';

export interface ScimSimulatorProcess {
  baseUrl: string;
  tokenUrl: string;
  pid: number;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
}

/** `script` defaults to the compiled serve.js next to this module (dist/src/simulators/scim/serve.js). */
export function spawnScimSimulator(options: ScimSimulatorOptions = {}, script = fileURLToPath(new URL('./serve.js', import.meta.url)), startTimeoutMs = 15_000): Promise<ScimSimulatorProcess> {
  const child = spawn(process.execPath, [script, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`SCIM simulator did not start within ${startTimeoutMs} ms: ${stderr.trim()}`));
    }, startTimeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`SCIM simulator exited with code ${String(code)} before it started: ${stderr.trim()}`));
    });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buffered += d;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        const { baseUrl, tokenUrl } = JSON.parse(buffered.slice(0, nl)) as { baseUrl: string; tokenUrl: string };
        resolve({
          baseUrl,
          tokenUrl,
          pid: child.pid!,
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      } catch (err) {
        child.kill('SIGTERM');
        reject(new Error(`SCIM simulator printed an unreadable start line: ${buffered.slice(0, nl)}`, { cause: err }));
      }
    });
  });
}
