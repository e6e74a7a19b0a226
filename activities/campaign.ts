import { ApplicationFailure } from '@temporalio/common';
import type { SecretBox } from '../src/crypto/secret-box.js';
import type { Db } from '../src/db/client.js';
import {
  closeCampaign,
  countPendingInRange,
  campaignSendKey,
  pendingSendsInRange,
  pendingRecipients,
  settleRecipients,
  type PendingRecipient,
  type RecipientOutcome,
  type RecipientRange,
} from '../src/db/repositories/campaign-recipients.js';
import {
  audienceCondition,
  freezeAudience,
  freezeCampaignContent,
  statusOfCampaign,
  getCampaignById,
  pendingRecipientIds,
  updateCampaignIf,
  type CampaignRow,
  type CampaignStatus,
  type FrozenAudience,
} from '../src/db/repositories/campaigns.js';
import { reserveSendSlots } from '../src/db/repositories/rate-limit.js';
import { getSendingConfig, type SendingConfigRow } from '../src/db/repositories/sending-configs.js';
import { markSendsFailed, markSendsSent, recordSends, reserveSendIds, type BatchSend } from '../src/db/repositories/sends.js';
import { suppressedEmails } from '../src/db/repositories/suppressions.js';
import { getTemplate } from '../src/db/repositories/templates.js';
import { campaignSegmentSql } from '../src/db/segments.js';
import { workflowIds } from '../src/domain/ids.js';
import { DELIVERY_FAILURES } from '../src/domain/delivery.js';
import { copyContextOf, rendersAlike, renderCampaignCopy, sendMessage } from '../src/mail/campaign-copy.js';
import type { SendContent } from '../src/mail/compose.js';
import type { Mailers } from '../src/mail/from-config.js';
import type { Links } from '../src/mail/links.js';
import { describeOutcome, type OutgoingEmail, type SendOutcome } from '../src/mail/mailer.js';
import { compileTemplate, type TemplateContact, type TemplateSource } from '../src/mail/render.js';
import type { Logger } from '../src/logger.js';
import { createMailerResolver, outgoingEmail } from './mailer.js';
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

/** Batches in flight at once for an unthrottled campaign (each holds one provider call and one DB connection). */
export const CAMPAIGN_CONCURRENCY = 4;
/**
 * Windows of batches one plan covers: each plan is an activity (a Temporal round trip and a workflow
 * task), so planning four windows at a time keeps that overhead to one per 16 batches. Ranges planned
 * ahead stay correct: a batch sends only what is still pending in its range when it runs.
 */
const PLANNED_WINDOWS = 4;
const HEARTBEAT_EVERY_MS = 2_000;
/** Emails of a batch sent between two looks at the campaign's status (one Resend batch call). */
const STOP_CHECK_EVERY = 100;

/** One message of a batch, in recipient order: what goes to the provider and whose send it is. */
interface BatchMessage {
  recipientId: number;
  sendId: number;
  message: OutgoingEmail;
}

/** A batch of a campaign: its pending recipients with `afterId < id <= uptoId`. */
export type BatchRange = RecipientRange;

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

/**
 * Recipients per batch: the campaign's batch size, at most one second of the throttle. A batch API
 * splits a batch into calls of its own limit (src/mail/mailer.ts, sendBatch).
 */
function batchSizeFor(campaign: CampaignRow, configMaxPerSecond: number | null): number {
  let size = campaign.batchSize;
  if (campaign.maxPerSecond) size = Math.min(size, campaign.maxPerSecond);
  if (configMaxPerSecond) size = Math.min(size, configMaxPerSecond);
  return Math.max(1, size);
}

/**
 * Activities of the campaign workflow: freeze the audience, plan disjoint batches, send one batch
 * through the provider's batch API, pause and finish. Every step is safe to run again: recipients move
 * from pending exactly once (conditional updates), each send row is unique on
 * `campaign:<id>:<contact>:<attempt>`, and that key goes to the provider.
 */
export function createCampaignActivities({ db, logger, secretBox, mailers, links, clock = realClock }: CampaignDeps) {
  const log = logger.child({ component: 'campaign' });
  const mailerFor = createMailerResolver({ db, secretBox, mailers });

  /** The campaign's content now: its template's (the campaign's subject wins) or its own; null when it has none. */
  async function currentContentOf(campaign: CampaignRow): Promise<TemplateSource | null> {
    if (campaign.templateId !== null) {
      const template = await getTemplate(db, campaign.siteId, campaign.templateId);
      if (template) return { subject: campaign.subject ?? template.subject, html: template.html, text: template.text };
    }
    if (campaign.subject === null || campaign.html === null) return null;
    return { subject: campaign.subject, html: campaign.html, text: campaign.text };
  }

  /**
   * What every copy of the campaign renders from: the content frozen with its audience. A campaign
   * frozen without one (before contents were frozen, or while it had no content) takes its content
   * now, once.
   */
  async function contentOf(campaign: CampaignRow): Promise<TemplateSource> {
    if (campaign.frozenContent) return campaign.frozenContent;
    const content = await currentContentOf(campaign);
    if (!content) throw permanent('CampaignContentMissing', `Campaign ${campaign.id} has no subject and html (its template was deleted?)`);
    return freezeCampaignContent(db, campaign.id, content);
  }

  /**
   * Phase 1 of a batch, one transaction: decides every pending recipient of the range that has no
   * send row yet (skipped when the contact is no longer subscribed, suppressed when the address was
   * suppressed since the freeze, failed when the template cannot render) and records a queued send
   * for the others. Once a recipient has a send row the decision is final, so a retried batch hands
   * the provider exactly the same messages in the same order (and the same batch idempotency key).
   * Each row records the copy's context (contact fields, tracking switches), not its body: the message
   * is rendered from it and the campaign's frozen content (renderCampaignCopy), here, on a retry and
   * in the send log alike. Send ids are reserved before rendering, since the unsubscribe link and
   * tracking tokens name the send. When this attempt recorded every pending recipient's send itself, it
   * answers the batch's messages too; otherwise (a retry, a concurrent attempt) the caller rebuilds them
   * from the rows.
   */
  async function prepare(
    campaign: CampaignRow,
    content: TemplateSource,
    range: BatchRange,
    limit: number,
    config: SendingConfigRow,
  ): Promise<{ counts: Pick<CampaignBatchResult, 'failed' | 'suppressed' | 'skipped'>; batch: BatchMessage[] | null }> {
    const counts = { failed: 0, suppressed: 0, skipped: 0 };
    let batch: BatchMessage[] | null = [];
    await db.transaction(async (tx) => {
      const pending = await pendingRecipients(tx, campaign.id, range, limit);
      const rows = pending.filter((r) => r.sendId === null);
      if (rows.length < pending.length) batch = null;
      if (rows.length === 0) return;
      const suppressed = await suppressedEmails(tx, campaign.siteId, rows.map((r) => r.email));
      const template = compileTemplate(content);
      // A template that reads the clock or picks at random would render another copy later: its rows keep their body.
      const copies = rendersAlike(content);
      const tracking = links ? { opens: config.trackOpens, clicks: config.trackClicks } : null;
      const outcomes: RecipientOutcome[] = [];
      const candidates: PendingRecipient[] = [];
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
      const toRecord: { recipientId: number; row: BatchSend; message: SendContent }[] = [];
      candidates.forEach((r, i) => {
        const sendId = ids[i]!;
        const { recipientId, attempt, contactId, status: _status, sendId: _none, ...fields } = r;
        const context = copyContextOf(contactId, fields as TemplateContact, tracking);
        let message;
        try {
          message = renderCampaignCopy(template, { id: sendId, siteId: campaign.siteId }, context, links);
        } catch (err) {
          outcomes.push({ recipientId, status: 'failed', error: `render failed: ${err instanceof Error ? err.message : String(err)}` });
          return;
        }
        toRecord.push({
          recipientId,
          message,
          row: {
            id: sendId,
            siteId: campaign.siteId,
            kind: 'campaign',
            contactId,
            toEmail: r.email,
            subject: message.subject,
            html: copies ? null : message.html,
            text: copies ? null : message.text,
            copyContext: copies ? context : null,
            headers: copies ? null : (message.headers ?? null),
            sendingConfigId: campaign.sendingConfigId,
            templateId: campaign.templateId,
            campaignId: campaign.id,
            status: 'queued',
            idempotencyKey: campaignSendKey(campaign.id, contactId, attempt),
            workflowId: workflowIds.campaign(campaign.id),
          },
        });
      });
      const recorded = await recordSends(tx, toRecord.map((s) => s.row));
      const settled = await settleRecipients(tx, campaign.id, outcomes);
      counts.failed = settled.failed;
      counts.suppressed = settled.suppressed;
      counts.skipped = settled.skipped;
      // Rows another attempt recorded first hold that attempt's content: only a read gives the same messages.
      batch = batch && toRecord.every((s) => recorded.get(s.row.idempotencyKey)!.created)
        ? toRecord.map(({ recipientId, row, message }) => {
            // A stored body's headers as stored (jsonb orders keys its own way), as a retry will read them.
            const stored = copies ? message : { ...message, headers: recorded.get(row.idempotencyKey)!.headers ?? undefined };
            return { recipientId, sendId: row.id, message: outgoingEmail({ ...row, cc: null, bcc: null, replyTo: null }, stored, config) };
          })
        : null;
    });
    return { counts, batch };
  }

  async function plan(input: { campaignId: number; afterId: number }): Promise<CampaignPlan> {
    const campaign = await getCampaignById(db, input.campaignId);
    if (!campaign) throw permanent('CampaignNotFound', `Campaign ${input.campaignId} does not exist`);
    if (campaign.status !== 'sending') return { status: campaign.status, ranges: [], concurrency: CAMPAIGN_CONCURRENCY, minBatchMs: 0 };
    const config = await getSendingConfig(db, campaign.siteId, campaign.sendingConfigId);
    if (!config) throw permanent(DELIVERY_FAILURES.configNotFound, `Sending config ${campaign.sendingConfigId} does not exist`);
    const size = batchSizeFor(campaign, config.maxPerSecond);
    const concurrency = CAMPAIGN_CONCURRENCY;
    const ids = await pendingRecipientIds(db, campaign.id, input.afterId, size * concurrency * PLANNED_WINDOWS);
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
    const row = await db.transaction((tx) => closeCampaign(tx, input.campaignId, input.outcome));
    if (!row) throw permanent('CampaignNotFound', `Campaign ${input.campaignId} does not exist`);
    log.info({ campaignId: row.id, status: row.status }, 'campaign finished');
    return summary(row);
  }

  return {
    /**
     * Freezes the audience and the content (see freezeAudience) and moves the campaign to `sending`;
     * `startedAt` is the workflow's clock so a time-skipped test sees when the campaign really started.
     */
    async freezeCampaignAudience(input: { campaignId: number; startedAt: string }): Promise<FrozenAudience> {
      const frozen = await withHeartbeats(HEARTBEAT_EVERY_MS, () => freezeAudience(
        db,
        input.campaignId,
        async (campaign) => {
          const audience = campaign.audience;
          const [include, exclude, content] = await Promise.all([
            Promise.all((audience.segmentIds ?? []).map((id) => campaignSegmentSql(db, campaign.siteId, id))),
            Promise.all((audience.excludeSegmentIds ?? []).map((id) => campaignSegmentSql(db, campaign.siteId, id))),
            currentContentOf(campaign),
          ]);
          return { audience: audienceCondition(audience, { include, exclude }), content };
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
        const pendingLeft = () => countPendingInRange(db, campaign.id, input);
        const result: CampaignBatchResult = { attempted: 0, sent: 0, failed: 0, suppressed: 0, skipped: 0, remaining: 0 };
        if (campaign.status !== 'sending') return { ...result, remaining: await pendingLeft(), stopped: campaign.status };

        const { mailer, config } = await mailerFor(campaign.sendingConfigId);
        const limit = Math.max(1, input.uptoId - input.afterId);
        const content = await contentOf(campaign);
        const prepared = await prepare(campaign, content, input, limit, config);
        Object.assign(result, prepared.counts);
        // A template that cannot render for a contact counts as an attempt that failed.
        result.attempted = result.failed;

        // Phase 2: the send rows of this range's pending recipients, in recipient order. Every one goes
        // out again whatever its status (a webhook may already have marked it delivered): the same
        // messages in the same order keep the batch's idempotency key, so the provider replays its first
        // answer instead of sending the others twice.
        const toSend =
          prepared.batch ??
          (await pendingSendsInRange(db, campaign.id, input)).map(({ recipientId, send }) => {
            const message = sendMessage(send, content, links);
            // The purge leaves the sends of a campaign still sending alone, so this is a bug, not a state.
            if (!message) throw new Error(`Send ${send.id} of campaign ${campaign.id} has lost its message`);
            return { recipientId, sendId: send.id, message: outgoingEmail(send, message, config) };
          });
        const outcomes: RecipientOutcome[] = [];
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
          // A batch goes out a provider call's worth at a time (Resend's 100), with a look at the campaign
          // between two: a pause or cancel stops it there, within a second, and leaves the rest pending
          // for the resume (their send rows keep their messages, so they go out as recorded).
          const answers: SendOutcome[] = [];
          for (let at = 0; at < toSend.length; at += STOP_CHECK_EVERY) {
            if (at > 0) {
              const now = await statusOfCampaign(db, campaign.id);
              if (now !== 'sending') {
                result.stopped = now ?? 'cancelled';
                break;
              }
            }
            const chunk = await mailer.sendBatch(toSend.slice(at, at + STOP_CHECK_EVERY).map((s) => s.message));
            answers.push(...chunk);
            // The provider throttles us or refuses the credentials: the rest would get the same answer.
            if (chunk.some((o) => o.kind === 'rate_limited' || o.kind === 'auth_failed')) break;
          }
          result.attempted += answers.length;
          answers.forEach((outcome, i) => {
            const { recipientId, sendId } = toSend[i]!;
            switch (outcome.kind) {
              case 'sent':
                sentSends.push({ id: sendId, providerMessageId: outcome.providerMessageId });
                outcomes.push({ recipientId, status: 'sent', sendId });
                break;
              case 'invalid_recipient':
              case 'rejected':
                failedSends.push({ id: sendId, error: describeOutcome(outcome) });
                outcomes.push({ recipientId, status: 'failed', error: describeOutcome(outcome), sendId });
                break;
              case 'auth_failed':
                // Left pending: once the credentials are fixed and the campaign resumed, they go out.
                result.authFailed = describeOutcome(outcome);
                break;
              case 'rate_limited':
              case 'transient':
                retryable ??= outcome;
                break;
            }
          });
        }

        await db.transaction(async (tx) => {
          await markSendsSent(tx, sentSends);
          await markSendsFailed(tx, failedSends);
          const settled = await settleRecipients(tx, campaign.id, outcomes);
          result.sent += settled.sent;
          result.failed += settled.failed;
        });

        if (retryable) {
          log.warn({ campaignId: campaign.id, reason: describeOutcome(retryable) }, 'provider deferred a campaign batch; will retry');
          throw ApplicationFailure.create({
            type: retryable.kind === 'rate_limited' ? DELIVERY_FAILURES.rateLimited : DELIVERY_FAILURES.providerUnavailable,
            message: describeOutcome(retryable),
            ...(retryable.kind === 'rate_limited' ? { nextRetryDelay: Math.max(1, retryable.retryAfterMs) } : {}),
          });
        }
        result.remaining = result.authFailed || result.stopped ? await pendingLeft() : 0;
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
