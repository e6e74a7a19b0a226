/**
 * Vitest global setup: one embedded PostgreSQL for the whole run (in a temp dir, on a free port) with
 * a migrated template database that createTestDb() clones, plus the Temporal binaries the harness
 * needs (found or provisioned through src/embedded/tools.ts). Everything is torn down at the end.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDatabase } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { findFreePort } from '../../src/embedded/ports.js';
import { startEmbeddedPostgres } from '../../src/embedded/postgres.js';
import { findTemporalCli, findTestServer } from '../../src/embedded/tools.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the shared test cluster's `postgres` database (for CREATE/DROP DATABASE). */
    pgAdminUrl: string;
    /** Migrated database that each createTestDb() clones. */
    pgTemplateDb: string;
    /** `temporal` CLI path, or '' when it could not be found (then `toolError` says why). */
    temporalCliPath: string;
    /** Java test server wrapper (run.sh) path, or ''. */
    temporalTestServerPath: string;
    toolErrors: { temporalCli?: string; temporalTestServer?: string };
    /** Scratch directory of this run (bundles cache, temp data dirs). */
    testTmpDir: string;
  }
}

export const TEMPLATE_DB = 'tidings_template';

export default async function setup(project: TestProject) {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'tidings-test-'));
  const [pg, cli, testServer] = await Promise.all([
    findFreePort().then((port) =>
      startEmbeddedPostgres({
        dataDir: path.join(tmp, 'postgres'),
        port,
        database: TEMPLATE_DB,
        // A throwaway cluster: durability buys nothing and costs seconds per test file.
        postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300'],
      }),
    ),
    // Tool problems fail only the tests that need the tool, not the database tests.
    findTemporalCli({ log: (line) => console.log(line) }).then((t) => ({ path: t.path }), (err: Error) => ({ error: err.message })),
    findTestServer({ log: (line) => console.log(line) }).then((t) => ({ path: t.path }), (err: Error) => ({ error: err.message })),
  ]);

  try {
    const template = createDatabase(pg.databaseUrl, { max: 1 });
    try {
      await runMigrations(template.db);
    } finally {
      // CREATE DATABASE ... TEMPLATE refuses while anyone is connected to the template.
      await template.close();
    }
  } catch (err) {
    await pg.stop();
    throw err;
  }

  project.provide('pgAdminUrl', pg.adminUrl);
  project.provide('pgTemplateDb', TEMPLATE_DB);
  project.provide('temporalCliPath', 'path' in cli ? cli.path : '');
  project.provide('temporalTestServerPath', 'path' in testServer ? testServer.path : '');
  project.provide('toolErrors', {
    ...('error' in cli ? { temporalCli: cli.error } : {}),
    ...('error' in testServer ? { temporalTestServer: testServer.error } : {}),
  });
  project.provide('testTmpDir', tmp);

  return async () => {
    await pg.stop();
    await rm(tmp, { recursive: true, force: true });
  };
}
