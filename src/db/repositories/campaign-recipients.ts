/**
 * The per-recipient bookkeeping of a sending campaign: which pending recipients of a batch range still
 * need a decision, their send rows, and settling them with the campaign's counters. Every write is
 * set-based (one statement for a whole batch) and conditional on `pending`, so a retried batch
 * changes nothing twice.
 */
import { and, eq, gt, lte, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { campaignRecipients, campaigns, contacts, sends } from '../schema.js';
import type { CampaignRow, RecipientStatus } from './campaigns.js';
import { contactRenderColumns } from './contacts.js';
import type { SendRow } from './sends.js';

/** A batch: the pending recipients with `afterId < id <= uptoId`. */
export interface RecipientRange {
  /** Exclusive lower bound (recipient id). */
  afterId: number;
  /** Inclusive upper bound (recipient id). */
  uptoId: number;
}

/** How one recipient ended, and through which send when one was recorded. */
export interface RecipientOutcome {
  recipientId: number;
  status: Exclude<RecipientStatus, 'pending'>;
  error?: string | null;
  sendId?: number;
}

/** The idempotency key of a recipient's send: one send per campaign, contact and attempt. */
export function campaignSendKey(campaignId: number, contactId: number, attempt: number): string {
  return `campaign:${campaignId}:${contactId}:${attempt}`;
}

/**
 * The recipient's send row, found by its idempotency key (campaignSendKey, through the key's unique
 * index): a pending recipient is linked to its send only when it settles, in the same update, instead
 * of by one more update of every recipient when the send is recorded.
 */
const recipientSend = eq(sends.idempotencyKey, sql`'campaign:' || ${campaignRecipients.campaignId} || ':' || ${campaignRecipients.contactId} || ':' || ${campaignRecipients.attempt}`);

export type RecipientCounts = Record<RecipientOutcome['status'], number>;

function pendingInRange(campaignId: number, range: RecipientRange) {
  return and(
    eq(campaignRecipients.campaignId, campaignId),
    eq(campaignRecipients.status, 'pending'),
    gt(campaignRecipients.id, range.afterId),
    lte(campaignRecipients.id, range.uptoId),
  );
}

/**
 * The smallest and largest of a batch's recipient ids. Bookkeeping statements name this id range next
 * to the ids themselves so that PostgreSQL reads the batch through the (campaign_id, id) index: asked
 * only for `status = 'pending'`, it would walk every pending recipient of the campaign for each batch
 * (the statistics of a freshly frozen audience say there are hardly any), which makes a campaign
 * quadratic in its size.
 */
export function idBounds(ids: readonly number[]): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (const id of ids) {
    if (id < low) low = id;
    if (id > high) high = id;
  }
  return [low, high];
}

/** How many recipients of the range are still pending. */
export async function countPendingInRange(db: DbOrTx, campaignId: number, range: RecipientRange): Promise<number> {
  return db.$count(campaignRecipients, pendingInRange(campaignId, range));
}

/**
 * The pending recipients of the range in id order, with the contact fields a template renders from
 * and their send row if one was recorded already (a batch decides only about those without one).
 */
export async function pendingRecipients(tx: DbOrTx, campaignId: number, range: RecipientRange, limit: number) {
  return tx
    .select({
      recipientId: campaignRecipients.id,
      attempt: campaignRecipients.attempt,
      sendId: sends.id,
      contactId: contacts.id,
      ...contactRenderColumns,
    })
    .from(campaignRecipients)
    .innerJoin(contacts, eq(contacts.id, campaignRecipients.contactId))
    .leftJoin(sends, recipientSend)
    .where(pendingInRange(campaignId, range))
    .orderBy(campaignRecipients.id)
    .limit(limit);
}

export type PendingRecipient = Awaited<ReturnType<typeof pendingRecipients>>[number];

/**
 * The send rows of the range's pending recipients, in recipient order: what a batch hands the
 * provider (a retry rebuilds the very same batch from them).
 */
export async function pendingSendsInRange(db: DbOrTx, campaignId: number, range: RecipientRange): Promise<{ recipientId: number; send: SendRow }[]> {
  return db
    .select({ recipientId: campaignRecipients.id, send: sends })
    .from(campaignRecipients)
    .innerJoin(sends, recipientSend)
    .where(pendingInRange(campaignId, range))
    .orderBy(campaignRecipients.id);
}

/**
 * Settles recipients that are still pending and adds exactly the settled ones to the campaign's
 * counters, in the caller's transaction: a re-run finds them settled and counts nothing twice.
 */
export async function settleRecipients(tx: DbOrTx, campaignId: number, outcomes: readonly RecipientOutcome[]): Promise<RecipientCounts> {
  const counts: RecipientCounts = { sent: 0, failed: 0, suppressed: 0, skipped: 0 };
  if (outcomes.length === 0) return counts;
  const values = sql.join(
    outcomes.map((o) => sql`(${o.recipientId}::int, ${o.status}::text, ${o.error ?? null}::text, ${o.sendId ?? null}::int)`),
    sql`, `,
  );
  const [low, high] = idBounds(outcomes.map((o) => o.recipientId));
  const updated = await tx.execute<{ status: RecipientOutcome['status'] }>(sql`
    update campaign_recipients r
    set status = v.status::recipient_status, error = v.error, send_id = coalesce(v.send_id, r.send_id), updated_at = now()
    from (values ${values}) as v(id, status, error, send_id)
    where r.id = v.id and r.campaign_id = ${campaignId} and r.id between ${low} and ${high} and r.status = 'pending'
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

/**
 * Ends a campaign in one transaction: every recipient still pending becomes `skipped` (with why) and
 * counted, and the campaign takes its final status (`cancelled`; else `sent`, or `failed` when nobody
 * could be sent to). Safe to run again. Null when the campaign does not exist.
 */
export async function closeCampaign(tx: DbOrTx, campaignId: number, outcome: 'completed' | 'cancelled'): Promise<CampaignRow | null> {
  const [campaign] = await tx.select().from(campaigns).where(eq(campaigns.id, campaignId)).for('update');
  if (!campaign) return null;
  const skipped = await tx
    .update(campaignRecipients)
    .set({ status: 'skipped', error: outcome === 'cancelled' ? 'campaign cancelled' : 'not sent', updatedAt: new Date() })
    .where(and(eq(campaignRecipients.campaignId, campaign.id), eq(campaignRecipients.status, 'pending')))
    .returning({ id: campaignRecipients.id });
  let status = campaign.status;
  if (outcome === 'cancelled') status = 'cancelled';
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
  return row ?? null;
}
