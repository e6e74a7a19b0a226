import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingEmail } from '../../src/mail/mailer.js';
import { classifyResendError, createResendMailer } from '../../src/mail/resend.js';
import { startFakeResend, type FakeResend } from '../helpers/fake-resend.js';

let fake: FakeResend;

beforeAll(async () => {
  fake = await startFakeResend();
});
afterEach(() => fake.reset());
afterAll(async () => {
  await fake.close();
});

function mailer(overrides: { apiKey?: string; timeoutMs?: number; baseUrl?: string } = {}) {
  return createResendMailer({ apiKey: fake.apiKey, baseUrl: fake.url, defaultRetryAfterMs: 1500, ...overrides });
}

function email(n: number, overrides: Partial<OutgoingEmail> = {}): OutgoingEmail {
  return {
    from: { email: 'hello@example.test', name: 'Acme' },
    to: `user${n}@example.test`,
    subject: `Hello ${n}`,
    html: `<p>Hello ${n}</p>`,
    text: `Hello ${n}`,
    idempotencyKey: `test:${n}`,
    ...overrides,
  };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('Resend adapter: sending', () => {
  it('sends one email with exactly the body and headers Resend expects', async () => {
    const outcome = await mailer().send({
      from: { email: 'hello@example.test', name: 'Acme, Inc.' },
      to: 'ada@example.test',
      cc: ['cc@example.test'],
      bcc: ['bcc@example.test'],
      replyTo: 'support@example.test',
      subject: 'Welcome, Ada',
      html: '<h1>Hi Ada</h1>',
      text: 'Hi Ada',
      headers: { 'List-Unsubscribe': '<https://example.test/u/1>' },
      tags: [{ name: 'kind', value: 'transactional' }],
      idempotencyKey: 'transactional:42',
    });

    expect(fake.requests).toHaveLength(1);
    const request = fake.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/emails');
    expect(request.headers['authorization']).toBe(`Bearer ${fake.apiKey}`);
    expect(request.headers['idempotency-key']).toBe('transactional:42');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.body).toEqual({
      from: '"Acme, Inc." <hello@example.test>',
      to: ['ada@example.test'],
      cc: ['cc@example.test'],
      bcc: ['bcc@example.test'],
      reply_to: 'support@example.test',
      subject: 'Welcome, Ada',
      html: '<h1>Hi Ada</h1>',
      text: 'Hi Ada',
      headers: { 'List-Unsubscribe': '<https://example.test/u/1>' },
      tags: [{ name: 'kind', value: 'transactional' }],
    });
    expect(outcome).toEqual({ kind: 'sent', providerMessageId: fake.emails[0]!.id });
  });

  it('sends a retried message once and returns the first message id again', async () => {
    const m = mailer();
    const first = await m.send(email(1));
    const second = await m.send(email(1));

    expect(second).toEqual(first);
    expect(fake.requests.map((r) => r.replayed)).toEqual([false, true]);
    expect(fake.emails).toHaveLength(1);
  });

  it('sends a batch as one request to /emails/batch with every message in order', async () => {
    const messages = [email(1), email(2), email(3)];
    const outcomes = await mailer().sendBatch(messages);

    expect(fake.requests).toHaveLength(1);
    const request = fake.requests[0]!;
    expect(request.path).toBe('/emails/batch');
    expect(request.headers['x-batch-validation']).toBe('permissive');
    expect(request.headers['idempotency-key']).toMatch(/^batch:[0-9a-f]{64}$/);
    expect(request.body).toEqual(
      [1, 2, 3].map((n) => ({
        from: 'Acme <hello@example.test>',
        to: [`user${n}@example.test`],
        subject: `Hello ${n}`,
        html: `<p>Hello ${n}</p>`,
        text: `Hello ${n}`,
      })),
    );
    expect(outcomes).toEqual(fake.emails.map((e) => ({ kind: 'sent', providerMessageId: e.id })));
    expect(fake.emails.map((e) => (e.payload.to as string[])[0])).toEqual(messages.map((m) => m.to));
  });

  it('gives the same batch the same idempotency key and a different batch another one', async () => {
    const m = mailer();
    await m.sendBatch([email(1), email(2)]);
    await m.sendBatch([email(1), email(2)]);
    await m.sendBatch([email(1), email(3)]);

    const keys = fake.requests.map((r) => r.headers['idempotency-key']);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(fake.requests[1]!.replayed).toBe(true);
    expect(fake.emails).toHaveLength(4);
  });

  it('splits 250 messages into calls of 100, 100 and 50 and keeps outcomes in input order', async () => {
    const messages = Array.from({ length: 250 }, (_, i) => email(i));
    const outcomes = await mailer().sendBatch(messages);

    expect(fake.requests.map((r) => (r.body as unknown[]).length)).toEqual([100, 100, 50]);
    expect(new Set(fake.requests.map((r) => r.headers['idempotency-key'])).size).toBe(3);
    expect(outcomes).toHaveLength(250);
    const idByRecipient = new Map(fake.emails.map((e) => [(e.payload.to as string[])[0], e.id]));
    outcomes.forEach((outcome, i) => {
      expect(outcome).toEqual({ kind: 'sent', providerMessageId: idByRecipient.get(messages[i]!.to) });
    });
  });

  it('fails only the message with a bad address inside a batch', async () => {
    const outcomes = await mailer().sendBatch([email(1), email(2, { to: 'not-an-address' }), email(3)]);

    expect(outcomes.map((o) => o.kind)).toEqual(['sent', 'invalid_recipient', 'sent']);
    expect(fake.emails.map((e) => (e.payload.to as string[])[0])).toEqual(['user1@example.test', 'user3@example.test']);
    expect(outcomes[0]).toEqual({ kind: 'sent', providerMessageId: fake.emails[0]!.id });
    expect(outcomes[2]).toEqual({ kind: 'sent', providerMessageId: fake.emails[1]!.id });
  });
});

describe('Resend adapter: error mapping', () => {
  it('reports a 429 as rate limited for the retry-after the provider asked for', async () => {
    fake.failNext(1, { status: 429, headers: { 'retry-after': '2' } });
    const m = mailer();

    expect(await m.send(email(1))).toMatchObject({ kind: 'rate_limited', retryAfterMs: 2000 });
    expect(fake.emails).toHaveLength(0);
    expect(await m.send(email(1))).toMatchObject({ kind: 'sent' });
    expect(fake.emails).toHaveLength(1);
  });

  it('reports a 429 without retry-after as rate limited for the default delay', async () => {
    fake.failNext(1, { status: 429 });
    expect(await mailer().send(email(1))).toMatchObject({ kind: 'rate_limited', retryAfterMs: 1500 });
  });

  it('reports a rejected API key as auth_failed', async () => {
    fake.setMode('unauthorized');
    expect(await mailer().send(email(1))).toEqual({ kind: 'auth_failed', message: 'API key is invalid' });
  });

  it('reports a wrong API key (403) as auth_failed', async () => {
    expect(await mailer({ apiKey: 're_wrong_key_000000000000' }).send(email(1))).toMatchObject({ kind: 'auth_failed' });
  });

  it('reports a malformed recipient (422) as invalid_recipient without sending anything', async () => {
    const outcome = await mailer().send(email(1, { to: 'ada.example.test' }));
    expect(outcome).toMatchObject({ kind: 'invalid_recipient' });
    expect((outcome as { message: string }).message).toContain('`to`');
    expect(fake.emails).toHaveLength(0);
  });

  it('reports a 422 about a field other than the recipient as rejected', async () => {
    const outcome = await mailer().send(email(1, { from: { email: 'not-an-address' } }));
    expect(outcome).toMatchObject({ kind: 'rejected' });
  });

  it('reports a 500 as transient, and a retry after three of them sends exactly one email', async () => {
    fake.failNext(3, { status: 500 });
    const m = mailer();
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push(await m.send(email(1)));

    expect(outcomes.map((o) => o.kind)).toEqual(['transient', 'transient', 'transient', 'sent']);
    expect(fake.emails).toHaveLength(1);
  });

  it('reports a refused connection as transient', async () => {
    const outcome = await mailer({ baseUrl: `http://127.0.0.1:${await closedPort()}` }).send(email(1));
    expect(outcome).toMatchObject({ kind: 'transient' });
  });

  it('reports a request that outlives its timeout as transient', async () => {
    fake.setDelay(300);
    try {
      expect(await mailer({ timeoutMs: 50 }).send(email(1))).toMatchObject({ kind: 'transient' });
    } finally {
      fake.setDelay(0);
    }
  });

  it('gives every message of a rate-limited batch the delay and does not try later chunks', async () => {
    fake.failNext(1, { status: 429, headers: { 'retry-after': '3' } });
    const outcomes = await mailer().sendBatch(Array.from({ length: 150 }, (_, i) => email(i)));

    expect(fake.requests).toHaveLength(1);
    expect(outcomes).toHaveLength(150);
    expect(new Set(outcomes.map((o) => JSON.stringify(o))).size).toBe(1);
    expect(outcomes[149]).toMatchObject({ kind: 'rate_limited', retryAfterMs: 3000 });
  });

  it('maps quota, idempotency-conflict and unknown errors the way a retry policy needs', () => {
    expect(classifyResendError({ statusCode: 429, name: 'daily_quota_exceeded', message: 'quota' }, { 'retry-after': '60' })).toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 60_000,
    });
    expect(classifyResendError({ statusCode: 409, name: 'concurrent_idempotent_requests', message: 'busy' }, {})).toMatchObject({ kind: 'transient' });
    expect(classifyResendError({ statusCode: 409, name: 'invalid_idempotent_request', message: 'reused' }, {})).toMatchObject({ kind: 'rejected' });
    expect(classifyResendError({ statusCode: 503, name: 'application_error', message: 'down' }, {})).toMatchObject({ kind: 'transient' });
    expect(classifyResendError({ statusCode: null, name: 'application_error', message: 'Unable to fetch data.' }, null)).toMatchObject({
      kind: 'transient',
    });
  });
});

describe('Resend adapter: configuration and verify', () => {
  it('finds the API through RESEND_BASE_URL when no base URL is given', async () => {
    const previous = process.env.RESEND_BASE_URL;
    process.env.RESEND_BASE_URL = fake.url;
    try {
      const outcome = await createResendMailer({ apiKey: fake.apiKey }).send(email(1));
      expect(outcome).toMatchObject({ kind: 'sent' });
      expect(fake.emails).toHaveLength(1);
    } finally {
      if (previous === undefined) delete process.env.RESEND_BASE_URL;
      else process.env.RESEND_BASE_URL = previous;
    }
  });

  it('verifies working credentials with a domains listing', async () => {
    expect(await mailer().verify()).toEqual({ ok: true, message: 'API key accepted; verified domains: example.test' });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /domains']);
  });

  it('accepts a sending-only key that may not list domains', async () => {
    fake.setMode('restricted_key');
    expect(await mailer().verify()).toMatchObject({ ok: true });
  });

  it('fails verification for a wrong API key', async () => {
    const result = await mailer({ apiKey: 're_wrong_key_000000000000' }).verify();
    expect(result.ok).toBe(false);
    expect(result.message).toContain('Resend rejected the API key');
  });

  it('fails verification when Resend cannot be reached', async () => {
    const result = await mailer({ baseUrl: `http://127.0.0.1:${await closedPort()}` }).verify();
    expect(result.ok).toBe(false);
  });

  it('advertises batch sending of up to 100 messages and webhooks', () => {
    expect(mailer().capabilities).toEqual({ batch: true, maxBatchSize: 100, webhooks: true });
  });
});
