import { and, count, desc, eq, getTableColumns, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { idBounds } from './campaign-recipients.js';
import type { CampaignCopyContext } from '../../mail/campaign-copy.js';
import { sends, type sendKind, type sendStatus } from '../schema.js';

/** One row of the send log, rendered message included. */
export type SendRow = typeof sends.$inferSelect;
export type NewSend = typeof sends.$inferInsert;
export type SendKind = (typeof sendKind.enumValues)[number];
export type SendStatus = (typeof sendStatus.enumValues)[number];

/** A send without its message and delivery details, as listed by `GET /sends`. */
export type SendSummary = Omit<SendRow, 'html' | 'text' | 'copyContext' | 'headers' | 'cc' | 'bcc' | 'replyTo' | 'siteId' | 'workflowId'>;

export interface SendFilters {
  kind?: SendKind;
  status?: SendStatus;
  contactId?: number;
  campaignId?: number;
  sequenceId?: number;
  /** The recipient address, case-insensitively. */
  toEmail?: string;
  /** Created at or after this instant. */
  from?: Date;
  /** Created strictly before this instant. */
  to?: Date;
}

const {
  html: _html,
  text: _text,
  copyContext: _copyContext,
  headers: _headers,
  cc: _cc,
  bcc: _bcc,
  replyTo: _replyTo,
  siteId: _siteId,
  workflowId: _wf,
  ...summaryColumns
} = getTableColumns(sends);

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
  if (f.toEmail !== undefined) conditions.push(sql`lower(${sends.toEmail}) = ${f.toEmail.toLowerCase()}`);
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

/**
 * Transactional sends still `queued` that were recorded before `before`, oldest first: candidates for
 * {@link failStrandedSends} (services/transactional.ts), which asks Temporal about each.
 */
export async function listQueuedTransactionalBefore(db: DbOrTx, before: Date, limit: number): Promise<Array<{ id: number }>> {
  return db
    .select({ id: sends.id })
    .from(sends)
    .where(and(eq(sends.kind, 'transactional'), eq(sends.status, 'queued'), lt(sends.createdAt, before)))
    .orderBy(sends.id)
    .limit(limit);
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

/** A send by id alone: a delivery workflow knows only the id (the row carries its site). */
export async function getSendById(db: DbOrTx, id: number): Promise<SendRow | null> {
  const [row] = await db.select().from(sends).where(eq(sends.id, id));
  return row ?? null;
}

/** The send recorded under an idempotency key, if any. */
export async function findSendByKey(db: DbOrTx, idempotencyKey: string): Promise<SendRow | null> {
  const [row] = await db.select().from(sends).where(eq(sends.idempotencyKey, idempotencyKey));
  return row ?? null;
}

/** A queued send whose recipient became suppressed before delivery; a send already settled is left alone. */
export async function markSendSuppressed(db: DbOrTx, id: number, reason: string): Promise<void> {
  await db
    .update(sends)
    .set({ status: 'suppressed', error: reason, updatedAt: new Date() })
    .where(and(eq(sends.id, id), eq(sends.status, 'queued')));
}

/**
 * A campaign's send as a batch records it: everything else takes the column's default. A copy holds
 * `copyContext` and no html/text; a copy that could not be rendered alike again holds its body.
 */
export interface BatchSend {
  id: number;
  siteId: number;
  kind: SendKind;
  contactId: number | null;
  toEmail: string;
  subject: string;
  html: string | null;
  text: string | null;
  copyContext: CampaignCopyContext | null;
  headers: Record<string, string> | null;
  sendingConfigId: number;
  templateId: number | null;
  campaignId: number | null;
  status: SendStatus;
  idempotencyKey: string;
  workflowId: string | null;
}

/** What recordSends learned of one key: the id that holds it, and whether this call created that row. */
export interface RecordedSend {
  id: number;
  created: boolean;
  /** As stored (jsonb orders keys its own way), so a message built from it matches one read back later. */
  headers: Record<string, string> | null;
}

/**
 * Records a batch of sends in one statement (the rows travel as one JSON parameter, so the cost does
 * not grow with a statement of rows × columns parameters); a row whose idempotency key is already
 * held (a concurrent attempt of the same batch) keeps its own id and content. Answers, per key, the id
 * holding it and whether this call created it. Strings must be well-formed (see storedText in src/mail/campaign-copy.ts).
 */
export async function recordSends(tx: DbOrTx, rows: readonly BatchSend[]): Promise<Map<string, RecordedSend>> {
  const held = new Map<string, RecordedSend>();
  if (rows.length === 0) return held;
  const json = JSON.stringify(
    rows.map((r) => ({
      id: r.id,
      site_id: r.siteId,
      kind: r.kind,
      contact_id: r.contactId,
      to_email: r.toEmail,
      subject: r.subject,
      html: r.html,
      text: r.text,
      copy_context: r.copyContext,
      headers: r.headers,
      sending_config_id: r.sendingConfigId,
      template_id: r.templateId,
      campaign_id: r.campaignId,
      status: r.status,
      idempotency_key: r.idempotencyKey,
      workflow_id: r.workflowId,
    })),
  );
  const inserted = await tx.execute<{ id: number; idempotency_key: string; headers: Record<string, string> | null }>(sql`
    insert into sends (id, site_id, kind, contact_id, to_email, subject, html, text, copy_context, headers, sending_config_id,
      template_id, campaign_id, status, idempotency_key, workflow_id)
    select id, site_id, kind::send_kind, contact_id, to_email, subject, html, text, copy_context, headers, sending_config_id,
      template_id, campaign_id, status::send_status, idempotency_key, workflow_id
    from json_to_recordset(${json}::json) as v(id int, site_id int, kind text, contact_id int, to_email text, subject text,
      html text, text text, copy_context json, headers jsonb, sending_config_id int, template_id int, campaign_id int, status text,
      idempotency_key text, workflow_id text)
    on conflict (idempotency_key) do nothing
    returning id, idempotency_key, headers
  `);
  for (const r of inserted.rows) held.set(r.idempotency_key, { id: Number(r.id), created: true, headers: r.headers });
  const taken = rows.filter((r) => !held.has(r.idempotencyKey)).map((r) => r.idempotencyKey);
  if (taken.length) {
    const existing = await tx
      .select({ id: sends.id, key: sends.idempotencyKey, headers: sends.headers })
      .from(sends)
      .where(inArray(sends.idempotencyKey, taken));
    for (const r of existing) held.set(r.key, { id: r.id, created: false, headers: r.headers });
  }
  return held;
}

/**
 * A provider batch's acceptances, in one statement: like markSendSent, a repeat keeps the first
 * message id and time, and a status a webhook already advanced stays. Each counts one attempt.
 */
export async function markSendsSent(tx: DbOrTx, accepted: readonly { id: number; providerMessageId: string }[]): Promise<void> {
  if (accepted.length === 0) return;
  const values = sql.join(accepted.map((s) => sql`(${s.id}::int, ${s.providerMessageId}::text)`), sql`, `);
  // The id range keeps PostgreSQL on the primary key however stale its statistics of a growing log are.
  const [low, high] = idBounds(accepted.map((s) => s.id));
  await tx.execute(sql`
    update sends s set
      status = case when s.status in ('queued', 'failed') then 'sent'::send_status else s.status end,
      provider_message_id = coalesce(s.provider_message_id, v.pid),
      sent_at = coalesce(s.sent_at, now()),
      attempts = s.attempts + 1,
      updated_at = now()
    from (values ${values}) as v(id, pid)
    where s.id = v.id and s.id between ${low} and ${high}
  `);
}

/** A provider batch's refusals, in one statement; only queued sends change. Each counts one attempt. */
export async function markSendsFailed(tx: DbOrTx, refused: readonly { id: number; error: string }[]): Promise<void> {
  if (refused.length === 0) return;
  const values = sql.join(refused.map((s) => sql`(${s.id}::int, ${s.error}::text)`), sql`, `);
  const [low, high] = idBounds(refused.map((s) => s.id));
  await tx.execute(sql`
    update sends s set status = 'failed', error = v.error, attempts = s.attempts + 1, updated_at = now()
    from (values ${values}) as v(id, error)
    where s.id = v.id and s.id between ${low} and ${high} and s.status = 'queued'
  `);
}

/**
 * Takes the message bodies (html and text, a campaign copy's context) from up to `limit` sends created
 * before `before`, oldest first, in one statement; answers how many. What a delivery may still need
 * keeps its body: a queued transactional or sequence send, and every send of a campaign that has not
 * finished (a batch's retry rebuilds its messages from them). Subject, headers, status and events stay.
 */
export async function pruneMessageBodies(db: DbOrTx, before: Date, limit: number): Promise<number> {
  const result = await db.execute(sql`
    update sends s set html = null, text = null, copy_context = null
    where s.id in (
      select k.id from sends k
      where (k.html is not null or k.copy_context is not null) and k.created_at < ${before}
        and case when k.campaign_id is null then k.status <> 'queued'
          else exists (select 1 from campaigns c where c.id = k.campaign_id and c.status in ('sent', 'cancelled', 'failed')) end
      order by k.created_at
      limit ${limit}
      for update skip locked
    )
  `);
  return result.rowCount ?? 0;
}
