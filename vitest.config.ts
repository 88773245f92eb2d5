import path from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // src/ transpiled for the runtime's worker threads (test/global-setup.ts).
    globalSetup: ['test/global-setup.ts'],
    env: { ENTRA_SYNC_WORKER_BUILD: path.resolve('node_modules/.cache/entra-sync-worker-build') },
    reporters: process.env.CI_REPORT ? ['default', ['json', { outputFile: process.env.CI_REPORT }]] : ['default'],
  },
});
