import { setTimeout as sleep } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createApiKey } from '../../src/db/repositories/api-keys.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { createLogger } from '../../src/logger.js';
import { startApi } from '../../src/server.js';
import { stateQuery } from '../../workflows/enrollment.contract.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { startFakeResend, type FakeResend } from '../helpers/fake-resend.js';
import { newWebhookSecret, resendBounce, signWebhook } from '../helpers/svix.js';
import { createTimeSkippingEnv } from '../helpers/temporal.js';
import { startTestWorkers, type RunningTestWorkers } from '../helpers/workers.js';
import { DAY, sendTimeline } from './enrollment-fixtures.js';

// A Resend bounce webhook, arriving over real HTTP while an enrollment sleeps, ends the journey at
// once. Real API, real workers, the time-skipping test server; the only fake is the Resend API.

const SECRET = 'bounce-ends-sequence-secret-0123456789abcdef';
const WEBHOOK_SECRET = newWebhookSecret();

let env: TestWorkflowEnvironment;
let testDb: TestDb;
let resend: FakeResend;
let workers: RunningTestWorkers;
let api: Awaited<ReturnType<typeof startApi>>;
let key: string;
let configId: number;

// Tests read JSON loosely; the assertions are the type check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

beforeAll(async () => {
  [env, testDb, resend] = await Promise.all([createTimeSkippingEnv(), createTestDb(), startFakeResend()]);
  workers = await startTestWorkers({ env, db: testDb.db, resendBaseUrl: resend.url, secret: SECRET });
  api = await startApi(
    { db: testDb.db, temporal: env.client, config: loadConfig({ NODE_ENV: 'test', TIDINGS_SECRET: SECRET }), logger: createLogger('silent') },
    { port: 0, host: '127.0.0.1' },
  );
  const site = await createSite(testDb.db, { name: 'Bounce' });
  key = (await createApiKey(testDb.db, { siteId: site.id, name: 'test' })).key;
  const config = await call('POST', '/sending-configs', {
    name: 'Resend',
    provider: 'resend',
    fromEmail: 'hello@example.test',
    credentials: { apiKey: resend.apiKey },
    webhookSecret: WEBHOOK_SECRET,
  });
  expect(config.status, JSON.stringify(config.body)).toBe(201);
  configId = config.body.data.id;
});

afterAll(async () => {
  await api?.close();
  await workers?.stop();
  await env?.teardown();
  await testDb?.close();
  await resend?.close();
});

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${api.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json };
}

/** Polls in real time (time stands still on the test server while nothing awaits a result). */
async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const emailsTo = (address: string) => resend.emails.filter((e) => [e.payload.to].flat().includes(address));

describe('a Resend bounce during a sequence', () => {
  it('ends a 3-day sequence sleep at once: the enrollment exits as bounced and no further email is sent', async () => {
    const sequence = await call('POST', '/sequences', { name: 'Onboarding', sendingConfigId: configId });
    expect(sequence.status).toBe(201);
    const sequenceId = sequence.body.data.id;
    for (const step of [
      { subject: 'Welcome!', html: '<p>Hi</p>', delayValue: 0, delayUnit: 'minutes' },
      { subject: 'Three days later', html: '<p>Still there?</p>', delayValue: 3, delayUnit: 'days' },
    ]) {
      expect((await call('POST', `/sequences/${sequenceId}/steps`, step)).status).toBe(201);
    }
    const steps = (await call('GET', `/sequences/${sequenceId}/steps`)).body.data;
    const contact = await call('POST', '/contacts', { email: 'gone@example.com', firstName: 'Ada' });
    const contactId = contact.body.data.id;

    const enrolled = await call('POST', `/sequences/${sequenceId}/enroll`, { contactId });
    expect(enrolled.body.data).toMatchObject({ enrolled: 1 });
    const [enrollment] = (await call('GET', `/sequences/${sequenceId}/enrollments?contactId=${contactId}`)).body.data;
    const handle = env.client.workflow.getHandle(enrollment.workflowId);

    // The welcome email went out and the journey now sleeps 3 days toward the second step.
    const [welcome] = await until('the welcome email', async () => emailsTo('gone@example.com').length === 1 && emailsTo('gone@example.com'));
    expect(welcome!.payload.subject).toBe('Welcome!');
    const asleep = await until('the 3-day sleep', async () => {
      const state = await handle.query(stateQuery);
      return state.history.length === 1 && state.nextStepId === steps[1].id && state;
    });
    expect(Date.parse(asleep.nextStepAt!) - Date.parse(asleep.history[0]!.at)).toBeGreaterThan(3 * DAY - 60_000);
    const sendId = asleep.history[0]!.sendId!;
    await until('the provider id on the send', async () => (await call('GET', `/sends/${sendId}`)).body.data.providerMessageId === welcome!.id);

    // Resend reports a permanent bounce of the welcome email, over the real HTTP route.
    const signed = signWebhook(WEBHOOK_SECRET, resendBounce(welcome!.id, 'Permanent'));
    const webhook = await fetch(`${api.url}/webhooks/resend`, { method: 'POST', headers: signed.headers, body: signed.body });
    expect(webhook.status).toBe(200);

    const result = await handle.result();
    expect(result).toMatchObject({ status: 'exited', exitReason: 'bounced', nextStepAt: null });
    const timeline = await sendTimeline(handle);
    // Closed on the signal, long before the 3-day timer would have fired.
    expect(timeline.closedAtMs! - timeline.startedAtMs).toBeLessThan(DAY);

    // Skip past the 3 days: still only the welcome email.
    await env.sleep(4 * DAY);
    await sleep(500);
    expect(emailsTo('gone@example.com').map((e) => e.payload.subject)).toEqual(['Welcome!']);

    expect((await call('GET', `/enrollments/${enrollment.id}`)).body.data).toMatchObject({ status: 'exited', exitReason: 'bounced' });
    expect((await call('GET', `/contacts/${contactId}`)).body.data).toMatchObject({ status: 'bounced' });
    expect((await call('GET', `/sends/${sendId}`)).body.data).toMatchObject({ status: 'bounced' });
    expect((await call('GET', '/suppressions?email=gone@example.com')).body.data).toEqual([
      expect.objectContaining({ email: 'gone@example.com', reason: 'hard_bounce' }),
    ]);
  });
});
