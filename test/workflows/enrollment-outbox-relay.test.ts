import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContact } from '../../src/db/repositories/contacts.js';
import { createList } from '../../src/db/repositories/lists.js';
import { ensureLogSendingConfig } from '../../src/db/repositories/sending-configs.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { enrollmentOutbox, enrollments, sequences } from '../../src/db/schema.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { workflowIds } from '../../src/domain/ids.js';
import { TASK_QUEUES } from '../../src/temporal/task-queues.js';
import type { enrollmentOutboxWorkflow } from '../../workflows/enrollment-outbox.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { createTimeSkippingEnv } from '../helpers/temporal.js';
import { startTestWorkers, type RunningTestWorkers } from '../helpers/workers.js';
import { createSequence } from './enrollment-fixtures.js';

// The enrollment-outbox relay over hours of (skipped) time: it drains what is staged whenever it is
// staged, and keeps its history short by continuing as new, without a gap or a second start.

const SECRET = 'outbox-relay-test-secret-0123456789abcdef';

let env: TestWorkflowEnvironment;
let testDb: TestDb;
let workers: RunningTestWorkers;

beforeAll(async () => {
  [env, testDb] = await Promise.all([createTimeSkippingEnv(), createTestDb()]);
  workers = await startTestWorkers({ env, db: testDb.db, resendBaseUrl: 'http://127.0.0.1:9', secret: SECRET });
});

afterAll(async () => {
  await workers?.stop();
  await env?.teardown();
  await testDb?.close();
});

describe('enrollment-outbox relay', () => {
  it('drains journeys staged at any time over four hours, continuing as new on the way', async () => {
    const site = await createSite(testDb.db, { name: 'relay over time' });
    const { config } = await ensureLogSendingConfig(testDb.db, createSecretBox(SECRET), site.id);
    const list = await createList(testDb.db, site.id, { name: 'Signups' });
    const { sequenceId } = await createSequence(testDb.db, site.id, config.id, { welcome: { subject: 'Welcome', delay: [1, 'days'] } });
    await testDb.db.update(sequences).set({ trigger: { type: 'list_add', listId: list.id } }).where(eq(sequences.id, sequenceId));

    const early = await createContact(testDb.db, site.id, { email: 'early@example.com', lists: [list.id] });
    const handle = await env.client.workflow.start<typeof enrollmentOutboxWorkflow>('enrollmentOutboxWorkflow', {
      workflowId: workflowIds.enrollmentOutbox(),
      taskQueue: TASK_QUEUES.main,
      // A round a minute: four hours are 240 rounds, past the 200 after which a run continues as new.
      args: [{ everyMs: 60_000 }],
    });
    const firstRunId = handle.firstExecutionRunId;
    await env.sleep('2 hours');
    const late = await createContact(testDb.db, site.id, { email: 'late@example.com', lists: [list.id] });
    await env.sleep('2 hours');

    const journeys = await testDb.db.select().from(enrollments).where(eq(enrollments.sequenceId, sequenceId));
    expect(journeys.map((e) => [e.contactId, e.status]).sort()).toEqual([
      [early.id, 'active'],
      [late.id, 'active'],
    ].sort());
    expect(await testDb.db.select().from(enrollmentOutbox).where(eq(enrollmentOutbox.siteId, site.id))).toEqual([]);
    for (const journey of journeys) {
      expect((await env.client.workflow.getHandle(journey.workflowId).describe()).status.name).toBe('RUNNING');
    }
    const relay = await env.client.workflow.getHandle(workflowIds.enrollmentOutbox()).describe();
    expect(relay.status.name).toBe('RUNNING');
    expect(relay.runId).not.toBe(firstRunId);
    await handle.terminate('test over');
  }, 60_000);
});
