import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { insertContactEvent } from '../../src/db/repositories/contact-events.js';
import { createSendingConfig } from '../../src/db/repositories/sending-configs.js';
import { insertSend, type NewSend, type SendRow } from '../../src/db/repositories/sends.js';
import { contactEvents, emailEvents, enrollments } from '../../src/db/schema.js';
import { startTestApi, type TestApi } from './support.js';

const SECRET = 'activity-test-secret-0123456789abcdefghij';

let api: TestApi;
let configA: number;
let sequenceId: number;
let seq = 0;

beforeAll(async () => {
  api = await startTestApi({ TIDINGS_SECRET: SECRET });
  const box = createSecretBox(SECRET);
  configA = (await createSendingConfig(api.db, box, api.siteA.id, { name: 'Log', provider: 'log', fromEmail: 'dev@example.test' })).id;
  const sequence = await api.call('POST', '/api/v1/sequences', { body: { name: 'Onboarding', sendingConfigId: configA } });
  expect(sequence.status, sequence.text).toBe(201);
  sequenceId = sequence.body.data.id;
});
afterAll(async () => {
  await api?.close();
});

async function contact(email: string, key?: string): Promise<number> {
  const res = await api.call('POST', '/api/v1/contacts', { body: { email }, key });
  expect(res.status, res.text).toBe(201);
  return res.body.data.id;
}

async function send(contactId: number, fields: Partial<NewSend>): Promise<SendRow> {
  seq += 1;
  const { send } = await insertSend(api.db, {
    siteId: api.siteA.id,
    kind: 'transactional',
    contactId,
    toEmail: 'someone@activity.test',
    subject: `Subject ${seq}`,
    html: '<p>hi</p>',
    text: 'hi',
    sendingConfigId: configA,
    idempotencyKey: `test:activity:${seq}`,
    ...fields,
  });
  return send;
}

async function enrollment(contactId: number, fields: Partial<typeof enrollments.$inferInsert>) {
  seq += 1;
  const [row] = await api.db
    .insert(enrollments)
    .values({ siteId: api.siteA.id, sequenceId, contactId, run: seq, workflowId: `enrollment:${sequenceId}:${contactId}:${seq}`, ...fields })
    .returning();
  return row!;
}

/** Test set-up: an email event row as the email-events service stores it. */
async function emailEvent(s: SendRow, type: string, at: string, data: Record<string, unknown> = {}) {
  seq += 1;
  const [row] = await api.db
    .insert(emailEvents)
    .values({
      siteId: s.siteId,
      type,
      sendId: s.id,
      contactId: s.contactId,
      campaignId: s.campaignId,
      sequenceId: s.sequenceId,
      stepId: s.stepId,
      data,
      dedupeKey: `${type}:${s.id}:${seq}`,
      occurredAt: new Date(at),
    })
    .returning();
  return row!;
}

describe('GET /contacts/:id/activity', () => {
  it('merges sends, email events, contact events and enrollments into one timeline, newest first, with links', async () => {
    const ada = await contact('ada@activity.test');
    const journey = await enrollment(ada, {
      enrolledAt: new Date('2030-01-01T09:00:00Z'),
      status: 'exited',
      exitReason: 'bounced',
      completedAt: new Date('2030-01-03T09:30:00Z'),
    });
    const welcome = await send(ada, {
      kind: 'sequence',
      sequenceId,
      stepId: 11,
      enrollmentId: journey.workflowId,
      subject: 'Welcome aboard',
      status: 'delivered',
      sentAt: new Date('2030-01-01T09:00:05Z'),
      createdAt: new Date('2030-01-01T09:00:01Z'),
    });
    const opened = await emailEvent(welcome, 'opened', '2030-01-01T10:00:00Z');
    const purchased = await insertContactEvent(api.db, { siteId: api.siteA.id, contactId: ada, name: 'purchased', data: { plan: 'pro' } });
    await api.db.update(contactEvents).set({ createdAt: new Date('2030-01-02T08:00:00Z') }).where(eq(contactEvents.id, purchased.id));
    const receipt = await send(ada, { subject: 'Your receipt', status: 'queued', createdAt: new Date('2030-01-02T08:00:01Z') });
    const nudge = await send(ada, {
      kind: 'sequence',
      sequenceId,
      stepId: 12,
      enrollmentId: journey.workflowId,
      subject: 'Still there?',
      status: 'bounced',
      sentAt: new Date('2030-01-03T09:00:00Z'),
    });
    const bounced = await emailEvent(nudge, 'bounced', '2030-01-03T09:29:00Z', { bounceType: 'Permanent' });

    const res = await api.call('GET', `/api/v1/contacts/${ada}/activity`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual([
      { type: 'enrollment_ended', at: '2030-01-03T09:30:00.000Z', enrollmentId: journey.id, sequenceId, status: 'exited', exitReason: 'bounced' },
      {
        type: 'email_event',
        at: '2030-01-03T09:29:00.000Z',
        eventId: bounced.id,
        event: 'bounced',
        sendId: nudge.id,
        campaignId: null,
        sequenceId,
        stepId: 12,
        enrollmentId: journey.id,
        data: { bounceType: 'Permanent' },
      },
      {
        type: 'send',
        at: '2030-01-03T09:00:00.000Z',
        sendId: nudge.id,
        kind: 'sequence',
        status: 'bounced',
        subject: 'Still there?',
        campaignId: null,
        sequenceId,
        stepId: 12,
        enrollmentId: journey.id,
      },
      {
        type: 'send',
        at: '2030-01-02T08:00:01.000Z',
        sendId: receipt.id,
        kind: 'transactional',
        status: 'queued',
        subject: 'Your receipt',
        campaignId: null,
        sequenceId: null,
        stepId: null,
        enrollmentId: null,
      },
      { type: 'contact_event', at: '2030-01-02T08:00:00.000Z', eventId: purchased.id, name: 'purchased', data: { plan: 'pro' } },
      expect.objectContaining({ type: 'email_event', eventId: opened.id, event: 'opened', sendId: welcome.id, enrollmentId: journey.id }),
      expect.objectContaining({ type: 'send', sendId: welcome.id, at: '2030-01-01T09:00:05.000Z', status: 'delivered', subject: 'Welcome aboard' }),
      { type: 'enrollment_started', at: '2030-01-01T09:00:00.000Z', enrollmentId: journey.id, sequenceId },
    ]);
    expect(res.body.pagination).toEqual({ page: 1, limit: 50, total: 8, totalPages: 1 });
  });

  it('shows an active enrollment only as started, and keeps other contacts’ activity out', async () => {
    const bea = await contact('bea@activity.test');
    const other = await contact('other@activity.test');
    const active = await enrollment(bea, { enrolledAt: new Date('2031-01-01T00:00:00Z') });
    await send(other, { subject: 'Not for Bea' });
    await enrollment(other, { enrolledAt: new Date('2031-01-01T00:00:00Z') });

    const res = await api.call('GET', `/api/v1/contacts/${bea}/activity`);
    expect(res.body.data).toEqual([{ type: 'enrollment_started', at: '2031-01-01T00:00:00.000Z', enrollmentId: active.id, sequenceId }]);
    expect(res.body.pagination.total).toBe(1);
  });

  it('pages through a long timeline with stable order and totals, past the last page too', async () => {
    const cal = await contact('cal@activity.test');
    const made: SendRow[] = [];
    for (let i = 0; i < 7; i++) made.push(await send(cal, { subject: `Mail ${i}`, createdAt: new Date(`2031-02-01T10:0${i}:00Z`) }));
    const newestFirst = made.map((s) => s.id).reverse();
    const pageOf = async (page: number) => api.call('GET', `/api/v1/contacts/${cal}/activity?limit=3&page=${page}`);

    const pages = await Promise.all([1, 2, 3].map(pageOf));
    expect(pages.flatMap((p) => p.body.data.map((i: { sendId: number }) => i.sendId))).toEqual(newestFirst);
    expect(pages[0]!.body.pagination).toEqual({ page: 1, limit: 3, total: 7, totalPages: 3 });
    const beyond = await pageOf(4);
    expect(beyond.body).toEqual({ data: [], pagination: { page: 4, limit: 3, total: 7, totalPages: 3 } });
  });

  it('answers an empty timeline for a contact with no history', async () => {
    const dan = await contact('dan@activity.test');
    const res = await api.call('GET', `/api/v1/contacts/${dan}/activity`);
    expect(res.body).toEqual({ data: [], pagination: { page: 1, limit: 50, total: 0, totalPages: 0 } });
  });

  it("answers 404 for another site's contact or an unknown one, and 400 for a malformed id or page", async () => {
    const theirs = await contact('theirs@activity.test', api.siteB.key);
    const notMine = await api.call('GET', `/api/v1/contacts/${theirs}/activity`);
    expect(notMine.status).toBe(404);
    expect(notMine.body.error.code).toBe('not_found');
    expect((await api.call('GET', `/api/v1/contacts/${theirs}/activity`, { key: api.siteB.key })).status).toBe(200);
    expect((await api.call('GET', '/api/v1/contacts/999999/activity')).status).toBe(404);
    expect((await api.call('GET', '/api/v1/contacts/abc/activity')).status).toBe(400);
    expect((await api.call('GET', `/api/v1/contacts/${theirs}/activity?limit=0`, { key: api.siteB.key })).status).toBe(400);
  });
});
