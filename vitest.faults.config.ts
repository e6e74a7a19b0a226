import { defineConfig } from 'vitest/config';
import { reportFile } from './test/report/reports.js';

/**
 * The fault-injection suite (`npm run test:faults`): kills worker processes, restarts the Temporal
 * dev server, stops PostgreSQL and makes the provider misbehave, then checks that every email went
 * out exactly once. Each file owns whole processes and loads both cores, so files run one at a time
 * with long timeouts; the same global setup as `npm test` provides PostgreSQL and the Temporal CLI.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 300_000,
    teardownTimeout: 60_000,
    // The json report is what `.ci/run` counts (test/report/sum.ts); the console output stays.
    reporters: ['default', 'json'],
    outputFile: { json: reportFile('faults') },
  },
});
