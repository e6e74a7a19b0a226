import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createSendingConfig } from '../../src/db/repositories/sending-configs.js';
import {
  incrementSendAttempts,
  insertSend,
  markSendFailed,
  markSendSent,
  type NewSend,
} from '../../src/db/repositories/sends.js';
import { recordSend, startTestApi, type TestApi } from './support.js';

const SECRET = 'sends-test-secret-0123456789abcdefghijkl';

let api: TestApi;
let configA: number;
let configB: number;
let contactA: number;

beforeAll(async () => {
  api = await startTestApi({ TIDINGS_SECRET: SECRET });
  const box = createSecretBox(SECRET);
  const log = { name: 'Log', provider: 'log' as const, fromEmail: 'dev@example.test' };
  configA = (await createSendingConfig(api.db, box, api.siteA.id, log)).id;
  configB = (await createSendingConfig(api.db, box, api.siteB.id, log)).id;
  const contact = await api.call('POST', '/api/v1/contacts', { body: { email: 'ada@example.test', firstName: 'Ada' } });
  contactA = contact.body.data.id;
});
afterAll(async () => {
  await api?.close();
});

const record = (fields: Partial<NewSend> = {}) => recordSend(api, configA, fields);

const ids = (res: { body: { data: { id: number }[] } }) => res.body.data.map((s) => s.id);

describe('the send log list', () => {
  it('lists a site’s sends newest first, without the rendered bodies', async () => {
    const first = await record();
    const second = await record({ cc: ['cc@example.test'], headers: { 'X-Campaign': '1' } });
    const res = await api.call('GET', '/api/v1/sends?limit=2');
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual([second.id, first.id]);
    expect(res.body.pagination).toMatchObject({ page: 1, limit: 2 });
    const item = res.body.data[0];
    expect(item).toMatchObject({ kind: 'transactional', status: 'queued', toEmail: 'ada@example.test', subject: second.subject, attempts: 0 });
    for (const hidden of ['html', 'text', 'cc', 'headers', 'siteId']) expect(item).not.toHaveProperty(hidden);
  });

  it('filters by kind, status, contact, campaign and sequence', async () => {
    const campaign = await record({ kind: 'campaign', campaignId: 901, contactId: contactA });
    const sequence = await record({ kind: 'sequence', sequenceId: 902, stepId: 3, enrollmentId: 'enrollment:902:1' });
    const failed = await record({ status: 'failed', error: 'Mailbox does not exist' });

    expect(ids(await api.call('GET', '/api/v1/sends?kind=campaign&limit=100'))).toEqual([campaign.id]);
    expect(ids(await api.call('GET', '/api/v1/sends?campaignId=901'))).toEqual([campaign.id]);
    expect(ids(await api.call('GET', '/api/v1/sends?sequenceId=902'))).toEqual([sequence.id]);
    expect(ids(await api.call('GET', `/api/v1/sends?contactId=${contactA}`))).toEqual([campaign.id]);
    expect(ids(await api.call('GET', '/api/v1/sends?status=failed'))).toEqual([failed.id]);
    expect(ids(await api.call('GET', '/api/v1/sends?kind=sequence&status=queued'))).toEqual([sequence.id]);
    expect((await api.call('GET', '/api/v1/sends?kind=campaign&status=failed')).body.data).toEqual([]);
  });

  it('filters by recipient address, whole and case-insensitive', async () => {
    const grace = await record({ toEmail: 'Grace.Hopper@Example.test' });
    expect(ids(await api.call('GET', '/api/v1/sends?toEmail=grace.hopper@example.test'))).toEqual([grace.id]);
    expect(ids(await api.call('GET', `/api/v1/sends?toEmail=${encodeURIComponent(' GRACE.HOPPER@EXAMPLE.TEST ')}`))).toEqual([grace.id]);
    expect((await api.call('GET', '/api/v1/sends?toEmail=grace')).body.data).toEqual([]);
    expect((await api.call('GET', '/api/v1/sends?toEmail=grace.hopper@example.test', { key: api.siteB.key })).body.data).toEqual([]);
  });

  it('filters by creation time, a date-only `to` including that whole day', async () => {
    const jan10 = await record({ createdAt: new Date('2024-01-10T08:00:00Z') });
    const jan11Late = await record({ createdAt: new Date('2024-01-11T23:30:00Z') });
    const jan12 = await record({ createdAt: new Date('2024-01-12T00:00:00Z') });

    expect(ids(await api.call('GET', '/api/v1/sends?from=2024-01-10&to=2024-01-11'))).toEqual([jan11Late.id, jan10.id]);
    expect(ids(await api.call('GET', '/api/v1/sends?from=2024-01-11T00:00:00Z&to=2024-01-12T00:00:00Z'))).toEqual([jan11Late.id]);
    expect(ids(await api.call('GET', '/api/v1/sends?from=2024-01-12T01:00:00%2B01:00&to=2024-01-13'))).toEqual([jan12.id]);
  });

  it('rejects unknown filter values with 400 naming each', async () => {
    const res = await api.call('GET', '/api/v1/sends?kind=newsletter&status=lost&from=yesterday&contactId=abc');
    expect(res.status).toBe(400);
    const paths = res.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['kind', 'status', 'from', 'contactId']));
  });

  it('shows each site only its own sends', async () => {
    const mine = await record();
    const theirs = await record({ siteId: api.siteB.id, sendingConfigId: configB, toEmail: 'bob@example.test' });
    const a = await api.call('GET', '/api/v1/sends?limit=100');
    expect(ids(a)).toContain(mine.id);
    expect(ids(a)).not.toContain(theirs.id);
    const b = await api.call('GET', '/api/v1/sends?limit=100', { key: api.siteB.key });
    expect(ids(b)).toEqual([theirs.id]);
    expect((await api.call('GET', `/api/v1/sends/${theirs.id}`)).status).toBe(404);
    expect((await api.call('GET', `/api/v1/sends/${mine.id}`, { key: api.siteB.key })).status).toBe(404);
  });
});

describe('one send', () => {
  it('returns the rendered message and, once sent, the provider id, attempts and time', async () => {
    const send = await record({ html: '<p>Hello Ada</p>', text: 'Hello Ada', replyTo: 'support@example.test', contactId: contactA });
    const queued = await api.call('GET', `/api/v1/sends/${send.id}`);
    expect(queued.status).toBe(200);
    expect(queued.body.data).toMatchObject({
      id: send.id,
      status: 'queued',
      html: '<p>Hello Ada</p>',
      text: 'Hello Ada',
      replyTo: 'support@example.test',
      contactId: contactA,
      sendingConfigId: configA,
      providerMessageId: null,
      sentAt: null,
      attempts: 0,
      error: null,
    });
    expect(queued.body.data).not.toHaveProperty('siteId');

    expect(await incrementSendAttempts(api.db, send.id)).toBe(1);
    await markSendSent(api.db, send.id, 'log_abc123');
    const sent = await api.call('GET', `/api/v1/sends/${send.id}`);
    expect(sent.body.data).toMatchObject({ status: 'sent', providerMessageId: 'log_abc123', attempts: 1 });
    expect(Date.parse(sent.body.data.sentAt)).not.toBeNaN();
  });

  it('shows why a send failed', async () => {
    const send = await record();
    await markSendFailed(api.db, send.id, 'Resend rejected the recipient: invalid `to` address');
    const res = await api.call('GET', `/api/v1/sends/${send.id}`);
    expect(res.body.data).toMatchObject({ status: 'failed', error: 'Resend rejected the recipient: invalid `to` address' });
  });

  it('answers 404 for an unknown send and 400 for a malformed id', async () => {
    expect((await api.call('GET', '/api/v1/sends/999999')).status).toBe(404);
    expect((await api.call('GET', '/api/v1/sends/abc')).status).toBe(400);
  });
});

describe('send log writes', () => {
  it('records one row per idempotency key: a repeated insert returns the first row', async () => {
    const first = await insertSend(api.db, {
      siteId: api.siteA.id,
      kind: 'transactional',
      toEmail: 'ada@example.test',
      subject: 'Once',
      html: '<p>Once</p>',
      text: 'Once',
      sendingConfigId: configA,
      idempotencyKey: 'test:once',
    });
    const again = await insertSend(api.db, { ...first.send, id: undefined, subject: 'Twice' });
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.send).toEqual(first.send);
    const listed = await api.call('GET', '/api/v1/sends?limit=100');
    expect(listed.body.data.filter((s: { idempotencyKey: string }) => s.idempotencyKey === 'test:once')).toHaveLength(1);
  });

  it('keeps the first provider id when a send is marked sent twice, and never fails a sent send', async () => {
    const send = await record();
    const first = await markSendSent(api.db, send.id, 'msg-1');
    const second = await markSendSent(api.db, send.id, 'msg-2');
    expect(second).toMatchObject({ status: 'sent', providerMessageId: 'msg-1', sentAt: first!.sentAt });
    expect(await markSendFailed(api.db, send.id, 'late failure')).toBeNull();
    expect((await api.call('GET', `/api/v1/sends/${send.id}`)).body.data).toMatchObject({ status: 'sent', error: null });
  });

  it('does not downgrade a send a webhook already marked delivered', async () => {
    const send = await record({ status: 'delivered', providerMessageId: 'msg-d' });
    const row = await markSendSent(api.db, send.id, 'msg-d');
    expect(row?.status).toBe('delivered');
  });
});
