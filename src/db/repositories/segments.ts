import { and, asc, count, eq, inArray, sql } from 'drizzle-orm';
import { AppError, type ErrorDetail } from '../../errors.js';
import { referencedIds, type SegmentRules } from '../../domain/segment-rules.js';
import type { DbOrTx } from '../client.js';
import { campaigns, lists, segments, sequences } from '../schema.js';

export interface SegmentView {
  id: number;
  name: string;
  rules: SegmentRules;
  createdAt: Date;
  updatedAt: Date;
}

export interface SegmentInput {
  name: string;
  rules: SegmentRules;
}

const segmentColumns = {
  id: segments.id,
  name: segments.name,
  rules: sql<SegmentRules>`${segments.rules}`,
  createdAt: segments.createdAt,
  updatedAt: segments.updatedAt,
};

const bySite = (siteId: number, id: number) => and(eq(segments.siteId, siteId), eq(segments.id, id))!;

const TABLES = { list: lists, campaign: campaigns, sequence: sequences } as const;

/**
 * 400 `validation_failed` naming each path (`rules.conditions.2.listId`) whose list, campaign or
 * sequence is not one of the site's. The compiled SQL also scopes every sub-select to the site, so
 * this is about telling the user, not about safety.
 */
export async function assertRuleReferences(db: DbOrTx, siteId: number, rules: SegmentRules, prefix = 'rules'): Promise<void> {
  const refs = referencedIds(rules);
  if (refs.length === 0) return;
  const details: ErrorDetail[] = [];
  for (const kind of ['list', 'campaign', 'sequence'] as const) {
    const wanted = [...new Set(refs.filter((r) => r.kind === kind).map((r) => r.id))];
    if (wanted.length === 0) continue;
    const table = TABLES[kind];
    const found = new Set(
      (await db.select({ id: table.id }).from(table).where(and(eq(table.siteId, siteId), inArray(table.id, wanted)))).map((r) => r.id),
    );
    for (const ref of refs) {
      if (ref.kind === kind && !found.has(ref.id)) details.push({ path: `${prefix}.${ref.path}`, message: `${kind} ${ref.id} does not exist` });
    }
  }
  if (details.length) throw AppError.validation('Segment rules refer to lists, campaigns or sequences that do not exist', details);
}

export async function createSegment(db: DbOrTx, siteId: number, input: SegmentInput): Promise<SegmentView> {
  await assertRuleReferences(db, siteId, input.rules);
  const [row] = await db
    .insert(segments)
    .values({ siteId, name: input.name, rules: input.rules as unknown as Record<string, unknown> })
    .returning(segmentColumns);
  return row!;
}

export async function listSegments(
  db: DbOrTx,
  siteId: number,
  page: { limit: number; offset: number },
): Promise<{ rows: SegmentView[]; total: number }> {
  const [rows, [totals]] = await Promise.all([
    db.select(segmentColumns).from(segments).where(eq(segments.siteId, siteId)).orderBy(asc(segments.id)).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(segments).where(eq(segments.siteId, siteId)),
  ]);
  return { rows, total: totals?.total ?? 0 };
}

export async function getSegment(db: DbOrTx, siteId: number, id: number): Promise<SegmentView | undefined> {
  const [row] = await db.select(segmentColumns).from(segments).where(bySite(siteId, id));
  return row;
}

/** Undefined when the site has no such segment. */
export async function updateSegment(db: DbOrTx, siteId: number, id: number, patch: Partial<SegmentInput>): Promise<SegmentView | undefined> {
  if (patch.rules) await assertRuleReferences(db, siteId, patch.rules);
  const [row] = await db
    .update(segments)
    .set({
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.rules !== undefined ? { rules: patch.rules as unknown as Record<string, unknown> } : {}),
      updatedAt: new Date(),
    })
    .where(bySite(siteId, id))
    .returning(segmentColumns);
  return row;
}

// Campaigns that may still read their audience (not finished): deleting a segment under them would fail the send.
const PENDING_CAMPAIGN = sql.raw(`('draft', 'scheduled', 'paused', 'sending')`);

/**
 * Deletes a segment. 409 `segment_in_use` while an unfinished campaign (draft, scheduled,
 * sending, paused) targets or excludes it. False when the site has no such segment.
 */
export async function deleteSegment(db: DbOrTx, siteId: number, id: number): Promise<boolean> {
  return db.transaction(async (tx) => {
    const users = await tx
      .select({ id: campaigns.id })
      .from(campaigns)
      .where(
        and(
          eq(campaigns.siteId, siteId),
          sql`${campaigns.status} in ${PENDING_CAMPAIGN}`,
          // A JSON array "contains" a scalar it holds: [1,2] @> 1.
          sql`(${campaigns.audience} -> 'segmentIds' @> ${String(id)}::jsonb or ${campaigns.audience} -> 'excludeSegmentIds' @> ${String(id)}::jsonb)`,
        ),
      );
    if (users.length) {
      throw new AppError(
        'segment_in_use',
        'conflict',
        `Segment ${id} is used by unfinished campaign${users.length > 1 ? 's' : ''} ${users.map((u) => u.id).join(', ')}`,
      );
    }
    const rows = await tx.delete(segments).where(bySite(siteId, id)).returning({ id: segments.id });
    return rows.length > 0;
  });
}
