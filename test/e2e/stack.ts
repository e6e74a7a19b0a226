import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { loadConfig } from '../../src/config.js';
import { createApiKey } from '../../src/db/repositories/api-keys.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { createLogger } from '../../src/logger.js';
import { startApi } from '../../src/server.js';
import { createWorkers, runWorkers } from '../../src/worker.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { createDevServerEnv, getWorkflowBundle } from '../helpers/temporal.js';

export interface Stack {
  env: TestWorkflowEnvironment;
  testDb: TestDb;
  apiUrl: string;
  /** Two sites with one API key each. */
  siteA: { id: number; key: string };
  siteB: { id: number; key: string };
  close(): Promise<void>;
}

/**
 * What `npm start` runs, minus the embedded services: a Temporal dev server, a fresh PostgreSQL
 * database, the worker and the HTTP API on a free port, wired the way src/main.ts wires them.
 */
export async function startStack(): Promise<Stack> {
  const [env, testDb, workflowBundle] = await Promise.all([createDevServerEnv(), createTestDb(), getWorkflowBundle()]);
  const logger = createLogger('silent');
  let workers: Worker[] = [];
  let running: Promise<void> = Promise.resolve();
  let api: Awaited<ReturnType<typeof startApi>> | undefined;
  try {
    workers = await createWorkers({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', db: testDb.db, logger, workflowBundle });
    running = runWorkers(workers);
    api = await startApi(
      { db: testDb.db, temporal: env.client, config: loadConfig({ NODE_ENV: 'test' }), logger },
      { port: 0, host: '127.0.0.1' },
    );
  } catch (err) {
    await env.teardown();
    await testDb.close();
    throw err;
  }
  const site = async (name: string) => {
    const { id } = await createSite(testDb.db, { name });
    return { id, key: (await createApiKey(testDb.db, { siteId: id, name: 'e2e' })).key };
  };
  const siteA = await site('Site A');
  const siteB = await site('Site B');
  const runningApi = api;
  return {
    env,
    testDb,
    apiUrl: runningApi.url,
    siteA,
    siteB,
    async close() {
      await runningApi.close();
      for (const w of workers) w.shutdown();
      await running;
      await env.teardown();
      await testDb.close();
    },
  };
}
