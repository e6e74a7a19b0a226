import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes.js';
import { createTimeSkippingEnv, getWorkflowBundle } from '../helpers/temporal.js';
import type { sleeper, tagged } from './fixtures/workflows.js';

const fixtures = path.join(import.meta.dirname, 'fixtures', 'workflows.ts');
const DAY = 24 * 60 * 60 * 1000;
let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

async function withWorker<T>(taskQueue: string, fn: () => Promise<T>): Promise<T> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await getWorkflowBundle(fixtures),
  });
  return worker.runUntil(fn);
}

it('runs a workflow that sleeps 3 days to completion in a few seconds of real time', async () => {
  const started = Date.now();
  const slept = await withWorker('harness-sleep', () =>
    env.client.workflow.execute<typeof sleeper>('sleeper', { taskQueue: 'harness-sleep', workflowId: 'sleeper-1', args: [3] }),
  );
  expect(slept).toBeGreaterThanOrEqual(3 * DAY);
  expect(Date.now() - started).toBeLessThan(20_000);
});

it("accepts Tidings' search attributes on workflows it runs", async () => {
  const attributes = await withWorker('harness-tagged', () =>
    env.client.workflow.execute<typeof tagged>('tagged', {
      taskQueue: 'harness-tagged',
      workflowId: 'tagged-1',
      args: ['ada@example.com'],
      typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.SiteId, value: 7 }],
    }),
  );
  expect(attributes).toMatchObject({ SiteId: [7], ContactEmail: ['ada@example.com'] });
});
