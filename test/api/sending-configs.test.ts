import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import {
  createSendingConfig,
  ensureLogSendingConfig,
  loadSendingConfigWithCredentials,
} from '../../src/db/repositories/sending-configs.js';
import { insertSend } from '../../src/db/repositories/sends.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { sendingConfigs } from '../../src/db/schema.js';
import { startFakeResend, type FakeResend } from '../helpers/fake-resend.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { startTestApi, type TestApi } from './support.js';

const SECRET = 'sending-configs-test-secret-0123456789abcdef';
const box = createSecretBox(SECRET);

let api: TestApi;
let resend: FakeResend;
let smtp: SmtpSink;
beforeAll(async () => {
  resend = await startFakeResend();
  // The resend SDK reads RESEND_BASE_URL when a client is built, i.e. on each verify.
  process.env.RESEND_BASE_URL = resend.url;
  smtp = await startSmtpSink({ auth: { user: 'mailer', pass: 'smtp-pass-123' } });
  api = await startTestApi({ TIDINGS_SECRET: SECRET });
});
afterEach(() => {
  resend.reset();
});
afterAll(async () => {
  await api?.close();
  await resend?.close();
  await smtp?.close();
});

function resendConfig(overrides: Record<string, unknown> = {}) {
  return {
    name: 'Resend',
    provider: 'resend',
    fromEmail: 'hello@example.test',
    fromName: 'Acme',
    credentials: { apiKey: resend.apiKey },
    ...overrides,
  };
}

function smtpConfig(overrides: Record<string, unknown> = {}) {
  return {
    name: 'SMTP',
    provider: 'smtp',
    fromEmail: 'hello@example.test',
    credentials: { host: smtp.host, port: smtp.port, user: 'mailer', pass: 'smtp-pass-123' },
    ...overrides,
  };
}

async function create(body: Record<string, unknown>, key?: string): Promise<number> {
  const res = await api.call('POST', '/api/v1/sending-configs', { body, key });
  expect(res.status, res.text).toBe(201);
  return res.body.data.id;
}

async function storedRow(id: number) {
  const [row] = await api.db.select().from(sendingConfigs).where(eq(sendingConfigs.id, id));
  return row!;
}

describe('creating sending configs', () => {
  it('stores the credentials encrypted and shows them only masked', async () => {
    const res = await api.call('POST', '/api/v1/sending-configs', { body: resendConfig({ maxPerSecond: 5 }) });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({
      name: 'Resend',
      provider: 'resend',
      fromEmail: 'hello@example.test',
      fromName: 'Acme',
      replyTo: null,
      maxPerSecond: 5,
      trackOpens: true,
      trackClicks: true,
      webhookSecret: null,
      credentials: { apiKey: 're_****cdef' },
    });
    expect(res.text).not.toContain(resend.apiKey);

    const row = await storedRow(res.body.data.id);
    expect(row.credentialsEncrypted).toMatch(/^v1:/);
    expect(row.credentialsEncrypted).not.toContain(resend.apiKey);
    expect(row.credentialsEncrypted).not.toContain('apiKey');
    expect(JSON.stringify(res.body)).not.toContain(row.credentialsEncrypted);

    const loaded = await loadSendingConfigWithCredentials(api.db, box, row.id);
    expect(loaded?.credentials).toEqual({ apiKey: resend.apiKey });
  });

  it('masks the SMTP password and the webhook secret in get, list and update answers', async () => {
    const id = await create(smtpConfig({ webhookSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }));
    const answers = [
      await api.call('GET', `/api/v1/sending-configs/${id}`),
      await api.call('GET', '/api/v1/sending-configs?limit=100'),
      await api.call('PATCH', `/api/v1/sending-configs/${id}`, { body: { name: 'SMTP renamed' } }),
    ];
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(res.text).not.toContain('smtp-pass-123');
      expect(res.text).not.toContain('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
      expect(res.text).not.toContain('v1:');
    }
    const view = answers[0]!.body.data;
    expect(view.credentials).toEqual({ host: smtp.host, port: smtp.port, secure: false, user: 'mailer', pass: '********', maxConnections: 5 });
    expect(view.webhookSecret).toBe('whsec_****LaSw');
    expect(answers[1]!.body.data.find((c: { id: number }) => c.id === id)).toEqual(view);
    expect(answers[2]!.body.data).toMatchObject({ name: 'SMTP renamed', credentials: view.credentials });

    const row = await storedRow(id);
    expect(row.webhookSecretEncrypted).toMatch(/^v1:/);
    expect(row.webhookSecretEncrypted).not.toContain('MfKQ9r8G');
  });

  it('rejects an unknown provider with 400 naming the provider field', async () => {
    const res = await api.call('POST', '/api/v1/sending-configs', { body: resendConfig({ provider: 'mailgun' }) });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details).toContainEqual({ path: 'provider', message: 'provider must be one of resend, smtp, log' });
  });

  it('rejects SMTP credentials of the wrong shape with 400 naming each bad field', async () => {
    const res = await api.call('POST', '/api/v1/sending-configs', {
      body: smtpConfig({ credentials: { host: 42, port: 'twenty-five', password: 'x' } }),
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    const paths = res.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['credentials.host', 'credentials.port', 'credentials']));
    const list = await api.call('GET', '/api/v1/sending-configs?limit=100');
    expect(list.body.data.map((c: { name: string }) => c.name)).not.toContain('SMTP');
  });

  it('rejects a Resend config without an API key, even with credentials of another provider', async () => {
    const missing = await api.call('POST', '/api/v1/sending-configs', { body: resendConfig({ credentials: undefined }) });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.map((d: { path: string }) => d.path)).toContain('credentials.apiKey');
    const wrong = await api.call('POST', '/api/v1/sending-configs', { body: resendConfig({ credentials: { host: 'smtp.example.test' } }) });
    expect(wrong.status).toBe(400);
  });

  it('rejects bad sender fields, rate limits and webhook secrets with 400', async () => {
    const res = await api.call('POST', '/api/v1/sending-configs', {
      body: resendConfig({ fromEmail: 'not-an-email', replyTo: 'nope', maxPerSecond: 0, webhookSecret: 'secret123', trackOpens: 'yes' }),
    });
    expect(res.status).toBe(400);
    const paths = res.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['fromEmail', 'replyTo', 'maxPerSecond', 'webhookSecret', 'trackOpens']));
    const tooFast = await api.call('POST', '/api/v1/sending-configs', { body: resendConfig({ maxPerSecond: 10_001 }) });
    expect(tooFast.status).toBe(400);
  });

  it('creates a log config that needs no credentials', async () => {
    const res = await api.call('POST', '/api/v1/sending-configs', {
      body: { name: 'Log', provider: 'log', fromEmail: 'dev@example.test', trackOpens: false, maxPerSecond: null },
    });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ provider: 'log', credentials: {}, trackOpens: false, maxPerSecond: null });
  });
});

describe('updating sending configs', () => {
  it('replaces the credentials when new ones are given', async () => {
    const id = await create(resendConfig());
    const res = await api.call('PATCH', `/api/v1/sending-configs/${id}`, { body: { credentials: { apiKey: 're_new_key_abcdefghijkl9876' } } });
    expect(res.status).toBe(200);
    expect(res.body.data.credentials).toEqual({ apiKey: 're_****9876' });
    expect((await loadSendingConfigWithCredentials(api.db, box, id))?.credentials).toEqual({ apiKey: 're_new_key_abcdefghijkl9876' });
  });

  it('requires the new provider’s credentials when the provider changes', async () => {
    const id = await create(resendConfig());
    const without = await api.call('PATCH', `/api/v1/sending-configs/${id}`, { body: { provider: 'smtp' } });
    expect(without.status).toBe(400);
    expect(without.body.error.details).toContainEqual({ path: 'credentials', message: 'required when changing the provider to smtp' });
    const stillResend = await api.call('GET', `/api/v1/sending-configs/${id}`);
    expect(stillResend.body.data.provider).toBe('resend');

    const withCreds = await api.call('PATCH', `/api/v1/sending-configs/${id}`, {
      body: { provider: 'smtp', credentials: { host: 'smtp.example.test', port: 465, secure: true } },
    });
    expect(withCreds.status).toBe(200);
    expect(withCreds.body.data).toMatchObject({ provider: 'smtp', credentials: { host: 'smtp.example.test', port: 465, secure: true } });

    const toLog = await api.call('PATCH', `/api/v1/sending-configs/${id}`, { body: { provider: 'log' } });
    expect(toLog.status).toBe(200);
    expect(toLog.body.data).toMatchObject({ provider: 'log', credentials: {} });
  });

  it('validates new credentials against the existing provider', async () => {
    const id = await create(smtpConfig());
    const res = await api.call('PATCH', `/api/v1/sending-configs/${id}`, { body: { credentials: { apiKey: 're_abc' } } });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain('credentials.host');
  });

  it('clears the webhook secret and the rate limit when they are set to null', async () => {
    const id = await create(resendConfig({ webhookSecret: 'whsec_abcdefghijklmnop', maxPerSecond: 3 }));
    const res = await api.call('PATCH', `/api/v1/sending-configs/${id}`, { body: { webhookSecret: null, maxPerSecond: null } });
    expect(res.body.data).toMatchObject({ webhookSecret: null, maxPerSecond: null });
    expect((await storedRow(id)).webhookSecretEncrypted).toBeNull();
  });
});

describe('verifying sending configs', () => {
  it('reports ok when Resend accepts the API key', async () => {
    const id = await create(resendConfig());
    const res = await api.call('POST', `/api/v1/sending-configs/${id}/verify`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ ok: true, message: 'API key accepted; verified domains: example.test' });
    expect(resend.requests).toHaveLength(1);
    expect(resend.requests[0]).toMatchObject({ method: 'GET', path: '/domains' });
    expect(resend.requests[0]!.headers.authorization).toBe(`Bearer ${resend.apiKey}`);
    expect(resend.emails).toHaveLength(0);
  });

  it('reports ok false with the reason when Resend rejects the API key', async () => {
    const id = await create(resendConfig());
    resend.setMode('unauthorized');
    const res = await api.call('POST', `/api/v1/sending-configs/${id}/verify`);
    expect(res.status).toBe(200);
    expect(res.body.data.ok).toBe(false);
    expect(res.body.data.message).toMatch(/^Resend rejected the API key/);
  });

  it('reports ok when the SMTP server accepts the login, and ok false when it refuses it', async () => {
    const good = await create(smtpConfig());
    const goodRes = await api.call('POST', `/api/v1/sending-configs/${good}/verify`);
    expect(goodRes.body.data).toEqual({ ok: true, message: `Connected to ${smtp.host}:${smtp.port} and logged in` });
    expect(smtp.logins).toContainEqual({ user: 'mailer', pass: 'smtp-pass-123' });

    const bad = await create(smtpConfig({ credentials: { host: smtp.host, port: smtp.port, user: 'mailer', pass: 'wrong' } }));
    const badRes = await api.call('POST', `/api/v1/sending-configs/${bad}/verify`);
    expect(badRes.status).toBe(200);
    expect(badRes.body.data.ok).toBe(false);
    expect(badRes.body.data.message).toMatch(/^SMTP login failed/);
    expect(smtp.messages).toHaveLength(0);
  });

  it('reports ok for the log provider, which needs no account', async () => {
    const id = await create({ name: 'Log', provider: 'log', fromEmail: 'dev@example.test' });
    const res = await api.call('POST', `/api/v1/sending-configs/${id}/verify`);
    expect(res.body.data.ok).toBe(true);
  });

  it('reports ok false when the credentials were saved under another TIDINGS_SECRET', async () => {
    const other = createSecretBox('another-secret-entirely-0123456789abcdef');
    const row = await createSendingConfig(api.db, other, api.siteA.id, { name: 'Old', provider: 'resend', fromEmail: 'a@example.test', credentials: { apiKey: 're_old_key_123456789' } });
    const shown = await api.call('GET', `/api/v1/sending-configs/${row.id}`);
    expect(shown.status).toBe(200);
    expect(shown.body.data.credentials).toBeNull();
    const res = await api.call('POST', `/api/v1/sending-configs/${row.id}/verify`);
    expect(res.body.data.ok).toBe(false);
    expect(res.body.data.message).toMatch(/TIDINGS_SECRET/);
  });
});

describe('sending configs across sites and the send log', () => {
  it('answers 404 for another site’s config on get, update, delete and verify', async () => {
    const id = await create(resendConfig(), api.siteB.key);
    for (const [method, path] of [
      ['GET', `/api/v1/sending-configs/${id}`],
      ['PATCH', `/api/v1/sending-configs/${id}`],
      ['DELETE', `/api/v1/sending-configs/${id}`],
      ['POST', `/api/v1/sending-configs/${id}/verify`],
    ] as const) {
      const res = await api.call(method, path, method === 'PATCH' ? { body: { name: 'stolen' } } : {});
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    const list = await api.call('GET', '/api/v1/sending-configs?limit=100');
    expect(list.body.data.map((c: { id: number }) => c.id)).not.toContain(id);
    expect(resend.requests).toHaveLength(0);
    const mine = await api.call('GET', `/api/v1/sending-configs/${id}`, { key: api.siteB.key });
    expect(mine.body.data.name).toBe('Resend');
  });

  it('deletes an unused config and refuses with 409 to delete one the send log refers to', async () => {
    const unused = await create(resendConfig());
    expect((await api.call('DELETE', `/api/v1/sending-configs/${unused}`)).status).toBe(204);
    expect((await api.call('GET', `/api/v1/sending-configs/${unused}`)).status).toBe(404);

    const used = await create(resendConfig());
    await insertSend(api.db, {
      siteId: api.siteA.id,
      kind: 'transactional',
      toEmail: 'ada@example.test',
      subject: 'Hi',
      html: '<p>Hi</p>',
      text: 'Hi',
      sendingConfigId: used,
      idempotencyKey: `test:delete-used:${used}`,
    });
    const res = await api.call('DELETE', `/api/v1/sending-configs/${used}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('sending_config_in_use');
    expect((await api.call('GET', `/api/v1/sending-configs/${used}`)).status).toBe(200);
  });
});

describe('providers', () => {
  it('lists resend, smtp and log with their capabilities and credential fields', async () => {
    const res = await api.call('GET', '/api/v1/providers');
    expect(res.status).toBe(200);
    const byName = Object.fromEntries(res.body.data.map((p: { name: string }) => [p.name, p]));
    expect(Object.keys(byName)).toEqual(['resend', 'smtp', 'log']);
    expect(byName.resend.capabilities).toEqual({ batch: true, maxBatchSize: 100, webhooks: true });
    expect(byName.resend.credentialFields).toEqual([expect.objectContaining({ name: 'apiKey', required: true, secret: true })]);
    expect(byName.smtp.credentialFields.map((f: { name: string }) => f.name)).toEqual(['host', 'port', 'secure', 'user', 'pass', 'maxConnections']);
    expect(byName.smtp.credentialFields.find((f: { name: string }) => f.name === 'pass')).toMatchObject({ secret: true, required: false });
    expect(byName.log.credentialFields).toEqual([]);
  });
});

describe('the default log config', () => {
  it('is created once for a site without any config, even when asked concurrently', async () => {
    const site = await createSite(api.db, { name: 'Fresh' });
    const results = await Promise.all([1, 2, 3].map(() => ensureLogSendingConfig(api.db, box, site.id)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.config.id)).size).toBe(1);
    expect(results[0]!.config).toMatchObject({ name: 'Local log', provider: 'log', fromEmail: 'tidings@localhost', siteId: site.id });
    const rows = await api.db.select().from(sendingConfigs).where(eq(sendingConfigs.siteId, site.id));
    expect(rows).toHaveLength(1);
  });

  it('is not added to a site that already has a config', async () => {
    const site = await createSite(api.db, { name: 'Configured' });
    const existing = await createSendingConfig(api.db, box, site.id, { name: 'Mine', provider: 'resend', fromEmail: 'a@example.test', credentials: { apiKey: 're_x' } });
    const result = await ensureLogSendingConfig(api.db, box, site.id);
    expect(result).toEqual({ config: existing, created: false });
  });
});

describe('a server without TIDINGS_SECRET', () => {
  it('answers 500 secret_not_configured for credential routes and keeps serving the rest', async () => {
    const bare = await startTestApi();
    try {
      const res = await bare.call('POST', '/api/v1/sending-configs', { body: resendConfig() });
      expect(res.status).toBe(500);
      expect(res.body.error.code).toBe('secret_not_configured');
      expect(res.body.error.message).toMatch(/TIDINGS_SECRET/);
      expect((await bare.call('GET', '/api/v1/providers')).status).toBe(200);
    } finally {
      await bare.close();
    }
  });
});
