import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getImport } from '../../src/db/repositories/imports.js';
import type { ImportProgress } from '../../src/domain/csv-import.js';
import { createLogger } from '../../src/logger.js';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes.js';
import { TASK_QUEUES } from '../../src/temporal/task-queues.js';
import { createWorkers } from '../../src/worker.js';
import { contactImportWorkflow } from '../../workflows/contact-import.js';
import { progressQuery } from '../../workflows/contact-import.contract.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { createDevServerEnv, getWorkflowBundle } from '../helpers/temporal.js';
import { generatedCsv, seedSite, storeImport } from './import-fixtures.js';

let env: TestWorkflowEnvironment;
let testDb: TestDb;

beforeAll(async () => {
  [env, testDb] = await Promise.all([
    // A dev server that suggests continue-as-new after 40 history events (4,096 by default), so a
    // small import crosses several runs.
    createDevServerEnv({ suggestContinueAsNewAfter: 40 }),
    createTestDb(),
  ]);
});
afterAll(async () => {
  await env?.teardown();
  await testDb?.close();
});

describe('contact import workflow history', () => {
  it('continues as new when Temporal suggests it, resuming at the committed batch with its counts intact', async () => {
    const siteId = await seedSite(testDb.db);
    const row = await storeImport(testDb.db, siteId, generatedCsv(60) + 'bad-row\n');
    const [worker] = await createWorkers({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      db: testDb.db,
      logger: createLogger('silent'),
      workflowBundle: await getWorkflowBundle(),
      taskQueues: [TASK_QUEUES.main],
    });

    const { result, firstRunEnd, lastRunStart, finalQuery } = await worker!.runUntil(async () => {
      const handle = await env.client.workflow.start(contactImportWorkflow, {
        taskQueue: TASK_QUEUES.main,
        workflowId: row.workflowId,
        args: [{ importId: row.id, batchSize: 2 }],
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.SiteId, value: siteId },
          { key: SEARCH_ATTRIBUTES.ImportId, value: row.id },
        ],
      });
      const result = await handle.result();
      const firstRun = await env.client.workflow.getHandle(row.workflowId, handle.firstExecutionRunId).fetchHistory();
      const latest = env.client.workflow.getHandle(row.workflowId);
      const started = (await latest.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
      const input = started?.input?.payloads?.[0]?.data;
      return {
        result,
        firstRunEnd: firstRun.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes ? 'continued-as-new' : 'other',
        lastRunStart: {
          continued: Boolean(started?.continuedExecutionRunId),
          input: input ? (JSON.parse(Buffer.from(input).toString()) as { progress?: ImportProgress }) : undefined,
        },
        finalQuery: await latest.query(progressQuery),
      };
    });

    expect(firstRunEnd).toBe('continued-as-new');
    expect(lastRunStart.continued).toBe(true);
    // The last run started from the counts the previous run held, not from zero.
    expect(lastRunStart.input?.progress?.processedRows).toBeGreaterThan(0);
    expect(finalQuery).toEqual(result);
    expect(result).toEqual({ status: 'completed', totalRows: 61, processedRows: 61, created: 60, updated: 0, errors: 1 });
    expect(await getImport(testDb.db, siteId, row.id)).toMatchObject({ status: 'completed', processedRows: 61, createdCount: 60, nextBatch: 31 });
  });
});
