import { setTimeout as sleep } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { getCampaign, listRecipients, type CampaignRow } from '../../src/db/repositories/campaigns.js';
import { createList } from '../../src/db/repositories/lists.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { contacts } from '../../src/db/schema.js';
import { workflowIds } from '../../src/domain/ids.js';
import { createMailers, type Mailers } from '../../src/mail/from-config.js';
import { createLogger } from '../../src/logger.js';
import {
  cancelCampaign,
  createCampaign,
  pauseCampaign,
  resumeCampaign,
  scheduleCampaign,
  type CampaignInput,
} from '../../src/services/campaigns.js';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes.js';
import { TASK_QUEUES } from '../../src/temporal/task-queues.js';
import { createWorkers } from '../../src/worker.js';
import { campaignStateQuery } from '../../workflows/campaign.contract.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { startFakeResend, type FakeResend } from '../helpers/fake-resend.js';
import { createTimeSkippingEnv, getWorkflowBundle } from '../helpers/temporal.js';
import { addToList, deliveriesByAddress, nextMonday0900, resendConfig, seedList } from './campaign-fixtures.js';

let env: TestWorkflowEnvironment;
let testDb: TestDb;
let fake: FakeResend;
let mailers: Mailers;
let siteId: number;
let configId: number;
const logger = createLogger('silent');
const secretBox = createSecretBox('campaign-workflow-test-secret-0123456789abcdef');

beforeAll(async () => {
  [env, testDb, fake] = await Promise.all([createTimeSkippingEnv(), createTestDb(), startFakeResend()]);
  mailers = createMailers({ resendBaseUrl: fake.url });
  siteId = (await createSite(testDb.db, { name: 'Acme' })).id;
  configId = await resendConfig(testDb.db, secretBox, siteId, fake.apiKey);
});
afterEach(() => fake.reset());
afterAll(async () => {
  await mailers?.close();
  await fake?.close();
  await env?.teardown();
  await testDb?.close();
});

async function worker(): Promise<Worker> {
  const [w] = await createWorkers({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    db: testDb.db,
    logger,
    workflowBundle: await getWorkflowBundle(),
    activities: createActivities({ db: testDb.db, logger, secretBox, mailers }),
    taskQueues: [TASK_QUEUES.main],
  });
  return w!;
}

const deps = () => ({ db: testDb.db, temporal: env.client });
const handleOf = (id: number) => env.client.workflow.getHandle(workflowIds.campaign(id));
const campaign = async (id: number): Promise<CampaignRow> => (await getCampaign(testDb.db, siteId, id))!;

function create(listId: number, extra: Partial<CampaignInput> = {}) {
  return createCampaign(deps(), siteId, {
    name: 'Weekly',
    subject: 'Hello {{ firstName }}',
    html: '<p>Hi {{ firstName | default: "there" }}</p>',
    listId,
    sendingConfigId: configId,
    ...extra,
  });
}

describe('campaign workflow (time-skipping)', () => {
  it('starts a campaign scheduled for next Monday 09:00 then and not before', async () => {
    const { listId } = await seedList(testDb.db, siteId, 5, 'monday');
    const now = await env.currentTimeMs();
    const monday = nextMonday0900(now);
    const w = await worker();

    const result = await w.runUntil(async () => {
      const row = await create(listId, { scheduledAt: monday.toISOString() });
      expect(row.status).toBe('scheduled');
      // Skip to 08:59 on Monday: the workflow is still waiting and nothing went out.
      await env.sleep(monday.getTime() - now - 60_000);
      expect(fake.emails).toHaveLength(0);
      expect((await campaign(row.id)).status).toBe('scheduled');
      expect((await handleOf(row.id).query(campaignStateQuery)).phase).toBe('waiting');
      const summary = await handleOf(row.id).result();
      return { row, summary };
    });

    const after = await campaign(result.row.id);
    expect(result.summary).toMatchObject({ status: 'sent', totalRecipients: 5, sentCount: 5 });
    expect(after.startedAt!.getTime()).toBeGreaterThanOrEqual(monday.getTime());
    expect(after.startedAt!.getTime()).toBeLessThan(monday.getTime() + 60_000);
    expect(fake.emails.map((e) => e.payload.subject).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `Hello Reader ${i}`));
    const description = await handleOf(result.row.id).describe();
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.CampaignId)).toBe(String(result.row.id));
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.SiteId)).toBe(siteId);
  });

  it('moves to the new time when rescheduled before the original one', async () => {
    const { listId } = await seedList(testDb.db, siteId, 3, 'resched');
    const now = await env.currentTimeMs();
    const monday = nextMonday0900(now);
    const tuesday = new Date(monday.getTime() + 25 * 3600_000);
    const w = await worker();

    const id = await w.runUntil(async () => {
      const row = await create(listId, { scheduledAt: monday.toISOString() });
      await env.sleep(3600_000);
      const moved = await scheduleCampaign(deps(), siteId, row.id, tuesday.toISOString());
      expect(moved.status).toBe('scheduled');
      // Past the original time: still waiting for Tuesday.
      await env.sleep(monday.getTime() - now);
      expect(fake.emails).toHaveLength(0);
      await handleOf(row.id).result();
      return row.id;
    });

    const after = await campaign(id);
    expect(after.status).toBe('sent');
    expect(after.startedAt!.getTime()).toBeGreaterThanOrEqual(tuesday.getTime());
    expect(after.startedAt!.getTime()).toBeLessThan(tuesday.getTime() + 60_000);
    expect(fake.emails).toHaveLength(3);
  });

  it('sends nothing when cancelled before its time, and ends its workflow at once', async () => {
    const { listId } = await seedList(testDb.db, siteId, 3, 'cancel');
    const now = await env.currentTimeMs();
    const monday = nextMonday0900(now);
    const w = await worker();

    const id = await w.runUntil(async () => {
      const row = await create(listId, { scheduledAt: monday.toISOString() });
      await env.sleep(3600_000);
      expect((await cancelCampaign(deps(), siteId, row.id)).status).toBe('cancelled');
      await handleOf(row.id).result();
      return row.id;
    });

    const description = await handleOf(id).describe();
    expect(description.closeTime!.getTime()).toBeLessThan(monday.getTime());
    expect(fake.emails).toHaveLength(0);
    expect((await campaign(id)).status).toBe('cancelled');
    expect((await listRecipients(testDb.db, id, {}, { limit: 10, offset: 0 })).total).toBe(0);
  });

  it('stops between batches when paused and sends the rest exactly once after resume', async () => {
    const total = 60;
    const { listId } = await seedList(testDb.db, siteId, total, 'pause');
    fake.setDelay(150);
    const w = await worker();

    const id = await w.runUntil(async () => {
      const row = await create(listId, { batchSize: 2 });
      await scheduleCampaign(deps(), siteId, row.id, new Date(await env.currentTimeMs()).toISOString());
      while ((await campaign(row.id)).sentCount < 4) await sleep(20);
      expect((await pauseCampaign(deps(), siteId, row.id)).status).toBe('paused');
      // Batches already in flight finish; then nothing moves.
      let settled = -1;
      for (;;) {
        await sleep(800);
        const now = (await campaign(row.id)).sentCount;
        if (now === settled) break;
        settled = now;
      }
      expect(settled).toBeLessThan(total);
      expect(fake.emails).toHaveLength(settled);
      expect((await handleOf(row.id).query(campaignStateQuery)).paused).toBe(true);

      expect((await resumeCampaign(deps(), siteId, row.id)).status).toBe('sending');
      await handleOf(row.id).result();
      return row.id;
    });

    const after = await campaign(id);
    expect(after).toMatchObject({ status: 'sent', totalRecipients: total, sentCount: total, failedCount: 0 });
    const deliveries = deliveriesByAddress(fake.emails);
    expect(deliveries.size).toBe(total);
    expect([...deliveries.values()].every((n) => n === 1)).toBe(true);
  });

  it('stops a batch of 1,000 between two provider calls when paused, and sends the rest exactly once after resume', async () => {
    const total = 1000;
    const { listId } = await seedList(testDb.db, siteId, total, 'bigpause');
    fake.setDelay(200);
    const w = await worker();

    const id = await w.runUntil(async () => {
      const row = await create(listId);
      expect(row.batchSize).toBe(1000);
      await scheduleCampaign(deps(), siteId, row.id, new Date(await env.currentTimeMs()).toISOString());
      while (fake.emails.length === 0) await sleep(10);
      const atPause = fake.emails.length;
      expect((await pauseCampaign(deps(), siteId, row.id)).status).toBe('paused');
      // At most the call in flight goes out (Resend takes 100 a call): the rest of the batch waits.
      await sleep(1_000);
      const afterPause = fake.emails.length;
      expect(afterPause).toBeLessThanOrEqual(atPause + 100);
      await sleep(600);
      expect(fake.emails.length).toBe(afterPause);

      expect((await resumeCampaign(deps(), siteId, row.id)).status).toBe('sending');
      await handleOf(row.id).result();
      return row.id;
    });

    expect(await campaign(id)).toMatchObject({ status: 'sent', totalRecipients: total, sentCount: total, failedCount: 0 });
    const deliveries = deliveriesByAddress(fake.emails);
    expect(deliveries.size).toBe(total);
    expect([...deliveries.values()].every((n) => n === 1)).toBe(true);
  });

  it('pauses itself with the reason when the provider rejects the credentials, and resumes without losing anyone', async () => {
    const { listId } = await seedList(testDb.db, siteId, 10, 'authfail');
    fake.setMode('unauthorized');
    const w = await worker();

    const id = await w.runUntil(async () => {
      const row = await create(listId);
      await scheduleCampaign(deps(), siteId, row.id, new Date(await env.currentTimeMs()).toISOString());
      while ((await campaign(row.id)).status !== 'paused') await sleep(20);
      const paused = await campaign(row.id);
      expect(paused.pausedReason).toMatch(/credentials/);
      expect(paused).toMatchObject({ sentCount: 0, failedCount: 0 });

      fake.setMode('ok');
      await resumeCampaign(deps(), siteId, row.id);
      await handleOf(row.id).result();
      return row.id;
    });

    expect(await campaign(id)).toMatchObject({ status: 'sent', sentCount: 10, failedCount: 0, pausedReason: null });
    expect(deliveriesByAddress(fake.emails).size).toBe(10);
  });

  it('pauses itself when more than 20% of at least 100 attempts fail, naming the error rate', async () => {
    const list = await createList(testDb.db, siteId, { name: 'Typos' });
    const inserted = await testDb.db
      .insert(contacts)
      .values(Array.from({ length: 150 }, (_, i) => ({ siteId, email: `typo-${i}@invalid` })))
      .returning({ id: contacts.id });
    await addToList(testDb.db, list.id, inserted.map((r) => r.id));
    const w = await worker();

    const id = await w.runUntil(async () => {
      const row = await create(list.id);
      await scheduleCampaign(deps(), siteId, row.id, new Date(await env.currentTimeMs()).toISOString());
      while ((await campaign(row.id)).status !== 'paused') await sleep(20);
      await cancelCampaign(deps(), siteId, row.id);
      await handleOf(row.id).result();
      return row.id;
    });

    const after = await campaign(id);
    expect(after.pausedReason).toMatch(/error rate 100% over the last 1[05]0 attempts exceeds 20%/);
    expect(after).toMatchObject({ status: 'cancelled', sentCount: 0, failedCount: 150 });
    expect(fake.emails).toHaveLength(0);
  });
});
