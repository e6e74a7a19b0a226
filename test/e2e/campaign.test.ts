import { spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { inArray, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { loadConfig } from '../../src/config.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createApiKey } from '../../src/db/repositories/api-keys.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { REPO_ROOT } from '../../src/embedded/tools.js';
import { addSuppression } from '../../src/db/repositories/suppressions.js';
import { contacts } from '../../src/db/schema.js';
import { createMailers, type Mailers } from '../../src/mail/from-config.js';
import { createLogger } from '../../src/logger.js';
import { startApi } from '../../src/server.js';
import { TASK_QUEUES } from '../../src/temporal/task-queues.js';
import { createWorkers, runWorkers } from '../../src/worker.js';
import { httpClient } from '../api/support.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { startFakeResend, type FakeResend } from '../helpers/fake-resend.js';
import { createDevServerEnv, getWorkflowBundle } from '../helpers/temporal.js';
import { addToList, deliveriesByAddress, resendConfig, seedList } from '../workflows/campaign-fixtures.js';

const logger = createLogger('silent');
const secretBox = createSecretBox('campaign-e2e-test-secret-0123456789abcdef');
let env: TestWorkflowEnvironment;
let testDb: TestDb;
let fake: FakeResend;
let mailers: Mailers;
let workers: Worker[] = [];
let running: Promise<void>;
let api: Awaited<ReturnType<typeof startApi>>;
let call: ReturnType<typeof httpClient>;
let apiKey: string;
let siteId: number;
let configId: number;

beforeAll(async () => {
  [env, testDb, fake] = await Promise.all([createDevServerEnv(), createTestDb(), startFakeResend()]);
  mailers = createMailers({ resendBaseUrl: fake.url });
  workers = await createWorkers({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    db: testDb.db,
    logger,
    workflowBundle: await getWorkflowBundle(),
    activities: createActivities({ db: testDb.db, logger, secretBox, mailers }),
    taskQueues: [TASK_QUEUES.main],
  });
  running = runWorkers(workers);
  api = await startApi({ db: testDb.db, temporal: env.client, config: loadConfig({ NODE_ENV: 'test' }), logger }, { port: 0, host: '127.0.0.1' });
  siteId = (await createSite(testDb.db, { name: 'Acme' })).id;
  apiKey = (await createApiKey(testDb.db, { siteId, name: 'e2e' })).key;
  call = httpClient(api.url, apiKey);
  configId = await resendConfig(testDb.db, secretBox, siteId, fake.apiKey);
}, 180_000);
afterEach(() => fake.reset());
afterAll(async () => {
  await api?.close();
  for (const w of workers) w.shutdown();
  await running;
  await mailers?.close();
  await fake?.close();
  await env?.teardown();
  await testDb?.close();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function waitForStatus(id: number, status: string, timeoutMs = 60_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call('GET', `/api/v1/campaigns/${id}`);
    if (res.body.data?.status === status) return res.body.data;
    if (Date.now() > deadline) throw new Error(`campaign ${id} is ${res.body.data?.status}, expected ${status}`);
    await sleep(100);
  }
}

async function insertContacts(rows: { email: string; status?: 'subscribed' | 'unsubscribed' }[]): Promise<number[]> {
  const inserted = await testDb.db
    .insert(contacts)
    .values(rows.map((r) => ({ siteId, email: r.email, status: r.status ?? 'subscribed' })))
    .returning({ id: contacts.id });
  return inserted.map((r) => r.id);
}

describe('campaigns end to end (dev server, real API and worker, fake Resend)', () => {
  it("accepts the seed's campaign call verbatim and sends it (its time has passed, so at once)", async () => {
    expect(configId).toBe(1);
    // The seed names list 42: make the next list id 42 in this fresh database.
    await testDb.db.execute(sql`select setval(pg_get_serial_sequence('lists', 'id'), 41)`);
    const { listId } = await seedList(testDb.db, siteId, 3, 'seed');
    expect(listId).toBe(42);

    const res = await call('POST', '/api/v1/campaigns', {
      raw: `{
"name": "March Newsletter",
"subject": "What's new in March",
"html": "<h1>March Update</h1>...",
"listId": 42,
"sendingConfigId": 1,
"scheduledAt": "2026-03-10T09:00:00Z"
}`,
    });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({
      name: 'March Newsletter',
      status: 'scheduled',
      scheduledAt: '2026-03-10T09:00:00.000Z',
      audience: { listIds: [42] },
      sendingConfigId: 1,
    });

    const done = await waitForStatus(res.body.data.id, 'sent');
    expect(done).toMatchObject({ totalRecipients: 3, sentCount: 3, progress: 100 });
    expect(fake.emails.map((e) => e.payload.subject)).toEqual(["What's new in March", "What's new in March", "What's new in March"]);
    const stats = await call('GET', `/api/v1/campaigns/${res.body.data.id}/stats`);
    expect(stats.body.data).toMatchObject({ sentCount: 3, recipients: { sent: 3, pending: 0, failed: 0 } });
  });

  it('sends one email to a contact in two targeted lists and none to suppressed, unsubscribed or excluded contacts', async () => {
    const [both, onlyA, onlyB, suppressed, unsubscribed, excluded] = await insertContacts([
      { email: 'both@example.com' },
      { email: 'only-a@example.com' },
      { email: 'only-b@example.com' },
      { email: 'suppressed@example.com' },
      { email: 'gone@example.com', status: 'unsubscribed' },
      { email: 'excluded@example.com' },
    ]);
    const list = async (name: string, ids: number[]) => {
      const res = await call('POST', '/api/v1/lists', { body: { name } });
      await addToList(testDb.db, res.body.data.id, ids);
      return res.body.data.id as number;
    };
    const a = await list('A', [both!, onlyA!, suppressed!, excluded!]);
    const b = await list('B', [both!, onlyB!, unsubscribed!]);
    const c = await list('Opted out of news', [excluded!]);
    await addSuppression(testDb.db, siteId, { email: 'suppressed@example.com', reason: 'manual' });

    const res = await call('POST', '/api/v1/campaigns', {
      body: { name: 'Two lists', subject: 'Hi', html: '<p>Hi</p>', sendingConfigId: configId, audience: { listIds: [a, b], excludeListIds: [c] } },
    });
    expect(res.status).toBe(201);
    expect((await call('POST', `/api/v1/campaigns/${res.body.data.id}/send`)).status).toBe(200);
    const done = await waitForStatus(res.body.data.id, 'sent');

    expect([...deliveriesByAddress(fake.emails).entries()].sort()).toEqual([
      ['both@example.com', 1],
      ['only-a@example.com', 1],
      ['only-b@example.com', 1],
    ]);
    expect(done).toMatchObject({ totalRecipients: 4, sentCount: 3, suppressedCount: 1, failedCount: 0 });
    const recipients = await call('GET', `/api/v1/campaigns/${res.body.data.id}/recipients?status=suppressed`);
    expect(recipients.body.data).toEqual([expect.objectContaining({ email: 'suppressed@example.com', status: 'suppressed' })]);
  });

  it('slows down when the provider answers 429 and still sends everyone exactly once', async () => {
    const { listId } = await seedList(testDb.db, siteId, 250, 'throttled');
    fake.failNext(2, { status: 429, headers: { 'retry-after': '2' } });
    const started = Date.now();
    const res = await call('POST', '/api/v1/campaigns', {
      body: { name: 'Throttled', subject: 'Hi {{ firstName }}', html: '<p>Hi</p>', listId, sendingConfigId: configId, scheduledAt: new Date().toISOString() },
    });
    const done = await waitForStatus(res.body.data.id, 'sent');

    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(fake.requests.filter((r) => r.path === '/emails/batch' && r.status === 429)).toHaveLength(2);
    expect(done).toMatchObject({ totalRecipients: 250, sentCount: 250, failedCount: 0 });
    const deliveries = deliveriesByAddress(fake.emails);
    expect(deliveries.size).toBe(250);
    expect([...deliveries.values()].every((n) => n === 1)).toBe(true);
  });

  it("holds the campaign's own maxPerSecond: 200 recipients at 50 per second take at least 3 seconds", async () => {
    const { listId } = await seedList(testDb.db, siteId, 200, 'paced');
    const started = Date.now();
    const res = await call('POST', '/api/v1/campaigns', {
      body: { name: 'Paced', subject: 'Hi', html: '<p>Hi</p>', listId, sendingConfigId: configId, maxPerSecond: 50, scheduledAt: new Date().toISOString() },
    });
    const done = await waitForStatus(res.body.data.id, 'sent');

    // Four batches of 50, one second apart: the last may start 3 s after the first, never sooner.
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
    expect(fake.requests.filter((r) => r.path === '/emails/batch')).toHaveLength(4);
    expect(done).toMatchObject({ sentCount: 200, maxPerSecond: 50 });
    expect(deliveriesByAddress(fake.emails).size).toBe(200);
  });

  it('retry-failed sends again to the failed recipients only', async () => {
    const good = Array.from({ length: 15 }, (_, i) => ({ email: `fine-${i}@example.com` }));
    const bad = Array.from({ length: 5 }, (_, i) => ({ email: `broken-${i}@invalid` }));
    const ids = await insertContacts([...good, ...bad]);
    const listRes = await call('POST', '/api/v1/lists', { body: { name: 'Mixed' } });
    await addToList(testDb.db, listRes.body.data.id, ids);

    const res = await call('POST', '/api/v1/campaigns', {
      body: { name: 'Mixed', subject: 'Hi', html: '<p>Hi</p>', listId: listRes.body.data.id, sendingConfigId: configId, scheduledAt: new Date().toISOString() },
    });
    const id = res.body.data.id;
    const first = await waitForStatus(id, 'sent');
    expect(first).toMatchObject({ totalRecipients: 20, sentCount: 15, failedCount: 5 });
    const failed = await call('GET', `/api/v1/campaigns/${id}/recipients?status=failed`);
    expect(failed.body.data.map((r: { email: string }) => r.email).sort()).toEqual(bad.map((b) => b.email).sort());
    expect(failed.body.data[0].error).toMatch(/invalid_recipient/);

    // The addresses get fixed; a retry reaches exactly those five.
    await testDb.db
      .update(contacts)
      .set({ email: sql`replace(${contacts.email}, '@invalid', '@example.com')` })
      .where(inArray(contacts.id, ids.slice(15)));
    fake.reset();
    const retry = await call('POST', `/api/v1/campaigns/${id}/retry-failed`);
    expect(retry.status).toBe(200);
    expect(retry.body.data.retrying).toBe(5);
    const second = await waitForStatus(id, 'sent');

    expect([...deliveriesByAddress(fake.emails).keys()].sort()).toEqual(bad.map((b) => b.email.replace('@invalid', '@example.com')).sort());
    expect(second).toMatchObject({ totalRecipients: 20, sentCount: 20, failedCount: 0 });
    expect((await call('POST', `/api/v1/campaigns/${id}/pause`)).status).toBe(409);
  });

  it('`tidings campaigns follow` shows a progress bar until the campaign is sent, then a summary', async () => {
    const { listId } = await seedList(testDb.db, siteId, 400, 'followed');
    fake.setDelay(100);
    const res = await call('POST', '/api/v1/campaigns', {
      body: { name: 'Followed', subject: 'Hi', html: '<p>Hi</p>', listId, sendingConfigId: configId, batchSize: 20, scheduledAt: new Date().toISOString() },
    });
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'src', 'cli', 'tidings.js'), 'campaigns', 'follow', String(res.body.data.id), '--interval', '100'], {
      cwd: REPO_ROOT,
      env: { ...process.env, TIDINGS_API_URL: api.url, TIDINGS_API_KEY: apiKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    fake.setDelay(0);

    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/Sending \[.*\] \d+% \| \d+\/400 recipients/);
    expect(stdout).toContain(`Campaign ${res.body.data.id} (Followed) is sent: 400 sent, 0 failed, 0 suppressed, 0 skipped of 400 recipients.`);
  });
});
