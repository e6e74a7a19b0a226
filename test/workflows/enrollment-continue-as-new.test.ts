import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createSendingConfig } from '../../src/db/repositories/sending-configs.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { createMailers, type Mailers } from '../../src/mail/from-config.js';
import { createLogger } from '../../src/logger.js';
import { contactEventSignal, stateQuery, type EnrollmentCarry } from '../../workflows/enrollment.contract.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { startFakeResend, type FakeResend } from '../helpers/fake-resend.js';
import { createDevServerEnv } from '../helpers/temporal.js';
import {
  createContact,
  createEnrollment,
  createSequence,
  enrollmentRow,
  eventually,
  mainWorker,
  recordedSteps,
  startEnrollment,
  type StepSpec,
} from './enrollment-fixtures.js';

let env: TestWorkflowEnvironment;
let testDb: TestDb;
let fake: FakeResend;
let mailers: Mailers;
const secretBox = createSecretBox('enrollment-continue-as-new-secret-0123456789');

beforeAll(async () => {
  [env, testDb, fake] = await Promise.all([
    // A dev server that suggests continue-as-new after 40 history events (4,096 by default), so a
    // journey of a few steps crosses several runs.
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

describe('enrollment workflow history', () => {
  it('continues as new on a long journey, carrying its place and history, and sends every step exactly once', async () => {
    const site = await createSite(testDb.db, { name: 'Long journeys' });
    const config = await createSendingConfig(testDb.db, secretBox, site.id, {
      name: 'Resend',
      provider: 'resend',
      fromEmail: 'hello@acme.test',
      credentials: { apiKey: fake.apiKey },
    });
    // Lessons with a wait for the contact's `next` event between them. Steps that are due at once run
    // in one workflow task (local activities), where the server cannot suggest continuing as new; the
    // waits end each task, as the delays of a real journey do, and the events arrive as signals.
    const LESSONS = 6;
    const steps: Record<string, StepSpec> = {};
    for (let i = 1; i <= LESSONS; i++) {
      steps[`lesson${i}`] = { subject: `Lesson ${i}` };
      if (i < LESSONS) steps[`wait${i}`] = { type: 'wait_for_event', event: 'next', timeout: [1, 'weeks'], then: `lesson${i + 1}`, else: `lesson${i + 1}` };
    }
    const { sequenceId, stepIds } = await createSequence(testDb.db, site.id, config.id, steps);
    const contact = await createContact(testDb.db, site.id, 'learner@example.com');
    const enrollment = await createEnrollment(testDb.db, site.id, sequenceId, contact);
    const worker = await mainWorker(env, { db: testDb.db, logger: createLogger('silent'), secretBox, mailers });

    const { result, firstRunEnd, lastRunCarry, finalQuery } = await worker.runUntil(async () => {
      const handle = await startEnrollment(env.client, enrollment);
      const latestRun = env.client.workflow.getHandle(enrollment.workflowId);
      for (let i = 1; i < LESSONS; i++) {
        // Only an event that arrives while the step waits counts: wait for the wait, then post it.
        await eventually(async () => fake.emails.length === i && (await latestRun.query(stateQuery)).waitingFor === 'next');
        await latestRun.signal(contactEventSignal, { name: 'next' });
      }
      const result = await handle.result();
      const firstRun = await env.client.workflow.getHandle(enrollment.workflowId, handle.firstExecutionRunId).fetchHistory();
      const latest = env.client.workflow.getHandle(enrollment.workflowId);
      const started = (await latest.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
      const input = started?.input?.payloads?.[0]?.data;
      return {
        result,
        firstRunEnd: firstRun.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes ? 'continued-as-new' : 'other',
        lastRunCarry: input ? (JSON.parse(Buffer.from(input).toString()) as { state?: EnrollmentCarry }).state : undefined,
        finalQuery: await latest.query(stateQuery),
      };
    });

    expect(firstRunEnd).toBe('continued-as-new');
    expect(lastRunCarry?.seq).toBeGreaterThan(0);
    expect(fake.emails.map((e) => e.payload.subject)).toEqual(Array.from({ length: LESSONS }, (_, i) => `Lesson ${i + 1}`));
    expect(new Set(fake.emails.map((e) => e.idempotencyKey)).size).toBe(LESSONS);
    expect(result.status).toBe('completed');
    expect(result.history.map((h) => h.stepId)).toEqual(Object.values(stepIds));
    expect(result.history.filter((h) => h.outcome === 'event_received')).toHaveLength(LESSONS - 1);
    expect(finalQuery).toEqual(result);
    expect((await recordedSteps(testDb.db, enrollment.row.id)).map((r) => r.seq)).toEqual(Array.from({ length: 2 * LESSONS - 1 }, (_, i) => i + 1));
    expect((await enrollmentRow(testDb.db, enrollment.row.id)).status).toBe('completed');
  });
});
