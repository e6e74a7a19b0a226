import { and, asc, eq, inArray, isNotNull, isNull, lt, notInArray, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../client.js';
import { contacts, enrollmentJobs, enrollments, enrollmentOutbox } from '../schema.js';
import { addJobTallies, completeFinishedJobs, type JobTally } from './enrollment-jobs.js';
import { insertEnrollments, planEnrollment } from './enrollments.js';
import { getSequenceRow } from './sequences.js';

/** An enrollment made from the outbox whose workflow is still to be started. */
export interface StagedStart {
  pendingId: number;
  enrollmentId: number;
  workflowId: string;
  siteId: number;
  sequenceId: number;
  contactId: number;
  contactEmail: string;
  /** Still `active`: otherwise the journey ended before it started (unenrolled) and nothing is started. */
  active: boolean;
  /** The bulk enrollment that staged it, if any. */
  jobId: number | null;
}

/**
 * Turns up to `limit` staged rows (oldest first; only those of `contactIds` when given) into
 * enrollment rows, in one transaction: each row becomes its enrollment (`enrollmentId` set) or, when
 * the contact is not to be enrolled (already active, enrolled before, unsubscribed, suppressed, the
 * sequence no longer active), is deleted. The outcomes of bulk-enrollment rows are added to their
 * jobs' counters in the same transaction, and jobs left with no row are marked completed. Rows
 * another drain holds are skipped, not waited for. Answers how many rows were claimed and the starts to make.
 */
export async function enrollStagedTriggers(
  db: Db,
  opts: { limit: number; contactIds?: readonly number[] },
): Promise<{ claimed: number; starts: StagedStart[] }> {
  return db.transaction(async (tx) => {
    const claimed = await tx
      .select({
        id: enrollmentOutbox.id,
        siteId: enrollmentOutbox.siteId,
        sequenceId: enrollmentOutbox.sequenceId,
        contactId: enrollmentOutbox.contactId,
        jobId: enrollmentOutbox.jobId,
      })
      .from(enrollmentOutbox)
      .where(
        and(
          isNull(enrollmentOutbox.enrollmentId),
          opts.contactIds ? inArray(enrollmentOutbox.contactId, [...opts.contactIds]) : undefined,
        ),
      )
      .orderBy(asc(enrollmentOutbox.id))
      .limit(opts.limit)
      .for('update', { skipLocked: true });
    if (!claimed.length) return { claimed: 0, starts: [] };

    const bySequence = new Map<number, typeof claimed>();
    for (const row of claimed) {
      const group = bySequence.get(row.sequenceId);
      if (group) group.push(row);
      else bySequence.set(row.sequenceId, [row]);
    }
    const starts: StagedStart[] = [];
    const tallies = new Map<number, JobTally>();
    const tally = (jobId: number | null, outcome: keyof JobTally) => {
      if (jobId === null) return;
      const t = tallies.get(jobId) ?? { enrolled: 0, alreadyActive: 0, alreadyEnrolled: 0, skipped: 0 };
      t[outcome] += 1;
      tallies.set(jobId, t);
    };
    for (const [sequenceId, rows] of bySequence) {
      const siteId = rows[0]!.siteId;
      const sequence = await getSequenceRow(tx, siteId, sequenceId);
      const ids = rows.map((r) => r.id);
      if (!sequence || sequence.status !== 'active') {
        for (const row of rows) tally(row.jobId, 'skipped');
        await tx.delete(enrollmentOutbox).where(inArray(enrollmentOutbox.id, ids));
        continue;
      }
      const plan = await planEnrollment(tx, siteId, sequence, rows.map((r) => r.contactId));
      const emailOf = new Map(plan.eligible.map((e) => [e.contactId, e.email]));
      const inserted = await insertEnrollments(tx, siteId, sequenceId, plan.eligible);
      const enrollmentOf = new Map(inserted.map((e) => [e.contactId, e]));
      const alreadyEnrolled = new Set(plan.alreadyEnrolled);
      const setAside = new Set([...plan.notFound, ...plan.skipped.map((k) => k.contactId)]);
      const enrolledPending: { id: number; enrollmentId: number }[] = [];
      for (const row of rows) {
        const enrollment = enrollmentOf.get(row.contactId);
        if (!enrollment) {
          // Already active includes a contact a concurrent request enrolled first (eligible, not inserted).
          tally(row.jobId, alreadyEnrolled.has(row.contactId) ? 'alreadyEnrolled' : setAside.has(row.contactId) ? 'skipped' : 'alreadyActive');
          continue;
        }
        tally(row.jobId, 'enrolled');
        // A contact staged twice for one sequence (added to its list, removed, added again) has one
        // enrollment; both rows point at it and the second start finds the workflow already there.
        enrolledPending.push({ id: row.id, enrollmentId: enrollment.id });
        starts.push({
          pendingId: row.id,
          enrollmentId: enrollment.id,
          workflowId: enrollment.workflowId,
          siteId,
          sequenceId,
          contactId: row.contactId,
          contactEmail: emailOf.get(row.contactId)!,
          active: true,
          jobId: row.jobId,
        });
      }
      if (enrolledPending.length) {
        const list = (values: number[]) => sql.join(values.map((v) => sql`${v}`), sql`, `);
        await tx.execute(sql`
          update ${enrollmentOutbox} set enrollment_id = v.enrollment_id
          from unnest(array[${list(enrolledPending.map((p) => p.id))}]::bigint[], array[${list(enrolledPending.map((p) => p.enrollmentId))}]::int[])
            as v(id, enrollment_id)
          where ${enrollmentOutbox}.id = v.id`);
      }
      await tx
        .delete(enrollmentOutbox)
        .where(and(inArray(enrollmentOutbox.id, ids), enrolledPending.length ? notInArray(enrollmentOutbox.id, enrolledPending.map((p) => p.id)) : undefined));
    }
    await addJobTallies(tx, tallies);
    await completeFinishedJobs(tx, [...tallies.keys()]);
    return { claimed: claimed.length, starts };
  });
}

/**
 * Enrollments in the outbox whose workflow has not been confirmed started, enrolled at least
 * `olderThanMs` ago: the drain or request that made them was cut short (process killed, Temporal down).
 */
export async function strandedJourneyStarts(db: Db, opts: { olderThanMs: number; limit: number }): Promise<StagedStart[]> {
  return db
    .select({
      pendingId: enrollmentOutbox.id,
      enrollmentId: enrollments.id,
      workflowId: enrollments.workflowId,
      siteId: enrollments.siteId,
      sequenceId: enrollments.sequenceId,
      contactId: enrollments.contactId,
      contactEmail: contacts.email,
      active: sql<boolean>`${enrollments.status} = 'active'`,
      jobId: enrollmentOutbox.jobId,
    })
    .from(enrollmentOutbox)
    .innerJoin(enrollments, eq(enrollments.id, enrollmentOutbox.enrollmentId))
    .innerJoin(contacts, eq(contacts.id, enrollments.contactId))
    .where(
      and(
        isNotNull(enrollmentOutbox.enrollmentId),
        lt(enrollments.enrolledAt, sql`now() - make_interval(secs => ${opts.olderThanMs / 1000})`),
      ),
    )
    .orderBy(asc(enrollmentOutbox.id))
    .limit(opts.limit);
}

/**
 * Forgets outbox rows whose enrollment's workflow is known to be started (or not needed), counts the
 * started ones of bulk enrollments on their jobs, and marks done the jobs left with no row.
 */
export async function settleOutboxRows(db: Db, settled: readonly Pick<StagedStart, 'pendingId' | 'jobId' | 'active'>[]): Promise<void> {
  if (!settled.length) return;
  const active = new Set(settled.filter((s) => s.active).map((s) => s.pendingId));
  await db.transaction(async (tx) => {
    // Counted from the rows actually deleted, so a row two drains settle is counted once.
    const gone = await tx
      .delete(enrollmentOutbox)
      .where(inArray(enrollmentOutbox.id, settled.map((s) => s.pendingId)))
      .returning({ id: enrollmentOutbox.id, jobId: enrollmentOutbox.jobId });
    const started = new Map<number, number>();
    for (const row of gone) if (row.jobId !== null && active.has(row.id)) started.set(row.jobId, (started.get(row.jobId) ?? 0) + 1);
    for (const [jobId, n] of started) {
      await tx.update(enrollmentJobs).set({ started: sql`${enrollmentJobs.started} + ${n}` }).where(eq(enrollmentJobs.id, jobId));
    }
    await completeFinishedJobs(tx, settled.flatMap((s) => (s.jobId === null ? [] : [s.jobId])));
  });
}

/**
 * Records, in the transaction that inserted them, that these enrollments' workflows are still to be
 * started (`POST /sequences/:id/enroll`): if the process dies before starting them, the relay does.
 */
export async function stageEnrollmentStarts(
  db: DbOrTx,
  rows: readonly { siteId: number; sequenceId: number; contactId: number; enrollmentId: number }[],
): Promise<void> {
  if (rows.length) await db.insert(enrollmentOutbox).values(rows.map((r) => ({ ...r, source: 'api' })));
}

/** Forgets the staged starts of these enrollments: their workflows started, or they were marked failed. */
export async function settleEnrollmentStarts(db: DbOrTx, enrollmentIds: readonly number[]): Promise<void> {
  if (enrollmentIds.length) await db.delete(enrollmentOutbox).where(inArray(enrollmentOutbox.enrollmentId, [...enrollmentIds]));
}
