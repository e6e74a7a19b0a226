import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { webhookEndpoints } from '../../src/db/schema.js';
import { OUTGOING_EVENT_TYPES } from '../../src/domain/email-events.js';
import { startApi } from '../../src/server.js';
import { isPrivateAddress } from '../../src/net/addresses.js';
import { assertPublicWebhookUrl } from '../../src/services/outgoing-webhooks.js';
import { httpClient, startTestApi, unreachableTemporal, type TestApi } from './support.js';

const SECRET = 'webhook-endpoints-test-secret-0123456789abcdef';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ TIDINGS_SECRET: SECRET });
});
afterAll(async () => {
  await api?.close();
});

async function create(body: Record<string, unknown> = {}, key?: string) {
  const res = await api.call('POST', '/api/v1/webhook-endpoints', { body: { url: 'http://127.0.0.1:9/hooks', ...body }, key });
  expect(res.status).toBe(201);
  return res.body.data as { id: number; secret: string; url: string; events: string[]; enabled: boolean; description: string | null };
}

const SECRET_FORMAT = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

describe('creating an endpoint', () => {
  it('answers 201 with the endpoint and its whsec_ signing secret in full, once', async () => {
    const endpoint = await create({ events: ['email.opened', 'email.clicked'], description: 'CRM sync' });
    expect(endpoint).toMatchObject({ url: 'http://127.0.0.1:9/hooks', events: ['email.opened', 'email.clicked'], enabled: true, description: 'CRM sync' });
    expect(endpoint.secret).toMatch(SECRET_FORMAT);
    const key = Buffer.from(endpoint.secret.slice('whsec_'.length), 'base64');
    expect(key.length).toBeGreaterThanOrEqual(24);
    expect(key.length).toBeLessThanOrEqual(64);

    const masked = `whsec_****${endpoint.secret.slice(-4)}`;
    const got = await api.call('GET', `/api/v1/webhook-endpoints/${endpoint.id}`);
    expect(got.status).toBe(200);
    expect(got.body.data.secret).toBe(masked);
    const list = await api.call('GET', '/api/v1/webhook-endpoints');
    expect(list.body.data.find((e: { id: number }) => e.id === endpoint.id).secret).toBe(masked);
    expect(list.text).not.toContain(endpoint.secret);
  });

  it('stores the secret encrypted, never in clear', async () => {
    const endpoint = await create();
    const [row] = await api.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id));
    expect(row!.secretEncrypted).toMatch(/^v1:/);
    expect(row!.secretEncrypted).not.toContain(endpoint.secret.slice('whsec_'.length, 20));
  });

  it('gives every endpoint its own secret', async () => {
    const [a, b] = await Promise.all([create(), create()]);
    expect(a.secret).not.toBe(b.secret);
  });

  it('subscribes to every event type by default and collapses repeated types', async () => {
    expect((await create()).events).toEqual([]);
    expect((await create({ events: ['email.bounced', 'email.bounced', 'contact.unsubscribed'] })).events).toEqual([
      'email.bounced',
      'contact.unsubscribed',
    ]);
  });

  it('accepts every outgoing event type', async () => {
    expect((await create({ events: [...OUTGOING_EVENT_TYPES] })).events).toEqual([...OUTGOING_EVENT_TYPES]);
  });

  it.each([
    ['a relative path', '/hooks'],
    ['another scheme', 'ftp://example.com/hooks'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['not a URL at all', 'example dot com'],
    ['credentials in the URL', 'https://user:pass@example.com/hooks'],
  ])('answers 400 on url for %s', async (_what, url) => {
    const res = await api.call('POST', '/api/v1/webhook-endpoints', { body: { url } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(['url']);
  });

  it('answers 400 naming an unknown event type', async () => {
    const res = await api.call('POST', '/api/v1/webhook-endpoints', { body: { url: 'https://example.com/h', events: ['email.opened', 'email.read'] } });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'events.1', message: expect.stringContaining('"email.read"') }]);
  });

  it('answers 400 without a url, with events that are not a list, and with a non-boolean enabled', async () => {
    const cases = [{}, { url: 'https://example.com/h', events: 'email.opened' }, { url: 'https://example.com/h', enabled: 'yes' }];
    for (const body of cases) {
      const res = await api.call('POST', '/api/v1/webhook-endpoints', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe('managing an endpoint', () => {
  it('changes only the given fields on PATCH, with the same validation as create', async () => {
    const endpoint = await create({ events: ['email.opened'], description: 'first' });
    const res = await api.call('PATCH', `/api/v1/webhook-endpoints/${endpoint.id}`, { body: { enabled: false, events: ['email.clicked'] } });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ url: endpoint.url, description: 'first', events: ['email.clicked'], enabled: false });
    expect(res.body.data.secret).toBe(`whsec_****${endpoint.secret.slice(-4)}`);

    const bad = await api.call('PATCH', `/api/v1/webhook-endpoints/${endpoint.id}`, { body: { events: ['opened'] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].message).toContain('"opened"');
    const badUrl = await api.call('PATCH', `/api/v1/webhook-endpoints/${endpoint.id}`, { body: { url: 'mailto:a@b.c' } });
    expect(badUrl.status).toBe(400);
  });

  it('rotates the secret: the new one is shown once, differs, and is masked afterwards', async () => {
    const endpoint = await create();
    const res = await api.call('POST', `/api/v1/webhook-endpoints/${endpoint.id}/rotate-secret`);
    expect(res.status).toBe(200);
    const rotated = res.body.data.secret as string;
    expect(rotated).toMatch(SECRET_FORMAT);
    expect(rotated).not.toBe(endpoint.secret);
    expect((await api.call('GET', `/api/v1/webhook-endpoints/${endpoint.id}`)).body.data.secret).toBe(`whsec_****${rotated.slice(-4)}`);
  });

  it('deletes an endpoint: 204, then 404', async () => {
    const endpoint = await create();
    expect((await api.call('DELETE', `/api/v1/webhook-endpoints/${endpoint.id}`)).status).toBe(204);
    expect((await api.call('GET', `/api/v1/webhook-endpoints/${endpoint.id}`)).status).toBe(404);
    expect((await api.call('DELETE', `/api/v1/webhook-endpoints/${endpoint.id}`)).status).toBe(404);
  });

  it('lists endpoints a page at a time', async () => {
    const { siteB } = api;
    const call = httpClient(api.url, siteB.key);
    for (let i = 0; i < 3; i++) expect((await call('POST', '/api/v1/webhook-endpoints', { body: { url: `https://example.com/${i}` } })).status).toBe(201);
    const page2 = await call('GET', '/api/v1/webhook-endpoints?page=2&limit=2');
    expect(page2.status).toBe(200);
    expect(page2.body.pagination).toEqual({ page: 2, limit: 2, total: 3, totalPages: 2 });
    expect(page2.body.data.map((e: { url: string }) => e.url)).toEqual(['https://example.com/2']);
  });

  it('shows an empty delivery log for a new endpoint and refuses an unknown status filter', async () => {
    const endpoint = await create();
    const log = await api.call('GET', `/api/v1/webhook-endpoints/${endpoint.id}/deliveries?status=failed`);
    expect(log.status).toBe(200);
    expect(log.body).toEqual({ data: [], pagination: { page: 1, limit: 50, total: 0, totalPages: 0 } });
    const bad = await api.call('GET', `/api/v1/webhook-endpoints/${endpoint.id}/deliveries?status=lost`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe('status');
  });

  it('answers 409 to a test send on a disabled endpoint', async () => {
    const endpoint = await create({ enabled: false });
    const res = await api.call('POST', `/api/v1/webhook-endpoints/${endpoint.id}/test`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('endpoint_disabled');
  });
});

describe('site isolation', () => {
  it('answers 404 for another site’s endpoint on every route, and leaves it unchanged', async () => {
    const endpoint = await create({ description: 'site A' });
    const asB = httpClient(api.url, api.siteB.key);
    const path = `/api/v1/webhook-endpoints/${endpoint.id}`;
    const calls: [string, string, unknown?][] = [
      ['GET', path],
      ['PATCH', path, { description: 'hijacked' }],
      ['DELETE', path],
      ['POST', `${path}/rotate-secret`],
      ['GET', `${path}/deliveries`],
      ['POST', `${path}/test`],
    ];
    for (const [method, url, body] of calls) {
      const res = await asB(method, url, { body });
      expect(res.status, `${method} ${url}`).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
    expect((await asB('GET', '/api/v1/webhook-endpoints')).body.data.map((e: { id: number }) => e.id)).not.toContain(endpoint.id);
    const mine = await api.call('GET', path);
    expect(mine.body.data).toMatchObject({ description: 'site A', secret: `whsec_****${endpoint.secret.slice(-4)}` });
  });
});

describe('endpoint URLs in production', () => {
  it('refuses loopback, private, link-local and reserved addresses', async () => {
    for (const url of [
      'http://localhost:3000/h',
      'http://api.localhost/h',
      'http://127.0.0.1/h',
      'http://10.1.2.3/h',
      'http://172.16.0.1/h',
      'http://192.168.1.1/h',
      'http://169.254.169.254/latest/meta-data',
      'http://100.64.0.1/h',
      'http://0.0.0.0/h',
      'http://[::1]/h',
      'http://[fd00::1]/h',
      'http://[fe80::1]/h',
      'http://[::ffff:127.0.0.1]/h',
    ]) {
      await expect(assertPublicWebhookUrl(url), url).rejects.toMatchObject({ kind: 'invalid', details: [{ path: 'url' }] });
    }
    await expect(assertPublicWebhookUrl('https://93.184.215.14/hooks')).resolves.toBeUndefined();
    await expect(assertPublicWebhookUrl('https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hooks')).resolves.toBeUndefined();
    expect(isPrivateAddress('8.8.8.8')).toBe(false);
  });

  it('refuses every IPv6 form that carries an internal IPv4 address, and the reserved ranges', async () => {
    for (const [url, what] of [
      ['http://[64:ff9b::a9fe:a9fe]/h', 'NAT64 of 169.254.169.254'],
      ['http://[64:ff9b::7f00:1]/h', 'NAT64 of 127.0.0.1'],
      ['http://[64:ff9b:1::a00:1]/h', 'local-use NAT64 (RFC 8215) of 10.0.0.1'],
      ['http://[2002:a9fe:a9fe::1]/h', '6to4 of 169.254.169.254'],
      ['http://[2002:7f00:1::]/h', '6to4 of 127.0.0.1'],
      ['http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/h', 'Teredo'],
      ['http://[::ffff:a9fe:a9fe]/h', 'IPv4-mapped, hex form'],
      ['http://[::127.0.0.1]/h', 'IPv4-compatible (deprecated)'],
      ['http://[2001:db8::1]/h', 'IPv6 documentation'],
      ['http://[100::1]/h', 'IPv6 discard-only'],
      ['http://[ff02::1]/h', 'IPv6 multicast'],
      ['http://192.0.2.1/h', 'TEST-NET-1'],
      ['http://198.51.100.7/h', 'TEST-NET-2'],
      ['http://203.0.113.9/h', 'TEST-NET-3'],
      ['http://255.255.255.255/h', 'broadcast'],
      ['http://2130706433/h', '127.0.0.1 as one number'],
      ['http://0x7f.1/h', '127.0.0.1 in hex shorthand'],
      ['http://169.254.169.254/latest/meta-data', 'cloud metadata'],
    ]) {
      await expect(assertPublicWebhookUrl(url!), `${url} (${what})`).rejects.toMatchObject({ kind: 'invalid', details: [{ path: 'url' }] });
    }
    for (const address of ['64:ff9b::a9fe:a9fe', '2002:a9fe:a9fe::1', '2001:db8::1', '192.0.2.1', '::ffff:10.0.0.1']) {
      expect(isPrivateAddress(address), address).toBe(true);
    }
  });

  it('answers 400 to a private URL when NODE_ENV=production, while tests and development allow local receivers', async () => {
    const temporal = unreachableTemporal();
    const production = await startApi(
      { db: api.db, temporal: temporal.client, config: loadConfig({ NODE_ENV: 'production', TIDINGS_SECRET: SECRET, PUBLIC_URL: 'https://mail.example.com' }), logger: pino({ level: 'silent' }) },
      { port: 0, host: '127.0.0.1' },
    );
    try {
      const call = httpClient(production.url, api.siteA.key);
      const refused = await call('POST', '/api/v1/webhook-endpoints', { body: { url: 'http://127.0.0.1:8080/hooks' } });
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toMatch(/private or reserved/);
      const endpoint = await create();
      const patched = await call('PATCH', `/api/v1/webhook-endpoints/${endpoint.id}`, { body: { url: 'http://192.168.0.10/hooks' } });
      expect(patched.status).toBe(400);
      expect((await call('POST', '/api/v1/webhook-endpoints', { body: { url: 'https://93.184.215.14/hooks' } })).status).toBe(201);
    } finally {
      await production.close();
      await temporal.connection.close();
    }
  });
});
