import { Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createSendingConfig } from '../../src/db/repositories/sending-configs.js';
import { getSend, type SendRow } from '../../src/db/repositories/sends.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { addSuppression } from '../../src/db/repositories/suppressions.js';
import { workflowIds } from '../../src/domain/ids.js';
import { DELIVERY_FAILURES } from '../../src/domain/delivery.js';
import { createMailers, type Mailers } from '../../src/mail/from-config.js';
import { createLogger } from '../../src/logger.js';
import { queueTransactionalSend, type TransactionalEmailInput } from '../../src/services/transactional.js';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes.js';
import { TASK_QUEUES } from '../../src/temporal/task-queues.js';
import { createWorkers } from '../../src/worker.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { startFakeResend, type FakeResend } from '../helpers/fake-resend.js';
import { maybeRecordHistory } from '../helpers/histories.js';
import { createTimeSkippingEnv, getWorkflowBundle } from '../helpers/temporal.js';

let env: TestWorkflowEnvironment;
let testDb: TestDb;
let fake: FakeResend;
let mailers: Mailers;
let siteId: number;
let configId: number;
const logger = createLogger('silent');
const secretBox = createSecretBox('transactional-workflow-test-secret-0123456789');

beforeAll(async () => {
  [env, testDb, fake] = await Promise.all([createTimeSkippingEnv(), createTestDb(), startFakeResend()]);
  mailers = createMailers({ resendBaseUrl: fake.url });
  siteId = (await createSite(testDb.db, { name: 'Acme' })).id;
  configId = await resendConfig();
});
afterEach(() => fake.reset());
afterAll(async () => {
  await mailers?.close();
  await fake?.close();
  await env?.teardown();
  await testDb?.close();
});

async function resendConfig(maxPerSecond: number | null = null): Promise<number> {
  const config = await createSendingConfig(testDb.db, secretBox, siteId, {
    name: 'Resend',
    provider: 'resend',
    fromEmail: 'hello@acme.test',
    fromName: 'Acme',
    credentials: { apiKey: fake.apiKey },
    maxPerSecond,
  });
  return config.id;
}

/** The transactional-queue worker of createWorkers, with the given mailers (default: the real ones). */
async function transactionalWorker(withMailers: Mailers = mailers): Promise<Worker> {
  const workers = await createWorkers({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    db: testDb.db,
    logger,
    workflowBundle: await getWorkflowBundle(),
    activities: createActivities({ db: testDb.db, logger, secretBox, mailers: withMailers }),
    taskQueues: [TASK_QUEUES.transactional],
  });
  return workers[0]!;
}

/** Queues a send exactly as `POST /send` does (same service, workflow id, queue and search attributes). */
function queue(email: Partial<TransactionalEmailInput> = {}, idempotencyKey?: string) {
  return queueTransactionalSend(
    { db: testDb.db, temporal: env.client },
    siteId,
    { to: 'ada@example.com', subject: 'Your receipt', html: '<p>Thanks!</p>', sendingConfigId: configId, ...email },
    { idempotencyKey },
  );
}

const handleOf = (sendId: number) => env.client.workflow.getHandle(workflowIds.transactional(sendId));

async function sendRow(sendId: number): Promise<SendRow> {
  return (await getSend(testDb.db, siteId, sendId))!;
}

const emailRequests = () => fake.requests.filter((r) => r.path === '/emails');

describe('transactional send workflow', () => {
  it('delivers the email once through the provider and records it as sent', async () => {
    const worker = await transactionalWorker();
    const { sendId, status } = await queue({ html: '<p>Thanks, {{ name }}!</p>', variables: { name: 'Ada' }, replyTo: 'support@acme.test' });
    expect(status).toBe('queued');

    const result = await worker.runUntil(handleOf(sendId).result());

    expect(result).toMatchObject({ sendId, status: 'sent', providerMessageId: fake.emails[0]!.id });
    await maybeRecordHistory(handleOf(sendId), 'transactional-sent');
    expect(fake.emails).toHaveLength(1);
    expect(fake.emails[0]!.payload).toMatchObject({
      from: 'Acme <hello@acme.test>',
      to: ['ada@example.com'],
      subject: 'Your receipt',
      html: '<p>Thanks, Ada!</p>',
      text: 'Thanks, Ada!',
      reply_to: 'support@acme.test',
    });
    const row = await sendRow(sendId);
    expect(fake.emails[0]!.idempotencyKey).toBe(row.idempotencyKey);
    expect(row).toMatchObject({ status: 'sent', providerMessageId: fake.emails[0]!.id, attempts: 1, error: null, kind: 'transactional' });
    expect(row.sentAt).toBeInstanceOf(Date);
  });

  it('carries the SiteId, ContactEmail and ContactId search attributes', async () => {
    const worker = await transactionalWorker();
    const { sendId } = await queue({ to: 'grace@example.com' });
    const description = await worker.runUntil(async () => {
      await handleOf(sendId).result();
      return handleOf(sendId).describe();
    });
    expect(description.taskQueue).toBe(TASK_QUEUES.transactional);
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.SiteId)).toBe(siteId);
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.ContactEmail)).toBe('grace@example.com');
  });

  it('waits out two provider 429s for the retry-after they name and then sends exactly one email', async () => {
    fake.failNext(2, { status: 429, headers: { 'retry-after': '30' } });
    const worker = await transactionalWorker();
    const { sendId } = await queue();

    const result = await worker.runUntil(handleOf(sendId).result());
    const description = await handleOf(sendId).describe();

    expect(result.status).toBe('sent');
    expect(emailRequests().map((r) => r.status)).toEqual([429, 429, 200]);
    await maybeRecordHistory(handleOf(sendId), 'transactional-rate-limited-then-sent');
    expect(fake.emails).toHaveLength(1);
    // Both retries waited the provider's 30 s (skipped by the test server), not the 1 s / 2 s backoff.
    expect(description.closeTime!.getTime() - description.startTime.getTime()).toBeGreaterThanOrEqual(60_000);
    expect(await sendRow(sendId)).toMatchObject({ status: 'sent', attempts: 3, providerMessageId: fake.emails[0]!.id });
  });

  it('retries three provider 500s with backoff and then sends exactly one email', async () => {
    fake.failNext(3, { status: 500 });
    const worker = await transactionalWorker();
    const { sendId } = await queue();

    const result = await worker.runUntil(handleOf(sendId).result());

    expect(result.status).toBe('sent');
    expect(emailRequests().map((r) => r.status)).toEqual([500, 500, 500, 200]);
    expect(fake.emails).toHaveLength(1);
    expect(await sendRow(sendId)).toMatchObject({ status: 'sent', attempts: 4, error: null });
  });

  it('fails a send the provider refuses with 422 after one request, and records why', async () => {
    fake.failNext(1, { status: 422 });
    const worker = await transactionalWorker();
    const { sendId } = await queue();

    const failure = await worker.runUntil(handleOf(sendId).result().catch((err: unknown) => err));

    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause;
    await maybeRecordHistory(handleOf(sendId), 'transactional-refused');
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe(DELIVERY_FAILURES.sendFailed);
    expect(emailRequests()).toHaveLength(1);
    expect(fake.emails).toHaveLength(0);
    const row = await sendRow(sendId);
    expect(row).toMatchObject({ status: 'failed', attempts: 1, providerMessageId: null, sentAt: null });
    expect(row.error).toMatch(/^invalid_recipient: Invalid `to` field/);
  });

  it('sends one email when the worker dies after the provider accepted it but before the database heard', async () => {
    // The first attempt gets the provider's acceptance and then dies before markSendSent, as a
    // SIGKILLed worker would; Temporal retries the activity after the failure.
    let died = false;
    const dying: Mailers = {
      forConfig(loaded) {
        const mailer = mailers.forConfig(loaded);
        return {
          ...mailer,
          async send(message) {
            const outcome = await mailer.send(message);
            if (!died) {
              died = true;
              throw new Error('worker killed after the provider accepted the email');
            }
            return outcome;
          },
        };
      },
      close: () => Promise.resolve(),
    };
    const worker = await transactionalWorker(dying);
    const { sendId } = await queue();

    const result = await worker.runUntil(handleOf(sendId).result());

    expect(died).toBe(true);
    expect(result.status).toBe('sent');
    // The retry carried the same idempotency key, so the provider replayed its first answer.
    expect(emailRequests().map((r) => r.replayed)).toEqual([false, true]);
    expect(new Set(emailRequests().map((r) => r.headers['idempotency-key'])).size).toBe(1);
    expect(fake.emails).toHaveLength(1);
    expect(await sendRow(sendId)).toMatchObject({ status: 'sent', attempts: 2, providerMessageId: fake.emails[0]!.id });
  });

  it('gives up after twelve attempts when the provider stays down and records the failure', async () => {
    fake.setMode('server_error');
    const worker = await transactionalWorker();
    const { sendId } = await queue();

    const failure = await worker.runUntil(handleOf(sendId).result().catch((err: unknown) => err));

    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(emailRequests()).toHaveLength(12);
    await maybeRecordHistory(handleOf(sendId), 'transactional-gave-up');
    expect(fake.emails).toHaveLength(0);
    const row = await sendRow(sendId);
    expect(row).toMatchObject({ status: 'failed', attempts: 12 });
    expect(row.error).toMatch(/transient: An unexpected error occurred\. \(gave up after 12 attempts\)$/);
  });

  it('sends nothing when the recipient was suppressed while the send waited', async () => {
    const { sendId } = await queue({ to: 'bounced-later@example.com' });
    await addSuppression(testDb.db, siteId, { email: 'bounced-later@example.com', reason: 'hard_bounce' });
    const worker = await transactionalWorker();

    const result = await worker.runUntil(handleOf(sendId).result());

    expect(result).toMatchObject({ sendId, status: 'suppressed' });
    await maybeRecordHistory(handleOf(sendId), 'transactional-suppressed');
    expect(fake.requests).toHaveLength(0);
    expect(await sendRow(sendId)).toMatchObject({ status: 'suppressed', providerMessageId: null });
  });

  it('spaces sends through a rate-limited config at its maxPerSecond', async () => {
    const limited = await resendConfig(4);
    const handedToProvider: number[] = [];
    const timed: Mailers = {
      forConfig(loaded) {
        const mailer = mailers.forConfig(loaded);
        return { ...mailer, send: (message) => (handedToProvider.push(Date.now()), mailer.send(message)) };
      },
      close: () => Promise.resolve(),
    };
    const worker = await transactionalWorker(timed);
    const queued = [];
    for (let i = 0; i < 8; i++) queued.push(await queue({ to: `person${i}@example.com`, sendingConfigId: limited }));

    // A plain client: the time-skipping one would jump past the heartbeat timeout while an activity
    // really sleeps for its rate-limit slot. Here time runs as on a real server.
    const realTime = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
    await worker.runUntil(Promise.all(queued.map(({ sendId }) => realTime.workflow.getHandle(workflowIds.transactional(sendId)).result())));

    expect(fake.emails).toHaveLength(8);
    expect(emailRequests()).toHaveLength(8);
    // Each got its slot on the first attempt: waiting for the limiter is not a failure.
    for (const { sendId } of queued) expect((await sendRow(sendId)).attempts).toBe(1);
    // 8 sends at 4/s (no burst below 10/s): the last slot comes 7/4 s after the first.
    expect(Math.max(...handedToProvider) - Math.min(...handedToProvider)).toBeGreaterThanOrEqual(1_700);
  });
});
