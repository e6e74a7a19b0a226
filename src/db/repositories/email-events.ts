import { and, asc, count, desc, eq, gte, inArray, isNotNull, lt, ne, sql, type SQL } from 'drizzle-orm';
import type { EmailEventType } from '../../domain/email-events.js';
import type { DbOrTx } from '../client.js';
import { campaigns, contacts, emailEvents, providerWebhookReceipts, sendingConfigs, sends, suppressions, type sendKind, type sendStatus } from '../schema.js';

export type EmailEventRow = typeof emailEvents.$inferSelect;
export type NewEmailEvent = typeof emailEvents.$inferInsert;
type SendStatus = (typeof sendStatus.enumValues)[number];

/** What an event needs to know about its send: whom it went to and what it belongs to. */
export interface EventSend {
  id: number;
  siteId: number;
  contactId: number | null;
  toEmail: string;
  campaignId: number | null;
  sequenceId: number | null;
  stepId: number | null;
}

const eventSendColumns = {
  id: sends.id,
  siteId: sends.siteId,
  contactId: sends.contactId,
  toEmail: sends.toEmail,
  campaignId: sends.campaignId,
  sequenceId: sends.sequenceId,
  stepId: sends.stepId,
};

/**
 * The send an event is about, locked until the transaction ends: events about one send then apply one
 * at a time, so a check such as "already counted on the campaign for this send" cannot miss a
 * concurrent event of the send (a soft and a hard bounce arriving together count once).
 */
export async function lockEventSend(tx: DbOrTx, siteId: number, sendId: number): Promise<EventSend | null> {
  const [row] = await tx
    .select(eventSendColumns)
    .from(sends)
    .where(and(eq(sends.siteId, siteId), eq(sends.id, sendId)))
    .for('update');
  return row ?? null;
}

/**
 * The send a provider message id belongs to, among these sites (a Resend webhook secret may be shared
 * by configs of several sites; the message id tells which one sent it).
 */
export async function findSendByProviderMessageId(db: DbOrTx, siteIds: readonly number[], providerMessageId: string): Promise<EventSend | null> {
  if (!siteIds.length) return null;
  const [row] = await db
    .select(eventSendColumns)
    .from(sends)
    .where(and(eq(sends.providerMessageId, providerMessageId), inArray(sends.siteId, [...siteIds])))
    .limit(1);
  return row ?? null;
}

/**
 * Inserts an event unless the site already has one with its dedupe key. `created` is false for a
 * duplicate, whose stored row is returned instead (its effects were applied the first time).
 */
export async function insertEmailEvent(db: DbOrTx, row: NewEmailEvent & { dedupeKey: string }): Promise<{ event: EmailEventRow; created: boolean }> {
  const [inserted] = await db.insert(emailEvents).values(row).onConflictDoNothing({ target: [emailEvents.siteId, emailEvents.dedupeKey] }).returning();
  if (inserted) return { event: inserted, created: true };
  const [existing] = await db
    .select()
    .from(emailEvents)
    .where(and(eq(emailEvents.siteId, row.siteId), eq(emailEvents.dedupeKey, row.dedupeKey)));
  // Only possible if the holder was deleted between the two statements (its site or contact was deleted).
  if (!existing) throw new Error(`email event ${row.dedupeKey} vanished during insert`);
  return { event: existing, created: false };
}

/**
 * How far along a send is. An event moves the send only forward, so feedback arriving out of order
 * (Resend does not order webhooks; `delivered` may follow `bounced`) never regresses a final state.
 * `failed` ranks above the in-flight states (the provider gave up) and below what the recipient's
 * server reported; a complaint outranks everything (the mail was delivered and reported as spam).
 */
const STATUS_RANK: readonly SendStatus[] = ['queued', 'suppressed', 'sent', 'delivery_delayed', 'failed', 'delivered', 'bounced', 'complained'];

const rankOf = (status: SendStatus | ReturnType<typeof sql>) =>
  sql`array_position(array[${sql.join(
    STATUS_RANK.map((s) => sql`${s}`),
    sql`, `,
  )}]::send_status[], ${status}::send_status)`;

/** Moves a send to `status` when that is further along than where it stands; `error` is recorded with a failure. */
export async function advanceSendStatus(db: DbOrTx, sendId: number, status: SendStatus, error?: string | null): Promise<boolean> {
  const rows = await db
    .update(sends)
    .set({ status, ...(error !== undefined ? { error } : {}), updatedAt: new Date() })
    .where(and(eq(sends.id, sendId), sql`${rankOf(sql`${sends.status}`)} < ${rankOf(status)}`))
    .returning({ id: sends.id });
  return rows.length > 0;
}

/**
 * Moves a contact to `bounced`, `complained` or `unsubscribed` from the states it may leave for it: a
 * complaint overrides anything, a hard bounce anything but a complaint, an unsubscribe only a
 * subscribed contact (a bounced address stays bounced). Returns whether the status changed.
 */
export async function setContactFeedbackStatus(
  db: DbOrTx,
  siteId: number,
  contactId: number,
  status: 'bounced' | 'complained' | 'unsubscribed',
): Promise<boolean> {
  const from =
    status === 'complained'
      ? ne(contacts.status, 'complained')
      : status === 'bounced'
        ? inArray(contacts.status, ['subscribed', 'unsubscribed'])
        : eq(contacts.status, 'subscribed');
  const now = new Date();
  const rows = await db
    .update(contacts)
    .set({ status, ...(status === 'unsubscribed' ? { unsubscribedAt: now } : {}), updatedAt: now })
    .where(and(eq(contacts.siteId, siteId), eq(contacts.id, contactId), from))
    .returning({ id: contacts.id });
  return rows.length > 0;
}

export async function contactEmail(db: DbOrTx, siteId: number, contactId: number): Promise<string | null> {
  const [row] = await db.select({ email: contacts.email }).from(contacts).where(and(eq(contacts.siteId, siteId), eq(contacts.id, contactId)));
  return row?.email ?? null;
}

/**
 * Suppresses an address unless it already is: the first reason stands (a manual suppression stays
 * manual), since what matters for sending is only that it is suppressed.
 */
export async function suppressIfAbsent(
  db: DbOrTx,
  siteId: number,
  email: string,
  reason: 'hard_bounce' | 'complaint',
  note: string | null,
): Promise<boolean> {
  const rows = await db
    .insert(suppressions)
    .values({ siteId, email: email.trim().toLowerCase(), reason, note })
    .onConflictDoNothing({ target: [suppressions.siteId, suppressions.email] })
    .returning({ id: suppressions.id });
  return rows.length > 0;
}

/** The campaign counter each event type moves. */
const CAMPAIGN_COUNTERS = {
  delivered: 'deliveredCount',
  opened: 'openedCount',
  clicked: 'clickedCount',
  bounced: 'bouncedCount',
  complained: 'complainedCount',
  unsubscribed: 'unsubscribedCount',
} as const satisfies Partial<Record<EmailEventType, keyof typeof campaigns.$inferSelect>>;

/**
 * Counts an event on its campaign, once per send and type: an event of the same type recorded for the
 * send under another dedupe key (our own pixel and Resend's `email.opened`; a soft and a hard bounce)
 * does not count twice. Must run in the transaction that inserted `event`, with the send locked.
 */
export async function countOnCampaign(db: DbOrTx, event: EmailEventRow): Promise<boolean> {
  if (event.campaignId === null || event.sendId === null || !Object.hasOwn(CAMPAIGN_COUNTERS, event.type)) return false;
  const counter = CAMPAIGN_COUNTERS[event.type as keyof typeof CAMPAIGN_COUNTERS];
  const [earlier] = await db
    .select({ id: emailEvents.id })
    .from(emailEvents)
    .where(and(eq(emailEvents.sendId, event.sendId), eq(emailEvents.type, event.type), ne(emailEvents.id, event.id)))
    .limit(1);
  if (earlier) return false;
  const rows = await db
    .update(campaigns)
    .set({ [counter]: sql`${campaigns[counter]} + 1` })
    .where(and(eq(campaigns.id, event.campaignId), eq(campaigns.siteId, event.siteId)))
    .returning({ id: campaigns.id });
  return rows.length > 0;
}

// ---------------------------------------------------------------------------------------------
// Provider webhooks

/** A Resend config that can receive webhooks: its signing secret is still encrypted. */
export type WebhookConfigRow = typeof sendingConfigs.$inferSelect;

/** Resend configs with a webhook secret: one config by id, or every one of every site. */
export async function resendWebhookConfigs(db: DbOrTx, configId?: number): Promise<WebhookConfigRow[]> {
  return db
    .select()
    .from(sendingConfigs)
    .where(
      and(
        eq(sendingConfigs.provider, 'resend'),
        isNotNull(sendingConfigs.webhookSecretEncrypted),
        configId === undefined ? undefined : eq(sendingConfigs.id, configId),
      ),
    )
    .orderBy(sendingConfigs.id);
}

/** Records a provider webhook message; false when this site already received it (a Svix retry). */
export async function recordWebhookReceipt(
  db: DbOrTx,
  row: { siteId: number; provider: 'resend'; eventId: string; type: string; sendingConfigId: number | null },
): Promise<boolean> {
  const rows = await db
    .insert(providerWebhookReceipts)
    .values(row)
    .onConflictDoNothing({ target: [providerWebhookReceipts.siteId, providerWebhookReceipts.provider, providerWebhookReceipts.eventId] })
    .returning({ id: providerWebhookReceipts.id });
  return rows.length > 0;
}

/** Forgets a receipt whose processing failed, so the provider's retry is processed instead of skipped. */
export async function forgetWebhookReceipt(db: DbOrTx, siteId: number, provider: 'resend', eventId: string): Promise<void> {
  await db
    .delete(providerWebhookReceipts)
    .where(and(eq(providerWebhookReceipts.siteId, siteId), eq(providerWebhookReceipts.provider, provider), eq(providerWebhookReceipts.eventId, eventId)));
}

/** The address an event is about: its send's recipient, else its contact's. */
export async function eventRecipientEmail(db: DbOrTx, event: Pick<EmailEventRow, 'sendId' | 'contactId'>): Promise<string | null> {
  if (event.sendId !== null) {
    const [send] = await db.select({ email: sends.toEmail }).from(sends).where(eq(sends.id, event.sendId));
    if (send) return send.email;
  }
  if (event.contactId !== null) {
    const [contact] = await db.select({ email: contacts.email }).from(contacts).where(eq(contacts.id, event.contactId));
    if (contact) return contact.email;
  }
  return null;
}

/**
 * A send with whether its open and click are recorded already, in one query: a repeated open or click
 * (most of them) then costs this single indexed lookup and no write.
 */
export async function trackedSend(db: DbOrTx, sendId: number) {
  const [row] = await db
    .select({
      id: sends.id,
      siteId: sends.siteId,
      contactId: sends.contactId,
      // Spelled out with the table name: drizzle renders a lone column unqualified in a single-table
      // select, where inside the subquery it would mean email_events' own id.
      opened: sql<boolean>`exists(select 1 from email_events e where e.site_id = "sends"."site_id" and e.dedupe_key = 'opened:' || "sends"."id")`,
      clicked: sql<boolean>`exists(select 1 from email_events e where e.site_id = "sends"."site_id" and e.dedupe_key = 'clicked:' || "sends"."id")`,
    })
    .from(sends)
    .where(eq(sends.id, sendId));
  return row;
}

/** Whether a journey's email of one step was opened (or clicked): what a `condition` step reads. */
export async function stepEmailHadEvent(db: DbOrTx, workflowId: string, stepId: number, type: 'opened' | 'clicked'): Promise<boolean> {
  const [row] = await db
    .select({ id: emailEvents.id })
    .from(emailEvents)
    .innerJoin(sends, eq(sends.id, emailEvents.sendId))
    .where(and(eq(sends.enrollmentId, workflowId), eq(sends.stepId, stepId), eq(emailEvents.type, type)))
    .limit(1);
  return row !== undefined;
}

// Reads over the delivery feedback: the events API, a send's events and a contact's activity timeline.

export interface EventFilters {
  type?: EmailEventType;
  contactId?: number;
  campaignId?: number;
  sequenceId?: number;
  sendId?: number;
  /** Occurred at or after this instant. */
  from?: Date;
  /** Occurred strictly before this instant. */
  to?: Date;
}

/** The few fields of the send an event is about, so a list of events reads without a lookup per row. */
export interface EventSendSummary {
  id: number;
  kind: (typeof sendKind.enumValues)[number];
  subject: string;
  toEmail: string;
}

export interface EmailEventView {
  id: number;
  type: string;
  sendId: number | null;
  contactId: number | null;
  campaignId: number | null;
  sequenceId: number | null;
  stepId: number | null;
  data: Record<string, unknown>;
  occurredAt: Date;
  createdAt: Date;
}

export interface EmailEventListItem extends EmailEventView {
  send: EventSendSummary | null;
}

const eventColumns = {
  id: emailEvents.id,
  type: emailEvents.type,
  sendId: emailEvents.sendId,
  contactId: emailEvents.contactId,
  campaignId: emailEvents.campaignId,
  sequenceId: emailEvents.sequenceId,
  stepId: emailEvents.stepId,
  data: emailEvents.data,
  occurredAt: emailEvents.occurredAt,
  createdAt: emailEvents.createdAt,
};

function filterWhere(siteId: number, f: EventFilters): SQL {
  const conditions: SQL[] = [eq(emailEvents.siteId, siteId)];
  if (f.type) conditions.push(eq(emailEvents.type, f.type));
  if (f.contactId !== undefined) conditions.push(eq(emailEvents.contactId, f.contactId));
  if (f.campaignId !== undefined) conditions.push(eq(emailEvents.campaignId, f.campaignId));
  if (f.sequenceId !== undefined) conditions.push(eq(emailEvents.sequenceId, f.sequenceId));
  if (f.sendId !== undefined) conditions.push(eq(emailEvents.sendId, f.sendId));
  if (f.from) conditions.push(gte(emailEvents.occurredAt, f.from));
  if (f.to) conditions.push(lt(emailEvents.occurredAt, f.to));
  return and(...conditions)!;
}

/** A site's email events, newest first (by when they happened), each with a summary of its send. */
export async function listEmailEvents(
  db: DbOrTx,
  siteId: number,
  filters: EventFilters,
  page: { limit: number; offset: number },
): Promise<{ rows: EmailEventListItem[]; total: number }> {
  const where = filterWhere(siteId, filters);
  const [rows, [totals]] = await Promise.all([
    db
      .select({ ...eventColumns, send: { id: sends.id, kind: sends.kind, subject: sends.subject, toEmail: sends.toEmail } })
      .from(emailEvents)
      // The site condition on the join is belt and braces: an event only ever points at its own site's send.
      .leftJoin(sends, and(eq(sends.id, emailEvents.sendId), eq(sends.siteId, emailEvents.siteId)))
      .where(where)
      .orderBy(desc(emailEvents.occurredAt), desc(emailEvents.id))
      .limit(page.limit)
      .offset(page.offset),
    db.select({ total: count() }).from(emailEvents).where(where),
  ]);
  return { rows, total: totals?.total ?? 0 };
}

/** Everything that happened to one send, in the order it happened (sent → delivered → opened …). */
export async function eventsOfSend(db: DbOrTx, siteId: number, sendId: number): Promise<EmailEventView[]> {
  return db
    .select(eventColumns)
    .from(emailEvents)
    .where(and(eq(emailEvents.siteId, siteId), eq(emailEvents.sendId, sendId)))
    .orderBy(asc(emailEvents.occurredAt), asc(emailEvents.id))
    // Events are deduplicated per send and type, so a send has a handful; the cap only bounds a surprise.
    .limit(200);
}

// ---------------------------------------------------------------------------------------------
// Contact activity timeline

export type ActivityItem =
  | {
      type: 'send';
      at: Date;
      sendId: number;
      kind: string;
      status: string;
      subject: string;
      campaignId: number | null;
      sequenceId: number | null;
      stepId: number | null;
      enrollmentId: number | null;
    }
  | {
      type: 'email_event';
      at: Date;
      eventId: number;
      event: string;
      sendId: number | null;
      campaignId: number | null;
      sequenceId: number | null;
      stepId: number | null;
      enrollmentId: number | null;
      data: Record<string, unknown>;
    }
  | { type: 'contact_event'; at: Date; eventId: number; name: string; data: Record<string, unknown> }
  | { type: 'enrollment_started'; at: Date; enrollmentId: number; sequenceId: number }
  | { type: 'enrollment_ended'; at: Date; enrollmentId: number; sequenceId: number; status: string; exitReason: string | null };

export type ActivityType = ActivityItem['type'];

interface ActivityRow extends Record<string, unknown> {
  type: ActivityType;
  /** Raw timestamptz text: drizzle leaves timestamps of raw queries unparsed. */
  at: string;
  id: number;
  send_id: number | null;
  campaign_id: number | null;
  sequence_id: number | null;
  step_id: number | null;
  enrollment_id: number | null;
  kind: string | null;
  status: string | null;
  label: string | null;
  data: Record<string, unknown> | null;
  total: number;
}

function toItem(raw: ActivityRow): ActivityItem {
  const r = { ...raw, at: new Date(raw.at) };
  const links = { campaignId: r.campaign_id, sequenceId: r.sequence_id, stepId: r.step_id, enrollmentId: r.enrollment_id };
  switch (r.type) {
    case 'send':
      return { type: 'send', at: r.at, sendId: r.id, kind: r.kind!, status: r.status!, subject: r.label!, ...links };
    case 'email_event':
      return { type: 'email_event', at: r.at, eventId: r.id, event: r.label!, sendId: r.send_id, ...links, data: r.data ?? {} };
    case 'contact_event':
      return { type: 'contact_event', at: r.at, eventId: r.id, name: r.label!, data: r.data ?? {} };
    case 'enrollment_started':
      return { type: 'enrollment_started', at: r.at, enrollmentId: r.id, sequenceId: r.sequence_id! };
    case 'enrollment_ended':
      return { type: 'enrollment_ended', at: r.at, enrollmentId: r.id, sequenceId: r.sequence_id!, status: r.status!, exitReason: r.label };
  }
}

/**
 * One contact's timeline, newest first: its sends (with their current status), the email events about
 * it, the events it posted and its enrollments starting and ending. One UNION ALL query ordered and cut
 * in PostgreSQL, with the total from a window function, so a page costs one round trip whatever the
 * history's size. Sends carry the enrollment's workflow id; it is joined back to the enrollment's id.
 * Ties at the same instant follow the story (enrolled → sent → opened → event → ended).
 */
export async function contactActivity(
  db: DbOrTx,
  siteId: number,
  contactId: number,
  page: { limit: number; offset: number },
): Promise<{ rows: ActivityItem[]; total: number }> {
  const result = await db.execute<ActivityRow>(sql`
    select *, (count(*) over ())::int as total from (
      select 'send' as type, coalesce(s.sent_at, s.created_at) as at, 1 as rank, s.id,
             s.id as send_id, s.campaign_id, s.sequence_id, s.step_id, en.id as enrollment_id,
             s.kind::text as kind, s.status::text as status, s.subject as label, null::jsonb as data
        from sends s
        left join enrollments en on en.workflow_id = s.enrollment_id and en.site_id = s.site_id
       where s.site_id = ${siteId} and s.contact_id = ${contactId}
      union all
      select 'email_event', ev.occurred_at, 2, ev.id,
             ev.send_id, ev.campaign_id, ev.sequence_id, ev.step_id, en.id,
             null, null, ev.type, ev.data
        from email_events ev
        left join sends s on s.id = ev.send_id
        left join enrollments en on en.workflow_id = s.enrollment_id and en.site_id = ev.site_id
       where ev.site_id = ${siteId} and ev.contact_id = ${contactId}
      union all
      select 'contact_event', ce.created_at, 3, ce.id,
             null, null, null, null, null,
             null, null, ce.name, ce.data
        from contact_events ce
       where ce.site_id = ${siteId} and ce.contact_id = ${contactId}
      union all
      select 'enrollment_started', e.enrolled_at, 0, e.id,
             null, null, e.sequence_id, null, e.id,
             null, null, null, null
        from enrollments e
       where e.site_id = ${siteId} and e.contact_id = ${contactId}
      union all
      select 'enrollment_ended', e.completed_at, 4, e.id,
             null, null, e.sequence_id, null, e.id,
             null, e.status::text, e.exit_reason, null
        from enrollments e
       where e.site_id = ${siteId} and e.contact_id = ${contactId} and e.status <> 'active' and e.completed_at is not null
    ) activity
    order by at desc, rank desc, id desc
    limit ${page.limit} offset ${page.offset}
  `);
  const rows = result.rows;
  if (rows.length > 0) return { rows: rows.map(toItem), total: rows[0]!.total };
  if (page.offset === 0) return { rows: [], total: 0 };
  // Past the last page the window has no row to report the total on; count once.
  const counted = await db.execute<{ total: number }>(sql`
    select (
      (select count(*) from sends where site_id = ${siteId} and contact_id = ${contactId})
      + (select count(*) from email_events where site_id = ${siteId} and contact_id = ${contactId})
      + (select count(*) from contact_events where site_id = ${siteId} and contact_id = ${contactId})
      + (select count(*) from enrollments where site_id = ${siteId} and contact_id = ${contactId})
      + (select count(*) from enrollments where site_id = ${siteId} and contact_id = ${contactId} and status <> 'active' and completed_at is not null)
    )::int as total
  `);
  return { rows: [], total: counted.rows[0]?.total ?? 0 };
}
