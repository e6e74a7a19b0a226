import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { addTagToContact } from '../../src/db/repositories/contacts.js';
import { createSendingConfig } from '../../src/db/repositories/sending-configs.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { contacts, emailEvents, sends, sequences, sequenceSteps, sites } from '../../src/db/schema.js';
import type { EnrollmentState } from '../../src/domain/enrollment.js';
import { createMailers, type Mailers } from '../../src/mail/from-config.js';
import { createLogger } from '../../src/logger.js';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes.js';
import { contactEventSignal, contactStatusChangedSignal, sequenceStatusChangedSignal, stateQuery } from '../../workflows/enrollment.contract.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { startFakeResend, type FakeResend } from '../helpers/fake-resend.js';
import { createTimeSkippingEnv } from '../helpers/temporal.js';
import {
  createContact,
  createEnrollment,
  createSequence,
  DAY,
  enrollmentRow,
  eventually,
  HOUR,
  mainWorker,
  MINUTE,
  recordedSteps,
  sendTimeline,
  startEnrollment,
  type StepSpec,
} from './enrollment-fixtures.js';
import { maybeRecordHistory } from '../helpers/histories.js';

let env: TestWorkflowEnvironment;
let testDb: TestDb;
let fake: FakeResend;
let mailers: Mailers;
let siteId: number;
let configId: number;
const logger = createLogger('silent');
const secretBox = createSecretBox('enrollment-workflow-test-secret-0123456789');

/** The seed's onboarding flow: 0 minutes, 1 day, 3 days. */
const ONBOARDING: Record<string, StepSpec> = {
  welcome: { subject: 'Welcome!', delay: [0, 'minutes'] },
  gettingStarted: { subject: 'Getting started', delay: [1, 'days'] },
  proTips: { subject: 'Pro tips', delay: [3, 'days'] },
};

beforeAll(async () => {
  [env, testDb, fake] = await Promise.all([createTimeSkippingEnv(), createTestDb(), startFakeResend()]);
  mailers = createMailers({ resendBaseUrl: fake.url });
  ({ siteId, configId } = await siteWithConfig('Acme'));
});
afterEach(() => fake.reset());
afterAll(async () => {
  await mailers?.close();
  await fake?.close();
  await env?.teardown();
  await testDb?.close();
});

async function siteWithConfig(name: string): Promise<{ siteId: number; configId: number }> {
  const site = await createSite(testDb.db, { name });
  const config = await createSendingConfig(testDb.db, secretBox, site.id, {
    name: 'Resend',
    provider: 'resend',
    fromEmail: 'hello@acme.test',
    fromName: 'Acme',
    credentials: { apiKey: fake.apiKey },
  });
  return { siteId: site.id, configId: config.id };
}

/** Well under the 60 s test timeout: see runWorker. */
const WORKER_RUN_LIMIT_MS = 45_000;

function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the workflow did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

/**
 * Runs a fresh main-queue worker (a worker runs once) until `until` settles, for at most
 * WORKER_RUN_LIMIT_MS: a stuck test then fails on its own with its worker shut down, instead of
 * leaving the worker registered on the task queue and failing every later test of the file.
 */
async function runWorker<T>(until: Promise<T> | (() => Promise<T>)): Promise<T> {
  const worker = await mainWorker(env, { db: testDb.db, logger, secretBox, mailers });
  return worker.runUntil(() => within(typeof until === 'function' ? until() : until, WORKER_RUN_LIMIT_MS));
}

/**
 * The results of several workflows, awaited one after the other. The time-skipping client unlocks
 * time skipping for each `result()` it waits on and locks it again after, on one server-wide counter:
 * two waits at once unlock it twice, so the server skips time while an activity still runs (the
 * activity times out, a workflow jumps 10 years to its default execution timeout) and the counter
 * ends unbalanced, which stalls time skipping for every later test of the file.
 */
async function resultsInTurn(handles: { result(): Promise<EnrollmentState> }[]): Promise<EnrollmentState[]> {
  const results: EnrollmentState[] = [];
  for (const handle of handles) results.push(await handle.result());
  return results;
}

let contactCounter = 0;
/** A sequence, a fresh contact and an enrollment of that contact (not started). */
async function setUp(steps: Record<string, StepSpec>, options: Parameters<typeof createSequence>[4] & { site?: { siteId: number; configId: number }; contact?: Parameters<typeof createContact>[3] } = {}) {
  const site = options.site ?? { siteId, configId };
  const { sequenceId, stepIds } = await createSequence(testDb.db, site.siteId, site.configId, steps, options);
  const contact = await createContact(testDb.db, site.siteId, `person${++contactCounter}@example.com`, options.contact);
  const enrollment = await createEnrollment(testDb.db, site.siteId, sequenceId, contact);
  return { sequenceId, stepIds, contact, enrollment };
}

/** Emails the fake provider accepted for this address, in order: subject and the idempotency key. */
function emailsTo(address: string) {
  return fake.emails.filter((e) => [e.payload.to].flat().includes(address)).map((e) => ({ subject: e.payload.subject, key: e.idempotencyKey }));
}

/** Send times relative to enrollment (server clock, from the workflow history). */
async function sendOffsets(handle: Parameters<typeof sendTimeline>[0]) {
  const timeline = await sendTimeline(handle);
  return timeline.sends.map((s) => ({ stepId: s.stepId, offsetMs: s.atMs - timeline.startedAtMs }));
}

/** Each offset is within a minute after the expected one (activities take real milliseconds between timers). */
function expectOffsets(actual: { offsetMs: number }[], expected: number[]) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => {
    expect(a.offsetMs, `send ${i + 1}`).toBeGreaterThanOrEqual(expected[i]!);
    expect(a.offsetMs, `send ${i + 1}`).toBeLessThan(expected[i]! + MINUTE);
  });
}

const sentCount = (state: EnrollmentState) => state.history.filter((h) => h.outcome === 'sent').length;

describe('enrollment workflow', () => {
  it('sends the seed onboarding emails at T, T+1 day and T+4 days to the enrolled contact, then completes', async () => {
    const { stepIds, contact, enrollment } = await setUp(ONBOARDING);
    const started = Date.now();

    const handle = await startEnrollment(env.client, enrollment);
    const result = await runWorker(handle.result());

    expect(emailsTo(contact.email)).toEqual([
      { subject: 'Welcome!', key: `enrollment:${enrollment.workflowId}:${stepIds.welcome}` },
      { subject: 'Getting started', key: `enrollment:${enrollment.workflowId}:${stepIds.gettingStarted}` },
      { subject: 'Pro tips', key: `enrollment:${enrollment.workflowId}:${stepIds.proTips}` },
    ]);
    expect(fake.emails[0]!.payload).toMatchObject({ from: 'Acme <hello@acme.test>', html: '<p>Welcome!, Ada!</p>' });
    const offsets = await sendOffsets(handle);
    expect(offsets.map((o) => o.stepId)).toEqual([stepIds.welcome, stepIds.gettingStarted, stepIds.proTips]);
    expectOffsets(offsets, [0, DAY, 4 * DAY]);
    // Four days of journey in (much) less than a minute of wall time.
    expect(Date.now() - started).toBeLessThan(60_000);

    expect(result).toMatchObject({ status: 'completed', exitReason: null, nextStepAt: null });
    expect(result.history.map((h) => [h.stepId, h.outcome])).toEqual([
      [stepIds.welcome, 'sent'],
      [stepIds.gettingStarted, 'sent'],
      [stepIds.proTips, 'sent'],
    ]);
    const row = await enrollmentRow(testDb.db, enrollment.row.id);
    expect(row).toMatchObject({ status: 'completed', currentStepId: stepIds.proTips, nextStepAt: null });
    const recorded = await recordedSteps(testDb.db, enrollment.row.id);
    expect(recorded.map((r) => r.outcome)).toEqual(['sent', 'sent', 'sent']);
    const sendRows = await testDb.db.select().from(sends).where(eq(sends.enrollmentId, enrollment.workflowId));
    expect(sendRows.map((s) => [s.kind, s.status, s.sequenceId, s.toEmail])).toEqual(
      Array(3).fill(['sequence', 'sent', enrollment.input.sequenceId, contact.email]),
    );
    expect(recorded.map((r) => r.sendId)).toEqual(sendRows.map((s) => s.id));
    await maybeRecordHistory(handle, 'enrollment-seed-onboarding');
  });

  it('finishes the seed\'s 5-day flow in seconds of wall time', async () => {
    const { contact, enrollment } = await setUp({
      day0: { subject: 'Welcome to the course', delay: [0, 'minutes'] },
      day1: { subject: 'Lesson 1', delay: [1, 'days'] },
      day2: { subject: 'Lesson 2', delay: [1, 'days'] },
      day3: { subject: 'Lesson 3', delay: [1, 'days'] },
      day5: { subject: 'Wrap-up', delay: [2, 'days'] },
    });
    const started = Date.now();

    const handle = await startEnrollment(env.client, enrollment);
    await runWorker(handle.result());

    expect(Date.now() - started).toBeLessThan(20_000);
    expect(emailsTo(contact.email).map((e) => e.subject)).toEqual(['Welcome to the course', 'Lesson 1', 'Lesson 2', 'Lesson 3', 'Wrap-up']);
    expectOffsets(await sendOffsets(handle), [0, DAY, 2 * DAY, 3 * DAY, 5 * DAY]);
  });

  it('ends at once without another email when the contact unsubscribes during the 3-day sleep', async () => {
    const { stepIds, contact, enrollment } = await setUp(ONBOARDING);

    const handle = await startEnrollment(env.client, enrollment);
    const result = await runWorker(async () => {
      await eventually(async () => sentCount(await handle.query(stateQuery)) === 1);
      await env.sleep(DAY);
      // Now asleep until T+4d, headed for "Pro tips".
      await eventually(async () => {
        const state = await handle.query(stateQuery);
        return sentCount(state) === 2 && state.nextStepId === stepIds.proTips;
      });
      await handle.signal(contactStatusChangedSignal, { status: 'unsubscribed' });
      return handle.result();
    });

    expect(emailsTo(contact.email).map((e) => e.subject)).toEqual(['Welcome!', 'Getting started']);
    expect(result).toMatchObject({ status: 'exited', exitReason: 'unsubscribed', nextStepAt: null });
    const timeline = await sendTimeline(handle);
    // It ended on the signal (about a day in), not when the 3-day timer would have fired.
    expect(timeline.closedAtMs! - timeline.startedAtMs).toBeLessThan(2 * DAY);
    expect(await enrollmentRow(testDb.db, enrollment.row.id)).toMatchObject({ status: 'exited', exitReason: 'unsubscribed', nextStepAt: null });
    await maybeRecordHistory(handle, 'enrollment-unsubscribed-while-sleeping');
  });

  describe('a condition on "opened step 2"', () => {
    const steps: Record<string, StepSpec> = {
      welcome: { subject: 'Welcome!' },
      lesson: { subject: 'Your first lesson', delay: [1, 'days'] },
      openedLesson: { type: 'condition', condition: { kind: 'opened', stepId: 0 }, then: 'next', else: 'reminder', delay: [1, 'days'] },
      reminder: { subject: 'Did you miss your first lesson?' },
      next: { subject: 'Lesson two', delay: [1, 'days'] },
    };

    async function runWithOpen(opened: boolean) {
      const { stepIds, contact, enrollment } = await setUp(steps);
      await testDb.db
        .update(sequenceSteps)
        .set({ condition: { kind: 'opened', stepId: stepIds.lesson! } })
        .where(eq(sequenceSteps.id, stepIds.openedLesson!));
      const handle = await startEnrollment(env.client, enrollment);
      const result = await runWorker(async () => {
        await eventually(async () => sentCount(await handle.query(stateQuery)) === 1);
        await env.sleep(DAY);
        await eventually(async () => sentCount(await handle.query(stateQuery)) === 2);
        if (opened) {
          // What the open pixel (issue 6) will record for the lesson's send.
          const [send] = await testDb.db.select().from(sends).where(eq(sends.idempotencyKey, `enrollment:${enrollment.workflowId}:${stepIds.lesson}`));
          await testDb.db.insert(emailEvents).values({ siteId, type: 'opened', sendId: send!.id, contactId: contact.id, sequenceId: enrollment.input.sequenceId, stepId: stepIds.lesson! });
        }
        return handle.result();
      });
      return { result, stepIds, contact, handle };
    }

    it('takes the "then" branch when the contact opened step 2: straight to the next lesson', async () => {
      const { result, stepIds, contact, handle } = await runWithOpen(true);
      expect(emailsTo(contact.email).map((e) => e.subject)).toEqual(['Welcome!', 'Your first lesson', 'Lesson two']);
      expect(result.history.find((h) => h.stepId === stepIds.openedLesson)?.outcome).toBe('condition_true');
      expectOffsets(await sendOffsets(handle), [0, DAY, 3 * DAY]);
      await maybeRecordHistory(handle, 'enrollment-condition-opened');
    });

    it('takes the "else" branch when the contact did not open step 2: a reminder first, then the next lesson', async () => {
      const { result, stepIds, contact, handle } = await runWithOpen(false);
      expect(emailsTo(contact.email).map((e) => e.subject)).toEqual(['Welcome!', 'Your first lesson', 'Did you miss your first lesson?', 'Lesson two']);
      expect(result.history.find((h) => h.stepId === stepIds.openedLesson)?.outcome).toBe('condition_false');
      expectOffsets(await sendOffsets(handle), [0, DAY, 2 * DAY, 3 * DAY]);
    });
  });

  it('branches on a tag and on a custom field: a VIP on the pro plan gets both emails, a free contact neither', async () => {
    const steps: Record<string, StepSpec> = {
      isVip: { type: 'condition', condition: { kind: 'has_tag', tag: 'vip' }, then: 'vipWelcome', else: 'isPro' },
      vipWelcome: { subject: 'A VIP welcome' },
      isPro: { type: 'condition', condition: { kind: 'field', field: 'customFields.plan', op: 'eq', value: 'pro' }, then: 'proTips', else: null },
      proTips: { subject: 'Tips for pro users', delay: [1, 'days'] },
    };
    const vip = await setUp(steps, { contact: { customFields: { plan: 'pro' } } });
    await addTagToContact(testDb.db, siteId, vip.contact.id, 'vip');
    const free = await setUp(steps, { contact: { customFields: { plan: 'free' } } });

    // The results are awaited one after the other, never together: see resultsInTurn.
    const [vipResult, freeResult] = await runWorker(async () =>
      resultsInTurn(await Promise.all([startEnrollment(env.client, vip.enrollment), startEnrollment(env.client, free.enrollment)])),
    );

    expect(emailsTo(vip.contact.email).map((e) => e.subject)).toEqual(['A VIP welcome', 'Tips for pro users']);
    expect(emailsTo(free.contact.email)).toEqual([]);
    expect(vipResult!.history.map((h) => h.outcome)).toEqual(['condition_true', 'sent', 'condition_true', 'sent']);
    expect(freeResult!.history.map((h) => h.outcome)).toEqual(['condition_false', 'condition_false']);
    expect(freeResult!.status).toBe('completed');
  });

  describe('wait for event', () => {
    const steps: Record<string, StepSpec> = {
      welcome: { subject: 'Your cart is waiting' },
      waitForPurchase: { type: 'wait_for_event', event: 'purchased', timeout: [3, 'days'], then: null, else: 'nudge' },
      nudge: { subject: 'Still thinking it over?' },
    };

    it('takes the event branch when the contact purchases while it waits, and sends no nudge', async () => {
      const { stepIds, contact, enrollment } = await setUp(steps);
      const handle = await startEnrollment(env.client, enrollment);
      const result = await runWorker(async () => {
        await eventually(async () => (await handle.query(stateQuery)).waitingFor === 'purchased');
        await handle.signal(contactEventSignal, { name: 'purchased', data: { orderId: 'A-1' } });
        return handle.result();
      });

      expect(emailsTo(contact.email).map((e) => e.subject)).toEqual(['Your cart is waiting']);
      expect(result.status).toBe('completed');
      expect(result.history.map((h) => [h.stepId, h.outcome])).toEqual([
        [stepIds.welcome, 'sent'],
        [stepIds.waitForPurchase, 'event_received'],
      ]);
      const timeline = await sendTimeline(handle);
      expect(timeline.closedAtMs! - timeline.startedAtMs).toBeLessThan(DAY);
      await maybeRecordHistory(handle, 'enrollment-wait-event-received');
    });

    it('takes the timeout branch after 3 days without the event and sends the nudge then', async () => {
      const { stepIds, contact, enrollment } = await setUp(steps);
      const handle = await startEnrollment(env.client, enrollment);
      const result = await runWorker(handle.result());

      expect(emailsTo(contact.email).map((e) => e.subject)).toEqual(['Your cart is waiting', 'Still thinking it over?']);
      expect(result.history.find((h) => h.stepId === stepIds.waitForPurchase)?.outcome).toBe('timed_out');
      expectOffsets(await sendOffsets(handle), [0, 3 * DAY]);
    });

    it('exits at once on an exitOn event, whatever step it is waiting for', async () => {
      const { contact, enrollment } = await setUp(ONBOARDING, { exitOn: { events: ['purchased'] } });
      const handle = await startEnrollment(env.client, enrollment);
      const result = await runWorker(async () => {
        await eventually(async () => sentCount(await handle.query(stateQuery)) === 1);
        await handle.signal(contactEventSignal, { name: 'purchased' });
        return handle.result();
      });
      expect(emailsTo(contact.email).map((e) => e.subject)).toEqual(['Welcome!']);
      expect(result).toMatchObject({ status: 'exited', exitReason: 'event:purchased' });
    });
  });

  it('defers (never skips) an email that the site\'s 3-day frequency cap holds back', async () => {
    const capped = await siteWithConfig('Capped');
    await testDb.db.update(sites).set({ sendFrequencyCapDays: 3 }).where(eq(sites.id, capped.siteId));
    const { contact, enrollment } = await setUp(
      { first: { subject: 'One' }, second: { subject: 'Two', delay: [1, 'days'] }, third: { subject: 'Three', delay: [1, 'days'] } },
      { site: capped },
    );

    const handle = await startEnrollment(env.client, enrollment);
    await runWorker(handle.result());

    expect(emailsTo(contact.email).map((e) => e.subject)).toEqual(['One', 'Two', 'Three']);
    // Two was due at T+1d and went at T+3d; Three was due a day after that and went 3 days after Two.
    expectOffsets(await sendOffsets(handle), [0, 3 * DAY, 6 * DAY]);
    await maybeRecordHistory(handle, 'enrollment-frequency-cap-deferred');
  });

  it('shifts a send outside the window to the next allowed hour in the contact\'s timezone', async () => {
    const timeZone = 'Asia/Tokyo';
    const hourIn = (ms: number) => Number(new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' }).format(ms));
    const localHourNow = hourIn(await env.currentTimeMs());
    // A one-hour window opening three hours from now on the contact's (Tokyo) wall clock.
    const startHour = (localHourNow + 3) % 24;
    const { contact, enrollment } = await setUp(
      { welcome: { subject: 'Welcome!' } },
      { sendWindow: { days: [1, 2, 3, 4, 5, 6, 7], startHour, endHour: startHour + 1, timezone: 'America/New_York' }, contact: { timezone: timeZone } },
    );

    const handle = await startEnrollment(env.client, enrollment);
    await runWorker(handle.result());

    expect(emailsTo(contact.email).map((e) => e.subject)).toEqual(['Welcome!']);
    const { sends: [sent], startedAtMs } = await sendTimeline(handle);
    expect(hourIn(sent!.atMs)).toBe(startHour);
    expect(new Date(sent!.atMs).getUTCMinutes()).toBe(0);
    expect(sent!.atMs - startedAtMs).toBeGreaterThan(2 * HOUR);
    expect(sent!.atMs - startedAtMs).toBeLessThanOrEqual(3 * HOUR);
  });

  it('completes after step 2 when step 3 is deleted while it sleeps toward step 2', async () => {
    const { stepIds, contact, enrollment } = await setUp(ONBOARDING);
    const handle = await startEnrollment(env.client, enrollment);
    const result = await runWorker(async () => {
      await eventually(async () => sentCount(await handle.query(stateQuery)) === 1);
      await testDb.db.update(sequenceSteps).set({ deletedAt: new Date() }).where(eq(sequenceSteps.id, stepIds.proTips!));
      return handle.result();
    });
    expect(emailsTo(contact.email).map((e) => e.subject)).toEqual(['Welcome!', 'Getting started']);
    expect(result.status).toBe('completed');
  });

  it('moves on to step 3 when the step it sleeps toward is deleted, counting its delay from step 1', async () => {
    const { stepIds, contact, enrollment } = await setUp(ONBOARDING);
    const handle = await startEnrollment(env.client, enrollment);
    await runWorker(async () => {
      await eventually(async () => sentCount(await handle.query(stateQuery)) === 1);
      await testDb.db.update(sequenceSteps).set({ deletedAt: new Date() }).where(eq(sequenceSteps.id, stepIds.gettingStarted!));
      return handle.result();
    });
    expect(emailsTo(contact.email).map((e) => e.subject)).toEqual(['Welcome!', 'Pro tips']);
    expectOffsets(await sendOffsets(handle), [0, 3 * DAY]);
  });

  it('sends the edited content of a step edited before its turn', async () => {
    const { stepIds, contact, enrollment } = await setUp(ONBOARDING);
    const handle = await startEnrollment(env.client, enrollment);
    await runWorker(async () => {
      await eventually(async () => sentCount(await handle.query(stateQuery)) === 1);
      await testDb.db.update(sequenceSteps).set({ subject: 'Getting started (v2)' }).where(eq(sequenceSteps.id, stepIds.gettingStarted!));
      return handle.result();
    });
    expect(emailsTo(contact.email).map((e) => e.subject)).toEqual(['Welcome!', 'Getting started (v2)', 'Pro tips']);
  });

  it('runs a re-enrollment (run 2, its own workflow id) independently and sends every step again', async () => {
    const { sequenceId, contact, enrollment } = await setUp({ welcome: { subject: 'Welcome!' }, tips: { subject: 'Tips', delay: [1, 'days'] } });
    await runWorker(async () => (await startEnrollment(env.client, enrollment)).result());
    const again = await createEnrollment(testDb.db, siteId, sequenceId, contact, 2);
    expect(again.workflowId).toBe(`${enrollment.workflowId}:2`);

    const result = await runWorker(async () => (await startEnrollment(env.client, again)).result());

    expect(result.status).toBe('completed');
    const emails = emailsTo(contact.email);
    expect(emails.map((e) => e.subject)).toEqual(['Welcome!', 'Tips', 'Welcome!', 'Tips']);
    expect(new Set(emails.map((e) => e.key)).size).toBe(4);
    expect((await enrollmentRow(testDb.db, again.row.id)).status).toBe('completed');
  });

  it('holds sends while the sequence is paused and sends on resume', async () => {
    const { sequenceId, contact, enrollment } = await setUp({ welcome: { subject: 'Welcome!' } }, { status: 'paused' });
    const handle = await startEnrollment(env.client, enrollment);
    await runWorker(async () => {
      // The journey reached the send and is holding: nothing went out.
      await eventually(async () => (await handle.query(stateQuery)).nextStepId !== null);
      await new Promise((r) => setTimeout(r, 500));
      expect(emailsTo(contact.email)).toEqual([]);
      await testDb.db.update(sequences).set({ status: 'active' }).where(eq(sequences.id, sequenceId));
      await handle.signal(sequenceStatusChangedSignal, { status: 'active' });
      return handle.result();
    });
    expect(emailsTo(contact.email).map((e) => e.subject)).toEqual(['Welcome!']);
  });

  it('carries the SiteId, SequenceId, ContactId and ContactEmail search attributes even when started without them', async () => {
    const { contact, enrollment } = await setUp({ welcome: { subject: 'Welcome!' } });
    const handle = await startEnrollment(env.client, enrollment);
    await runWorker(handle.result());
    const { typedSearchAttributes } = await handle.describe();
    expect(typedSearchAttributes.get(SEARCH_ATTRIBUTES.SiteId)).toBe(siteId);
    expect(typedSearchAttributes.get(SEARCH_ATTRIBUTES.SequenceId)).toBe(String(enrollment.input.sequenceId));
    expect(typedSearchAttributes.get(SEARCH_ATTRIBUTES.ContactId)).toBe(contact.id);
    expect(typedSearchAttributes.get(SEARCH_ATTRIBUTES.ContactEmail)).toBe(contact.email);
  });

  it('sends one email when the worker dies after the provider accepted a step but before the database heard', async () => {
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
    const { contact, enrollment } = await setUp({ welcome: { subject: 'Welcome!' } });
    const handle = await startEnrollment(env.client, enrollment);
    const worker = await mainWorker(env, { db: testDb.db, logger, secretBox, mailers: dying });
    const result = await worker.runUntil(within(handle.result(), WORKER_RUN_LIMIT_MS));

    expect(died).toBe(true);
    expect(emailsTo(contact.email).map((e) => e.subject)).toEqual(['Welcome!']);
    // The retry carried the same idempotency key, so the provider replayed its first answer.
    expect(fake.requests.filter((r) => r.path === '/emails').map((r) => r.replayed)).toEqual([false, true]);
    expect(result.history.map((h) => h.outcome)).toEqual(['sent']);
  });

  it('ends quietly when the contact is deleted mid-journey', async () => {
    const { contact, enrollment } = await setUp(ONBOARDING);
    const handle = await startEnrollment(env.client, enrollment);
    const result = await runWorker(async () => {
      await eventually(async () => sentCount(await handle.query(stateQuery)) === 1);
      await testDb.db.delete(contacts).where(eq(contacts.id, contact.id));
      return handle.result();
    });
    expect(emailsTo(contact.email).map((e) => e.subject)).toEqual(['Welcome!']);
    expect(result).toMatchObject({ status: 'exited', exitReason: 'contact_deleted' });
  });

  it('ends without sending when the contact was unsubscribed before the first email', async () => {
    const { contact, enrollment } = await setUp(ONBOARDING, { contact: { status: 'unsubscribed' } });
    const result = await runWorker(async () => (await startEnrollment(env.client, enrollment)).result());
    expect(emailsTo(contact.email)).toEqual([]);
    expect(result).toMatchObject({ status: 'exited', exitReason: 'unsubscribed' });
  });
});
