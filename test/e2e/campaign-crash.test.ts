import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createApiKey } from '../../src/db/repositories/api-keys.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { REPO_ROOT } from '../../src/embedded/tools.js';
import { createLogger } from '../../src/logger.js';
import { startApi } from '../../src/server.js';
import { httpClient } from '../api/support.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { startFakeResend, type FakeResend } from '../helpers/fake-resend.js';
import { createDevServerEnv, getWorkflowBundle } from '../helpers/temporal.js';
import { deliveriesByAddress, resendConfig, seedList } from '../workflows/campaign-fixtures.js';

const SECRET = 'campaign-crash-test-secret-0123456789abcdef';
let env: TestWorkflowEnvironment;
let testDb: TestDb;
let fake: FakeResend;
let api: Awaited<ReturnType<typeof startApi>>;
let call: ReturnType<typeof httpClient>;
let siteId: number;
let bundlePath: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  [env, testDb, fake] = await Promise.all([createDevServerEnv(), createTestDb(), startFakeResend()]);
  bundlePath = path.join(inject('testTmpDir'), `campaign-crash-bundle-${process.pid}.js`);
  await writeFile(bundlePath, (await getWorkflowBundle()).code);
  api = await startApi(
    { db: testDb.db, temporal: env.client, config: loadConfig({ NODE_ENV: 'test' }), logger: createLogger('silent') },
    { port: 0, host: '127.0.0.1' },
  );
  siteId = (await createSite(testDb.db, { name: 'Acme' })).id;
  call = httpClient(api.url, (await createApiKey(testDb.db, { siteId, name: 'e2e' })).key);
}, 180_000);
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await api?.close();
  await fake?.close();
  await env?.teardown();
  await testDb?.close();
});

/** A worker in its own process (campaign-worker-process.ts); resolves once it polls. */
async function startWorkerProcess(extraEnv: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('test', 'e2e', 'campaign-worker-process.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: env.namespace ?? 'default',
      DATABASE_URL: testDb.url,
      WORKFLOW_BUNDLE_PATH: bundlePath,
      TIDINGS_SECRET: SECRET,
      RESEND_BASE_URL: fake.url,
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!output.includes('ready')) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`worker process exited before polling:\n${output}`);
    if (Date.now() > deadline) throw new Error(`worker process did not start:\n${output}`);
    await sleep(50);
  }
  return child;
}

async function getCampaign(id: number) {
  const res = await call('GET', `/api/v1/campaigns/${id}`);
  expect(res.status).toBe(200);
  return res.body.data;
}

describe('campaign across worker crashes (dev server, real API, fake Resend)', () => {
  it('gives each of 10,000 recipients exactly one email although the worker process is killed twice mid-send', async () => {
    const total = 10_000;
    const { listId } = await seedList(testDb.db, siteId, total, 'crash');
    const configId = await resendConfig(testDb.db, createSecretBox(SECRET), siteId, fake.apiKey);

    const created = await call('POST', '/api/v1/campaigns', {
      body: { name: 'Big send', subject: 'Hi {{ firstName }}', html: '<p>News for {{ firstName }}</p>', listId, sendingConfigId: configId, scheduledAt: new Date().toISOString() },
    });
    expect(created.status).toBe(201);
    const id: number = created.body.data.id;

    // First worker: kills itself right after its 15th provider batch call returned, before recording it.
    const first = await startWorkerProcess({ CRASH_AFTER_PROVIDER_CALLS: '15' });
    const [, signal] = (await once(first, 'exit')) as [number | null, string | null];
    expect(signal).toBe('SIGKILL');
    const afterFirst = await getCampaign(id);
    expect(afterFirst.status).toBe('sending');
    expect(afterFirst.sentCount).toBeLessThan(total);

    // Second worker: SIGKILLed by us while batches are in flight.
    const second = await startWorkerProcess();
    while ((await getCampaign(id)).sentCount < 6_000) await sleep(50);
    second.kill('SIGKILL');
    await once(second, 'exit');
    expect((await getCampaign(id)).sentCount).toBeLessThan(total);

    // Third worker: finishes the campaign.
    const third = await startWorkerProcess();
    let view = await getCampaign(id);
    const deadline = Date.now() + 150_000;
    let progressAt = Date.now();
    while (view.status !== 'sent' && Date.now() < deadline && Date.now() - progressAt < 45_000) {
      await sleep(250);
      const next = await getCampaign(id);
      if (next.sentCount !== view.sentCount) progressAt = Date.now();
      view = next;
    }
    // On a stall, say what the workflow waits for (pending activities and their last worker).
    const pendingActivities = view.status === 'sent' ? [] : ((await env.client.workflow.getHandle(`campaign:${id}`).describe()).raw.pendingActivities ?? []);
    const diagnostics = JSON.stringify({ view, pending: pendingActivities.map((a) => ({ type: a.activityType?.name, state: a.state, attempt: a.attempt, worker: a.lastWorkerIdentity })) });
    third.kill('SIGTERM');
    await once(third, 'exit');

    expect(view, diagnostics).toMatchObject({ status: 'sent', totalRecipients: total, sentCount: total, failedCount: 0, skippedCount: 0, progress: 100 });
    const deliveries = deliveriesByAddress(fake.emails);
    expect(deliveries.size).toBe(total);
    expect([...deliveries.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    // At least one batch reached the provider twice (the crash after the call) and was deduplicated by its key.
    expect(fake.requests.some((r) => r.replayed)).toBe(true);
    const pending = await call('GET', `/api/v1/campaigns/${id}/recipients?status=pending&limit=1`);
    expect(pending.body.pagination.total).toBe(0);
    const sent = await call('GET', `/api/v1/campaigns/${id}/recipients?status=sent&limit=1`);
    expect(sent.body.pagination.total).toBe(total);
  }, 300_000);
});
