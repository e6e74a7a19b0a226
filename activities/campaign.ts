import { asyncLocalStorage } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { and, eq, gt, inArray, lte, sql, type SQL } from 'drizzle-orm';
import { ZodError } from 'zod';
import { AppError } from '../src/api/errors.js';
import { SecretBoxError, type SecretBox } from '../src/crypto/secret-box.js';
import type { Db, DbOrTx } from '../src/db/client.js';
import {
  audienceCondition,
  freezeAudience,
  getCampaignById,
  pendingRecipientIds,
  updateCampaignIf,
  type CampaignRow,
  type CampaignStatus,
  type FrozenAudience,
  type RecipientStatus,
} from '../src/db/repositories/campaigns.js';
import { contactRenderColumns } from '../src/db/repositories/contacts.js';
import { reserveSendSlots } from '../src/db/repositories/rate-limit.js';
import { reserveSendIds } from '../src/db/repositories/sends.js';
import { loadSendingConfigWithCredentials } from '../src/db/repositories/sending-configs.js';
import { suppressedEmails } from '../src/db/repositories/suppressions.js';
import { getSegmentRules, segmentContactsSql } from '../src/db/segments.js';
import { campaignRecipients, campaigns, contacts, sendingConfigs, sends, templates } from '../src/db/schema.js';
import { workflowIds } from '../src/domain/ids.js';
import { SENDING_FAILURES } from '../src/domain/sending.js';
import type { Mailers } from '../src/mail/from-config.js';
import type { Links } from '../src/mail/links.js';
import type { Mailer, OutgoingEmail, SendOutcome } from '../src/mail/mailer.js';
import { listProviders } from '../src/mail/providers.js';
import { compileTemplate, renderEmail, type TemplateContact, type TemplateSource } from '../src/mail/render.js';
import type { Logger } from '../src/logger.js';
import { permanent, realClock, withHeartbeats, type Clock } from './support.js';

export interface CampaignDeps {
  db: Db;
  logger: Logger;
  secretBox?: SecretBox;
  mailers: Mailers;
  /** Unsubscribe link, List-Unsubscribe headers and tracking; without it campaign email carries none. */
  links?: Links;
  clock?: Clock;
}

/** The sending-config fields a batch uses. */
type BatchConfig = Pick<
  typeof sendingConfigs.$inferSelect,
  'id' | 'fromEmail' | 'fromName' | 'replyTo' | 'maxPerSecond' | 'trackOpens' | 'trackClicks'
>;

/** Batches in flight at once for an unthrottled campaign (each holds one provider call and one DB connection). */
export const CAMPAIGN_CONCURRENCY = 4;
const HEARTBEAT_EVERY_MS = 2_000;

export interface BatchRange {
  /** Exclusive lower bound (recipient id). */
  afterId: number;
  /** Inclusive upper bound (recipient id). */
  uptoId: number;
}

export interface CampaignPlan {
  /** The campaign's status now; batches run only while it is `sending`. */
  status: CampaignStatus;
  /** Disjoint ranges of pending recipients, each one batch; empty when nothing is left after the cursor. */
  ranges: BatchRange[];
  /** How many batches may be in flight at once. */
  concurrency: number;
  /** The campaign's own throttle: the time one batch's worth of its recipients takes at maxPerSecond (0 = none). */
  minBatchMs: number;
}

export interface CampaignBatchResult {
  /** Messages handed to the provider by this attempt (the error-rate denominator). */
  attempted: number;
  sent: number;
  failed: number;
  suppressed: number;
  skipped: number;
  /** Pending recipients left in the range (auth failure, or the campaign stopped). */
  remaining: number;
  /** The provider rejected the credentials: the campaign must pause. */
  authFailed?: string;
  /** Set when the campaign was no longer sending, so nothing was sent. */
  stopped?: CampaignStatus;
}

export interface CampaignSummary {
  status: CampaignStatus;
  totalRecipients: number;
  sentCount: number;
  failedCount: number;
  suppressedCount: number;
  skippedCount: number;
}

function summary(row: CampaignRow): CampaignSummary {
  return {
    status: row.status,
    totalRecipients: row.totalRecipients,
    sentCount: row.sentCount,
    failedCount: row.failedCount,
    suppressedCount: row.suppressedCount,
    skippedCount: row.skippedCount,
  };
}

/** Recipients per batch: the campaign's batch size, at most one provider batch call, at most one second of the throttle. */
function batchSizeFor(campaign: CampaignRow, provider: string, configMaxPerSecond: number | null): number {
  const capabilities = listProviders().find((p) => p.name === provider)?.capabilities;
  let size = campaign.batchSize;
  if (capabilities?.batch) size = Math.min(size, capabilities.maxBatchSize);
  if (campaign.maxPerSecond) size = Math.min(size, campaign.maxPerSecond);
  if (configMaxPerSecond) size = Math.min(size, configMaxPerSecond);
  return Math.max(1, size);
}

interface Outcome {
  recipientId: number;
  status: Exclude<RecipientStatus, 'pending'>;
  error?: string | null;
}

/**
 * Settles recipients that are still pending and adds exactly the settled ones to the campaign's
 * counters, in the caller's transaction: a re-run finds them settled and counts nothing twice.
 */
async function settleRecipients(tx: DbOrTx, campaignId: number, outcomes: Outcome[]): Promise<Record<Outcome['status'], number>> {
  const counts = { sent: 0, failed: 0, suppressed: 0, skipped: 0 };
  if (outcomes.length === 0) return counts;
  const values = sql.join(
    outcomes.map((o) => sql`(${o.recipientId}::int, ${o.status}::text, ${o.error ?? null}::text)`),
    sql`, `,
  );
  const updated = await tx.execute<{ status: Outcome['status'] }>(sql`
    update campaign_recipients r
    set status = v.status::recipient_status, error = v.error, updated_at = now()
    from (values ${values}) as v(id, status, error)
    where r.id = v.id and r.campaign_id = ${campaignId} and r.status = 'pending'
    returning r.status
  `);
  for (const row of updated.rows) counts[row.status] += 1;
  if (updated.rows.length) {
    await tx
      .update(campaigns)
      .set({
        sentCount: sql`${campaigns.sentCount} + ${counts.sent}`,
        failedCount: sql`${campaigns.failedCount} + ${counts.failed}`,
        suppressedCount: sql`${campaigns.suppressedCount} + ${counts.suppressed}`,
        skippedCount: sql`${campaigns.skippedCount} + ${counts.skipped}`,
        updatedAt: new Date(),
      })
      .where(eq(campaigns.id, campaignId));
  }
  return counts;
}

const contactFields = {
  recipientId: campaignRecipients.id,
  attempt: campaignRecipients.attempt,
  sendId: campaignRecipients.sendId,
  contactId: contacts.id,
  ...contactRenderColumns,
};

function describe(outcome: Exclude<SendOutcome, { kind: 'sent' }>): string {
  return outcome.message ? `${outcome.kind}: ${outcome.message}` : outcome.kind;
}

/**
 * Activities of the campaign workflow: freeze the audience, plan disjoint batches, send one batch
 * through the provider's batch API, pause and finish. Every step is safe to run again: recipients move
 * from pending exactly once (conditional updates), each send row is unique on
 * `campaign:<id>:<contact>:<attempt>`, and that key goes to the provider.
 */
export function createCampaignActivities({ db, logger, secretBox, mailers, links, clock = realClock }: CampaignDeps) {
  const log = logger.child({ component: 'campaign' });

  async function segmentSql(siteId: number, segmentId: number): Promise<SQL> {
    try {
      return segmentContactsSql(siteId, await getSegmentRules(db, siteId, segmentId));
    } catch (err) {
      // A segment deleted (or made invalid) after the campaign was scheduled targets nobody rather
      // than failing the campaign.
      if (err instanceof AppError) return sql`select null::int where false`;
      throw err;
    }
  }

  async function mailerFor(campaign: CampaignRow): Promise<{ mailer: Mailer; config: BatchConfig }> {
    if (!secretBox) {
      throw permanent(SENDING_FAILURES.credentialsUnusable, 'This worker has no TIDINGS_SECRET, so it cannot open sending-config credentials');
    }
    let loaded;
    try {
      loaded = await loadSendingConfigWithCredentials(db, secretBox, campaign.sendingConfigId);
    } catch (err) {
      if (err instanceof SecretBoxError) throw permanent(SENDING_FAILURES.credentialsUnusable, `Sending config ${campaign.sendingConfigId}: ${err.message}`);
      throw err;
    }
    if (!loaded) throw permanent(SENDING_FAILURES.configNotFound, `Sending config ${campaign.sendingConfigId} does not exist`);
    try {
      return { mailer: mailers.forConfig(loaded), config: loaded.config };
    } catch (err) {
      if (err instanceof ZodError) throw permanent(SENDING_FAILURES.credentialsUnusable, `Sending config ${campaign.sendingConfigId} has invalid credentials`);
      throw err;
    }
  }

  async function contentOf(campaign: CampaignRow): Promise<TemplateSource> {
    if (campaign.templateId !== null) {
      const [template] = await db.select().from(templates).where(eq(templates.id, campaign.templateId));
      if (template) return { subject: campaign.subject ?? template.subject, html: template.html, text: template.text };
    }
    if (campaign.subject === null || campaign.html === null) {
      throw permanent('CampaignContentMissing', `Campaign ${campaign.id} has no subject and html (its template was deleted?)`);
    }
    return { subject: campaign.subject, html: campaign.html, text: campaign.text };
  }

  /**
   * Phase 1 of a batch, one transaction: decides every pending recipient of the range that has no
   * send row yet (skipped when the contact is no longer subscribed, suppressed when the address was
   * suppressed since the freeze, failed when the template cannot render) and records a queued send
   * for the others. Once a recipient has a send row the decision is final, so a retried batch hands
   * the provider exactly the same messages in the same order (and the same batch idempotency key).
   * Send ids are reserved before rendering, so the stored HTML already holds its unsubscribe link and
   * tracking tokens (which name the send) and one insert records it final.
   */
  async function prepare(
    campaign: CampaignRow,
    range: BatchRange,
    limit: number,
    config: BatchConfig,
  ): Promise<Omit<CampaignBatchResult, 'attempted' | 'sent' | 'remaining'>> {
    const counts = { failed: 0, suppressed: 0, skipped: 0 };
    await db.transaction(async (tx) => {
      const rows = await tx
        .select(contactFields)
        .from(campaignRecipients)
        .innerJoin(contacts, eq(contacts.id, campaignRecipients.contactId))
        .where(
          and(
            eq(campaignRecipients.campaignId, campaign.id),
            eq(campaignRecipients.status, 'pending'),
            gt(campaignRecipients.id, range.afterId),
            lte(campaignRecipients.id, range.uptoId),
            sql`${campaignRecipients.sendId} is null`,
          ),
        )
        .orderBy(campaignRecipients.id)
        .limit(limit);
      if (rows.length === 0) return;
      const suppressed = await suppressedEmails(tx, campaign.siteId, rows.map((r) => r.email));
      const source = compileTemplate(await contentOf(campaign));
      const outcomes: Outcome[] = [];
      const toSend: { recipientId: number; row: typeof sends.$inferInsert & { id: number } }[] = [];
      const candidates: typeof rows = [];
      for (const r of rows) {
        if (r.status !== 'subscribed') {
          outcomes.push({ recipientId: r.recipientId, status: 'skipped', error: `contact is ${r.status}` });
        } else if (suppressed.has(r.email.toLowerCase())) {
          outcomes.push({ recipientId: r.recipientId, status: 'suppressed', error: 'on the suppression list' });
        } else {
          candidates.push(r);
        }
      }
      // An id left unused (a render failure, or a retry that finds the row already there) is a gap, nothing more.
      const ids = await reserveSendIds(tx, candidates.length);
      candidates.forEach((r, i) => {
        const sendId = ids[i]!;
        const { recipientId: _r, attempt: _a, sendId: _s, contactId: _c, status: _st, ...fields } = r;
        const mail = links?.forSend({ siteId: campaign.siteId, contactId: r.contactId, sendId, trackOpens: config.trackOpens, trackClicks: config.trackClicks });
        let rendered;
        try {
          rendered = renderEmail(source, { contact: fields as TemplateContact, ...(mail ? { unsubscribeUrl: mail.unsubscribeUrl } : {}) });
        } catch (err) {
          outcomes.push({ recipientId: r.recipientId, status: 'failed', error: `render failed: ${err instanceof Error ? err.message : String(err)}` });
          return;
        }
        toSend.push({
          recipientId: r.recipientId,
          row: {
            id: sendId,
            siteId: campaign.siteId,
            kind: 'campaign',
            contactId: r.contactId,
            toEmail: r.email,
            subject: rendered.subject,
            html: mail ? mail.decorate(rendered.html) : rendered.html,
            text: mail ? mail.decorateText(rendered.text) : rendered.text,
            ...(mail ? { headers: mail.headers } : {}),
            sendingConfigId: campaign.sendingConfigId,
            templateId: campaign.templateId,
            campaignId: campaign.id,
            status: 'queued',
            idempotencyKey: `campaign:${campaign.id}:${r.contactId}:${r.attempt}`,
            workflowId: workflowIds.campaign(campaign.id),
          },
        });
      });
      if (toSend.length) {
        // A row already holding a key (a concurrent attempt of this batch) keeps its own id and HTML.
        await tx.insert(sends).values(toSend.map((s) => s.row)).onConflictDoNothing({ target: sends.idempotencyKey });
        const keys = toSend.map((s) => s.row.idempotencyKey);
        const held = await tx.select({ id: sends.id, key: sends.idempotencyKey }).from(sends).where(inArray(sends.idempotencyKey, keys));
        const idByKey = new Map(held.map((h) => [h.key, h.id]));
        const links = sql.join(
          toSend.map((s) => sql`(${s.recipientId}::int, ${idByKey.get(s.row.idempotencyKey)!}::int)`),
          sql`, `,
        );
        await tx.execute(sql`
          update campaign_recipients r set send_id = v.send_id, updated_at = now()
          from (values ${links}) as v(id, send_id)
          where r.id = v.id and r.status = 'pending'
        `);
      }
      const settled = await settleRecipients(tx, campaign.id, outcomes);
      counts.failed = settled.failed;
      counts.suppressed = settled.suppressed;
      counts.skipped = settled.skipped;
    });
    return counts;
  }

  async function plan(input: { campaignId: number; afterId: number }): Promise<CampaignPlan> {
    const campaign = await getCampaignById(db, input.campaignId);
    if (!campaign) throw permanent('CampaignNotFound', `Campaign ${input.campaignId} does not exist`);
    if (campaign.status !== 'sending') return { status: campaign.status, ranges: [], concurrency: CAMPAIGN_CONCURRENCY, minBatchMs: 0 };
    const [config] = await db
      .select({ provider: sendingConfigs.provider, maxPerSecond: sendingConfigs.maxPerSecond })
      .from(sendingConfigs)
      .where(eq(sendingConfigs.id, campaign.sendingConfigId));
    if (!config) throw permanent(SENDING_FAILURES.configNotFound, `Sending config ${campaign.sendingConfigId} does not exist`);
    const size = batchSizeFor(campaign, config.provider, config.maxPerSecond);
    const concurrency = CAMPAIGN_CONCURRENCY;
    const ids = await pendingRecipientIds(db, campaign.id, input.afterId, size * concurrency);
    const ranges: BatchRange[] = [];
    let afterId = input.afterId;
    for (let i = 0; i < ids.length; i += size) {
      const uptoId = ids[Math.min(i + size, ids.length) - 1]!;
      ranges.push({ afterId, uptoId });
      afterId = uptoId;
    }
    const minBatchMs = campaign.maxPerSecond ? Math.ceil((Math.min(size, ids.length) * 1000) / campaign.maxPerSecond) : 0;
    return { status: campaign.status, ranges, concurrency, minBatchMs };
  }

  async function pause(input: { campaignId: number; reason: string }): Promise<CampaignStatus> {
    const campaign = await getCampaignById(db, input.campaignId);
    if (!campaign) throw permanent('CampaignNotFound', `Campaign ${input.campaignId} does not exist`);
    const paused = await updateCampaignIf(db, campaign.siteId, campaign.id, ['sending'], { status: 'paused', pausedReason: input.reason });
    if (paused) log.warn({ campaignId: campaign.id, reason: input.reason }, 'campaign auto-paused');
    return paused?.status ?? campaign.status;
  }

  async function finish(input: { campaignId: number; outcome: 'completed' | 'cancelled' }): Promise<CampaignSummary> {
    return db.transaction(async (tx) => {
      const [campaign] = await tx.select().from(campaigns).where(eq(campaigns.id, input.campaignId)).for('update');
      if (!campaign) throw permanent('CampaignNotFound', `Campaign ${input.campaignId} does not exist`);
      const skipped = await tx
        .update(campaignRecipients)
        .set({ status: 'skipped', error: input.outcome === 'cancelled' ? 'campaign cancelled' : 'not sent', updatedAt: new Date() })
        .where(and(eq(campaignRecipients.campaignId, campaign.id), eq(campaignRecipients.status, 'pending')))
        .returning({ id: campaignRecipients.id });
      let status: CampaignStatus = campaign.status;
      if (input.outcome === 'cancelled') status = 'cancelled';
      else if (campaign.status === 'sending' || campaign.status === 'paused') {
        status = campaign.sentCount === 0 && campaign.failedCount > 0 ? 'failed' : 'sent';
      }
      const [row] = await tx
        .update(campaigns)
        .set({
          status,
          skippedCount: sql`${campaigns.skippedCount} + ${skipped.length}`,
          completedAt: campaign.completedAt ?? new Date(),
          updatedAt: new Date(),
        })
        .where(eq(campaigns.id, campaign.id))
        .returning();
      log.info({ campaignId: campaign.id, status }, 'campaign finished');
      return summary(row!);
    });
  }

  return {
    /**
     * Freezes the audience (see freezeAudience) and moves the campaign to `sending`; `startedAt` is the
     * workflow's clock so a time-skipped test sees when the campaign really started.
     */
    async freezeCampaignAudience(input: { campaignId: number; startedAt: string }): Promise<FrozenAudience> {
      const frozen = await withHeartbeats(HEARTBEAT_EVERY_MS, () => freezeAudience(
        db,
        input.campaignId,
        async (campaign) => {
          const audience = campaign.audience;
          const [include, exclude] = await Promise.all([
            Promise.all((audience.segmentIds ?? []).map((id) => segmentSql(campaign.siteId, id))),
            Promise.all((audience.excludeSegmentIds ?? []).map((id) => segmentSql(campaign.siteId, id))),
          ]);
          return audienceCondition(audience, { include, exclude });
        },
        new Date(input.startedAt),
      ));
      if (!frozen) throw permanent('CampaignNotFound', `Campaign ${input.campaignId} does not exist`);
      if (frozen.frozenNow) log.info({ campaignId: input.campaignId, total: frozen.totalRecipients, suppressed: frozen.suppressedCount }, 'campaign audience frozen');
      return frozen;
    },

    /** The next disjoint batches of pending recipients after the cursor, sized for the provider and throttle. */
    async planCampaignBatches(input: { campaignId: number; afterId: number }): Promise<CampaignPlan> {
      return withHeartbeats(HEARTBEAT_EVERY_MS, () => plan(input));
    },

    /**
     * Sends the pending recipients of one range: renders and records queued sends (phase 1), reserves
     * rate-limit slots, hands them to the provider's batch API with each send's idempotency key, and
     * settles recipients, sends and counters in one transaction. Provider throttling or an outage
     * throws a retryable failure after settling what went through; the retry resends the same messages
     * under the same keys, which the provider deduplicates.
     */
    async sendCampaignBatch(input: BatchRange & { campaignId: number; notBefore?: number; minBatchMs?: number }): Promise<CampaignBatchResult> {
      return withHeartbeats(HEARTBEAT_EVERY_MS, async () => {
        const campaign = await getCampaignById(db, input.campaignId);
        if (!campaign) throw permanent('CampaignNotFound', `Campaign ${input.campaignId} does not exist`);
        const inRange = and(
          eq(campaignRecipients.campaignId, campaign.id),
          eq(campaignRecipients.status, 'pending'),
          gt(campaignRecipients.id, input.afterId),
          lte(campaignRecipients.id, input.uptoId),
        );
        const pendingLeft = async () => (await db.$count(campaignRecipients, inRange));
        const result: CampaignBatchResult = { attempted: 0, sent: 0, failed: 0, suppressed: 0, skipped: 0, remaining: 0 };
        if (campaign.status !== 'sending') return { ...result, remaining: await pendingLeft(), stopped: campaign.status };

        const { mailer, config } = await mailerFor(campaign);
        const limit = Math.max(1, input.uptoId - input.afterId);
        Object.assign(result, await prepare(campaign, input, limit, config));
        // A template that cannot render for a contact counts as an attempt that failed.
        result.attempted = result.failed;

        // Phase 2: the queued sends of this range, in recipient order (a retry rebuilds the same batch).
        const queued = await db
          .select({ recipientId: campaignRecipients.id, send: sends })
          .from(campaignRecipients)
          .innerJoin(sends, eq(sends.id, campaignRecipients.sendId))
          .where(inRange)
          .orderBy(campaignRecipients.id);
        // Every send row of a pending recipient goes out again whatever its status (a webhook may already
        // have marked it delivered): the same messages in the same order keep the batch's idempotency
        // key, so the provider replays its first answer instead of sending the others twice.
        const toSend = queued;
        const outcomes: Outcome[] = [];
        const sentSends: { id: number; providerMessageId: string }[] = [];
        const failedSends: { id: number; error: string }[] = [];
        let retryable: Exclude<SendOutcome, { kind: 'sent' }> | undefined;

        if (toSend.length) {
          if (config.maxPerSecond) {
            const waitMs = await reserveSendSlots(db, config.id, config.maxPerSecond, toSend.length);
            if (waitMs > 0) await clock.sleep(waitMs);
          }
          if (input.notBefore && input.minBatchMs) {
            // The campaign's own pace: the workflow spaced the batches' start times by minBatchMs. A slot
            // is at most one window of batches ahead; the cap keeps a skewed worker clock from stalling one.
            const waitMs = Math.min(input.notBefore - Date.now(), input.minBatchMs * (CAMPAIGN_CONCURRENCY + 1));
            if (waitMs > 0) await clock.sleep(waitMs);
          }
          const messages: OutgoingEmail[] = toSend.map(({ send }) => ({
            from: { email: config.fromEmail, name: config.fromName },
            to: send.toEmail,
            ...(config.replyTo ? { replyTo: config.replyTo } : {}),
            subject: send.subject,
            html: send.html,
            text: send.text,
            ...(send.headers && Object.keys(send.headers).length ? { headers: send.headers } : {}),
            idempotencyKey: send.idempotencyKey,
          }));
          const answers = await mailer.sendBatch(messages);
          result.attempted += toSend.length;
          answers.forEach((outcome, i) => {
            const { recipientId, send } = toSend[i]!;
            switch (outcome.kind) {
              case 'sent':
                sentSends.push({ id: send.id, providerMessageId: outcome.providerMessageId });
                outcomes.push({ recipientId, status: 'sent' });
                break;
              case 'invalid_recipient':
              case 'rejected':
                failedSends.push({ id: send.id, error: describe(outcome) });
                outcomes.push({ recipientId, status: 'failed', error: describe(outcome) });
                break;
              case 'auth_failed':
                // Left pending: once the credentials are fixed and the campaign resumed, they go out.
                result.authFailed = describe(outcome);
                break;
              case 'rate_limited':
              case 'transient':
                retryable ??= outcome;
                break;
            }
          });
        }

        await db.transaction(async (tx) => {
          if (sentSends.length) {
            const values = sql.join(sentSends.map((s) => sql`(${s.id}::int, ${s.providerMessageId}::text)`), sql`, `);
            await tx.execute(sql`
              update sends s set
                status = case when s.status in ('queued', 'failed') then 'sent'::send_status else s.status end,
                provider_message_id = coalesce(s.provider_message_id, v.pid),
                sent_at = coalesce(s.sent_at, now()),
                attempts = s.attempts + 1,
                updated_at = now()
              from (values ${values}) as v(id, pid)
              where s.id = v.id
            `);
          }
          if (failedSends.length) {
            const values = sql.join(failedSends.map((s) => sql`(${s.id}::int, ${s.error}::text)`), sql`, `);
            await tx.execute(sql`
              update sends s set status = 'failed', error = v.error, attempts = s.attempts + 1, updated_at = now()
              from (values ${values}) as v(id, error)
              where s.id = v.id and s.status = 'queued'
            `);
          }
          const settled = await settleRecipients(tx, campaign.id, outcomes);
          result.sent += settled.sent;
          result.failed += settled.failed;
        });
        asyncLocalStorage.getStore()?.heartbeat({ sent: result.sent, failed: result.failed });

        if (retryable) {
          log.warn({ campaignId: campaign.id, reason: describe(retryable) }, 'provider deferred a campaign batch; will retry');
          throw ApplicationFailure.create({
            type: retryable.kind === 'rate_limited' ? SENDING_FAILURES.rateLimited : SENDING_FAILURES.providerUnavailable,
            message: describe(retryable),
            ...(retryable.kind === 'rate_limited' ? { nextRetryDelay: Math.max(1, retryable.retryAfterMs) } : {}),
          });
        }
        result.remaining = result.authFailed ? await pendingLeft() : 0;
        return result;
      });
    },

    /** Auto-pause: records why, unless the campaign already left `sending`. */
    async pauseCampaign(input: { campaignId: number; reason: string }): Promise<CampaignStatus> {
      return withHeartbeats(HEARTBEAT_EVERY_MS, () => pause(input));
    },

    /**
     * Ends the campaign: `cancelled` marks every recipient still pending as skipped (so each ends in a
     * state); `completed` moves a sending campaign to `sent`, or `failed` when nobody could be sent to.
     */
    async finishCampaign(input: { campaignId: number; outcome: 'completed' | 'cancelled' }): Promise<CampaignSummary> {
      return withHeartbeats(HEARTBEAT_EVERY_MS, () => finish(input));
    },
  };
}

export type CampaignActivities = ReturnType<typeof createCampaignActivities>;
