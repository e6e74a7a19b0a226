import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCampaign } from '../../src/db/repositories/campaigns.js';
import { insertSend, markSendSent } from '../../src/db/repositories/sends.js';
import { emailEvents, providerWebhookReceipts } from '../../src/db/schema.js';
import { newWebhookSecret, resendBounce, resendClick, resendEvent, signWebhook, type SignedWebhook } from '../helpers/svix.js';
import { startTestApi, type TestApi, type TestSite } from './support.js';

const SECRET = 'resend-webhooks-test-secret-0123456789abcdef';

let api: TestApi;
const secrets = { a: newWebhookSecret(), a2: newWebhookSecret(), b: newWebhookSecret() };
let configA: number;
let configA2: number;
let configB: number;

beforeAll(async () => {
  api = await startTestApi({ TIDINGS_SECRET: SECRET });
  configA = await resendConfig(api.siteA, 'Resend', secrets.a);
  configA2 = await resendConfig(api.siteA, 'Resend (marketing)', secrets.a2);
  configB = await resendConfig(api.siteB, 'Resend', secrets.b);
});
afterAll(async () => {
  await api?.close();
});

async function resendConfig(site: TestSite, name: string, webhookSecret: string): Promise<number> {
  const res = await api.call('POST', '/api/v1/sending-configs', {
    key: site.key,
    body: { name, provider: 'resend', fromEmail: 'hello@acme.test', credentials: { apiKey: 're_test_123' }, webhookSecret },
  });
  expect(res.status).toBe(201);
  return res.body.data.id;
}

let counter = 0;
/**
 * A contact of site A and a campaign email to it that Resend accepted (its Resend id `emailId`), as the
 * campaign worker leaves them.
 */
async function sentCampaignEmail(configId = configA, site = api.siteA) {
  const email = `reader${++counter}@example.com`;
  const contact = await api.call('POST', '/api/v1/contacts', { key: site.key, body: { email, firstName: 'Ada' } });
  expect(contact.status).toBe(201);
  const campaign = await insertCampaign(api.db, {
    siteId: site.id,
    name: `Newsletter ${counter}`,
    subject: 'News',
    html: '<p>News</p>',
    sendingConfigId: configId,
    audience: {},
    status: 'sent',
    sentCount: 1,
    totalRecipients: 1,
  });
  const { send } = await insertSend(api.db, {
    siteId: site.id,
    kind: 'campaign',
    contactId: contact.body.data.id,
    toEmail: email,
    subject: 'News',
    html: '<p>News</p>',
    text: 'News',
    sendingConfigId: configId,
    campaignId: campaign.id,
    idempotencyKey: `campaign:${campaign.id}:${contact.body.data.id}`,
  });
  const emailId = randomUUID();
  await markSendSent(api.db, send.id, emailId);
  return { email, contactId: contact.body.data.id as number, campaignId: campaign.id, sendId: send.id, emailId };
}

function post(signed: SignedWebhook, path = '/webhooks/resend') {
  return api.call('POST', path, { key: null, raw: signed.body, headers: signed.headers });
}

const deliver = (payload: unknown, opts: { secret?: string; path?: string; msgId?: string; at?: Date } = {}) =>
  post(signWebhook(opts.secret ?? secrets.a, payload, opts), opts.path);

const getSend = async (id: number, site = api.siteA) => (await api.call('GET', `/api/v1/sends/${id}`, { key: site.key })).body.data;
const getContact = async (id: number) => (await api.call('GET', `/api/v1/contacts/${id}`)).body.data;
const getCampaign = async (id: number) => (await api.call('GET', `/api/v1/campaigns/${id}`)).body.data;
/** The bounce events of a send as the API lists them, oldest first: `soft` or `hard` each. */
const bounceTypes = (send: { events: { type: string; data: { bounceType?: string } }[] }) =>
  send.events.filter((e) => e.type === 'bounced').map((e) => e.data.bounceType);
const suppression = async (email: string) => (await api.call('GET', `/api/v1/suppressions?email=${encodeURIComponent(email)}`)).body.data[0];

describe('POST /webhooks/resend', () => {
  it('stores the outgoing webhook deliveries with the event, so none is lost while Temporal is down', async () => {
    // This API's Temporal client is unreachable: the delivery cannot start now, and must wait as pending.
    const endpoint = await api.call('POST', '/api/v1/webhook-endpoints', { body: { url: 'http://127.0.0.1:9/hook', events: ['email.delivered'] } });
    expect(endpoint.status, endpoint.text).toBe(201);
    const mail = await sentCampaignEmail();
    expect((await deliver(resendEvent('email.delivered', mail.emailId))).status).toBe(200);
    const log = await api.call('GET', `/api/v1/webhook-endpoints/${endpoint.body.data.id}/deliveries`);
    expect(log.body.data).toHaveLength(1);
    expect(log.body.data[0]).toMatchObject({ status: 'pending', eventType: 'email.delivered' });
    expect(await getSend(mail.sendId)).toMatchObject({ status: 'delivered' });
    expect((await api.call('DELETE', `/api/v1/webhook-endpoints/${endpoint.body.data.id}`)).status).toBe(204);
  });

  it('marks the send delivered and counts the delivery on its campaign', async () => {
    const mail = await sentCampaignEmail();
    const res = await deliver(resendEvent('email.delivered', mail.emailId));

    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ duplicate: false, recorded: true });
    expect(await getSend(mail.sendId)).toMatchObject({ status: 'delivered' });
    expect(await getCampaign(mail.campaignId)).toMatchObject({ deliveredCount: 1, bouncedCount: 0 });
    expect(await getContact(mail.contactId)).toMatchObject({ status: 'subscribed' });
  });

  it('turns a permanent bounce into a bounced send and contact, a hard_bounce suppression and a campaign bounce', async () => {
    const mail = await sentCampaignEmail();
    const res = await deliver(resendBounce(mail.emailId, 'Permanent'));

    expect(res.status).toBe(200);
    expect(await getSend(mail.sendId)).toMatchObject({ status: 'bounced' });
    expect(await getContact(mail.contactId)).toMatchObject({ status: 'bounced' });
    expect(await suppression(mail.email)).toMatchObject({ email: mail.email, reason: 'hard_bounce' });
    expect(await getCampaign(mail.campaignId)).toMatchObject({ bouncedCount: 1 });
    const [event] = await api.db.select().from(emailEvents).where(eq(emailEvents.sendId, mail.sendId));
    expect(event).toMatchObject({ type: 'bounced', contactId: mail.contactId, campaignId: mail.campaignId, data: { bounceType: 'hard', providerBounceType: 'Permanent' } });
  });

  it('turns a complaint into a complained contact and a complaint suppression', async () => {
    const mail = await sentCampaignEmail();
    await deliver(resendEvent('email.delivered', mail.emailId));
    const res = await deliver(resendEvent('email.complained', mail.emailId));

    expect(res.status).toBe(200);
    expect(await getSend(mail.sendId)).toMatchObject({ status: 'complained' });
    expect(await getContact(mail.contactId)).toMatchObject({ status: 'complained' });
    expect(await suppression(mail.email)).toMatchObject({ reason: 'complaint' });
    expect(await getCampaign(mail.campaignId)).toMatchObject({ deliveredCount: 1, complainedCount: 1 });
  });

  it('records a transient bounce on the send only: the contact stays subscribed and unsuppressed', async () => {
    const mail = await sentCampaignEmail();
    const res = await deliver(resendBounce(mail.emailId, 'Transient'));

    expect(res.status).toBe(200);
    expect(await getSend(mail.sendId)).toMatchObject({ status: 'bounced' });
    expect(await getContact(mail.contactId)).toMatchObject({ status: 'subscribed' });
    expect(await suppression(mail.email)).toBeUndefined();
  });

  it('bounces the contact on a permanent bounce that follows a transient one, counting the email once', async () => {
    const mail = await sentCampaignEmail();
    expect((await deliver(resendBounce(mail.emailId, 'Transient'))).body.data).toMatchObject({ recorded: true });
    const hard = await deliver(resendBounce(mail.emailId, 'Permanent'));

    expect(hard.body.data).toMatchObject({ duplicate: false, recorded: true });
    expect(await getContact(mail.contactId)).toMatchObject({ status: 'bounced' });
    expect(await suppression(mail.email)).toMatchObject({ reason: 'hard_bounce' });
    expect(await getCampaign(mail.campaignId)).toMatchObject({ bouncedCount: 1 });
    const send = await getSend(mail.sendId);
    expect(send.status).toBe('bounced');
    expect(bounceTypes(send)).toEqual(['soft', 'hard']);
  });

  it('keeps the contact bounced and the email counted once when a transient bounce follows a permanent one', async () => {
    const mail = await sentCampaignEmail();
    await deliver(resendBounce(mail.emailId, 'Permanent'));
    const soft = await deliver(resendBounce(mail.emailId, 'Transient'));

    expect(soft.status).toBe(200);
    expect(await getContact(mail.contactId)).toMatchObject({ status: 'bounced' });
    expect(await suppression(mail.email)).toMatchObject({ reason: 'hard_bounce' });
    expect(await getCampaign(mail.campaignId)).toMatchObject({ bouncedCount: 1 });
    const send = await getSend(mail.sendId);
    expect(send.status).toBe('bounced');
    expect(bounceTypes(send)).toEqual(['hard', 'soft']);
  });

  it('counts a transient and a permanent bounce of one email once when they arrive together', async () => {
    const mail = await sentCampaignEmail();
    const answers = await Promise.all([deliver(resendBounce(mail.emailId, 'Transient')), deliver(resendBounce(mail.emailId, 'Permanent'))]);

    expect(answers.map((a) => a.body.data.recorded)).toEqual([true, true]);
    expect(await getCampaign(mail.campaignId)).toMatchObject({ bouncedCount: 1 });
    expect(await getContact(mail.contactId)).toMatchObject({ status: 'bounced' });
  });

  it('processes a permanent bounce after a transient one once, however often Resend posts it', async () => {
    const mail = await sentCampaignEmail();
    await deliver(resendBounce(mail.emailId, 'Transient'));
    const signed = signWebhook(secrets.a, resendBounce(mail.emailId, 'Permanent'));

    expect((await post(signed)).body.data).toMatchObject({ duplicate: false, recorded: true });
    expect((await post(signed)).body.data).toEqual({ duplicate: true });
    // The same bounce under a new message id (Resend sent it twice) is a known event.
    expect((await deliver(resendBounce(mail.emailId, 'Permanent'))).body.data).toMatchObject({ duplicate: false, recorded: false });

    expect(await getCampaign(mail.campaignId)).toMatchObject({ bouncedCount: 1 });
    expect(bounceTypes(await getSend(mail.sendId))).toEqual(['soft', 'hard']);
    expect(await getContact(mail.contactId)).toMatchObject({ status: 'bounced' });
  });

  it('does not bring a bounced send back to delivered when the delivery report arrives late', async () => {
    const mail = await sentCampaignEmail();
    await deliver(resendBounce(mail.emailId));
    const late = await deliver(resendEvent('email.delivered', mail.emailId));

    expect(late.status).toBe(200);
    expect(await getSend(mail.sendId)).toMatchObject({ status: 'bounced' });
    expect(await getContact(mail.contactId)).toMatchObject({ status: 'bounced' });
  });

  it('counts opens and clicks once per email and keeps the clicked link', async () => {
    const mail = await sentCampaignEmail();
    await deliver(resendEvent('email.opened', mail.emailId));
    await deliver(resendEvent('email.opened', mail.emailId));
    await deliver(resendClick(mail.emailId, 'https://acme.test/pricing'));

    expect(await getCampaign(mail.campaignId)).toMatchObject({ openedCount: 1, clickedCount: 1 });
    const events = await api.db.select().from(emailEvents).where(eq(emailEvents.sendId, mail.sendId)).orderBy(emailEvents.id);
    expect(events.map((e) => e.type)).toEqual(['opened', 'clicked']);
    expect(events[1]!.data).toMatchObject({ url: 'https://acme.test/pricing', source: 'resend' });
  });

  it('marks the send failed with Resend\'s reason on email.failed', async () => {
    const mail = await sentCampaignEmail();
    await deliver(resendEvent('email.failed', mail.emailId, { failed: { reason: 'reached_daily_quota' } }));
    expect(await getSend(mail.sendId)).toMatchObject({ status: 'failed', error: 'reached_daily_quota' });
  });

  it('processes a replayed message id once: the second delivery answers duplicate and counts nothing', async () => {
    const mail = await sentCampaignEmail();
    const signed = signWebhook(secrets.a, resendEvent('email.delivered', mail.emailId));

    const first = await post(signed);
    const replay = await post(signed);

    expect(first.body.data).toMatchObject({ duplicate: false, recorded: true });
    expect(replay.status).toBe(200);
    expect(replay.body.data).toEqual({ duplicate: true });
    expect(await getCampaign(mail.campaignId)).toMatchObject({ deliveredCount: 1 });
    const receipts = await api.db.select().from(providerWebhookReceipts).where(eq(providerWebhookReceipts.eventId, signed.headers['svix-id']!));
    expect(receipts).toHaveLength(1);
  });

  it('refuses a body signed with another secret (401) and changes nothing', async () => {
    const mail = await sentCampaignEmail();
    const res = await deliver(resendBounce(mail.emailId), { secret: newWebhookSecret() });

    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_signature');
    expect(await getSend(mail.sendId)).toMatchObject({ status: 'sent' });
    expect(await getContact(mail.contactId)).toMatchObject({ status: 'subscribed' });
  });

  it('refuses a correctly signed request whose timestamp is older than 5 minutes (401)', async () => {
    const mail = await sentCampaignEmail();
    const res = await deliver(resendBounce(mail.emailId), { at: new Date(Date.now() - 6 * 60_000) });

    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/5 minutes/);
    expect(await getContact(mail.contactId)).toMatchObject({ status: 'subscribed' });
  });

  it('refuses a request without the Svix headers (401) and a body altered after signing (401)', async () => {
    const mail = await sentCampaignEmail();
    const unsigned = await api.call('POST', '/webhooks/resend', { key: null, body: resendBounce(mail.emailId) });
    expect(unsigned.status).toBe(401);

    const signed = signWebhook(secrets.a, resendEvent('email.delivered', mail.emailId));
    const tampered = await post({ ...signed, body: signed.body.replace('email.delivered', 'email.complained') });
    expect(tampered.status).toBe(401);
    expect(await getSend(mail.sendId)).toMatchObject({ status: 'sent' });
  });

  it('answers 400 to a correctly signed body that is not JSON or not a Resend event', async () => {
    const mail = await sentCampaignEmail();
    const notJson = await deliver('{"type": "email.bounced", ');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('invalid_json');

    const noBounce = await deliver(resendEvent('email.bounced', mail.emailId));
    expect(noBounce.status).toBe(400);
    expect(noBounce.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'data.bounce' })]));

    const notAnEvent = await deliver([1, 2, 3]);
    expect(notAnEvent.status).toBe(400);
    expect(await getSend(mail.sendId)).toMatchObject({ status: 'sent' });
  });

  it('acknowledges event types it does not know and emails it never sent, and changes nothing', async () => {
    const mail = await sentCampaignEmail();
    const unknownType = await deliver({ type: 'contact.created', created_at: new Date().toISOString(), data: { id: 'c1', email: mail.email } });
    expect(unknownType.status).toBe(200);
    expect(unknownType.body.data).toMatchObject({ recorded: false, ignored: 'unknown_type' });

    const signed = signWebhook(secrets.a, resendBounce(randomUUID()));
    const unknownEmail = await post(signed);
    expect(unknownEmail.status).toBe(200);
    expect(unknownEmail.body.data).toMatchObject({ recorded: false, ignored: 'unknown_email' });
    expect((await post(signed)).body.data).toEqual({ duplicate: true });
    expect(await getContact(mail.contactId)).toMatchObject({ status: 'subscribed' });
  });

  it('verifies against every Resend config: a second config of the site signs its own emails', async () => {
    const mail = await sentCampaignEmail(configA2);
    const res = await deliver(resendEvent('email.delivered', mail.emailId), { secret: secrets.a2 });
    expect(res.status).toBe(200);
    expect(await getSend(mail.sendId)).toMatchObject({ status: 'delivered' });
  });

  it('never lets one site\'s webhook touch another site\'s email', async () => {
    const mail = await sentCampaignEmail();
    const res = await deliver(resendBounce(mail.emailId), { secret: secrets.b });

    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ ignored: 'unknown_email' });
    expect(await getContact(mail.contactId)).toMatchObject({ status: 'subscribed' });
    const receipts = await api.db.select().from(providerWebhookReceipts).where(eq(providerWebhookReceipts.siteId, api.siteB.id));
    expect(receipts.length).toBeGreaterThan(0);
  });
});

describe('one Resend account on two sites', () => {
  it('records the event on the site whose email it is when both sites have the same webhook secret', async () => {
    const shared = newWebhookSecret();
    const sharedA = await resendConfig(api.siteA, 'Resend (shared account)', shared);
    const sharedB = await resendConfig(api.siteB, 'Resend (shared account)', shared);
    const mailA = await sentCampaignEmail(sharedA);
    const mailB = await sentCampaignEmail(sharedB, api.siteB);

    expect((await deliver(resendEvent('email.delivered', mailB.emailId), { secret: shared })).status).toBe(200);
    expect((await deliver(resendEvent('email.delivered', mailA.emailId), { secret: shared })).status).toBe(200);

    expect(await getSend(mailB.sendId, api.siteB)).toMatchObject({ status: 'delivered' });
    expect(await getSend(mailA.sendId)).toMatchObject({ status: 'delivered' });
  });
});

describe('POST /webhooks/resend/:sendingConfigId', () => {
  it('verifies with that config\'s secret only', async () => {
    const mail = await sentCampaignEmail();
    const wrongConfig = await deliver(resendEvent('email.delivered', mail.emailId), { path: `/webhooks/resend/${configA2}` });
    expect(wrongConfig.status).toBe(401);
    const otherSite = await deliver(resendEvent('email.delivered', mail.emailId), { path: `/webhooks/resend/${configB}` });
    expect(otherSite.status).toBe(401);
    const unknown = await deliver(resendEvent('email.delivered', mail.emailId), { path: '/webhooks/resend/not-a-number' });
    expect(unknown.status).toBe(401);

    const signed = signWebhook(secrets.a, resendEvent('email.delivered', mail.emailId));
    const right = await post(signed, `/webhooks/resend/${configA}`);
    expect(right.status).toBe(200);
    expect(await getSend(mail.sendId)).toMatchObject({ status: 'delivered' });
    const receipts = await api.db.select().from(providerWebhookReceipts).where(eq(providerWebhookReceipts.eventId, signed.headers['svix-id']!));
    expect(receipts).toEqual([expect.objectContaining({ siteId: api.siteA.id, sendingConfigId: configA, type: 'email.delivered' })]);
  });
});
