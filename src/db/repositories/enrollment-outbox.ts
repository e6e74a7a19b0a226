import { and, asc, eq, inArray, isNotNull, isNull, lt, notInArray, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../client.js';
import { contacts, enrollments, enrollmentOutbox } from '../schema.js';
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
}

/**
 * Turns up to `limit` staged triggers (oldest first; only those of `contactIds` when given) into
 * enrollment rows, in one transaction: each row becomes its enrollment (`enrollmentId` set) or, when
 * the contact is not to be enrolled (already active, enrolled before, unsubscribed, suppressed, the
 * sequence no longer active), is deleted. Rows another drain holds are skipped, not waited for.
 * Answers how many rows were claimed and the starts to make.
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
    for (const [sequenceId, rows] of bySequence) {
      const siteId = rows[0]!.siteId;
      const sequence = await getSequenceRow(tx, siteId, sequenceId);
      const ids = rows.map((r) => r.id);
      if (!sequence || sequence.status !== 'active') {
        await tx.delete(enrollmentOutbox).where(inArray(enrollmentOutbox.id, ids));
        continue;
      }
      const plan = await planEnrollment(tx, siteId, sequence, rows.map((r) => r.contactId));
      const emailOf = new Map(plan.eligible.map((e) => [e.contactId, e.email]));
      const inserted = await insertEnrollments(tx, siteId, sequenceId, plan.eligible);
      const enrollmentOf = new Map(inserted.map((e) => [e.contactId, e]));
      const enrolledPending: { id: number; enrollmentId: number }[] = [];
      for (const row of rows) {
        const enrollment = enrollmentOf.get(row.contactId);
        if (!enrollment) continue;
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

/** Forgets outbox rows whose enrollment's workflow is known to be started (or not needed). */
export async function settleOutboxRows(db: Db, pendingIds: readonly number[]): Promise<void> {
  if (pendingIds.length) await db.delete(enrollmentOutbox).where(inArray(enrollmentOutbox.id, [...pendingIds]));
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
