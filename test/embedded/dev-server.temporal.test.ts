import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes.js';
import { createDevServerEnv, getWorkflowBundle } from '../helpers/temporal.js';
import type { tagged } from './fixtures/workflows.js';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

it("starts with every Tidings search attribute registered under its type", async () => {
  const { customAttributes } = await env.connection.operatorService.listSearchAttributes({ namespace: 'default' });
  for (const key of Object.values(SEARCH_ATTRIBUTES)) {
    expect(customAttributes?.[key.name], key.name).toBeDefined();
  }
  expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(Object.keys(SEARCH_ATTRIBUTES)));
});

it('finds a workflow by the contact email it carries, as a person would in the Web UI', async () => {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'harness-dev',
    workflowBundle: await getWorkflowBundle(path.join(import.meta.dirname, 'fixtures', 'workflows.ts')),
  });
  await worker.runUntil(
    env.client.workflow.execute<typeof tagged>('tagged', {
      taskQueue: 'harness-dev',
      workflowId: 'tagged-dev-1',
      args: ['grace@example.com'],
      typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.SiteId, value: 3 }],
    }),
  );
  // Visibility is eventually consistent: poll briefly.
  let ids: string[] = [];
  for (let i = 0; i < 50 && ids.length === 0; i++) {
    ids = [];
    for await (const wf of env.client.workflow.list({ query: `ContactEmail = "grace@example.com" AND SiteId = 3` })) ids.push(wf.workflowId);
    if (ids.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(ids).toEqual(['tagged-dev-1']);
});
