import { defineConfig } from 'vitest/config';
import { reportFile } from './test/report/reports.js';

/**
 * The Node 24 LTS run (`npm run test:node24`, which starts vitest itself on Node 24): the API and
 * database tests, and a start of the product (`npm-start` spawns the Node running the tests), so CI
 * proves the production image's Node as well as the machine's. Same global setup as `npm test`.
 */
export default defineConfig({
  test: {
    include: ['test/api/**/*.test.ts', 'test/db/**/*.test.ts', 'test/embedded/npm-start.temporal.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    reporters: ['default', 'json'],
    outputFile: { json: reportFile('node24') },
  },
});
