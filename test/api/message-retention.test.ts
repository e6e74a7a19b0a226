import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneExpiredMessages, startMessageRetention } from '../../src/api/message-retention.js';
import { loadConfig } from '../../src/config.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { insertCampaign } from '../../src/db/repositories/campaigns.js';
import { createSendingConfig } from '../../src/db/repositories/sending-configs.js';
import type { NewSend, SendRow } from '../../src/db/repositories/sends.js';
import { sends } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import { copyContextOf } from '../../src/mail/campaign-copy.js';
import { recordSend, startTestApi, type TestApi } from './support.js';

// TIDINGS_MESSAGE_RETENTION_DAYS: what the purge takes, what it leaves, and how the send log answers.

const SECRET = 'retention-test-secret-0123456789abcdefghij';
const DAY_MS = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY_MS);
const logger = createLogger('silent');

let api: TestApi;
let configId: number;
let contactId: number;
let seq = 0;

beforeAll(async () => {
  api = await startTestApi({ TIDINGS_SECRET: SECRET, PUBLIC_URL: 'https://mail.example.test' });
  configId = (await createSendingConfig(api.db, createSecretBox(SECRET), api.siteA.id, { name: 'Log', provider: 'log', fromEmail: 'dev@example.test' })).id;
  contactId = (await api.call('POST', '/api/v1/contacts', { body: { email: 'ada@example.test', firstName: 'Ada' } })).body.data.id;
});
afterAll(async () => {
  await api?.close();
});

const record = (fields: Partial<NewSend>) => recordSend(api, configId, { status: 'sent', ...fields });

/** A campaign copy (no body stored) of a campaign in `status`, recorded `age` days ago. */
async function campaignCopy(status: 'sent' | 'sending', age: number): Promise<SendRow> {
  seq += 1;
  const content = { subject: 'News for {{ firstName }}', html: '<p>Hi {{ firstName }}</p>' };
  const campaign = await insertCampaign(api.db, {
    siteId: api.siteA.id,
    name: `Campaign ${seq}`,
    ...content,
    frozenContent: content,
    audience: {},
    sendingConfigId: configId,
    status,
  });
  return record({
    kind: 'campaign',
    campaignId: campaign.id,
    contactId,
    subject: 'News for Ada',
    html: null,
    text: null,
    copyContext: copyContextOf(contactId, { email: 'ada@example.test', firstName: 'Ada' }, { opens: true, clicks: true }),
    status: status === 'sent' ? 'delivered' : 'queued',
    createdAt: daysAgo(age),
  });
}

const shown = async (id: number) => (await api.call('GET', `/api/v1/sends/${id}`)).body.data;

describe('message retention', () => {
  it('prunes the bodies of sends older than the retention, keeps recent ones and what a delivery still needs, and the send log says so', async () => {
    const old = await record({ createdAt: daysAgo(31), headers: { 'X-Order': '7' } });
    const recent = await record({ createdAt: daysAgo(29) });
    const oldQueued = await record({ createdAt: daysAgo(40), status: 'queued' });
    const oldCopy = await campaignCopy('sent', 45);
    const copyOfSending = await campaignCopy('sending', 45);

    // A campaign copy is rendered on demand while it is kept.
    const before = await shown(oldCopy.id);
    expect(before).toMatchObject({ bodyPruned: false, subject: 'News for Ada' });
    expect(before.html).toContain('<p>Hi Ada</p>');
    expect(before.html).toContain('https://mail.example.test/u/');

    expect(await pruneExpiredMessages(api.db, 30)).toBe(2);
    expect(await pruneExpiredMessages(api.db, 30)).toBe(0);

    const rows = new Map((await api.db.select().from(sends)).map((s) => [s.id, s]));
    expect(rows.get(old.id)).toMatchObject({ html: null, text: null, subject: old.subject, status: 'sent' });
    expect(rows.get(oldCopy.id)).toMatchObject({ copyContext: null, subject: 'News for Ada', status: 'delivered' });
    expect(rows.get(recent.id)!.html).toBe(recent.html);
    expect(rows.get(oldQueued.id)!.html).toBe(oldQueued.html);
    expect(rows.get(copyOfSending.id)!.copyContext).not.toBeNull();

    for (const id of [old.id, oldCopy.id]) {
      const res = await api.call('GET', `/api/v1/sends/${id}`);
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ id, bodyPruned: true, html: null, text: null });
    }
    expect((await shown(old.id)).headers).toEqual({ 'X-Order': '7' });
    expect(await shown(recent.id)).toMatchObject({ bodyPruned: false, html: recent.html, text: recent.text });
  });

  it('runs in the API process per TIDINGS_MESSAGE_RETENTION_DAYS, and keeps every body with off', async () => {
    const ancient = await record({ createdAt: daysAgo(3650) });
    const body = async () => (await api.db.select({ html: sends.html }).from(sends).where(eq(sends.id, ancient.id)))[0]!.html;
    // Each start runs once at once; stop() waits for that run.
    await startMessageRetention(api.db, loadConfig({ TIDINGS_MESSAGE_RETENTION_DAYS: 'off' }), logger)();
    expect(await body()).toBe(ancient.html);
    await startMessageRetention(api.db, loadConfig({}), logger)();
    expect(await body()).toBeNull();
  });
});
