import { and, asc, count, desc, eq, gt, inArray, max, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { contactTags, contacts, enrollmentSteps, enrollments, listMembers, sequenceSteps, type enrollmentStatus } from '../schema.js';
import { workflowIds } from '../../domain/ids.js';
import { suppressedEmails } from './suppressions.js';

export type EnrollmentRow = typeof enrollments.$inferSelect;
export type EnrollmentStatus = (typeof enrollmentStatus.enumValues)[number];

/** Prefix of `exit_reason` for a row whose workflow never started; such a row never counts as "enrolled before". */
export const START_FAILED = 'workflow_start_failed';

export type SkipReason = 'unsubscribed' | 'bounced' | 'complained' | 'suppressed';

/** How the contacts of one enrollment request divide before anything is written. */
export interface EnrollmentPlan {
  /** Contacts to enroll now, with the run number of their new enrollment. */
  eligible: { contactId: number; email: string; run: number }[];
  notFound: number[];
  alreadyActive: number[];
  /** Enrolled before (completed, exited or unenrolled) and the sequence does not allow re-enrollment. */
  alreadyEnrolled: number[];
  skipped: { contactId: number; reason: SkipReason }[];
}

/**
 * Sorts contact ids for enrollment into a sequence: unknown (or another site's) contacts, contacts that
 * are not subscribed or are suppressed, contacts with an active enrollment, contacts enrolled before
 * when re-enrollment is off; the rest are eligible with their next run number.
 */
export async function planEnrollment(
  db: DbOrTx,
  siteId: number,
  sequence: { id: number; allowReenrollment: boolean },
  contactIds: readonly number[],
): Promise<EnrollmentPlan> {
  const ids = [...new Set(contactIds)];
  const plan: EnrollmentPlan = { eligible: [], notFound: [], alreadyActive: [], alreadyEnrolled: [], skipped: [] };
  if (!ids.length) return plan;
  const [found, previous] = await Promise.all([
    db
      .select({ id: contacts.id, email: contacts.email, status: contacts.status })
      .from(contacts)
      .where(and(eq(contacts.siteId, siteId), inArray(contacts.id, ids))),
    db
      .select({
        contactId: enrollments.contactId,
        maxRun: sql<number>`max(${enrollments.run})::int`,
        active: sql<boolean>`bool_or(${enrollments.status} = 'active')`,
        ran: sql<boolean>`bool_or(${enrollments.status} <> 'active' and coalesce(${enrollments.exitReason}, '') not like ${START_FAILED + '%'})`,
      })
      .from(enrollments)
      .where(and(eq(enrollments.sequenceId, sequence.id), inArray(enrollments.contactId, ids)))
      .groupBy(enrollments.contactId),
  ]);
  const byId = new Map(found.map((c) => [c.id, c]));
  const history = new Map(previous.map((p) => [p.contactId, p]));
  const suppressed = await suppressedEmails(db, siteId, found.map((c) => c.email));
  for (const id of ids) {
    const contact = byId.get(id);
    const past = history.get(id);
    if (!contact) plan.notFound.push(id);
    else if (past?.active) plan.alreadyActive.push(id);
    else if (contact.status !== 'subscribed') plan.skipped.push({ contactId: id, reason: contact.status });
    else if (suppressed.has(contact.email)) plan.skipped.push({ contactId: id, reason: 'suppressed' });
    else if (past?.ran && !sequence.allowReenrollment) plan.alreadyEnrolled.push(id);
    else plan.eligible.push({ contactId: id, email: contact.email, run: (past?.maxRun ?? 0) + 1 });
  }
  // Inserted in one order everywhere: two transactions enrolling overlapping contacts then wait on
  // each other's unique-index entries in the same order, which cannot deadlock.
  plan.eligible.sort((a, b) => a.contactId - b.contactId);
  return plan;
}

/**
 * Inserts an active enrollment per contact of a sequence (a plan's eligible contacts), each under its
 * run's workflow id. A row that collides with another active enrollment of the same contact (the
 * partial unique index; a concurrent request won) or the same run is left out of the answer.
 */
export async function insertEnrollments(
  db: DbOrTx,
  siteId: number,
  sequenceId: number,
  rows: readonly { contactId: number; run: number }[],
): Promise<{ id: number; contactId: number; run: number; workflowId: string }[]> {
  if (!rows.length) return [];
  return db
    .insert(enrollments)
    .values(
      rows.map((r) => ({
        siteId,
        sequenceId,
        contactId: r.contactId,
        run: r.run,
        workflowId: workflowIds.enrollment(sequenceId, r.contactId, r.run),
        status: 'active' as const,
      })),
    )
    .onConflictDoNothing()
    .returning({ id: enrollments.id, contactId: enrollments.contactId, run: enrollments.run, workflowId: enrollments.workflowId });
}

/** Marks rows whose workflow could not be started, freeing the contact for a retried request. */
export async function markStartFailed(db: DbOrTx, ids: readonly number[], message: string): Promise<void> {
  if (!ids.length) return;
  await db
    .update(enrollments)
    .set({ status: 'failed', exitReason: `${START_FAILED}: ${message}`.slice(0, 500), completedAt: new Date(), updatedAt: new Date() })
    .where(and(inArray(enrollments.id, [...ids]), eq(enrollments.status, 'active')));
}

export async function getEnrollmentRow(db: DbOrTx, siteId: number, id: number): Promise<EnrollmentRow | undefined> {
  const [row] = await db.select().from(enrollments).where(and(eq(enrollments.siteId, siteId), eq(enrollments.id, id)));
  return row;
}

export async function findActiveEnrollment(db: DbOrTx, siteId: number, sequenceId: number, contactId: number): Promise<EnrollmentRow | undefined> {
  const [row] = await db
    .select()
    .from(enrollments)
    .where(and(eq(enrollments.siteId, siteId), eq(enrollments.sequenceId, sequenceId), eq(enrollments.contactId, contactId), eq(enrollments.status, 'active')));
  return row;
}

/** Ends an active enrollment in the database (the workflow was told first). */
export async function markEnrollmentEnded(db: DbOrTx, id: number, status: Exclude<EnrollmentStatus, 'active'>, reason: string): Promise<void> {
  await db
    .update(enrollments)
    .set({ status, exitReason: reason, completedAt: new Date(), nextStepAt: null, updatedAt: new Date() })
    .where(and(eq(enrollments.id, id), eq(enrollments.status, 'active')));
}

export interface EnrollmentHistoryEntry {
  stepId: number;
  outcome: string;
  sendId: number | null;
  at: Date;
}

/** The recorded steps of an enrollment, oldest first. */
export async function enrollmentHistory(db: DbOrTx, enrollmentId: number): Promise<EnrollmentHistoryEntry[]> {
  return db
    .select({ stepId: enrollmentSteps.stepId, outcome: enrollmentSteps.outcome, sendId: enrollmentSteps.sendId, at: enrollmentSteps.at })
    .from(enrollmentSteps)
    .where(eq(enrollmentSteps.enrollmentId, enrollmentId))
    .orderBy(asc(enrollmentSteps.seq));
}

export interface EnrollmentListItem {
  id: number;
  sequenceId: number;
  contactId: number;
  contactEmail: string;
  run: number;
  workflowId: string;
  status: EnrollmentStatus;
  exitReason: string | null;
  currentStepId: number | null;
  nextStepAt: Date | null;
  enrolledAt: Date;
  completedAt: Date | null;
}

const listColumns = {
  id: enrollments.id,
  sequenceId: enrollments.sequenceId,
  contactId: enrollments.contactId,
  contactEmail: contacts.email,
  run: enrollments.run,
  workflowId: enrollments.workflowId,
  status: enrollments.status,
  exitReason: enrollments.exitReason,
  currentStepId: enrollments.currentStepId,
  nextStepAt: enrollments.nextStepAt,
  enrolledAt: enrollments.enrolledAt,
  completedAt: enrollments.completedAt,
};

export async function listEnrollments(
  db: DbOrTx,
  siteId: number,
  sequenceId: number,
  filters: { status?: EnrollmentStatus; contactId?: number },
  page: { limit: number; offset: number },
): Promise<{ rows: EnrollmentListItem[]; total: number }> {
  const where = and(
    eq(enrollments.siteId, siteId),
    eq(enrollments.sequenceId, sequenceId),
    filters.status ? eq(enrollments.status, filters.status) : undefined,
    filters.contactId ? eq(enrollments.contactId, filters.contactId) : undefined,
  );
  const [rows, [totals]] = await Promise.all([
    db
      .select(listColumns)
      .from(enrollments)
      .innerJoin(contacts, eq(contacts.id, enrollments.contactId))
      .where(where)
      .orderBy(desc(enrollments.id))
      .limit(page.limit)
      .offset(page.offset),
    db.select({ total: count() }).from(enrollments).where(where),
  ]);
  return { rows, total: totals?.total ?? 0 };
}

export async function getEnrollmentItem(db: DbOrTx, siteId: number, id: number): Promise<EnrollmentListItem | undefined> {
  const [row] = await db
    .select(listColumns)
    .from(enrollments)
    .innerJoin(contacts, eq(contacts.id, enrollments.contactId))
    .where(and(eq(enrollments.siteId, siteId), eq(enrollments.id, id)));
  return row;
}

/** Keyset page of a sequence's active enrollments, to fan a signal out without loading every id. */
export async function activeEnrollmentPage(db: DbOrTx, sequenceId: number, afterId: number, limit: number): Promise<{ id: number; workflowId: string }[]> {
  return db
    .select({ id: enrollments.id, workflowId: enrollments.workflowId })
    .from(enrollments)
    .where(and(eq(enrollments.sequenceId, sequenceId), eq(enrollments.status, 'active'), gt(enrollments.id, afterId)))
    .orderBy(asc(enrollments.id))
    .limit(limit);
}

/** The active enrollments of one contact (a handful at most: one per sequence). */
export async function activeEnrollmentsOfContact(db: DbOrTx, siteId: number, contactId: number): Promise<{ id: number; sequenceId: number; workflowId: string }[]> {
  return db
    .select({ id: enrollments.id, sequenceId: enrollments.sequenceId, workflowId: enrollments.workflowId })
    .from(enrollments)
    .where(and(eq(enrollments.siteId, siteId), eq(enrollments.contactId, contactId), eq(enrollments.status, 'active')))
    .orderBy(asc(enrollments.id));
}

/** Where bulk enrollment reads its contacts: a list, a tag, or a segment's `select c.id …` query. */
export type ContactSource = { listId: number } | { tagId: number } | { segmentSql: SQL };

/** The ids of a source's contacts (column `id`), always within the site: one query to select or insert from. */
export function sourceContactIdsSql(siteId: number, source: ContactSource): SQL {
  if ('listId' in source) {
    return sql`select m.contact_id as id from ${listMembers} m join ${contacts} c on c.id = m.contact_id where m.list_id = ${source.listId} and c.site_id = ${siteId}`;
  }
  if ('tagId' in source) {
    return sql`select t.contact_id as id from ${contactTags} t join ${contacts} c on c.id = t.contact_id where t.tag_id = ${source.tagId} and c.site_id = ${siteId}`;
  }
  return source.segmentSql;
}

export interface StepStats {
  stepId: number;
  position: number;
  type: string;
  subject: string | null;
  /** Enrollments that reached this step (recorded an outcome at it). */
  entered: number;
  sent: number;
  opened: number;
  clicked: number;
  /** Active enrollments whose last step is this one (waiting for the next). */
  active: number;
  /** Enrollments that ended early (exited, unenrolled or failed) after this step. */
  exited: number;
}

/**
 * Per live step: enrollments that reached it, emails sent (accepted by the provider, not queued or
 * failed), distinct sends opened and clicked, active enrollments waiting after it, and enrollments
 * that left the sequence early with it as their last step. One statement, grouped per step.
 */
export async function sequenceStepStats(db: DbOrTx, siteId: number, sequenceId: number): Promise<StepStats[]> {
  const result = await db.execute<{
    step_id: number;
    type: string;
    subject: string | null;
    entered: number;
    sent: number;
    opened: number;
    clicked: number;
    active: number;
    exited: number;
  }>(sql`
    with reached as (
      select es.step_id, count(distinct es.enrollment_id)::int as n
      from enrollment_steps es join enrollments en on en.id = es.enrollment_id
      where en.site_id = ${siteId} and en.sequence_id = ${sequenceId}
      group by es.step_id
    ), at_step as (
      select en.current_step_id as step_id,
        count(*) filter (where en.status = 'active')::int as active,
        count(*) filter (where en.status in ('exited', 'unenrolled', 'failed'))::int as exited
      from enrollments en
      where en.site_id = ${siteId} and en.sequence_id = ${sequenceId} and en.current_step_id is not null
      group by en.current_step_id
    ), sent as (
      select s.step_id, count(*)::int as n from sends s
      where s.site_id = ${siteId} and s.kind = 'sequence' and s.sequence_id = ${sequenceId}
        and s.status not in ('queued', 'failed', 'suppressed')
      group by s.step_id
    ), engaged as (
      select e.step_id,
        count(distinct e.send_id) filter (where e.type = 'opened')::int as opened,
        count(distinct e.send_id) filter (where e.type = 'clicked')::int as clicked
      from email_events e
      where e.site_id = ${siteId} and e.send_id is not null and e.type in ('opened', 'clicked')
        and e.step_id in (select id from ${sequenceSteps} where sequence_id = ${sequenceId})
      group by e.step_id
    )
    select st.id as step_id, st.type::text as type, st.subject,
      coalesce(r.n, 0) as entered, coalesce(se.n, 0) as sent,
      coalesce(g.opened, 0) as opened, coalesce(g.clicked, 0) as clicked,
      coalesce(a.active, 0) as active, coalesce(a.exited, 0) as exited
    from ${sequenceSteps} st
    left join reached r on r.step_id = st.id
    left join at_step a on a.step_id = st.id
    left join sent se on se.step_id = st.id
    left join engaged g on g.step_id = st.id
    where st.sequence_id = ${sequenceId} and st.site_id = ${siteId} and st.deleted_at is null
    order by st.position, st.id`);
  return result.rows.map((r, i) => ({
    stepId: Number(r.step_id),
    position: i + 1,
    type: r.type,
    subject: r.subject,
    entered: Number(r.entered),
    sent: Number(r.sent),
    opened: Number(r.opened),
    clicked: Number(r.clicked),
    active: Number(r.active),
    exited: Number(r.exited),
  }));
}

/**
 * When the contact's last sequence email (any sequence) went out, in workflow time (enrollment_steps.at),
 * so the frequency cap holds under the time-skipping test server too. Null when none did.
 */
export async function lastSequenceEmailAt(db: DbOrTx, contactId: number): Promise<Date | null> {
  const [last] = await db
    .select({ at: max(enrollmentSteps.at) })
    .from(enrollmentSteps)
    .innerJoin(enrollments, eq(enrollments.id, enrollmentSteps.enrollmentId))
    .where(and(eq(enrollments.contactId, contactId), eq(enrollmentSteps.outcome, 'sent')));
  return last?.at ? new Date(last.at) : null;
}

/**
 * Records one step's outcome (keyed by the journey's step counter, so a retry records once) and
 * mirrors the enrollment's position onto its row. Guarded by EXISTS: the row is gone when its contact
 * or sequence was deleted, and a foreign-key error here would be retried forever; the journey then
 * ends at its next check instead.
 */
export async function recordEnrollmentStep(
  db: DbOrTx,
  step: { enrollmentId: number; seq: number; stepId: number; outcome: string; sendId: number | null; at: Date },
): Promise<void> {
  await db.execute(sql`
    insert into enrollment_steps (enrollment_id, seq, step_id, outcome, send_id, at)
    select ${step.enrollmentId}, ${step.seq}, ${step.stepId}, ${step.outcome}, s.id, ${step.at.toISOString()}::timestamptz
    from enrollments e left join sends s on s.id = ${step.sendId}::int
    where e.id = ${step.enrollmentId}
    on conflict do nothing
  `);
  await db.update(enrollments).set({ currentStepId: step.stepId, updatedAt: new Date() }).where(eq(enrollments.id, step.enrollmentId));
}

/**
 * Mirrors where a journey is headed (and, once over, how it ended) onto its row for the API. A finished
 * row never goes back to active (a late retry of an older mirror write).
 */
export async function mirrorEnrollment(
  db: DbOrTx,
  input: { enrollmentId: number; currentStepId: number | null; nextStepAt: Date | null; status?: EnrollmentStatus; exitReason?: string | null; completedAt?: Date },
): Promise<void> {
  const finished = input.status !== undefined && input.status !== 'active';
  await db
    .update(enrollments)
    .set({
      currentStepId: input.currentStepId,
      nextStepAt: input.nextStepAt,
      ...(input.status ? { status: input.status } : {}),
      ...(input.exitReason !== undefined ? { exitReason: input.exitReason } : {}),
      ...(finished ? { completedAt: input.completedAt ?? new Date() } : {}),
      updatedAt: new Date(),
    })
    .where(and(eq(enrollments.id, input.enrollmentId), finished ? sql`true` : eq(enrollments.status, 'active')));
}
