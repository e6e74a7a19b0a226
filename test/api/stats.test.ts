import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createSendingConfig } from '../../src/db/repositories/sending-configs.js';
import { insertSend, type SendRow } from '../../src/db/repositories/sends.js';
import { emailEvents, sends } from '../../src/db/schema.js';
import { eq } from 'drizzle-orm';
import { startTestApi, type TestApi } from './support.js';

const SECRET = 'stats-test-secret-0123456789abcdefghijkl';

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

  // Site A: 2025-03-03 (a Monday) two sends, one delivered and opened; 2025-03-05 one failed send;
  // an open on 2025-03-10. Site B: one send on 2025-03-03 that site A must never count.
  const a1 = await send(api.siteA.id, configA, '2025-03-03T08:00:00Z', 'delivered');
  await send(api.siteA.id, configA, '2025-03-03T23:59:59Z', 'sent');
  await send(api.siteA.id, configA, '2025-03-05T12:00:00Z', 'failed');
  await event(a1, 'delivered', '2025-03-03T08:00:05Z');
  await event(a1, 'opened', '2025-03-04T09:00:00Z');
  await event(a1, 'clicked', '2025-03-10T09:00:00Z');
  const b1 = await send(api.siteB.id, configB, '2025-03-03T10:00:00Z', 'bounced');
  await event(b1, 'bounced', '2025-03-03T10:00:01Z');
});
afterAll(async () => {
  await api?.close();
});

async function send(siteId: number, sendingConfigId: number, at: string, status: SendRow['status']): Promise<SendRow> {
  seq += 1;
  const { send } = await insertSend(api.db, {
    siteId,
    kind: 'transactional',
    toEmail: 'ada@example.test',
    subject: `Message ${seq}`,
    html: '<p>hi</p>',
    text: 'hi',
    sendingConfigId,
    idempotencyKey: `test:stats:${seq}`,
    status,
  });
  await api.db.update(sends).set({ createdAt: new Date(at) }).where(eq(sends.id, send.id));
  return send;
}

async function event(s: SendRow, type: string, at: string) {
  seq += 1;
  await api.db.insert(emailEvents).values({ siteId: s.siteId, type, sendId: s.id, contactId: s.contactId, dedupeKey: `${type}:${seq}`, occurredAt: new Date(at) });
}

interface Bucket {
  date: string;
  sends: number;
  sendsByStatus: Record<string, number>;
  events: Record<string, number>;
}

describe('GET /stats/timeseries', () => {
  it('counts a site’s sends by day and status and its email events by day and type, every day present', async () => {
    const res = await api.call('GET', '/api/v1/stats/timeseries?from=2025-03-02&to=2025-03-05');
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({ from: '2025-03-02', to: '2025-03-05', interval: 'day' });
    const series = res.body.data.series as Bucket[];
    expect(series.map((b) => b.date)).toEqual(['2025-03-02', '2025-03-03', '2025-03-04', '2025-03-05']);
    expect(series[0]!.sends).toBe(0);
    expect(series[1]).toMatchObject({ sends: 2, sendsByStatus: { delivered: 1, sent: 1, failed: 0, bounced: 0 }, events: { delivered: 1, bounced: 0 } });
    expect(series[2]).toMatchObject({ sends: 0, events: { opened: 1 } });
    expect(series[3]).toMatchObject({ sends: 1, sendsByStatus: { failed: 1 } });
    // Every status and event type is present, as zeros.
    expect(Object.keys(series[0]!.sendsByStatus)).toContain('suppressed');
    expect(Object.keys(series[0]!.events)).toContain('unsubscribed');
  });

  it('groups by week (Monday first) when asked', async () => {
    const res = await api.call('GET', '/api/v1/stats/timeseries?from=2025-03-03&to=2025-03-16&interval=week');
    expect(res.status, res.text).toBe(200);
    const series = res.body.data.series as Bucket[];
    expect(series.map((b) => [b.date, b.sends, b.events.opened, b.events.clicked])).toEqual([
      ['2025-03-03', 3, 1, 0],
      ['2025-03-10', 0, 0, 1],
    ]);
  });

  it('keeps each site’s numbers apart', async () => {
    const res = await api.call('GET', '/api/v1/stats/timeseries?from=2025-03-03&to=2025-03-03', { key: api.siteB.key });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.series).toEqual([expect.objectContaining({ date: '2025-03-03', sends: 1, events: expect.objectContaining({ bounced: 1, delivered: 0 }) })]);
  });

  it('defaults to the last 30 days, ending today', async () => {
    const res = await api.call('GET', '/api/v1/stats/timeseries');
    expect(res.status, res.text).toBe(200);
    const series = res.body.data.series as Bucket[];
    expect(series).toHaveLength(30);
    expect(res.body.data.to).toBe(new Date().toISOString().slice(0, 10));
    expect(series.at(-1)!.date).toBe(res.body.data.to);
  });

  it('refuses bad dates, a reversed range, a range over 366 days and an unknown interval', async () => {
    for (const qs of ['from=2025-13-01', 'from=2025-03-05&to=2025-03-01', 'from=2023-01-01&to=2025-01-01', 'interval=hour']) {
      const res = await api.call('GET', `/api/v1/stats/timeseries?${qs}`);
      expect(res.status, qs).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
  });
});
