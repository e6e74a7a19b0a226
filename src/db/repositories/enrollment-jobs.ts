import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../client.js';
import { enrollmentJobs, enrollmentOutbox } from '../schema.js';
import { sourceContactIdsSql, type ContactSource } from './enrollments.js';

export type EnrollmentJobRow = typeof enrollmentJobs.$inferSelect;
export type EnrollmentJobSourceKind = 'list' | 'tag' | 'segment';

/** How the staged rows of one drain came out, per job: added to the job's counters. */
export interface JobTally {
  enrolled: number;
  alreadyActive: number;
  alreadyEnrolled: number;
  skipped: number;
}

/**
 * Creates a bulk enrollment and stages one outbox row per contact of the source, in one transaction
 * and one INSERT … SELECT (no row per contact in the application): the request answers as soon as it
 * commits, and the enrollment-outbox relay takes it from there. A source with no contacts is a job
 * completed at once.
 */
export async function createEnrollmentJob(
  db: Db,
  input: { siteId: number; sequenceId: number; sourceKind: EnrollmentJobSourceKind; sourceId: number; source: ContactSource },
): Promise<EnrollmentJobRow> {
  return db.transaction(async (tx) => {
    const [job] = await tx
      .insert(enrollmentJobs)
      .values({ siteId: input.siteId, sequenceId: input.sequenceId, sourceKind: input.sourceKind, sourceId: input.sourceId })
      .returning({ id: enrollmentJobs.id });
    const staged = await tx.execute<{ total: number }>(sql`
      with staged as (
        insert into ${enrollmentOutbox} (site_id, sequence_id, contact_id, source, job_id)
        select ${input.siteId}, ${input.sequenceId}, m.id, 'job', ${job!.id}
        from (select distinct s.id from (${sourceContactIdsSql(input.siteId, input.source)}) s) m
        order by m.id
        returning 1
      )
      select count(*)::int as total from staged`);
    const total = staged.rows[0]?.total ?? 0;
    const [row] = await tx
      .update(enrollmentJobs)
      .set({ total, ...(total === 0 ? { completedAt: sql`now()` } : {}) })
      .where(eq(enrollmentJobs.id, job!.id))
      .returning();
    return row!;
  });
}

export async function getEnrollmentJob(db: DbOrTx, siteId: number, id: number): Promise<EnrollmentJobRow | undefined> {
  const [row] = await db
    .select()
    .from(enrollmentJobs)
    .where(and(eq(enrollmentJobs.siteId, siteId), eq(enrollmentJobs.id, id)));
  return row;
}

/** Adds one drain's outcomes to the jobs' counters (one statement for every job of the drain). */
export async function addJobTallies(db: DbOrTx, tallies: ReadonlyMap<number, JobTally>): Promise<void> {
  if (!tallies.size) return;
  const rows = [...tallies].map(([jobId, t]) => sql`(${jobId}::int, ${t.enrolled}::int, ${t.alreadyActive}::int, ${t.alreadyEnrolled}::int, ${t.skipped}::int)`);
  await db.execute(sql`
    update ${enrollmentJobs} j set
      enrolled = j.enrolled + v.enrolled,
      already_active = j.already_active + v.already_active,
      already_enrolled = j.already_enrolled + v.already_enrolled,
      skipped = j.skipped + v.skipped
    from (values ${sql.join(rows, sql`, `)}) as v(job_id, enrolled, already_active, already_enrolled, skipped)
    where j.id = v.job_id`);
}

/**
 * Marks done the jobs among `jobIds` that have no staged row left (every contact enrolled and started,
 * or set aside; a contact deleted meanwhile takes its row with it).
 */
export async function completeFinishedJobs(db: DbOrTx, jobIds: readonly number[]): Promise<void> {
  if (!jobIds.length) return;
  await db
    .update(enrollmentJobs)
    .set({ completedAt: sql`now()` })
    .where(
      and(
        inArray(enrollmentJobs.id, [...new Set(jobIds)]),
        isNull(enrollmentJobs.completedAt),
        sql`not exists (select 1 from ${enrollmentOutbox} o where o.job_id = ${enrollmentJobs.id})`,
      ),
    );
}
