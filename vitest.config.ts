import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { reportFile } from './test/report/reports.js';

/**
 * Tests that start a Temporal server (time-skipping or dev server) run after the database/HTTP tests,
 * two files at a time: most of their wall time is spent waiting (timeouts after a killed worker,
 * timers), so two at once keep 2 cores busy, and more would crowd the 5 s the SDK gives a server to
 * come up. Put such a test under test/workflows, test/e2e or test/cli, or name it `*.temporal.test.ts`.
 * Each file has its own servers and database; time-skipping waits must stay one at a time within a file
 * (see resultsInTurn in test/workflows/enrollment.test.ts).
 */
const temporalTests = ['test/workflows/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/cli/**/*.test.ts', 'test/**/*.temporal.test.ts'];
/** The fault-injection suite has its own config and command (vitest.faults.config.ts, `npm run test:faults`). */
const faultTests = 'test/faults/**';
/**
 * Browser tests (test/browser/harness.ts): each file starts a real `npm start` stack and Chromium, so
 * they run last and one file at a time, with generous timeouts.
 */
const browserTests = 'test/browser/**/*.test.ts';

// Projects do not `extends: true` on purpose: that would run the global setup (one PostgreSQL) once
// per project. Values it provides in the root reach every project.
const shared: NonNullable<TestProjectInlineConfiguration['test']> = {
  testTimeout: 60_000,
  hookTimeout: 120_000,
};

export default defineConfig({
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    teardownTimeout: 60_000,
    // The json report is what `.ci/run` counts (test/report/sum.ts); the console output stays.
    reporters: ['default', 'json'],
    outputFile: { json: reportFile('tests') },
    ...shared,
    projects: [
      {
        test: { ...shared, name: 'unit', include: ['test/**/*.test.ts'], exclude: [...temporalTests, faultTests, browserTests], sequence: { groupOrder: 0 } },
      },
      {
        test: { ...shared, name: 'temporal', include: temporalTests, exclude: [faultTests, browserTests], fileParallelism: true, maxWorkers: 2, sequence: { groupOrder: 1 } },
      },
      {
        test: {
          name: 'browser',
          include: [browserTests],
          exclude: [faultTests],
          fileParallelism: false,
          maxWorkers: 1,
          testTimeout: 120_000,
          hookTimeout: 300_000,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
