import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaignActivities } from '../../activities/campaign.js';
import { createEnrollmentActivities } from '../../activities/enrollment.js';
import { createDeliveryActivities } from '../../activities/delivery.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createSendingConfig } from '../../src/db/repositories/sending-configs.js';
import { insertSend } from '../../src/db/repositories/sends.js';
import { campaigns, enrollments, sends } from '../../src/db/schema.js';
import { createMailers, type Mailers } from '../../src/mail/from-config.js';
import type { LoggedEmail } from '../../src/mail/log.js';
import { startTestApi, type TestApi } from './support.js';

/**
 * "Suppressions are checked before every send of every kind" (SPEC §7), proven through what a user
 * sees: the API refuses transactional mail to a suppressed address, and the delivery steps of every
 * kind (run here as plain functions over the same database, without Temporal) hand nothing to the
 * provider for an address suppressed after the email was queued, planned or frozen.
 */

const SECRET = 'suppression-enforcement-secret-0123456789';
const secretBox = createSecretBox(SECRET);
const logger = pino({ level: 'silent' });

let api: TestApi;
let configId: number;
let mailers: Mailers;
/** Every message the log provider "sent", by recipient. */
const delivered: string[] = [];

beforeAll(async () => {
  api = await startTestApi({ TIDINGS_SECRET: SECRET });
  configId = (await createSendingConfig(api.db, secretBox, api.siteA.id, { name: 'Log', provider: 'log', fromEmail: 'hello@acme.test' })).id;
  mailers = createMailers({
    logSink: (email: LoggedEmail) => {
      const to = email.message.to;
      delivered.push(...(Array.isArray(to) ? to : [to]));
    },
  });
});
afterAll(async () => {
  await mailers?.close();
  await api?.close();
});

const suppress = async (email: string, reason = 'manual') => {
  const res = await api.call('POST', '/api/v1/suppressions', { body: { email, reason } });
  expect(res.status, res.text).toBeLessThan(300);
};

async function contact(email: string, extra: Record<string, unknown> = {}): Promise<number> {
  const res = await api.call('POST', '/api/v1/contacts', { body: { email, ...extra } });
  expect(res.status, res.text).toBe(201);
  return res.body.data.id;
}

const sendsTo = (email: string) => api.db.select({ id: sends.id, status: sends.status }).from(sends).where(eq(sends.toEmail, email));

describe('transactional email', () => {
  it('is refused with 422 for a suppressed address, by `to` or by contact, and nothing is recorded', async () => {
    await suppress('gone@tx.test', 'hard_bounce');
    const byContact = await contact('Listed@tx.test');
    await api.call('POST', '/api/v1/suppressions/import', { raw: 'email,reason\nlisted@tx.test,complaint\n', headers: { 'content-type': 'text/csv' } });

    const byTo = await api.call('POST', '/api/v1/send', { body: { to: 'GONE@tx.test', subject: 'Receipt', html: '<p>Thanks</p>', sendingConfigId: configId } });
    expect(byTo.status).toBe(422);
    expect(byTo.body.error).toEqual({ code: 'recipient_suppressed', message: 'gone@tx.test is on the suppression list; nothing was sent' });

    const viaContact = await api.call('POST', '/api/v1/send', { body: { contactId: byContact, subject: 'Receipt', html: '<p>Thanks</p>', sendingConfigId: configId } });
    expect(viaContact.status).toBe(422);
    expect(viaContact.body.error.code).toBe('recipient_suppressed');

    expect(await sendsTo('gone@tx.test')).toEqual([]);
    expect(await sendsTo('listed@tx.test')).toEqual([]);
  });

  it('is refused with 422 when a cc or bcc address is suppressed, naming it', async () => {
    await suppress('accountant@tx.test');
    const res = await api.call('POST', '/api/v1/send', {
      body: { to: 'fine@tx.test', cc: ['ok@tx.test'], bcc: ['Accountant@tx.test'], subject: 'Invoice', html: '<p>Invoice</p>', sendingConfigId: configId },
    });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: 'recipient_suppressed',
      message: expect.stringContaining('accountant@tx.test'),
      details: [{ path: 'bcc.0', message: 'on the suppression list' }],
    });
    expect(await sendsTo('fine@tx.test')).toEqual([]);
  });

  it('reports each suppressed email of a batch as refused at its position', async () => {
    await suppress('batch1@tx.test');
    await suppress('batch2@tx.test', 'complaint');
    const email = (to: string) => ({ to, subject: 'Hi', html: '<p>Hi</p>', sendingConfigId: configId });
    const res = await api.call('POST', '/api/v1/send/batch', { body: { emails: [email('batch1@tx.test'), email('batch2@tx.test')] } });
    expect(res.status, res.text).toBe(202);
    expect(res.body.data).toEqual([
      { error: { code: 'recipient_suppressed', message: 'batch1@tx.test is on the suppression list; nothing was sent' } },
      { error: { code: 'recipient_suppressed', message: 'batch2@tx.test is on the suppression list; nothing was sent' } },
    ]);
    expect(await sendsTo('batch1@tx.test')).toEqual([]);
  });

  it('is not handed to the provider when the address was suppressed after the email was queued', async () => {
    const { send } = await insertSend(api.db, {
      siteId: api.siteA.id,
      kind: 'transactional',
      toEmail: 'later@tx.test',
      subject: 'Reset your password',
      html: '<p>Reset</p>',
      text: 'Reset',
      sendingConfigId: configId,
      idempotencyKey: 'test:enforcement:queued-then-suppressed',
    });
    await suppress('later@tx.test', 'hard_bounce');
    const result = await createDeliveryActivities({ db: api.db, secretBox, mailers, logger }).deliverSend({ sendId: send.id });
    expect(result).toMatchObject({ status: 'suppressed' });
    expect((await api.call('GET', `/api/v1/sends/${send.id}`)).body.data).toMatchObject({ status: 'suppressed', providerMessageId: null });
    expect(delivered).not.toContain('later@tx.test');
  });

  it('is not handed to the provider when a bcc address was suppressed after the email was queued', async () => {
    const { send } = await insertSend(api.db, {
      siteId: api.siteA.id,
      kind: 'transactional',
      toEmail: 'owner@tx.test',
      bcc: ['audit@tx.test'],
      subject: 'Invoice',
      html: '<p>Invoice</p>',
      text: 'Invoice',
      sendingConfigId: configId,
      idempotencyKey: 'test:enforcement:bcc-suppressed',
    });
    await suppress('audit@tx.test', 'complaint');
    const result = await createDeliveryActivities({ db: api.db, secretBox, mailers, logger }).deliverSend({ sendId: send.id });
    expect(result).toMatchObject({ status: 'suppressed' });
    expect(delivered).not.toContain('owner@tx.test');
  });

  it('still reaches a contact who unsubscribed, while marketing mail queued for them is held back', async () => {
    const id = await contact('leaver@tx.test');
    expect((await api.call('PATCH', `/api/v1/contacts/${id}`, { body: { status: 'unsubscribed' } })).status).toBe(200);
    const queued = (kind: 'transactional' | 'sequence') =>
      insertSend(api.db, {
        siteId: api.siteA.id,
        kind,
        contactId: id,
        toEmail: 'leaver@tx.test',
        subject: kind,
        html: `<p>${kind}</p>`,
        text: kind,
        sendingConfigId: configId,
        idempotencyKey: `test:enforcement:unsubscribed:${kind}`,
      });
    const activities = createDeliveryActivities({ db: api.db, secretBox, mailers, logger });
    const marketing = await activities.deliverSend({ sendId: (await queued('sequence')).send.id });
    expect(marketing).toMatchObject({ status: 'suppressed' });
    expect(delivered).not.toContain('leaver@tx.test');
    const reset = await activities.deliverSend({ sendId: (await queued('transactional')).send.id });
    expect(reset).toMatchObject({ status: 'sent' });
    expect(delivered).toContain('leaver@tx.test');
  });
});

describe('campaigns', () => {
  it('leave out addresses suppressed before the audience is frozen and those suppressed between freezing and sending', async () => {
    const list = (await api.call('POST', '/api/v1/lists', { body: { name: 'Newsletter' } })).body.data.id;
    for (const email of ['keep@camp.test', 'early@camp.test', 'late@camp.test']) await contact(email, { lists: [list] });
    await suppress('early@camp.test');
    const created = await api.call('POST', '/api/v1/campaigns', {
      body: { name: 'April', subject: 'April news', html: '<p>News</p>', listId: list, sendingConfigId: configId },
    });
    expect(created.status, created.text).toBe(201);
    const campaignId: number = created.body.data.id;
    // The workflow would move it to scheduled and call these activities; here they are called directly.
    await api.db.update(campaigns).set({ status: 'scheduled' }).where(eq(campaigns.id, campaignId));
    const activities = createCampaignActivities({ db: api.db, logger, secretBox, mailers });

    const frozen = await activities.freezeCampaignAudience({ campaignId, startedAt: new Date().toISOString() });
    expect(frozen).toMatchObject({ totalRecipients: 3, suppressedCount: 1 });
    await suppress('late@camp.test', 'complaint');

    const plan = await activities.planCampaignBatches({ campaignId, afterId: 0 });
    for (const range of plan.ranges) await activities.sendCampaignBatch({ campaignId, ...range });

    expect(delivered.filter((to) => to.endsWith('@camp.test'))).toEqual(['keep@camp.test']);
    const suppressed = await api.call('GET', `/api/v1/campaigns/${campaignId}/recipients?status=suppressed`);
    expect(suppressed.body.data.map((r: { email: string }) => r.email).sort()).toEqual(['early@camp.test', 'late@camp.test']);
    expect((await api.call('GET', `/api/v1/campaigns/${campaignId}`)).body.data).toMatchObject({ sentCount: 1, suppressedCount: 2 });
  });
});

describe('sequences', () => {
  it('end a journey whose contact became suppressed, and never hand a step’s email to the provider for a suppressed address', async () => {
    const sequence = await api.call('POST', '/api/v1/sequences', { body: { name: 'Onboarding', sendingConfigId: configId } });
    expect(sequence.status, sequence.text).toBe(201);
    const sequenceId: number = sequence.body.data.id;
    const step = await api.call('POST', `/api/v1/sequences/${sequenceId}/steps`, {
      body: { subject: 'Welcome', html: '<p>Welcome</p>', delayValue: 0, delayUnit: 'minutes' },
    });
    expect(step.status, step.text).toBe(201);
    const contactId = await contact('journey@seq.test');
    const [enrollment] = await api.db
      .insert(enrollments)
      .values({ siteId: api.siteA.id, sequenceId, contactId, workflowId: `enrollment:${sequenceId}:${contactId}` })
      .returning();
    const activities = createEnrollmentActivities({ db: api.db, logger, secretBox, mailers });

    expect(await activities.checkBeforeSend({ siteId: api.siteA.id, sequenceId, contactId })).toMatchObject({ exit: null });
    await suppress('journey@seq.test');
    // The workflow checks before each email and ends the journey...
    expect(await activities.checkBeforeSend({ siteId: api.siteA.id, sequenceId, contactId })).toMatchObject({ exit: 'suppressed' });
    // ...and should the suppression land between that check and the send, delivery checks again.
    const result = await activities.sendSequenceStep({
      enrollmentId: enrollment!.id,
      workflowId: enrollment!.workflowId,
      stepId: step.body.data.id,
      contactId,
      siteId: api.siteA.id,
    });
    expect(result).toMatchObject({ outcome: 'suppressed' });
    expect(delivered).not.toContain('journey@seq.test');
  });
});
