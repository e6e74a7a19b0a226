import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { getImport } from '../../src/db/repositories/imports.js';
import { contacts } from '../../src/db/schema.js';
import { REPO_ROOT } from '../../src/embedded/tools.js';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes.js';
import { TASK_QUEUES } from '../../src/temporal/task-queues.js';
import { contactImportWorkflow } from '../../workflows/contact-import.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { createDevServerEnv, getWorkflowBundle } from '../helpers/temporal.js';
import { generatedCsv, seedSite, storeImport } from './import-fixtures.js';

let env: TestWorkflowEnvironment;
let testDb: TestDb;
let bundlePath: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  [env, testDb] = await Promise.all([createDevServerEnv(), createTestDb()]);
  bundlePath = path.join(inject('testTmpDir'), `import-restart-bundle-${process.pid}.js`);
  await writeFile(bundlePath, (await getWorkflowBundle()).code);
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await env?.teardown();
  await testDb?.close();
});

/** A worker in its own process (test/workflows/worker-process.ts); resolves once it polls. */
async function startWorkerProcess(extraEnv: Record<string, string> = {}): Promise<ChildProcess & { output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('test', 'workflows', 'worker-process.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: env.namespace ?? 'default',
      DATABASE_URL: testDb.url,
      WORKFLOW_BUNDLE_PATH: bundlePath,
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!output.includes('ready')) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`worker process exited before polling:\n${output}`);
    if (Date.now() > deadline) throw new Error(`worker process did not start:\n${output}`);
    await sleep(50);
  }
  return Object.assign(child, { output: () => output });
}

async function processedRows(siteId: number, importId: number): Promise<number> {
  return (await getImport(testDb.db, siteId, importId))?.processedRows ?? 0;
}

describe('contact import across worker crashes', () => {
  it('survives worker processes being SIGKILLed mid-import without duplicating or losing rows', async () => {
    const rows = 1500;
    const siteId = await seedSite(testDb.db);
    const row = await storeImport(testDb.db, siteId, generatedCsv(rows));

    // First worker: dies right after batch 3 commits, before Temporal learns that it completed.
    const first = await startWorkerProcess({ CRASH_AFTER_BATCH: '3' });
    const handle = await env.client.workflow.start(contactImportWorkflow, {
      taskQueue: TASK_QUEUES.main,
      workflowId: row.workflowId,
      args: [{ importId: row.id, batchSize: 25 }],
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.SiteId, value: siteId },
        { key: SEARCH_ATTRIBUTES.ImportId, value: row.id },
      ],
    });
    const [, signal] = (await once(first, 'exit')) as [number | null, string | null];
    expect(signal).toBe('SIGKILL');
    expect(await processedRows(siteId, row.id)).toBe(100);

    // Second worker: picks the import up (batch 3 again, a no-op), and is SIGKILLed by us halfway.
    const second = await startWorkerProcess();
    while ((await processedRows(siteId, row.id)) < rows / 2) await sleep(25);
    second.kill('SIGKILL');
    await once(second, 'exit');
    const atKill = await processedRows(siteId, row.id);
    expect(atKill).toBeLessThan(rows);

    // Third worker: finishes.
    const third = await startWorkerProcess();
    const result = await handle.result();
    third.kill('SIGTERM');

    expect(result).toEqual({ status: 'completed', totalRows: rows, processedRows: rows, created: rows, updated: 0, errors: 0 });
    const [{ total } = { total: 0 }] = await testDb.db.select({ total: count() }).from(contacts).where(eq(contacts.siteId, siteId));
    expect(total).toBe(rows);
    expect(await getImport(testDb.db, siteId, row.id)).toMatchObject({
      status: 'completed',
      processedRows: rows,
      createdCount: rows,
      updatedCount: 0,
      errorCount: 0,
    });
  }, 240_000);
});
