// Runs the SCIM simulator in its own process (benchmarks put it there so it does not share an event loop
// with the client). Options come as JSON in argv[2] or in SCIM_SIMULATOR_OPTIONS; once listening it prints
// one JSON line `{"baseUrl": …, "tokenUrl": …}` on stdout, and it stops on SIGTERM / SIGINT or stdin EOF.

import { startScimSimulator, type ScimSimulatorOptions } from './index.js';

function readOptions(): ScimSimulatorOptions {
  const raw = process.argv[2] ?? process.env.SCIM_SIMULATOR_OPTIONS ?? '{}';
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('options must be a JSON object');
    return parsed as ScimSimulatorOptions;
  } catch (err) {
    process.stderr.write(`scim simulator: invalid options ${JSON.stringify(raw)}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
}

const simulator = await startScimSimulator(readOptions());
process.stdout.write(`${JSON.stringify({ baseUrl: simulator.baseUrl, tokenUrl: simulator.tokenUrl })}\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  simulator.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// A parent that dies (or closes our stdin) must not leave a simulator running.
if (!process.stdin.isTTY) {
  process.stdin.on('end', stop);
  process.stdin.resume();
}
