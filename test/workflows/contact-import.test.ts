import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, type Activities } from '../../activities/index.js';
import { getImport, listImportErrors, type ImportRow } from '../../src/db/repositories/imports.js';
import type { ImportProgress } from '../../src/domain/csv-import.js';
import { createLogger } from '../../src/logger.js';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes.js';
import { TASK_QUEUES } from '../../src/temporal/task-queues.js';
import { createWorkers } from '../../src/worker.js';
import { contactImportWorkflow } from '../../workflows/contact-import.js';
import { progressQuery } from '../../workflows/contact-import.contract.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { createTimeSkippingEnv, getWorkflowBundle } from '../helpers/temporal.js';
import { contactsOf, generatedCsv, seedList, seedSite, storeImport } from './import-fixtures.js';

let env: TestWorkflowEnvironment;
let testDb: TestDb;
const logger = createLogger('silent');

beforeAll(async () => {
  [env, testDb] = await Promise.all([createTimeSkippingEnv(), createTestDb()]);
});
afterAll(async () => {
  await env?.teardown();
  await testDb?.close();
});

async function worker(activities?: Activities): Promise<Worker> {
  const [w] = await createWorkers({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    db: testDb.db,
    logger,
    workflowBundle: await getWorkflowBundle(),
    activities,
    taskQueues: [TASK_QUEUES.main],
  });
  return w!;
}

/** Starts the import workflow exactly as the API does (same id, queue and search attributes). */
function start(row: ImportRow, batchSize?: number) {
  return env.client.workflow.start(contactImportWorkflow, {
    taskQueue: TASK_QUEUES.main,
    workflowId: row.workflowId,
    args: [{ importId: row.id, batchSize }],
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.SiteId, value: row.siteId },
      { key: SEARCH_ATTRIBUTES.ImportId, value: row.id },
    ],
  });
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('contact import workflow', () => {
  it('imports every row in batches, applies the import options and mirrors its result in the import row', async () => {
    const siteId = await seedSite(testDb.db);
    const listId = await seedList(testDb.db, siteId);
    const row = await storeImport(testDb.db, siteId, generatedCsv(25), { listIds: [listId], tags: ['imported'] });

    const w = await worker();
    const result = await w.runUntil(async () => {
      const handle = await start(row, 10);
      return handle.result();
    });

    expect(result).toEqual({ status: 'completed', totalRows: 25, processedRows: 25, created: 25, updated: 0, errors: 0 });
    const stored = await getImport(testDb.db, siteId, row.id);
    expect(stored).toMatchObject({ status: 'completed', totalRows: 25, processedRows: 25, createdCount: 25, updatedCount: 0, errorCount: 0, batchCount: 3, nextBatch: 3 });
    expect(stored?.finishedAt).toBeInstanceOf(Date);
    const imported = await contactsOf(testDb.db, siteId);
    expect(imported).toHaveLength(25);
    expect(imported.every((c) => c.tags.join() === 'imported' && c.lists.join() === String(listId))).toBe(true);
    expect(imported.find((c) => c.email === 'user7@example.com')).toMatchObject({ firstName: 'User 7', customFields: { plan: 'pro' } });
  });

  it('carries the SiteId and ImportId search attributes', async () => {
    const siteId = await seedSite(testDb.db);
    const row = await storeImport(testDb.db, siteId, generatedCsv(1));
    const w = await worker();
    const description = await w.runUntil(async () => {
      const handle = await start(row);
      await handle.result();
      return handle.describe();
    });
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.SiteId)).toBe(siteId);
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.ImportId)).toBe(row.id);
  });

  it('reports invalid rows and unknown columns with their row numbers', async () => {
    const siteId = await seedSite(testDb.db);
    const csv = 'email,first_name,favourite_color\nada@example.com,Ada,blue\nnot-an-email,Bob,red\ngrace@example.com,Grace,green\n';
    const row = await storeImport(testDb.db, siteId, csv);

    const w = await worker();
    const result = await w.runUntil(async () => (await start(row)).result());

    expect(result).toEqual({ status: 'completed', totalRows: 3, processedRows: 3, created: 2, updated: 0, errors: 2 });
    const { rows } = await listImportErrors(testDb.db, row.id, { limit: 10, offset: 0 });
    expect(rows.map((e) => [e.row, e.message])).toEqual([
      [1, expect.stringMatching(/^Unknown column "favourite_color" ignored/)],
      [3, 'Invalid email "not-an-email"'],
    ]);
    expect((await contactsOf(testDb.db, siteId)).map((c) => c.email)).toEqual(['ada@example.com', 'grace@example.com']);
  });

  it('answers the progress query while it runs', async () => {
    const siteId = await seedSite(testDb.db);
    const row = await storeImport(testDb.db, siteId, generatedCsv(5) + 'broken,row\n');
    const activities = createActivities({ db: testDb.db, logger });
    const reachedSecondBatch = deferred();
    const release = deferred();
    const importBatch = activities.importContactBatch;
    activities.importContactBatch = async (input) => {
      if (input.seq === 1) {
        reachedSecondBatch.resolve();
        await release.promise;
      }
      return importBatch(input);
    };

    const w = await worker(activities);
    const { during, result } = await w.runUntil(async () => {
      const handle = await start(row, 4);
      await reachedSecondBatch.promise;
      const progress = await handle.query(progressQuery);
      release.resolve();
      return { during: progress, result: await handle.result() };
    });

    expect(during).toEqual<ImportProgress>({ status: 'running', totalRows: 6, processedRows: 4, created: 4, updated: 0, errors: 0 });
    expect(result).toEqual<ImportProgress>({ status: 'completed', totalRows: 6, processedRows: 6, created: 5, updated: 0, errors: 1 });
  });

  it('counts nothing twice when a batch runs again after its transaction committed', async () => {
    const siteId = await seedSite(testDb.db);
    const row = await storeImport(testDb.db, siteId, generatedCsv(9), { tags: ['imported'] });
    const activities = createActivities({ db: testDb.db, logger });
    const importBatch = activities.importContactBatch;
    const answers: { seq: number; processedRows: number }[] = [];
    let crashed = false;
    activities.importContactBatch = async (input) => {
      const progress = await importBatch(input);
      answers.push({ seq: input.seq, processedRows: progress.processedRows });
      if (input.seq === 1 && !crashed) {
        crashed = true;
        // Committed, but the worker "dies" before Temporal hears of it: Temporal retries the batch.
        throw new Error('worker lost after commit');
      }
      return progress;
    };

    const w = await worker(activities);
    const result = await w.runUntil(async () => (await start(row, 3)).result());

    expect(answers).toEqual([
      { seq: 0, processedRows: 3 },
      { seq: 1, processedRows: 6 },
      { seq: 1, processedRows: 6 },
      { seq: 2, processedRows: 9 },
    ]);
    expect(result).toEqual({ status: 'completed', totalRows: 9, processedRows: 9, created: 9, updated: 0, errors: 0 });
    const imported = await contactsOf(testDb.db, siteId);
    expect(imported).toHaveLength(9);
    expect(imported.every((c) => c.tags.join() === 'imported')).toBe(true);
  });

  it('fails with the reason recorded on the import when the file has no email column', async () => {
    const siteId = await seedSite(testDb.db);
    const row = await storeImport(testDb.db, siteId, 'name,phone\nAda,123\n');

    const w = await worker();
    const err = await w.runUntil(async () => (await start(row)).result().catch((e: unknown) => e));

    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toMatchObject({ type: 'InvalidCsv', message: 'The CSV has no email column (columns: name, phone)' });
    expect(await getImport(testDb.db, siteId, row.id)).toMatchObject({
      status: 'failed',
      error: 'The CSV has no email column (columns: name, phone)',
    });
  });
});
