import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { getCampaign } from '../../src/db/repositories/campaigns.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { workflowIds } from '../../src/domain/ids.js';
import { createMailers, type Mailers } from '../../src/mail/from-config.js';
import { createLogger } from '../../src/logger.js';
import { createCampaign } from '../../src/services/campaigns.js';
import { TASK_QUEUES } from '../../src/temporal/task-queues.js';
import { createWorkers } from '../../src/worker.js';
import { campaignStateQuery } from '../../workflows/campaign.contract.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { startFakeResend, type FakeResend } from '../helpers/fake-resend.js';
import { createDevServerEnv, getWorkflowBundle } from '../helpers/temporal.js';
import { deliveriesByAddress, resendConfig, seedList } from './campaign-fixtures.js';

let env: TestWorkflowEnvironment;
let testDb: TestDb;
let fake: FakeResend;
let mailers: Mailers;
const logger = createLogger('silent');
const secretBox = createSecretBox('campaign-can-test-secret-0123456789abcdef');

beforeAll(async () => {
  [env, testDb, fake] = await Promise.all([
    // A dev server that suggests continue-as-new after 40 history events (4,096 by default), so a
    // small campaign crosses several runs.
    createDevServerEnv({ suggestContinueAsNewAfter: 40 }),
    createTestDb(),
    startFakeResend(),
  ]);
  mailers = createMailers({ resendBaseUrl: fake.url });
});
afterAll(async () => {
  await mailers?.close();
  await fake?.close();
  await env?.teardown();
  await testDb?.close();
});

describe('campaign workflow history', () => {
  it('continues as new when Temporal suggests it, carrying the cursor and counters, and sends everyone once', async () => {
    const siteId = (await createSite(testDb.db, { name: 'Acme' })).id;
    const configId = await resendConfig(testDb.db, secretBox, siteId, fake.apiKey);
    const { listId } = await seedList(testDb.db, siteId, 300, 'can');
    const [worker] = await createWorkers({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      db: testDb.db,
      logger,
      workflowBundle: await getWorkflowBundle(),
      activities: createActivities({ db: testDb.db, logger, secretBox, mailers }),
      taskQueues: [TASK_QUEUES.main],
    });

    const { id, firstRunId, finalRunId, state } = await worker!.runUntil(async () => {
      const row = await createCampaign({ db: testDb.db, temporal: env.client }, siteId, {
        name: 'Long',
        subject: 'Hi',
        html: '<p>Hi</p>',
        listId,
        sendingConfigId: configId,
        batchSize: 10,
        scheduledAt: new Date().toISOString(),
      });
      const handle = env.client.workflow.getHandle(workflowIds.campaign(row.id));
      const firstRunId = (await handle.describe()).runId;
      await handle.result();
      return { id: row.id, firstRunId, finalRunId: (await handle.describe()).runId, state: await handle.query(campaignStateQuery) };
    });

    expect(finalRunId).not.toBe(firstRunId);
    expect(state.totals.sent).toBe(300);
    expect(await getCampaign(testDb.db, siteId, id)).toMatchObject({ status: 'sent', totalRecipients: 300, sentCount: 300 });
    const deliveries = deliveriesByAddress(fake.emails);
    expect(deliveries.size).toBe(300);
    expect([...deliveries.values()].every((n) => n === 1)).toBe(true);
  });
});
