import { and, asc, count, desc, eq, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { TemplateSource } from '../../mail/render.js';
import type { DbOrTx } from '../client.js';
import { campaignRecipients, campaigns, type CampaignAudience, type campaignStatus, type recipientStatus } from '../schema.js';

export type CampaignRow = typeof campaigns.$inferSelect;
export type NewCampaign = typeof campaigns.$inferInsert;
export type CampaignStatus = (typeof campaignStatus.enumValues)[number];
export type RecipientStatus = (typeof recipientStatus.enumValues)[number];
export type RecipientRow = typeof campaignRecipients.$inferSelect;

const bySite = (siteId: number, id: number) => and(eq(campaigns.siteId, siteId), eq(campaigns.id, id))!;

export async function insertCampaign(db: DbOrTx, row: NewCampaign): Promise<CampaignRow> {
  const [created] = await db.insert(campaigns).values(row).returning();
  return created!;
}

export async function getCampaign(db: DbOrTx, siteId: number, id: number): Promise<CampaignRow | null> {
  const [row] = await db.select().from(campaigns).where(bySite(siteId, id));
  return row ?? null;
}

/** By id alone: the worker knows only the campaign id (the row carries its site). */
export async function getCampaignById(db: DbOrTx, id: number): Promise<CampaignRow | null> {
  const [row] = await db.select().from(campaigns).where(eq(campaigns.id, id));
  return row ?? null;
}

export async function listCampaigns(
  db: DbOrTx,
  siteId: number,
  filters: { status?: CampaignStatus },
  page: { limit: number; offset: number },
): Promise<{ rows: CampaignRow[]; total: number }> {
  const where = and(eq(campaigns.siteId, siteId), filters.status ? eq(campaigns.status, filters.status) : undefined)!;
  const [rows, [totals]] = await Promise.all([
    db.select().from(campaigns).where(where).orderBy(desc(campaigns.id)).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(campaigns).where(where),
  ]);
  return { rows, total: totals?.total ?? 0 };
}

/**
 * Changes a campaign only while its status is one of `from` (a compare-and-set, so concurrent requests
 * and the workflow's own writes cannot both win). Null when the campaign is absent or in another state.
 */
export async function updateCampaignIf(
  db: DbOrTx,
  siteId: number,
  id: number,
  from: readonly CampaignStatus[],
  set: Partial<NewCampaign>,
): Promise<CampaignRow | null> {
  const [row] = await db
    .update(campaigns)
    .set({ ...set, updatedAt: new Date() })
    .where(and(bySite(siteId, id), inArray(campaigns.status, [...from])))
    .returning();
  return row ?? null;
}

/** Deletes a campaign only while it is a draft (nothing was ever sent or scheduled). */
export async function deleteDraftCampaign(db: DbOrTx, siteId: number, id: number): Promise<boolean> {
  const rows = await db
    .delete(campaigns)
    .where(and(bySite(siteId, id), eq(campaigns.status, 'draft')))
    .returning({ id: campaigns.id });
  return rows.length > 0;
}

const idList = (ids: readonly number[]) => sql.join(ids.map((id) => sql`${id}`), sql`, `);

/**
 * The contact ids of an audience as one SQL condition on `c.id` (contacts aliased `c`): in any
 * targeted list, tag or segment, and in no excluded list or segment. Segment rules arrive compiled
 * (`select c.id from contacts c where …`, bound parameters only).
 */
export function audienceCondition(audience: CampaignAudience, segments: { include: SQL[]; exclude: SQL[] }): SQL {
  const include: SQL[] = [];
  if (audience.listIds?.length) include.push(sql`c.id in (select lm.contact_id from list_members lm where lm.list_id in (${idList(audience.listIds)}))`);
  if (audience.tagIds?.length) include.push(sql`c.id in (select ct.contact_id from contact_tags ct where ct.tag_id in (${idList(audience.tagIds)}))`);
  for (const segment of segments.include) include.push(sql`c.id in (${segment})`);
  const parts: SQL[] = [include.length ? sql`(${sql.join(include, sql` or `)})` : sql`false`];
  if (audience.excludeListIds?.length) {
    parts.push(sql`c.id not in (select lm.contact_id from list_members lm where lm.list_id in (${idList(audience.excludeListIds)}))`);
  }
  for (const segment of segments.exclude) parts.push(sql`c.id not in (${segment})`);
  return sql.join(parts, sql` and `);
}

/**
 * What freezing an audience now would give, without freezing it: the subscribed contacts matching the
 * condition (see {@link audienceCondition}) and how many of them are on the suppression list. The same
 * SELECT as {@link freezeAudience}, counted.
 */
export async function countAudience(db: DbOrTx, siteId: number, condition: SQL): Promise<{ total: number; suppressed: number }> {
  const result = await db.execute<{ total: number; suppressed: number }>(sql`
    select count(*)::int as total, count(s.id)::int as suppressed
    from contacts c
    left join suppressions s on s.site_id = c.site_id and s.email = c.email
    where c.site_id = ${siteId} and c.status = 'subscribed' and (${condition})`);
  const row = result.rows[0];
  return { total: Number(row?.total ?? 0), suppressed: Number(row?.suppressed ?? 0) };
}

export interface FrozenAudience {
  status: CampaignStatus;
  totalRecipients: number;
  suppressedCount: number;
  /** False when the audience had been frozen before (a retried activity): nothing was inserted now. */
  frozenNow: boolean;
}

/** What a freeze takes of a campaign: its audience as a condition, and its content (null when it has none). */
export interface Freezing {
  audience: SQL;
  content: TemplateSource | null;
}

/**
 * Freezes the audience of a scheduled campaign into campaign_recipients with ONE INSERT … SELECT (each
 * contact once, subscribed only; an address on the suppression list is recorded as `suppressed`, so
 * every recipient has a state), keeps its content in `frozen_content` and moves the campaign to
 * `sending`, in one transaction. A campaign that is already past `scheduled` is left as it is: a
 * retried freeze never adds contacts who joined later.
 */
export async function freezeAudience(
  db: DbOrTx,
  campaignId: number,
  freezing: (campaign: CampaignRow) => Promise<Freezing>,
  startedAt: Date,
): Promise<FrozenAudience | null> {
  return db.transaction(async (tx) => {
    const [campaign] = await tx.select().from(campaigns).where(eq(campaigns.id, campaignId)).for('update');
    if (!campaign) return null;
    if (campaign.status !== 'scheduled') {
      return { status: campaign.status, totalRecipients: campaign.totalRecipients, suppressedCount: campaign.suppressedCount, frozenNow: false };
    }
    const { audience: where, content } = await freezing(campaign);
    await tx.execute(sql`
      insert into campaign_recipients (campaign_id, contact_id, email, status, error)
      select ${campaignId}, c.id, c.email,
        case when s.id is null then 'pending'::recipient_status else 'suppressed'::recipient_status end,
        case when s.id is null then null else 'on the suppression list (' || s.reason || ')' end
      from contacts c
      left join suppressions s on s.site_id = c.site_id and s.email = c.email
      where c.site_id = ${campaign.siteId} and c.status = 'subscribed' and (${where})
      order by c.id
      on conflict (campaign_id, contact_id) do nothing
    `);
    // The planner's statistics predate this audience (autovacuum analyzes a minute or more later), so
    // it would take the new campaign for a handful of rows and page the batches' cursor through every
    // pending recipient instead of the (campaign_id, id) index. Sampling now counts this
    // transaction's own rows.
    await tx.execute(sql`analyze campaign_recipients`);
    const [totals] = await tx
      .select({
        total: count(),
        suppressed: sql<number>`count(*) filter (where ${campaignRecipients.status} = 'suppressed')`.mapWith(Number),
      })
      .from(campaignRecipients)
      .where(eq(campaignRecipients.campaignId, campaignId));
    const [row] = await tx
      .update(campaigns)
      .set({
        status: 'sending',
        frozenContent: content,
        totalRecipients: totals?.total ?? 0,
        suppressedCount: totals?.suppressed ?? 0,
        startedAt,
        updatedAt: new Date(),
      })
      .where(eq(campaigns.id, campaignId))
      .returning();
    return { status: row!.status, totalRecipients: row!.totalRecipients, suppressedCount: row!.suppressedCount, frozenNow: true };
  });
}

/**
 * Keeps `content` as the campaign's frozen content unless it has one already, and answers the one it
 * keeps: for a campaign frozen before contents were (its first batch since takes it), and concurrent
 * batches all get the same.
 */
export async function freezeCampaignContent(db: DbOrTx, campaignId: number, content: TemplateSource): Promise<TemplateSource> {
  const [set] = await db
    .update(campaigns)
    .set({ frozenContent: content })
    .where(and(eq(campaigns.id, campaignId), isNull(campaigns.frozenContent)))
    .returning({ content: campaigns.frozenContent });
  if (set?.content) return set.content;
  const [kept] = await db.select({ content: campaigns.frozenContent }).from(campaigns).where(eq(campaigns.id, campaignId));
  if (!kept?.content) throw new Error(`campaign ${campaignId} vanished while its content was frozen`);
  return kept.content;
}

/** The content a campaign's copies render from (null before its freeze), for a send being shown. */
export async function frozenContentOf(db: DbOrTx, campaignId: number): Promise<TemplateSource | null> {
  const [row] = await db.select({ content: campaigns.frozenContent }).from(campaigns).where(eq(campaigns.id, campaignId));
  return row?.content ?? null;
}

/** A campaign's status alone (a sending batch looks at it between provider calls); null when it is gone. */
export async function statusOfCampaign(db: DbOrTx, id: number): Promise<CampaignStatus | null> {
  const [row] = await db.select({ status: campaigns.status }).from(campaigns).where(eq(campaigns.id, id));
  return row?.status ?? null;
}

/** Ids of the next pending recipients after a cursor, in id order (the keyset the batches page by). */
export async function pendingRecipientIds(db: DbOrTx, campaignId: number, afterId: number, limit: number): Promise<number[]> {
  const rows = await db
    .select({ id: campaignRecipients.id })
    .from(campaignRecipients)
    .where(and(eq(campaignRecipients.campaignId, campaignId), eq(campaignRecipients.status, 'pending'), sql`${campaignRecipients.id} > ${afterId}`))
    .orderBy(asc(campaignRecipients.id))
    .limit(limit);
  return rows.map((r) => r.id);
}

export async function listRecipients(
  db: DbOrTx,
  campaignId: number,
  filters: { status?: RecipientStatus },
  page: { limit: number; offset: number },
): Promise<{ rows: RecipientRow[]; total: number }> {
  const where = and(eq(campaignRecipients.campaignId, campaignId), filters.status ? eq(campaignRecipients.status, filters.status) : undefined)!;
  const [rows, [totals]] = await Promise.all([
    db.select().from(campaignRecipients).where(where).orderBy(asc(campaignRecipients.id)).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(campaignRecipients).where(where),
  ]);
  return { rows, total: totals?.total ?? 0 };
}

/** Recipient counts by status, straight from the frozen audience. */
export async function recipientStatusCounts(db: DbOrTx, campaignId: number): Promise<Record<RecipientStatus, number>> {
  const rows = await db
    .select({ status: campaignRecipients.status, n: count() })
    .from(campaignRecipients)
    .where(eq(campaignRecipients.campaignId, campaignId))
    .groupBy(campaignRecipients.status);
  const out: Record<RecipientStatus, number> = { pending: 0, sent: 0, failed: 0, suppressed: 0, skipped: 0 };
  for (const r of rows) out[r.status] = r.n;
  return out;
}

/**
 * Puts the failed recipients of a finished campaign back to pending with the next attempt number (so
 * the retry carries a fresh idempotency key) and moves the campaign to `sending`, in one transaction.
 * Returns how many were reset, or null when the campaign was not in one of `from`.
 */
export async function resetFailedRecipients(
  db: DbOrTx,
  siteId: number,
  id: number,
  from: readonly CampaignStatus[],
): Promise<{ campaign: CampaignRow; reset: number } | null> {
  return db.transaction(async (tx) => {
    const [campaign] = await tx
      .select()
      .from(campaigns)
      .where(and(bySite(siteId, id), inArray(campaigns.status, [...from])))
      .for('update');
    if (!campaign) return null;
    const reset = await tx
      .update(campaignRecipients)
      .set({ status: 'pending', attempt: sql`${campaignRecipients.attempt} + 1`, sendId: null, error: null, updatedAt: new Date() })
      .where(and(eq(campaignRecipients.campaignId, id), eq(campaignRecipients.status, 'failed')))
      .returning({ id: campaignRecipients.id });
    if (reset.length === 0) return { campaign, reset: 0 };
    const [row] = await tx
      .update(campaigns)
      .set({
        status: 'sending',
        failedCount: sql`greatest(0, ${campaigns.failedCount} - ${reset.length})`,
        completedAt: null,
        pausedReason: null,
        updatedAt: new Date(),
      })
      .where(eq(campaigns.id, id))
      .returning();
    return { campaign: row!, reset: reset.length };
  });
}
