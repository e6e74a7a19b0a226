import { and, count, desc, eq, getTableColumns, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { sends, type sendKind, type sendStatus } from '../schema.js';

/** One row of the send log, rendered message included. */
export type SendRow = typeof sends.$inferSelect;
export type NewSend = typeof sends.$inferInsert;
export type SendKind = (typeof sendKind.enumValues)[number];
export type SendStatus = (typeof sendStatus.enumValues)[number];

/** A send without its rendered bodies and delivery details, as listed by `GET /sends`. */
export type SendSummary = Omit<SendRow, 'html' | 'text' | 'headers' | 'cc' | 'bcc' | 'replyTo' | 'siteId' | 'workflowId'>;

export interface SendFilters {
  kind?: SendKind;
  status?: SendStatus;
  contactId?: number;
  campaignId?: number;
  sequenceId?: number;
  /** Created at or after this instant. */
  from?: Date;
  /** Created strictly before this instant. */
  to?: Date;
}

const { html: _html, text: _text, headers: _headers, cc: _cc, bcc: _bcc, replyTo: _replyTo, siteId: _siteId, workflowId: _wf, ...summaryColumns } =
  getTableColumns(sends);

/**
 * Records a send unless one with the same idempotency key exists (`ON CONFLICT DO NOTHING`), and
 * returns the row that holds the key either way: `created` is false for a retry or a duplicate, which
 * must then not be sent again. Keys are unique across sites, so derive them from business identity.
 */
export async function insertSend(db: DbOrTx, row: NewSend): Promise<{ send: SendRow; created: boolean }> {
  const [inserted] = await db.insert(sends).values(row).onConflictDoNothing({ target: sends.idempotencyKey }).returning();
  if (inserted) return { send: inserted, created: true };
  const [existing] = await db.select().from(sends).where(eq(sends.idempotencyKey, row.idempotencyKey));
  // Only possible if the holder was deleted between the two statements (its site was deleted).
  if (!existing) throw new Error(`send with idempotency key ${row.idempotencyKey} vanished during insert`);
  return { send: existing, created: false };
}

/**
 * Reserves `n` ids of the send log without inserting rows (one query): a campaign or sequence email
 * names its own send in its unsubscribe and tracking links, so the id must be known before rendering.
 * Pass each id as `id` to insertSend; an id never used is only a gap.
 */
export async function reserveSendIds(db: DbOrTx, n: number): Promise<number[]> {
  if (n <= 0) return [];
  const result = await db.execute<{ id: number }>(
    sql`select nextval(pg_get_serial_sequence('sends', 'id'))::int as id from generate_series(1, ${n}::int)`,
  );
  return result.rows.map((r) => Number(r.id));
}

export async function getSend(db: DbOrTx, siteId: number, id: number): Promise<SendRow | null> {
  const [row] = await db.select().from(sends).where(and(eq(sends.siteId, siteId), eq(sends.id, id)));
  return row ?? null;
}

function filterWhere(siteId: number, f: SendFilters): SQL {
  const conditions: SQL[] = [eq(sends.siteId, siteId)];
  if (f.kind) conditions.push(eq(sends.kind, f.kind));
  if (f.status) conditions.push(eq(sends.status, f.status));
  if (f.contactId !== undefined) conditions.push(eq(sends.contactId, f.contactId));
  if (f.campaignId !== undefined) conditions.push(eq(sends.campaignId, f.campaignId));
  if (f.sequenceId !== undefined) conditions.push(eq(sends.sequenceId, f.sequenceId));
  if (f.from) conditions.push(gte(sends.createdAt, f.from));
  if (f.to) conditions.push(lt(sends.createdAt, f.to));
  return and(...conditions)!;
}

/** Newest first (by id, which follows creation), without the rendered bodies. */
export async function listSends(
  db: DbOrTx,
  siteId: number,
  filters: SendFilters,
  page: { limit: number; offset: number },
): Promise<{ rows: SendSummary[]; total: number }> {
  const where = filterWhere(siteId, filters);
  const [rows, [totals]] = await Promise.all([
    db.select(summaryColumns).from(sends).where(where).orderBy(desc(sends.id)).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(sends).where(where),
  ]);
  return { rows, total: totals?.total ?? 0 };
}

// Statuses from which a provider acceptance still moves the row to `sent`; later states (delivered,
// bounced…) come from webhooks that may arrive before our own write and must not be overwritten.
const SENDABLE: SendStatus[] = ['queued', 'failed'];

/**
 * Records the provider's acceptance. Idempotent: a repeat keeps the first message id and time. Null
 * when no send has this id.
 */
export async function markSendSent(db: DbOrTx, id: number, providerMessageId: string): Promise<SendRow | null> {
  const sendable = inArray(sends.status, SENDABLE);
  const [row] = await db
    .update(sends)
    .set({
      status: sql`case when ${sendable} then 'sent'::send_status else ${sends.status} end`,
      providerMessageId: sql`coalesce(${sends.providerMessageId}, ${providerMessageId})`,
      sentAt: sql`coalesce(${sends.sentAt}, now())`,
      error: sql`case when ${sendable} then null else ${sends.error} end`,
      updatedAt: new Date(),
    })
    .where(eq(sends.id, id))
    .returning();
  return row ?? null;
}

/** Records a permanent failure; a send already accepted by the provider stays as it is. Null when nothing changed. */
export async function markSendFailed(db: DbOrTx, id: number, error: string): Promise<SendRow | null> {
  const [row] = await db
    .update(sends)
    .set({ status: 'failed', error, updatedAt: new Date() })
    .where(and(eq(sends.id, id), inArray(sends.status, SENDABLE)))
    .returning();
  return row ?? null;
}

/** Counts one delivery attempt; returns the new count (0 when no send has this id). */
export async function incrementSendAttempts(db: DbOrTx, id: number): Promise<number> {
  const [row] = await db
    .update(sends)
    .set({ attempts: sql`${sends.attempts} + 1`, updatedAt: new Date() })
    .where(eq(sends.id, id))
    .returning({ attempts: sends.attempts });
  return row?.attempts ?? 0;
}
