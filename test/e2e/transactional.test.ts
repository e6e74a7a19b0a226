import { setTimeout as sleep } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createApiKey } from '../../src/db/repositories/api-keys.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { createLogger } from '../../src/logger.js';
import { startApi } from '../../src/server.js';
import { IDEMPOTENCY_KEY_TTL_MS } from '../../src/db/repositories/idempotency.js';
import { STRANDED_SEND_ERROR, failStrandedSends } from '../../src/services/transactional.js';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes.js';
import { httpClient, unreachableTemporal } from '../api/support.js';
import { startTestWorkers, type RunningTestWorkers } from '../helpers/workers.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { startFakeResend, type FakeResend } from '../helpers/fake-resend.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { createDevServerEnv } from '../helpers/temporal.js';

// POST /send through the real API, the real worker (both task queues) and a Temporal dev server; the
// only fakes are the providers' far ends: a local Resend API and a local SMTP server.

const SECRET = 'transactional-e2e-secret-0123456789abcdef';

let env: TestWorkflowEnvironment;
let testDb: TestDb;
let resend: FakeResend;
let smtp: SmtpSink;
let workers: RunningTestWorkers;
let api: Awaited<ReturnType<typeof startApi>>;
let call: ReturnType<typeof httpClient>;
let callB: ReturnType<typeof httpClient>;
let keyA: string;
let configId: number;
let configB: number;

// Tests read JSON loosely; the assertions are the type check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const config = () => loadConfig({ NODE_ENV: 'test', TIDINGS_SECRET: SECRET, RATE_LIMIT_PER_MINUTE: '100000' });

beforeAll(async () => {
  [env, testDb, resend, smtp] = await Promise.all([createDevServerEnv(), createTestDb(), startFakeResend(), startSmtpSink()]);
  const logger = createLogger('silent');
  workers = await startTestWorkers({ env, db: testDb.db, resendBaseUrl: resend.url, secret: SECRET });
  api = await startApi({ db: testDb.db, temporal: env.client, config: config(), logger }, { port: 0, host: '127.0.0.1' });

  const siteA = await createSite(testDb.db, { name: 'Acme' });
  const siteB = await createSite(testDb.db, { name: 'Other' });
  keyA = (await createApiKey(testDb.db, { siteId: siteA.id })).key;
  call = httpClient(`${api.url}/api/v1`, keyA);
  callB = httpClient(`${api.url}/api/v1`, (await createApiKey(testDb.db, { siteId: siteB.id })).key);
  const resendConfig = { name: 'Resend', provider: 'resend', fromEmail: 'hello@acme.test', fromName: 'Acme', credentials: { apiKey: resend.apiKey } };
  const created = await call('POST', '/sending-configs', { body: { ...resendConfig, replyTo: 'support@acme.test' } });
  expect(created.status, created.text).toBe(201);
  configId = created.body.data.id;
  configB = (await callB('POST', '/sending-configs', { body: resendConfig })).body.data.id;
});

afterAll(async () => {
  await api?.close();
  await workers?.stop();
  await env?.teardown();
  await testDb?.close();
  await resend?.close();
  await smtp?.close();
});

beforeEach(() => resend.reset());

/** Polls GET /sends/:id as a client would until the send leaves `queued`. */
async function settled(sendId: number, client = call): Promise<Json> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await client('GET', `/sends/${sendId}`);
    expect(res.status, res.text).toBe(200);
    if (res.body.data.status !== 'queued') return res.body.data;
    if (Date.now() > deadline) throw new Error(`send ${sendId} still queued`);
    await sleep(50);
  }
}

async function sendCount(client = call): Promise<number> {
  return (await client('GET', '/sends?limit=1')).body.pagination.total;
}

async function createContact(body: Record<string, unknown>): Promise<number> {
  const res = await call('POST', '/contacts', { body });
  expect(res.status, res.text).toBe(201);
  return res.body.data.id;
}

describe('POST /send end to end', () => {
  it('delivers the rendered email to the provider exactly as asked and shows it sent on GET /sends/:id', async () => {
    const contactId = await createContact({ email: 'ada@example.com', firstName: '<b>Ada</b>', customFields: { plan: 'pro' } });
    const started = Date.now();

    const res = await call('POST', '/send', {
      body: {
        to: 'Ada@Example.com',
        subject: 'Welcome, {{ firstName }}',
        html: '<p>Hello {{ firstName }}, you are on {{ contact.customFields.plan }}. Code: {{ code }}</p>',
        variables: { code: '42' },
        sendingConfigId: configId,
        cc: 'boss@example.com',
        headers: { 'X-Entity-Ref-ID': 'order-1234' },
      },
    });

    expect(res.status, res.text).toBe(202);
    expect(res.body).toEqual({ data: { sendId: expect.any(Number), status: 'queued' } });
    const send = await settled(res.body.data.sendId);
    expect(resend.emails).toHaveLength(1);
    const [email] = resend.emails;
    // The contact's name is data, not markup: escaped in the HTML, as written in the subject.
    expect(email!.payload).toEqual({
      from: 'Acme <hello@acme.test>',
      to: ['ada@example.com'],
      cc: ['boss@example.com'],
      reply_to: 'support@acme.test',
      subject: 'Welcome, <b>Ada</b>',
      html: '<p>Hello &lt;b&gt;Ada&lt;/b&gt;, you are on pro. Code: 42</p>',
      text: 'Hello <b>Ada</b>, you are on pro. Code: 42',
      headers: { 'X-Entity-Ref-ID': 'order-1234' },
    });
    expect(email!.idempotencyKey).toMatch(/^transactional:[0-9a-f-]{36}$/);
    expect(send).toMatchObject({
      id: res.body.data.sendId,
      kind: 'transactional',
      status: 'sent',
      contactId,
      toEmail: 'ada@example.com',
      subject: 'Welcome, <b>Ada</b>',
      html: email!.payload.html,
      providerMessageId: email!.id,
      sendingConfigId: configId,
      attempts: 1,
      error: null,
      idempotencyKey: email!.idempotencyKey,
    });
    expect(Date.now() - started).toBeLessThan(10_000);

    // Findable in the Temporal Web UI by the recipient (visibility is eventually consistent).
    const found: Json[] = [];
    for (let i = 0; i < 50 && found.length === 0; i++) {
      for await (const wf of env.client.workflow.list({ query: `ContactEmail = "ada@example.com"` })) found.push(wf);
      if (!found.length) await sleep(200);
    }
    expect(found.map((wf) => wf.workflowId)).toEqual([`send:${send.id}`]);
    expect(found[0].taskQueue).toBe('tidings-transactional');
    expect(found[0].typedSearchAttributes.get(SEARCH_ATTRIBUTES.ContactId)).toBe(contactId);
  });

  it('renders a template for a contact with per-send variables', async () => {
    const contactId = await createContact({ email: 'grace@example.com', firstName: 'Grace' });
    const template = await call('POST', '/templates', {
      body: { name: 'Reset', subject: 'Reset your password, {{ firstName | default: "there" }}', html: '<a href="{{ resetUrl }}">Reset</a> for {{ email }}' },
    });
    expect(template.status, template.text).toBe(201);

    const res = await call('POST', '/send', {
      body: { contactId, templateId: template.body.data.id, variables: { resetUrl: 'https://app.example.com/reset/abc' }, sendingConfigId: configId },
    });

    expect(res.status, res.text).toBe(202);
    const send = await settled(res.body.data.sendId);
    expect(send).toMatchObject({ status: 'sent', templateId: template.body.data.id, contactId, toEmail: 'grace@example.com' });
    expect(resend.emails.map((e) => [e.payload.to, e.payload.subject, e.payload.html])).toEqual([
      [['grace@example.com'], 'Reset your password, Grace', '<a href="https://app.example.com/reset/abc">Reset</a> for grace@example.com'],
    ]);
  });

  it('answers a retried request with the same Idempotency-Key with the same send and sends one email', async () => {
    const body = { to: 'once@example.com', subject: 'Receipt', html: '<p>Paid</p>', sendingConfigId: configId };
    const headers = { 'idempotency-key': 'order-1234-receipt' };

    const first = await call('POST', '/send', { body, headers });
    const retry = await call('POST', '/send', { body, headers });

    expect(first.status).toBe(202);
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    await settled(first.body.data.sendId);
    await sleep(300);
    expect(resend.emails).toHaveLength(1);
    expect(resend.emails[0]!.idempotencyKey).toMatch(/^transactional:\d+:order-1234-receipt$/);
  });

  it('leaves the send queued with a 503 while Temporal is down, and a retry with the same key delivers it once', async () => {
    const down = unreachableTemporal();
    const outage = await startApi(
      { db: testDb.db, temporal: down.client, config: config(), logger: createLogger('silent') },
      { port: 0, host: '127.0.0.1' },
    );
    try {
      const body = { to: 'outage@example.com', subject: 'Your code', html: '<p>123456</p>', sendingConfigId: configId };
      const headers = { 'idempotency-key': 'login-code-77' };
      const before = await sendCount();

      const failed = await httpClient(`${outage.url}/api/v1`, keyA)('POST', '/send', { body, headers });
      expect(failed.status, failed.text).toBe(503);
      expect(failed.body.error.code).toBe('service_unavailable');
      expect(await sendCount()).toBe(before + 1);
      const queued = (await call('GET', '/sends?limit=1')).body.data[0];
      expect(queued).toMatchObject({ status: 'queued', toEmail: 'outage@example.com' });

      const retried = await call('POST', '/send', { body, headers });
      expect(retried.status, retried.text).toBe(202);
      expect(retried.body.data.sendId).toBe(queued.id);
      expect((await settled(queued.id)).status).toBe('sent');
      expect(await sendCount()).toBe(before + 1);
      expect(resend.emails).toHaveLength(1);
    } finally {
      await outage.close();
      await down.connection.close();
    }
  });

  it('stops a batch at the first infrastructure failure, and fails what no retry picked up once the key expired', async () => {
    const down = unreachableTemporal();
    const outage = await startApi(
      { db: testDb.db, temporal: down.client, config: config(), logger: createLogger('silent') },
      { port: 0, host: '127.0.0.1' },
    );
    try {
      const emails = Array.from({ length: 40 }, (_, i) => ({ to: `stranded${i}@example.com`, subject: 'Code', html: '<p>1</p>', sendingConfigId: configId }));
      const before = await sendCount();
      const failed = await httpClient(`${outage.url}/api/v1`, keyA)('POST', '/send/batch', { body: { emails } });
      expect(failed.status, failed.text).toBe(503);
      const recorded = (await sendCount()) - before;
      // Recording stops with the answer: nothing more is written after the 503 went out.
      await sleep(500);
      expect((await sendCount()) - before).toBe(recorded);
      const queued = (await call('GET', `/sends?status=queued&limit=100`)).body.data.filter((s: Json) => s.toEmail.startsWith('stranded'));
      expect(queued).toHaveLength(recorded);

      // Never retried: a day later (the Idempotency-Key lifetime) each is failed with its reason, not queued for ever.
      const swept = await failStrandedSends({ db: testDb.db, temporal: env.client }, { now: new Date(Date.now() + IDEMPOTENCY_KEY_TTL_MS + 60_000) });
      expect(swept).toBeGreaterThanOrEqual(recorded);
      for (const send of queued) {
        const after = (await call('GET', `/sends/${send.id}`)).body.data;
        expect(after).toMatchObject({ status: 'failed', error: STRANDED_SEND_ERROR });
      }
    } finally {
      await outage.close();
      await down.connection.close();
    }
  });

  it('refuses bad input with a clear 4xx and sends nothing', async () => {
    const valid = { to: 'ok@example.com', subject: 'Hi', html: '<p>Hi</p>', sendingConfigId: configId };
    const before = await sendCount();
    const cases: [string, unknown, number, string, string?][] = [
      ['unknown sendingConfigId', { ...valid, sendingConfigId: 999_999 }, 404, 'sending_config_not_found', 'sendingConfigId'],
      ["another site's sending config", { ...valid, sendingConfigId: configB }, 404, 'sending_config_not_found', 'sendingConfigId'],
      ['neither to nor contactId', { subject: 'Hi', html: '<p>Hi</p>', sendingConfigId: configId }, 400, 'validation_failed', 'to'],
      ['both to and contactId', { ...valid, contactId: 1 }, 400, 'validation_failed', 'contactId'],
      ['a bad email', { ...valid, to: 'not-an-email' }, 400, 'validation_failed', 'to'],
      ['a bad cc', { ...valid, cc: ['fine@example.com', 'nope'] }, 400, 'validation_failed', 'cc.1'],
      ['no content', { to: 'ok@example.com', sendingConfigId: configId }, 400, 'validation_failed', 'html'],
      ['subject without html', { to: 'ok@example.com', subject: 'Hi', sendingConfigId: configId }, 400, 'validation_failed', 'html'],
      ['both content kinds', { ...valid, templateId: 1 }, 400, 'validation_failed', 'templateId'],
      ['no sendingConfigId', { to: 'ok@example.com', subject: 'Hi', html: '<p>Hi</p>' }, 400, 'validation_failed', 'sendingConfigId'],
      ['an unknown template', { to: 'ok@example.com', templateId: 999_999, sendingConfigId: configId }, 404, 'template_not_found', 'templateId'],
      ['an unknown contact', { contactId: 999_999, subject: 'Hi', html: '<p>Hi</p>', sendingConfigId: configId }, 404, 'contact_not_found', 'contactId'],
      ['a Liquid syntax error', { ...valid, html: '<p>{{ name </p>' }, 400, 'template_syntax', 'html'],
      ['a reserved header', { ...valid, headers: { From: 'ceo@bank.test' } }, 400, 'validation_failed', 'headers.From'],
      ['a header with a newline', { ...valid, headers: { 'X-Test': 'a\r\nBcc: x@example.com' } }, 400, 'validation_failed', 'headers.X-Test'],
      ['an unknown field', { ...valid, from: 'ceo@bank.test' }, 400, 'validation_failed'],
    ];
    for (const [what, body, status, code, path] of cases) {
      const res = await call('POST', '/send', { body });
      expect({ what, status: res.status, code: res.body.error?.code }).toEqual({ what, status, code });
      if (path) expect(res.body.error.details?.map((d: Json) => d.path), what).toContain(path);
    }
    const malformed = await call('POST', '/send', { raw: '{"to": "a@example.com",' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('invalid_json');

    await sleep(300);
    expect(await sendCount()).toBe(before);
    expect(resend.requests).toHaveLength(0);
  });

  it('refuses a suppressed address or a bounced contact with 422 and still mails an unsubscribed contact', async () => {
    const suppressed = await call('POST', '/suppressions', { body: { email: 'gone@example.com', reason: 'manual' } });
    expect(suppressed.status, suppressed.text).toBe(201);
    const bouncedId = await createContact({ email: 'bounced@example.com', status: 'bounced' });
    const unsubscribedId = await createContact({ email: 'unsubscribed@example.com', status: 'unsubscribed' });
    const content = { subject: 'Your receipt', html: '<p>Paid</p>', sendingConfigId: configId };
    const before = await sendCount();

    const byAddress = await call('POST', '/send', { body: { ...content, to: 'GONE@example.com' } });
    const byContact = await call('POST', '/send', { body: { ...content, contactId: bouncedId } });
    const byAddressOfBounced = await call('POST', '/send', { body: { ...content, to: 'bounced@example.com' } });

    for (const res of [byAddress, byContact, byAddressOfBounced]) {
      expect(res.status, res.text).toBe(422);
      expect(res.body.error.code).toBe('recipient_suppressed');
    }
    expect(await sendCount()).toBe(before);

    const receipt = await call('POST', '/send', { body: { ...content, contactId: unsubscribedId } });
    expect(receipt.status, receipt.text).toBe(202);
    expect((await settled(receipt.body.data.sendId)).status).toBe('sent');
    expect(resend.emails.map((e) => e.payload.to)).toEqual([['unsubscribed@example.com']]);
  });
});

describe('POST /send/batch end to end', () => {
  it('queues each email, reports a refused one at its position and delivers the rest', async () => {
    await call('POST', '/suppressions', { body: { email: 'batch-gone@example.com', reason: 'complaint' } });
    const content = { subject: 'Hi {{ name }}', html: '<p>Hi {{ name }}</p>', sendingConfigId: configId };

    const res = await call('POST', '/send/batch', {
      body: {
        emails: [
          { ...content, to: 'one@example.com', variables: { name: 'One' } },
          { ...content, to: 'batch-gone@example.com' },
          { ...content, to: 'three@example.com', variables: { name: 'Three' } },
        ],
      },
    });

    expect(res.status, res.text).toBe(202);
    expect(res.body.data).toEqual([
      { sendId: expect.any(Number), status: 'queued' },
      { error: { code: 'recipient_suppressed', message: expect.stringContaining('batch-gone@example.com') } },
      { sendId: expect.any(Number), status: 'queued' },
    ]);
    for (const item of [res.body.data[0], res.body.data[2]]) expect((await settled(item.sendId)).status).toBe('sent');
    expect(resend.emails.map((e) => [e.payload.to, e.payload.subject]).sort()).toEqual([
      [['one@example.com'], 'Hi One'],
      [['three@example.com'], 'Hi Three'],
    ]);
  });

  it('refuses an oversize batch or one malformed email with a 400 and sends nothing', async () => {
    const email = { to: 'many@example.com', subject: 'Hi', html: '<p>Hi</p>', sendingConfigId: configId };
    const before = await sendCount();

    const oversize = await call('POST', '/send/batch', { body: { emails: Array.from({ length: 101 }, () => email) } });
    const oneBad = await call('POST', '/send/batch', { body: { emails: [email, { ...email, to: 'nope' }] } });
    const empty = await call('POST', '/send/batch', { body: { emails: [] } });

    expect([oversize.status, oneBad.status, empty.status]).toEqual([400, 400, 400]);
    expect(oversize.body.error.details).toEqual([{ path: 'emails', message: expect.stringMatching(/at most 100 emails/) }]);
    expect(oneBad.body.error.details.map((d: Json) => d.path)).toEqual(['emails.1.to']);
    await sleep(300);
    expect(await sendCount()).toBe(before);
    expect(resend.requests).toHaveLength(0);
  });
});

describe('POST /send through the other providers end to end', () => {
  it('records the message and sends nothing through the log provider', async () => {
    const logConfig = await call('POST', '/sending-configs', { body: { name: 'Log', provider: 'log', fromEmail: 'dev@acme.test' } });
    expect(logConfig.status, logConfig.text).toBe(201);

    const res = await call('POST', '/send', {
      body: { to: 'dev-null@example.com', subject: 'Hello', html: '<p>Logged</p>', sendingConfigId: logConfig.body.data.id },
    });

    expect(res.status, res.text).toBe(202);
    const send = await settled(res.body.data.sendId);
    expect(send).toMatchObject({ status: 'sent', providerMessageId: expect.stringMatching(/^log_[0-9a-f]{32}$/), html: '<p>Logged</p>', text: 'Logged' });
    expect(resend.requests).toHaveLength(0);
  });

  it('delivers over real SMTP to the sink with the idempotency key as a header', async () => {
    const smtpConfig = await call('POST', '/sending-configs', {
      body: { name: 'SMTP', provider: 'smtp', fromEmail: 'mailer@acme.test', fromName: 'Acme Mailer', credentials: { host: smtp.host, port: smtp.port, secure: false } },
    });
    expect(smtpConfig.status, smtpConfig.text).toBe(201);

    const res = await call('POST', '/send', {
      body: {
        to: 'smtp-person@example.com',
        subject: 'Über SMTP',
        html: '<p>Sent over <b>SMTP</b></p>',
        text: 'Sent over SMTP',
        replyTo: 'help@acme.test',
        headers: { 'X-Entity-Ref-ID': 'smtp-1' },
        sendingConfigId: smtpConfig.body.data.id,
      },
    });

    expect(res.status, res.text).toBe(202);
    const send = await settled(res.body.data.sendId);
    expect(smtp.messages).toHaveLength(1);
    const [mail] = smtp.messages;
    expect(mail!.envelope).toEqual({ mailFrom: 'mailer@acme.test', rcptTo: ['smtp-person@example.com'] });
    expect(mail!.parsed.from?.value).toEqual([{ name: 'Acme Mailer', address: 'mailer@acme.test' }]);
    expect(mail!.parsed.subject).toBe('Über SMTP');
    expect(mail!.parsed.html).toBe('<p>Sent over <b>SMTP</b></p>');
    expect(mail!.parsed.text?.trim()).toBe('Sent over SMTP');
    expect(mail!.parsed.replyTo?.text).toBe('help@acme.test');
    expect(mail!.header('x-entity-ref-id')).toBe('smtp-1');
    expect(mail!.header('x-tidings-idempotency-key')).toBe(send.idempotencyKey);
    expect(send).toMatchObject({ status: 'sent', providerMessageId: mail!.parsed.messageId });
  });
});

