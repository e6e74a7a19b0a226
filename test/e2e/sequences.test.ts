import { setTimeout as sleep } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createApiKey } from '../../src/db/repositories/api-keys.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { createLogger } from '../../src/logger.js';
import { startApi } from '../../src/server.js';
import { ensureOutboxRelays } from '../../src/temporal/relays.js';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes.js';
import { startTestWorkers, type RunningTestWorkers } from '../helpers/workers.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { startFakeResend, type FakeResend } from '../helpers/fake-resend.js';
import { createDevServerEnv } from '../helpers/temporal.js';

// The seed's calls through the real API, a real worker and a Temporal dev server; the only fake is
// the Resend API (test/helpers/fake-resend.ts), where the emails are observed.

const SECRET = 'sequences-e2e-secret-0123456789abcdef';
const DAY = 24 * 60 * 60 * 1000;

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
  [env, testDb, resend] = await Promise.all([createDevServerEnv(), createTestDb(), startFakeResend()]);
  const logger = createLogger('silent');
  workers = await startTestWorkers({ env, db: testDb.db, resendBaseUrl: resend.url, secret: SECRET });
  api = await startApi(
    { db: testDb.db, temporal: env.client, config: loadConfig({ NODE_ENV: 'test', TIDINGS_SECRET: SECRET }), logger },
    { port: 0, host: '127.0.0.1' },
  );
  // As every worker start does: the relay starts journeys staged by CSV imports (polling fast here).
  await ensureOutboxRelays(env.client, logger, { triggers: { everyMs: 250 } });
  const site = await createSite(testDb.db, { name: 'Sequences e2e' });
  key = (await createApiKey(testDb.db, { siteId: site.id, name: 'e2e' })).key;
  const config = await call('POST', '/sending-configs', {
    name: 'Resend',
    provider: 'resend',
    fromEmail: 'hello@example.test',
    credentials: { apiKey: resend.apiKey },
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

beforeEach(() => resend.reset());

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${api.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Follows a bulk enrollment job (as a client would) until it reports completed; answers its last state. */
async function jobCompleted(jobId: number): Promise<Json> {
  return until(`enrollment job ${jobId} to complete`, async () => {
    const job = (await call('GET', `/enrollment-jobs/${jobId}`)).body.data;
    return job.status === 'completed' && job;
  }, 120_000);
}

const emailsTo = (address: string) => resend.emails.filter((e) => [e.payload.to].flat().includes(address));

/** The seed's onboarding flow, created with the seed's exact calls. */
async function seedSequence(extra: Record<string, unknown> = {}): Promise<number> {
  const created = await call('POST', '/sequences', { name: 'Onboarding Flow', sendingConfigId: configId, ...extra });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.data.id;
  for (const step of [
    { subject: 'Welcome!', html: '...', delayValue: 0, delayUnit: 'minutes' },
    { subject: 'Getting started', html: '...', delayValue: 1, delayUnit: 'days' },
    { subject: 'Pro tips', html: '...', delayValue: 3, delayUnit: 'days' },
  ]) {
    const res = await call('POST', `/sequences/${id}/steps`, step);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  return id;
}

async function contact(email: string, extra: Record<string, unknown> = {}): Promise<number> {
  const res = await call('POST', '/contacts', { email, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data.id;
}

async function enrollmentOf(sequenceId: number, contactId: number): Promise<Json> {
  const res = await call('GET', `/sequences/${sequenceId}/enrollments?contactId=${contactId}`);
  return res.body.data[0];
}

async function visible(query: string): Promise<Json[]> {
  return until(`workflows matching ${query}`, async () => {
    const found: Json[] = [];
    for await (const wf of env.client.workflow.list({ query })) found.push(wf);
    return found.length ? found : undefined;
  });
}

describe('sequences end to end (API + worker + Temporal dev server + fake Resend)', () => {
  it('runs the seed: the first email reaches Resend and the enrollment shows the next step and when it fires', async () => {
    const sequenceId = await seedSequence();
    const contactId = await contact('ada@example.com', { firstName: 'Ada' });

    const enrolled = await call('POST', `/sequences/${sequenceId}/enroll`, { contactId });
    expect(enrolled.status).toBe(200);
    expect(enrolled.body.data).toMatchObject({ enrolled: 1, alreadyActive: 0, ids: { enrolled: [contactId] } });

    const [email] = await until('the welcome email', async () => emailsTo('ada@example.com').length > 0 && emailsTo('ada@example.com'));
    expect(email!.payload).toMatchObject({ subject: 'Welcome!', from: 'hello@example.test' });
    // The step's HTML as written, then the unsubscribe footer (the step has no {{ unsubscribeUrl }}) and
    // the open pixel (tracking is on by default; test/e2e/tracking.test.ts).
    expect(email!.payload.html).toMatch(/^\.\.\.<p [^>]*>Don't want these emails\? <a href="[^"]+\/u\/[^"]+"[^>]*>Unsubscribe<\/a><\/p><img src="[^"]+\/t\/o\/[^"]+" width="1" height="1"/);

    const steps = (await call('GET', `/sequences/${sequenceId}/steps`)).body.data;
    const row = await enrollmentOf(sequenceId, contactId);
    const state = await until('the live state after step 1', async () => {
      const res = await call('GET', `/enrollments/${row.id}`);
      return res.body.data.history.length === 1 && res.body.data.nextStepId !== null && res.body.data;
    });
    expect(state).toMatchObject({
      id: row.id,
      workflowId: `enrollment:${sequenceId}:${contactId}`,
      status: 'active',
      source: 'workflow',
      nextStepId: steps[1].id,
      history: [{ stepId: steps[0].id, outcome: 'sent', sendId: expect.any(Number) }],
    });
    // Step 2 is due one day after step 1 was due (enrollment, delay 0).
    const dueIn = Date.parse(state.nextStepAt) - Date.parse(state.enrolledAt);
    expect(dueIn).toBeGreaterThan(DAY - 60_000);
    expect(dueIn).toBeLessThan(DAY + 60_000);

    const sent = await call('GET', `/sends/${state.history[0].sendId}`);
    expect(sent.body.data).toMatchObject({ kind: 'sequence', sequenceId, stepId: steps[0].id, toEmail: 'ada@example.com' });

    const bySequence = await visible(`SequenceId = "${sequenceId}"`);
    expect(bySequence.map((w) => w.workflowId)).toEqual([`enrollment:${sequenceId}:${contactId}`]);
    const byEmail = await visible(`ContactEmail = "ada@example.com"`);
    expect(byEmail[0].typedSearchAttributes.get(SEARCH_ATTRIBUTES.ContactId)).toBe(contactId);
  });

  it('reports a contact enrolled twice as already active and sends one email', async () => {
    const sequenceId = await seedSequence();
    const contactId = await contact('twice@example.com');
    const first = await call('POST', `/sequences/${sequenceId}/enroll`, { contactId });
    const second = await call('POST', `/sequences/${sequenceId}/enroll`, { contactId });
    expect(first.body.data).toMatchObject({ enrolled: 1, alreadyActive: 0 });
    expect(second.body.data).toMatchObject({ enrolled: 0, alreadyActive: 1, ids: { alreadyActive: [contactId] } });
    await until('the welcome email', async () => emailsTo('twice@example.com').length > 0);
    await sleep(500);
    expect(emailsTo('twice@example.com')).toHaveLength(1);
    expect((await call('GET', `/sequences/${sequenceId}/enrollments`)).body.pagination.total).toBe(1);
  });

  it('ends a journey on unenroll: the workflow closes and the enrollment reads unenrolled', async () => {
    const sequenceId = await seedSequence();
    const contactId = await contact('leaver@example.com');
    await call('POST', `/sequences/${sequenceId}/enroll`, { contactId });
    await until('the welcome email', async () => emailsTo('leaver@example.com').length > 0);

    const res = await call('POST', `/sequences/${sequenceId}/unenroll`, { contactId });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ contactId, status: 'unenrolled' });
    const handle = env.client.workflow.getHandle(res.body.data.workflowId);
    await until('the workflow to close', async () => (await handle.describe()).status.name !== 'RUNNING');
    const state = await call('GET', `/enrollments/${res.body.data.id}`);
    expect(state.body.data).toMatchObject({ status: 'unenrolled', source: 'database' });
    expect((await call('POST', `/sequences/${sequenceId}/unenroll`, { contactId })).status).toBe(404);
  });

  it('re-enrolls a contact whose journey ended as run 2 when the sequence allows it, and refuses otherwise', async () => {
    const again = await seedSequence({ allowReenrollment: true });
    const once = await seedSequence();
    const contactId = await contact('again@example.com');
    for (const [i, sequenceId] of [again, once].entries()) {
      await call('POST', `/sequences/${sequenceId}/enroll`, { contactId });
      await until('the welcome email', async () => emailsTo('again@example.com').length === i + 1);
      expect((await call('POST', `/sequences/${sequenceId}/unenroll`, { contactId })).status).toBe(200);
    }
    const second = await call('POST', `/sequences/${again}/enroll`, { contactId });
    expect(second.body.data).toMatchObject({ enrolled: 1 });
    const run2 = await enrollmentOf(again, contactId);
    expect(run2).toMatchObject({ run: 2, status: 'active', workflowId: `enrollment:${again}:${contactId}:2` });
    const refused = await call('POST', `/sequences/${once}/enroll`, { contactId });
    expect(refused.body.data).toMatchObject({ enrolled: 0, alreadyEnrolled: 1 });
    await until('the second run’s welcome email', async () => emailsTo('again@example.com').length === 3);
  });

  it('enrolls a list of 300 contacts as a job whose progress reaches completed, and every one gets the first email', { timeout: 240_000 }, async () => {
    const list = await call('POST', '/lists', { name: 'Three hundred' });
    const emails = Array.from({ length: 300 }, (_, i) => `member${i}@example.com`);
    const bulk = await call('POST', '/contacts/bulk', { contacts: emails.map((email) => ({ email, lists: [list.body.data.id] })) });
    expect(bulk.status).toBe(200);
    const sequenceId = await seedSequence();

    const res = await call('POST', `/sequences/${sequenceId}/enroll`, { listId: list.body.data.id });
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({ status: 'running', total: 300 });
    const job = await jobCompleted(res.body.data.id);
    expect(job).toMatchObject({ total: 300, enrolled: 300, started: 300, alreadyActive: 0, notFound: 0, skipped: 0, progress: 1 });

    await until('300 welcome emails', async () => new Set(resend.emails.map((e) => [e.payload.to].flat()[0])).size >= 300, 200_000);
    expect(new Set(resend.emails.map((e) => [e.payload.to].flat()[0]))).toEqual(new Set(emails));
    expect(resend.emails.every((e) => e.payload.subject === 'Welcome!')).toBe(true);
    const active = await call('GET', `/sequences/${sequenceId}/enrollments?status=active&limit=1`);
    expect(active.body.pagination.total).toBe(300);
  });

  it('enrolls a contact added to the list of a list_add sequence', async () => {
    const list = await call('POST', '/lists', { name: 'Signups' });
    const sequenceId = await seedSequence({ trigger: { type: 'list_add', listId: list.body.data.id } });
    const contactId = await contact('signup@example.com');
    const added = await call('POST', `/lists/${list.body.data.id}/contacts`, { contactIds: [contactId] });
    expect(added.body.data).toMatchObject({ added: 1 });
    await until('the triggered welcome email', async () => emailsTo('signup@example.com').length > 0);
    expect((await enrollmentOf(sequenceId, contactId)).status).toBe('active');

    // A contact created straight into the list is enrolled too.
    await contact('direct@example.com', { lists: [list.body.data.id] });
    await until('the welcome email of a contact created in the list', async () => emailsTo('direct@example.com').length > 0);
  });

  it('enrolls contacts that join the list of a list_add sequence through a bulk upsert or a CSV import', async () => {
    const list = await call('POST', '/lists', { name: 'Imported' });
    const listId = list.body.data.id;
    const sequenceId = await seedSequence({ trigger: { type: 'list_add', listId } });
    const bulk = await call('POST', '/contacts/bulk', {
      contacts: [
        { email: 'bulk-1@example.com', lists: [listId] },
        { email: 'bulk-2@example.com', lists: [listId] },
      ],
    });
    expect(bulk.status, JSON.stringify(bulk.body)).toBe(200);
    await until('both bulk-upserted welcome emails', async () => emailsTo('bulk-1@example.com').length > 0 && emailsTo('bulk-2@example.com').length > 0);

    const form = new FormData();
    form.append('file', new Blob(['email,first_name\ncsv-1@example.com,Ada\ncsv-2@example.com,Grace\n'], { type: 'text/csv' }), 'contacts.csv');
    form.append('listIds', String(listId));
    const upload = await fetch(`${api.url}/api/v1/contacts/import`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: form });
    expect(upload.status, await upload.clone().text()).toBe(202);
    await until('both imported contacts’ welcome emails', async () => emailsTo('csv-1@example.com').length > 0 && emailsTo('csv-2@example.com').length > 0, 60_000);

    const active = await call('GET', `/sequences/${sequenceId}/enrollments?status=active&limit=1`);
    expect(active.body.pagination.total).toBe(4);
    // Upserting the same contacts into the same list again is not a new join: nobody gets a second welcome.
    await call('POST', '/contacts/bulk', { contacts: [{ email: 'bulk-1@example.com', lists: [listId] }] });
    await sleep(1000);
    expect(emailsTo('bulk-1@example.com')).toHaveLength(1);
  });

  it('enrolls a contact when the tag of a tag_add sequence is added', async () => {
    const tag = await call('POST', '/tags', { name: 'trial' });
    expect(tag.status, JSON.stringify(tag.body)).toBe(201);
    const sequenceId = await seedSequence({ trigger: { type: 'tag_add', tagId: tag.body.data.id } });
    const contactId = await contact('tagged@example.com');
    expect((await call('POST', `/contacts/${contactId}/tags`, { tag: 'trial' })).status).toBe(200);
    await until('the tag-triggered welcome email', async () => emailsTo('tagged@example.com').length > 0);
    expect((await enrollmentOf(sequenceId, contactId)).status).toBe('active');
  });

  it('enrolls the contacts of a segment', async () => {
    const segment = await call('POST', '/segments', {
      name: 'VIPs',
      rules: { operator: 'AND', conditions: [{ type: 'attribute', field: 'customFields.tier', op: 'eq', value: 'vip' }] },
    });
    expect(segment.status, JSON.stringify(segment.body)).toBe(201);
    await contact('vip1@example.com', { customFields: { tier: 'vip' } });
    await contact('vip2@example.com', { customFields: { tier: 'vip' } });
    await contact('regular@example.com', { customFields: { tier: 'free' } });
    const sequenceId = await seedSequence();
    const res = await call('POST', `/sequences/${sequenceId}/enroll`, { segmentId: segment.body.data.id });
    expect(res.status).toBe(202);
    expect(await jobCompleted(res.body.data.id)).toMatchObject({ total: 2, enrolled: 2, started: 2, alreadyActive: 0 });
    await until('both VIP emails', async () => emailsTo('vip1@example.com').length > 0 && emailsTo('vip2@example.com').length > 0);
    expect(emailsTo('regular@example.com')).toEqual([]);
  });

  it('enrolls on a named contact event and ends a journey whose exitOn event arrives', async () => {
    const triggered = await seedSequence({ trigger: { type: 'event', name: 'signed_up' }, exitOn: { events: ['purchased'] } });
    const contactId = await contact('buyer@example.com');
    const signup = await call('POST', `/contacts/${contactId}/events`, { name: 'signed_up', data: { plan: 'trial' } });
    expect(signup.status).toBe(201);
    expect(signup.body.data).toMatchObject({ enrolledInto: [triggered], signalled: 0 });
    await until('the welcome email', async () => emailsTo('buyer@example.com').length > 0);

    const purchase = await call('POST', `/contacts/${contactId}/events`, { name: 'purchased' });
    expect(purchase.body.data).toMatchObject({ enrolledInto: [], signalled: 1 });
    const row = await enrollmentOf(triggered, contactId);
    await until('the journey to exit', async () => (await call('GET', `/enrollments/${row.id}`)).body.data.status === 'exited');
  });

  it('pauses and resumes a sequence by signalling its active journeys', async () => {
    const sequenceId = await seedSequence();
    const contactId = await contact('pause@example.com');
    await call('POST', `/sequences/${sequenceId}/enroll`, { contactId });
    await until('the welcome email', async () => emailsTo('pause@example.com').length > 0);
    const paused = await call('PATCH', `/sequences/${sequenceId}`, { status: 'paused' });
    expect(paused.body.data.status).toBe('paused');
    expect((await call('POST', `/sequences/${sequenceId}/enroll`, { contactId: await contact('late@example.com') })).status).toBe(422);
    const resumed = await call('PATCH', `/sequences/${sequenceId}`, { status: 'active' });
    expect(resumed.body.data.status).toBe('active');
    const row = await enrollmentOf(sequenceId, contactId);
    expect((await call('GET', `/enrollments/${row.id}`)).body.data).toMatchObject({ status: 'active', source: 'workflow' });
  });
});
