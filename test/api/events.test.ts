import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createSendingConfig } from '../../src/db/repositories/sending-configs.js';
import type { NewSend, SendRow } from '../../src/db/repositories/sends.js';
import { emailEvents } from '../../src/db/schema.js';
import type { EmailEventType } from '../../src/domain/email-events.js';
import { recordSend, startTestApi, type TestApi } from './support.js';

const SECRET = 'events-test-secret-0123456789abcdefghijkl';

let api: TestApi;
let configA: number;
let configB: number;
let seq = 0;

beforeAll(async () => {
  api = await startTestApi({ TIDINGS_SECRET: SECRET });
  const box = createSecretBox(SECRET);
  const log = { name: 'Log', provider: 'log' as const, fromEmail: 'dev@example.test' };
  configA = (await createSendingConfig(api.db, box, api.siteA.id, log)).id;
  configB = (await createSendingConfig(api.db, box, api.siteB.id, log)).id;
});
afterAll(async () => {
  await api?.close();
});

async function contact(email: string, key?: string): Promise<number> {
  const res = await api.call('POST', '/api/v1/contacts', { body: { email }, key });
  expect(res.status, res.text).toBe(201);
  return res.body.data.id;
}

const send = (fields: Partial<NewSend> = {}) => recordSend(api, configA, { kind: 'campaign', status: 'sent', ...fields });

/**
 * Test set-up: an event row as the email-events service stores it (ids copied from the send), written
 * directly so these tests do not depend on how events arrive.
 */
async function event(type: EmailEventType, s: SendRow | null, occurredAt: string, extra: { siteId?: number; contactId?: number; data?: Record<string, unknown> } = {}) {
  seq += 1;
  const [row] = await api.db
    .insert(emailEvents)
    .values({
      siteId: extra.siteId ?? s?.siteId ?? api.siteA.id,
      type,
      sendId: s?.id ?? null,
      contactId: extra.contactId ?? s?.contactId ?? null,
      campaignId: s?.campaignId ?? null,
      sequenceId: s?.sequenceId ?? null,
      stepId: s?.stepId ?? null,
      data: extra.data ?? {},
      dedupeKey: `${type}:${s?.id ?? 'none'}:${seq}`,
      occurredAt: new Date(occurredAt),
    })
    .returning();
  return row!;
}

const ids = (res: { body: { data: { id: number }[] } }) => res.body.data.map((e) => e.id);

describe('GET /events', () => {
  it('lists events newest first by when they happened, each linked to its send', async () => {
    const ada = await contact('ada@events.test');
    const s = await send({ contactId: ada, toEmail: 'ada@events.test', campaignId: 7001, subject: 'March news' });
    // Recorded out of order: a webhook can arrive after our own pixel.
    const opened = await event('opened', s, '2030-05-01T10:05:00Z', { data: { userAgent: 'Mail/1.0' } });
    const delivered = await event('delivered', s, '2030-05-01T10:01:00Z');
    const clicked = await event('clicked', s, '2030-05-01T10:07:00Z', { data: { url: 'https://acme.test/pricing' } });

    const res = await api.call('GET', '/api/v1/events?campaignId=7001');
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual([clicked.id, opened.id, delivered.id]);
    expect(res.body.data[0]).toEqual({
      id: clicked.id,
      type: 'clicked',
      sendId: s.id,
      contactId: ada,
      campaignId: 7001,
      sequenceId: null,
      stepId: null,
      data: { url: 'https://acme.test/pricing' },
      occurredAt: '2030-05-01T10:07:00.000Z',
      createdAt: expect.any(String),
      send: { id: s.id, kind: 'campaign', subject: 'March news', toEmail: 'ada@events.test' },
    });
    expect(res.body.pagination).toEqual({ page: 1, limit: 50, total: 3, totalPages: 1 });
  });

  it('filters by type, contact, campaign, sequence and send, and combines filters', async () => {
    const bob = await contact('bob@events.test');
    const cy = await contact('cy@events.test');
    const campaignSend = await send({ contactId: bob, campaignId: 7101 });
    const sequenceSend = await send({ kind: 'sequence', contactId: bob, sequenceId: 7102, stepId: 3 });
    const cySend = await send({ contactId: cy, campaignId: 7101 });
    const bobOpened = await event('opened', campaignSend, '2030-06-01T09:00:00Z');
    const bobBounced = await event('bounced', sequenceSend, '2030-06-01T09:01:00Z', { data: { bounceType: 'Permanent' } });
    const cyOpened = await event('opened', cySend, '2030-06-01T09:02:00Z');

    expect(ids(await api.call('GET', `/api/v1/events?contactId=${bob}`))).toEqual([bobBounced.id, bobOpened.id]);
    expect(ids(await api.call('GET', '/api/v1/events?campaignId=7101'))).toEqual([cyOpened.id, bobOpened.id]);
    expect(ids(await api.call('GET', '/api/v1/events?sequenceId=7102'))).toEqual([bobBounced.id]);
    expect(ids(await api.call('GET', `/api/v1/events?sendId=${cySend.id}`))).toEqual([cyOpened.id]);
    expect(ids(await api.call('GET', `/api/v1/events?type=opened&campaignId=7101`))).toEqual([cyOpened.id, bobOpened.id]);
    expect(ids(await api.call('GET', `/api/v1/events?type=bounced&contactId=${bob}`))).toEqual([bobBounced.id]);
    expect(ids(await api.call('GET', `/api/v1/events?type=clicked&contactId=${bob}`))).toEqual([]);
  });

  it('filters by when events happened, a date-only `to` including that whole day', async () => {
    const s = await send({ campaignId: 7201 });
    const jan10 = await event('delivered', s, '2024-01-10T08:00:00Z');
    const jan11Late = await event('opened', s, '2024-01-11T23:30:00Z');
    const jan12 = await event('clicked', s, '2024-01-12T00:00:00Z');

    const q = (range: string) => api.call('GET', `/api/v1/events?campaignId=7201&${range}`).then(ids);
    expect(await q('from=2024-01-10&to=2024-01-11')).toEqual([jan11Late.id, jan10.id]);
    expect(await q('from=2024-01-11T00:00:00Z&to=2024-01-12T00:00:00Z')).toEqual([jan11Late.id]);
    expect(await q('from=2024-01-12T01:00:00%2B01:00')).toEqual([jan12.id]);
    expect(await q('to=2024-01-10T08:00:00Z')).toEqual([]);
  });

  it('pages through events with page, limit and totals', async () => {
    const s = await send({ campaignId: 7301 });
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await event('opened', s, `2030-07-01T10:0${i}:00Z`));
    const newestFirst = made.map((e) => e.id).reverse();

    const first = await api.call('GET', '/api/v1/events?campaignId=7301&limit=2');
    expect(ids(first)).toEqual(newestFirst.slice(0, 2));
    expect(first.body.pagination).toEqual({ page: 1, limit: 2, total: 5, totalPages: 3 });
    const last = await api.call('GET', '/api/v1/events?campaignId=7301&limit=2&page=3');
    expect(ids(last)).toEqual(newestFirst.slice(4));
    const beyond = await api.call('GET', '/api/v1/events?campaignId=7301&limit=2&page=4');
    expect(beyond.body).toEqual({ data: [], pagination: { page: 4, limit: 2, total: 5, totalPages: 3 } });
  });

  it('shows an event that has no send with a null send', async () => {
    const dee = await contact('dee@events.test');
    const unsub = await event('unsubscribed', null, '2030-08-01T12:00:00Z', { contactId: dee, data: { source: 'list-unsubscribe' } });
    const res = await api.call('GET', `/api/v1/events?contactId=${dee}`);
    expect(res.body.data).toEqual([expect.objectContaining({ id: unsub.id, type: 'unsubscribed', sendId: null, send: null, contactId: dee })]);
  });

  it('shows each site only its own events, whatever the filter', async () => {
    const theirContact = await contact('eve@events.test', api.siteB.key);
    const theirSend = await send({ siteId: api.siteB.id, sendingConfigId: configB, contactId: theirContact, campaignId: 7401 });
    const theirs = await event('opened', theirSend, '2030-09-01T00:00:00Z');
    const mine = await event('opened', await send({ campaignId: 7401 }), '2030-09-01T00:00:00Z');

    expect(ids(await api.call('GET', '/api/v1/events?campaignId=7401'))).toEqual([mine.id]);
    expect(ids(await api.call('GET', `/api/v1/events?sendId=${theirSend.id}`))).toEqual([]);
    expect(ids(await api.call('GET', `/api/v1/events?contactId=${theirContact}`))).toEqual([]);
    expect(ids(await api.call('GET', '/api/v1/events?campaignId=7401', { key: api.siteB.key }))).toEqual([theirs.id]);
    const all = await api.call('GET', '/api/v1/events?limit=100', { key: api.siteB.key });
    expect(ids(all)).toEqual([theirs.id]);
  });

  it('rejects an unknown type and malformed filters with 400 naming each', async () => {
    const res = await api.call('GET', '/api/v1/events?type=read&contactId=abc&sendId=0&from=yesterday&limit=500');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    const paths = res.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['type', 'contactId', 'sendId', 'from', 'limit']));
    expect(res.body.error.details.find((d: { path: string }) => d.path === 'type').message).toMatch(/one of sent, delivered/);
  });

  it('answers 403 when a siteId in the query is not the key’s site', async () => {
    const res = await api.call('GET', `/api/v1/events?siteId=${api.siteB.id}`);
    expect(res.status).toBe(403);
  });
});

describe('GET /sends/:id with its events', () => {
  it('returns the send with its events oldest first, and an empty list before any', async () => {
    const s = await send({ campaignId: 7501 });
    const before = await api.call('GET', `/api/v1/sends/${s.id}`);
    expect(before.status).toBe(200);
    expect(before.body.data).toMatchObject({ id: s.id, html: s.html, events: [] });

    const opened = await event('opened', s, '2030-10-01T10:05:00Z');
    const delivered = await event('delivered', s, '2030-10-01T10:01:00Z', { data: { providerEventId: 'evt_1' } });
    await event('opened', await send({ campaignId: 7501 }), '2030-10-01T10:06:00Z');
    const res = await api.call('GET', `/api/v1/sends/${s.id}`);
    expect(res.body.data.events).toEqual([
      expect.objectContaining({ id: delivered.id, type: 'delivered', sendId: s.id, occurredAt: '2030-10-01T10:01:00.000Z', data: { providerEventId: 'evt_1' } }),
      expect.objectContaining({ id: opened.id, type: 'opened', sendId: s.id, occurredAt: '2030-10-01T10:05:00.000Z' }),
    ]);
  });
});
