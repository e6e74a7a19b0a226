import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createSendingConfig } from '../../src/db/repositories/sending-configs.js';
import { campaignRecipients, campaigns, contacts, listMembers, sends, suppressions } from '../../src/db/schema.js';
import { startTestApi, type TestApi } from './support.js';

let api: TestApi;
let logConfig: number;
let resendConfig: number;
let listId: number;
let otherSiteList: number;
let otherSiteConfig: number;
const secretBox = createSecretBox('campaign-api-test-secret-0123456789abcdef');

beforeAll(async () => {
  api = await startTestApi();
  const config = (siteId: number, provider: 'log' | 'resend') =>
    createSendingConfig(api.db, secretBox, siteId, {
      name: provider,
      provider,
      fromEmail: 'news@acme.test',
      credentials: provider === 'resend' ? { apiKey: 're_test_0123456789' } : {},
    }).then((c) => c.id);
  logConfig = await config(api.siteA.id, 'log');
  resendConfig = await config(api.siteA.id, 'resend');
  otherSiteConfig = await config(api.siteB.id, 'log');
  listId = (await api.call('POST', '/api/v1/lists', { body: { name: 'Readers' } })).body.data.id;
  otherSiteList = (await api.call('POST', '/api/v1/lists', { body: { name: 'Theirs' }, key: api.siteB.key })).body.data.id;
});
afterAll(async () => {
  await api?.close();
});

const draft = (extra: Record<string, unknown> = {}) =>
  api.call('POST', '/api/v1/campaigns', {
    body: { name: 'March Newsletter', subject: "What's new in March", html: '<h1>March Update</h1>', listId, sendingConfigId: logConfig, ...extra },
  });

/** Moves a campaign to a state only the workflow reaches (these tests run without Temporal). */
async function forceStatus(id: number, status: 'sending' | 'sent' | 'paused') {
  await api.db.update(campaigns).set({ status }).where(eq(campaigns.id, id));
}

describe('campaigns API', () => {
  it('creates a draft when no scheduledAt is given, with zeroed counters and the audience spelled out', async () => {
    const res = await draft({ tagId: undefined, batchSize: 50, maxPerSecond: 20 });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({
      name: 'March Newsletter',
      status: 'draft',
      scheduledAt: null,
      audience: { listIds: [listId], tagIds: [], segmentIds: [], excludeListIds: [], excludeSegmentIds: [] },
      batchSize: 50,
      maxPerSecond: 20,
      totalRecipients: 0,
      sentCount: 0,
      progress: 0,
      rates: { delivered: 0, opened: 0, clicked: 0, bounced: 0, complained: 0, unsubscribed: 0, failed: 0 },
    });
    const got = await api.call('GET', `/api/v1/campaigns/${res.body.data.id}`);
    expect(got.body.data).toEqual(res.body.data);
  });

  it('refuses bodies without an audience, without content, with a bad time or an unparseable template, naming the field', async () => {
    const noAudience = await api.call('POST', '/api/v1/campaigns', { body: { name: 'x', subject: 's', html: 'h', sendingConfigId: logConfig } });
    expect(noAudience.status).toBe(400);
    expect(noAudience.body.error.details[0].path).toBe('audience');

    const noContent = await api.call('POST', '/api/v1/campaigns', { body: { name: 'x', listId, sendingConfigId: logConfig } });
    expect(noContent.status).toBe(400);
    expect(noContent.body.error.details.map((d: { path: string }) => d.path)).toEqual(['subject', 'html']);

    const badTime = await draft({ scheduledAt: 'next monday' });
    expect(badTime.status).toBe(400);
    expect(badTime.body.error.details[0].path).toBe('scheduledAt');

    const badLiquid = await draft({ html: '<p>{{ firstName </p>' });
    expect(badLiquid.status).toBe(400);
    expect(badLiquid.body.error.code).toBe('template_syntax');

    const tooBig = await draft({ sendingConfigId: resendConfig, batchSize: 1001 });
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.error.details[0]).toMatchObject({ path: 'batchSize' });

    const malformed = await api.call('POST', '/api/v1/campaigns', { raw: '{"name": ' });
    expect(malformed.status).toBe(400);
  });

  it('gives a campaign without a batch size batches of 1000, for Resend too (its calls take 100 each)', async () => {
    const overResend = await draft({ sendingConfigId: resendConfig });
    expect(overResend.status).toBe(201);
    expect(overResend.body.data.batchSize).toBe(1000);
    const chosen = await api.call('PATCH', `/api/v1/campaigns/${overResend.body.data.id}`, { body: { batchSize: 250 } });
    expect(chosen.body.data.batchSize).toBe(250);
  });

  it("answers 404 for another site's list, sending config or campaign, and creates nothing", async () => {
    const before = (await api.call('GET', '/api/v1/campaigns?limit=100')).body.pagination.total;
    const list = await draft({ listId: otherSiteList });
    expect(list.status).toBe(404);
    expect(list.body.error.code).toBe('list_not_found');
    const config = await draft({ sendingConfigId: otherSiteConfig });
    expect(config.status).toBe(404);
    expect(config.body.error.code).toBe('sending_config_not_found');
    const segment = await draft({ audience: { segmentIds: [999_999] } });
    expect(segment.status).toBe(404);
    expect((await api.call('GET', '/api/v1/campaigns?limit=100')).body.pagination.total).toBe(before);

    const mine = (await draft()).body.data.id;
    expect((await api.call('GET', `/api/v1/campaigns/${mine}`, { key: api.siteB.key })).status).toBe(404);
  });

  it('edits and deletes drafts, and refuses both with a 409 naming the status once the campaign is sending', async () => {
    const id = (await draft()).body.data.id;
    const patched = await api.call('PATCH', `/api/v1/campaigns/${id}`, { body: { subject: 'New subject', maxPerSecond: null } });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ subject: 'New subject', status: 'draft', maxPerSecond: null });

    await forceStatus(id, 'sending');
    const edit = await api.call('PATCH', `/api/v1/campaigns/${id}`, { body: { subject: 'Too late' } });
    expect(edit.status).toBe(409);
    expect(edit.body.error.message).toMatch(/is sending; it can be edited only when draft or scheduled/);
    expect((await api.call('DELETE', `/api/v1/campaigns/${id}`)).status).toBe(409);

    const other = (await draft()).body.data.id;
    expect((await api.call('DELETE', `/api/v1/campaigns/${other}`)).status).toBe(204);
    expect((await api.call('GET', `/api/v1/campaigns/${other}`)).status).toBe(404);
  });

  it('validates state transitions: a draft cannot be paused, resumed or retried, but can be cancelled', async () => {
    const id = (await draft()).body.data.id;
    for (const action of ['pause', 'resume', 'retry-failed']) {
      const res = await api.call('POST', `/api/v1/campaigns/${id}/${action}`);
      expect(res.status, action).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'invalid_state' });
      expect(res.body.error.message).toMatch(new RegExp(`Campaign ${id} is draft`));
    }
    const cancelled = await api.call('POST', `/api/v1/campaigns/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.data.status).toBe('cancelled');
    expect((await api.call('POST', `/api/v1/campaigns/${id}/send`)).status).toBe(409);
    expect((await api.call('POST', `/api/v1/campaigns/${id}/schedule`, { body: { scheduledAt: '2030-01-01T00:00:00Z' } })).status).toBe(409);
  });

  it('answers 503 and keeps the campaign as it was when its workflow cannot be told (Temporal down), so a retry works', async () => {
    const id = (await draft({ name: 'Unreachable' })).body.data.id;
    for (const [from, action] of [['paused', 'resume'], ['sending', 'pause'], ['sending', 'cancel']] as const) {
      await forceStatus(id, from);
      const res = await api.call('POST', `/api/v1/campaigns/${id}/${action}`);
      expect(res.status, action).toBe(503);
      expect(res.body.error).toMatchObject({ code: 'service_unavailable' });
      expect((await api.call('GET', `/api/v1/campaigns/${id}`)).body.data.status, action).toBe(from);
    }
  });

  it('lists campaigns by status and pages recipients filtered by state, with stats counted from them', async () => {
    const id = (await draft({ name: 'Counted' })).body.data.id;
    await forceStatus(id, 'sent');
    const people = await api.db
      .insert(contacts)
      .values(Array.from({ length: 5 }, (_, i) => ({ siteId: api.siteA.id, email: `r${i}-${id}@example.com` })))
      .returning({ id: contacts.id, email: contacts.email });
    await api.db.insert(campaignRecipients).values(
      people.map((p, i) => ({ campaignId: id, contactId: p.id, email: p.email, status: i < 3 ? ('sent' as const) : ('failed' as const) })),
    );
    await api.db.update(campaigns).set({ totalRecipients: 5, sentCount: 3, failedCount: 2 }).where(eq(campaigns.id, id));

    const sent = await api.call('GET', '/api/v1/campaigns?status=sent');
    expect(sent.body.data.map((c: { id: number }) => c.id)).toContain(id);
    expect(sent.body.data.every((c: { status: string }) => c.status === 'sent')).toBe(true);

    const failed = await api.call('GET', `/api/v1/campaigns/${id}/recipients?status=failed&limit=1`);
    expect(failed.body.pagination).toEqual({ page: 1, limit: 1, total: 2, totalPages: 2 });
    expect(failed.body.data[0]).toMatchObject({ status: 'failed', email: people[3]!.email });

    const stats = await api.call('GET', `/api/v1/campaigns/${id}/stats`);
    expect(stats.body.data).toMatchObject({
      totalRecipients: 5,
      sentCount: 3,
      failedCount: 2,
      progress: 100,
      rates: { failed: 0.4 },
      recipients: { pending: 0, sent: 3, failed: 2, suppressed: 0, skipped: 0 },
    });
    expect((await api.call('GET', `/api/v1/campaigns/${id}/recipients?status=bogus`)).status).toBe(400);
  });

  it('counts an audience before it is frozen: subscribed members, minus exclusions, with the suppressed ones apart', async () => {
    const list = (await api.call('POST', '/api/v1/lists', { body: { name: 'Counted audience' } })).body.data.id;
    const excluded = (await api.call('POST', '/api/v1/lists', { body: { name: 'Excluded' } })).body.data.id;
    const people = await api.db
      .insert(contacts)
      .values([
        { siteId: api.siteA.id, email: 'count-1@example.com' },
        { siteId: api.siteA.id, email: 'count-2@example.com' },
        { siteId: api.siteA.id, email: 'count-3@example.com', status: 'unsubscribed' as const },
        { siteId: api.siteA.id, email: 'count-4@example.com' },
        { siteId: api.siteA.id, email: 'count-5@example.com' },
      ])
      .returning({ id: contacts.id });
    await api.db.insert(listMembers).values(people.map((p) => ({ listId: list, contactId: p.id })));
    await api.db.insert(listMembers).values({ listId: excluded, contactId: people[4]!.id });
    await api.db.insert(suppressions).values({ siteId: api.siteA.id, email: 'count-2@example.com', reason: 'manual' });

    const res = await api.call('POST', '/api/v1/campaigns/audience-count', { body: { listIds: [list], excludeListIds: [excluded] } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual({ total: 3, suppressed: 1, recipients: 2 });
    expect((await api.call('POST', '/api/v1/campaigns/audience-count', { body: { listIds: [otherSiteList] } })).status).toBe(404);
    expect((await api.call('POST', '/api/v1/campaigns/audience-count', { body: { lists: [list] } })).status).toBe(400);
  });

  it('records a test copy as a transactional send with the [Test] subject, and answers 503 while Temporal is down', async () => {
    const id = (await draft({ name: 'Tested', subject: 'Hello {{ firstName | default: "you" }}' })).body.data.id;
    const res = await api.call('POST', `/api/v1/campaigns/${id}/test`, { body: { to: 'Me@Example.com' } });
    // No Temporal here: the send is recorded (queued) and its delivery could not start.
    expect(res.status, res.text).toBe(503);
    const [row] = await api.db.select().from(sends).where(eq(sends.toEmail, 'me@example.com'));
    expect(row).toMatchObject({ kind: 'transactional', subject: '[Test] Hello you', html: '<h1>March Update</h1>', sendingConfigId: logConfig, status: 'queued', campaignId: null });
    expect((await api.call('POST', `/api/v1/campaigns/${id}/test`, { body: { to: 'not-an-email' } })).status).toBe(400);
    expect((await api.call('POST', `/api/v1/campaigns/${id}/test`, { body: { to: 'me@example.com' }, key: api.siteB.key })).status).toBe(404);
  });
});
