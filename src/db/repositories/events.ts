import { and, asc, count, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import type { EmailEventType } from '../../domain/email-events.js';
import type { DbOrTx } from '../client.js';
import { emailEvents, sends, type sendKind } from '../schema.js';

/**
 * Reads over the delivery feedback: the events API, a send's events and a contact's activity
 * timeline. Inserts belong to the email-events service (one writer, which also applies the effects).
 */

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
