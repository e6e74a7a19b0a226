import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCampaignActivities } from '../../activities/campaign.js';
import { createEnrollmentActivities } from '../../activities/enrollment.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { insertCampaign } from '../../src/db/repositories/campaigns.js';
import { createSendingConfig } from '../../src/db/repositories/sending-configs.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { sends } from '../../src/db/schema.js';
import { createMailers, type Mailers } from '../../src/mail/from-config.js';
import { createLinks } from '../../src/mail/links.js';
import { createLogger } from '../../src/logger.js';
import { loadSendMessage } from '../../src/services/send-message.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { startFakeResend, type FakeResend } from '../helpers/fake-resend.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { resendConfig, seedList } from '../workflows/campaign-fixtures.js';
import { createContact, createSequence } from '../workflows/enrollment-fixtures.js';

// The activities called directly (no Temporal): what they store and hand to the (fake) provider when
// the first attempt fails after recording its sends, and a retry runs.

const SECRET = 'marketing-links-secret-0123456789abcdefgh';
const PUBLIC_URL = 'https://links.example.test';
const HTML = '<p>Hi {{ firstName }}, <a href="https://shop.example.test/sale">sale</a> · <a href="{{ unsubscribeUrl }}">unsubscribe</a></p>';
const links = createLinks({ secret: SECRET, publicUrl: PUBLIC_URL });
const secretBox = createSecretBox(SECRET);
const logger = createLogger('silent');

let testDb: TestDb;
let resend: FakeResend;
let mailers: Mailers;
let siteId: number;
let configId: number;

beforeAll(async () => {
  [testDb, resend] = await Promise.all([createTestDb(), startFakeResend()]);
  mailers = createMailers({ resendBaseUrl: resend.url });
  siteId = (await createSite(testDb.db, { name: 'Links' })).id;
  configId = await resendConfig(testDb.db, secretBox, siteId, resend.apiKey);
});
beforeEach(() => resend.reset());
afterAll(async () => {
  await mailers?.close();
  await resend?.close();
  await testDb?.close();
});

type Send = typeof sends.$inferSelect;

/** A send with its message as the send log shows it (a campaign copy rendered again). */
async function withMessage(send: Send) {
  const message = await loadSendMessage(testDb.db, send, links);
  return { ...send, html: message!.html, headers: message!.headers ?? null };
}

/** Checks that a send's message names the send in every link and carries the one-click headers. */
function expectSelfNamed(send: Send & { html: string }) {
  const unsubscribe = /href="https:\/\/links\.example\.test\/u\/([^"]+)"/.exec(send.html)![1]!;
  expect(links.verifyUnsubscribe(unsubscribe)).toEqual({ siteId, contactId: send.contactId, sendId: send.id });
  const click = /href="https:\/\/links\.example\.test\/t\/c\/([^"]+)"/.exec(send.html)![1]!;
  expect(links.verifyClick(click)).toEqual({ sendId: send.id, url: 'https://shop.example.test/sale' });
  const open = /src="https:\/\/links\.example\.test\/t\/o\/([^"]+)"/.exec(send.html)![1]!;
  expect(links.verifyOpen(open)).toEqual({ sendId: send.id });
  expect(send.headers).toEqual({
    'List-Unsubscribe': `<https://links.example.test/u/${unsubscribe}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  });
}

describe('links in campaign and sequence sends', () => {
  it('renders each campaign email with its own send id, and a batch retried after a provider outage resends the same emails', async () => {
    const { listId } = await seedList(testDb.db, siteId, 3, 'campaign-links');
    const campaign = await insertCampaign(testDb.db, {
      siteId,
      name: 'Sale',
      subject: 'Sale',
      html: HTML,
      audience: { listIds: [listId] },
      sendingConfigId: configId,
      status: 'scheduled',
    });
    const activities = createCampaignActivities({ db: testDb.db, logger, secretBox, mailers, links });
    await activities.freezeCampaignAudience({ campaignId: campaign.id, startedAt: new Date().toISOString() });
    const plan = await activities.planCampaignBatches({ campaignId: campaign.id, afterId: 0 });
    expect(plan.ranges).toHaveLength(1);
    const range = { campaignId: campaign.id, ...plan.ranges[0]! };

    resend.failNext(1, { status: 500 });
    await expect(activities.sendCampaignBatch(range)).rejects.toThrow();
    const recorded = await testDb.db.select().from(sends).where(eq(sends.campaignId, campaign.id)).orderBy(sends.id);
    expect(recorded).toHaveLength(3);
    // Each row keeps what its copy differs by, not the copy.
    expect(recorded.map((s) => [s.html, s.text, s.headers])).toEqual(recorded.map(() => [null, null, null]));
    const first = await Promise.all(recorded.map(withMessage));
    first.forEach(expectSelfNamed);
    const batchBodies = () => resend.requests.filter((r) => r.path === '/emails/batch').map((r) => r.body);
    expect(batchBodies()).toHaveLength(1);

    const result = await activities.sendCampaignBatch(range);
    expect(result.sent).toBe(3);
    // The retry hands the provider the very same batch (its idempotency key covers the payload).
    const [failed, retried] = batchBodies();
    expect(retried).toEqual(failed);
    // What the provider got: each email as the send log shows it, headers included.
    expect(resend.emails).toHaveLength(3);
    for (const send of first) {
      const email = resend.emails.find((e) => [e.payload.to].flat()[0] === send.toEmail)!;
      expect(email.payload.html).toBe(send.html);
      expect(email.payload.headers).toEqual(send.headers);
    }
  });

  it('renders a sequence email with its own send id, and a step retried after a provider outage delivers the stored email unchanged', async () => {
    const { stepIds } = await createSequence(testDb.db, siteId, configId, { welcome: { subject: 'Welcome', html: HTML } });
    const contact = await createContact(testDb.db, siteId, 'sequence-links@example.com');
    const activities = createEnrollmentActivities({ db: testDb.db, logger, secretBox, mailers, links });
    const input = { enrollmentId: 1, workflowId: `enrollment:links:${contact.id}`, stepId: stepIds.welcome!, contactId: contact.id, siteId };

    resend.failNext(1, { status: 500 });
    await expect(activities.sendSequenceStep(input)).rejects.toThrow();
    const [first] = await testDb.db.select().from(sends).where(eq(sends.workflowId, input.workflowId));
    expect(first).toMatchObject({ status: 'queued', kind: 'sequence' });
    expectSelfNamed(await withMessage(first!));

    const result = await activities.sendSequenceStep(input);
    expect(result).toMatchObject({ outcome: 'sent', sendId: first!.id });
    const [after] = await testDb.db.select().from(sends).where(eq(sends.workflowId, input.workflowId));
    expect(after!.html).toBe(first!.html);
    expect(resend.emails).toHaveLength(1);
    expect(resend.emails[0]!.payload.html).toBe(first!.html);
    expect(resend.emails[0]!.payload.headers).toEqual(first!.headers);
  });
  it('hands the unsubscribe headers to an SMTP server too, on the campaign batch path', async () => {
    const sink = await startSmtpSink();
    // Its own mailers, closed before the sink: a pooled SMTP connection left open would hold close().
    const smtpMailers = createMailers();
    try {
      const smtpConfig = await createSendingConfig(testDb.db, secretBox, siteId, {
        name: 'SMTP',
        provider: 'smtp',
        fromEmail: 'news@acme.test',
        credentials: { host: sink.host, port: sink.port },
      });
      const { listId } = await seedList(testDb.db, siteId, 1, 'smtp-links');
      const campaign = await insertCampaign(testDb.db, {
        siteId,
        name: 'SMTP',
        subject: 'Sale',
        html: HTML,
        audience: { listIds: [listId] },
        sendingConfigId: smtpConfig.id,
        status: 'scheduled',
      });
      const activities = createCampaignActivities({ db: testDb.db, logger, secretBox, mailers: smtpMailers, links });
      await activities.freezeCampaignAudience({ campaignId: campaign.id, startedAt: new Date().toISOString() });
      const plan = await activities.planCampaignBatches({ campaignId: campaign.id, afterId: 0 });
      expect((await activities.sendCampaignBatch({ campaignId: campaign.id, ...plan.ranges[0]! })).sent).toBe(1);

      const send = await withMessage((await testDb.db.select().from(sends).where(eq(sends.campaignId, campaign.id)))[0]!);
      expect(sink.messages).toHaveLength(1);
      const mail = sink.messages[0]!;
      // mailparser turns List-* headers into objects: read them as they came over the wire (unfolded).
      const raw = mail.raw.replace(/\r?\n[ \t]+/g, ' ');
      expect(/^List-Unsubscribe: (.+)$/im.exec(raw)?.[1]?.replace(/\s+/g, '')).toBe(send.headers!['List-Unsubscribe']);
      expect(/^List-Unsubscribe-Post: (.+)$/im.exec(raw)?.[1]?.trim()).toBe('List-Unsubscribe=One-Click');
      expect(mail.parsed.html).toContain(`${PUBLIC_URL}/t/c/`);
    } finally {
      await smtpMailers.close();
      await sink.close();
    }
  });
});
