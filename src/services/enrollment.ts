import { WorkflowNotFoundError, type Client, type SignalDefinition } from '@temporalio/client';
import { AppError } from '../errors.js';
import type { Db, DbOrTx } from '../db/client.js';
import { createEnrollmentJob, type EnrollmentJobRow, type EnrollmentJobSourceKind } from '../db/repositories/enrollment-jobs.js';
import { workflowIds } from '../domain/ids.js';
import {
  activeEnrollmentPage,
  activeEnrollmentsOfContact,
  findActiveEnrollment,
  markEnrollmentEnded,
  insertEnrollments,
  markStartFailed,
  planEnrollment,
  type ContactSource,
  type SkipReason,
} from '../db/repositories/enrollments.js';
import { settleEnrollmentStarts, stageEnrollmentStarts } from '../db/repositories/enrollment-outbox.js';
import { getSequenceRow, sequencesForEvent, type SequenceRow, type SequenceStatus } from '../db/repositories/sequences.js';
import type { EnrollmentState } from '../domain/enrollment.js';
import type { Logger } from '../logger.js';
import { TASK_QUEUES } from '../temporal/task-queues.js';
import type { enrollmentWorkflow } from '../../workflows/enrollment.js';
import { drainNowSignal } from '../../workflows/enrollment-outbox.contract.js';
import {
  ENROLLMENT_WORKFLOW,
  enrollmentSearchAttributes,
  enrollmentSignals,
  stateQuery,
  type EnrollmentInput,
  type EnrollmentSignal,
  type EnrollmentSignalPayloads,
} from '../../workflows/enrollment.contract.js';
import { mapLimit } from '../concurrency.js';

export interface EnrollmentDeps {
  db: DbOrTx;
  temporal: Client;
  logger?: Logger;
}

export interface EnrollResult {
  enrolled: number[];
  alreadyActive: number[];
  notFound: number[];
  /** Enrolled before and the sequence does not allow re-enrollment. */
  alreadyEnrolled: number[];
  /** Not subscribed, or suppressed. */
  skipped: { contactId: number; reason: SkipReason }[];
}

/** Workflow starts (and signals) in flight at once per request: enough to hide round trips, few enough not to flood the frontend. */
const CONCURRENCY = 16;
/** Enrollments per page when every journey of a sequence is signalled. */
const SIGNAL_PAGE = 500;
/**
 * Deadline of one start or signal. A healthy frontend answers in milliseconds; without a deadline the
 * client keeps retrying an unreachable server for many seconds while the HTTP request hangs.
 */
export const TEMPORAL_DEADLINE_MS = 5000;

function withDeadline<T>(temporal: Client, fn: () => Promise<T>): Promise<T> {
  return temporal.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, fn);
}

/** Signals one journey; a journey that already closed has nothing left to change (false). */
export async function signalEnrollment<S extends EnrollmentSignal>(
  temporal: Client,
  workflowId: string,
  signal: S,
  payload: EnrollmentSignalPayloads[S],
): Promise<boolean> {
  try {
    const definition = enrollmentSignals[signal] as SignalDefinition<[EnrollmentSignalPayloads[S]]>;
    await withDeadline(temporal, () => temporal.workflow.getHandle(workflowId).signal(definition, payload));
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** 404 for another site's sequence; 422 unless it is active (paused and archived sequences take no one). */
async function activeSequence(db: DbOrTx, siteId: number, sequenceId: number): Promise<SequenceRow> {
  const sequence = await getSequenceRow(db, siteId, sequenceId);
  if (!sequence) throw AppError.notFound('Sequence', sequenceId);
  if (sequence.status !== 'active') {
    throw new AppError('sequence_not_active', 'unprocessable', `Sequence ${sequenceId} is ${sequence.status}; only an active sequence enrolls contacts`);
  }
  return sequence;
}

/**
 * Starts one journey. `reusePolicy` REJECT_DUPLICATE (the enrollment-outbox relay) also refuses an id whose
 * workflow already finished, for a caller that cannot tell "never started" from "started and done".
 * `eagerStart` asks the server to hand the first workflow task back with the answer, for a worker of
 * this process (the client must share that worker's connection; otherwise the server dispatches it as usual).
 */
export async function startEnrollmentWorkflow(
  temporal: Client,
  input: EnrollmentInput,
  workflowId: string,
  { reusePolicy, eagerStart = false }: { reusePolicy?: 'REJECT_DUPLICATE'; eagerStart?: boolean } = {},
): Promise<void> {
  await withDeadline(temporal, () => temporal.workflow.start<typeof enrollmentWorkflow>(ENROLLMENT_WORKFLOW, {
    workflowId,
    taskQueue: TASK_QUEUES.main,
    args: [input],
    // A retried request that finds this run's workflow already started attaches to it: never two journeys.
    workflowIdConflictPolicy: 'USE_EXISTING',
    ...(reusePolicy ? { workflowIdReusePolicy: reusePolicy } : {}),
    ...(eagerStart ? { requestEagerStart: true } : {}),
    typedSearchAttributes: enrollmentSearchAttributes(input),
  }));
}

/**
 * Enrolls contacts (at most a page, ~1,000) into a sequence: writes one active enrollment row per
 * eligible contact (the partial unique index keeps one active per sequence and contact, so a
 * concurrent request cannot double-enroll) with its staged start in the enrollment outbox, then
 * starts one workflow per row. If the process dies before a start, the outbox relay makes it.
 *
 * A row whose workflow cannot be started (within {@link TEMPORAL_DEADLINE_MS}) is marked `failed`
 * (`workflow_start_failed: …`), so no active row is left without a journey and a retried request can
 * enroll the contact again, and the error is rethrown (Temporal down → 503): retrying is the HTTP
 * client's. Rows started before the failure stay enrolled; a retry reports them as already active.
 * (list_add and tag_add triggers do not come here: see src/services/enrollment-outbox.ts.)
 */
export async function enrollContacts(
  deps: EnrollmentDeps,
  input: { siteId: number; sequenceId: number; contactIds: readonly number[]; sequence?: SequenceRow },
): Promise<EnrollResult> {
  const { db, temporal } = deps;
  const sequence = input.sequence ?? (await activeSequence(db, input.siteId, input.sequenceId));
  const plan = await planEnrollment(db, input.siteId, sequence, input.contactIds);
  const emailOf = new Map(plan.eligible.map((e) => [e.contactId, e.email]));
  // The rows and their staged starts commit together: if this process dies before the starts below,
  // the enrollment-outbox relay starts the journeys instead of leaving them active with no workflow.
  const rows = await db.transaction(async (tx) => {
    const inserted = await insertEnrollments(tx, input.siteId, sequence.id, plan.eligible);
    await stageEnrollmentStarts(tx, inserted.map((r) => ({ siteId: input.siteId, sequenceId: sequence.id, contactId: r.contactId, enrollmentId: r.id })));
    return inserted;
  });
  const inserted = new Set(rows.map((r) => r.contactId));
  // Lost the race to a concurrent request: that one enrolled the contact.
  const raced = plan.eligible.filter((e) => !inserted.has(e.contactId)).map((e) => e.contactId);

  const outcomes = await mapLimit(rows, CONCURRENCY, async (row) => {
    try {
      await startEnrollmentWorkflow(
        temporal,
        { enrollmentId: row.id, siteId: input.siteId, sequenceId: sequence.id, contactId: row.contactId, contactEmail: emailOf.get(row.contactId)! },
        row.workflowId,
      );
      return undefined;
    } catch (err) {
      return err;
    }
  });
  const failedRows = rows.filter((_, i) => outcomes[i] !== undefined);
  if (failedRows.length) {
    const error = outcomes.find((e) => e !== undefined);
    const message = error instanceof Error ? error.message : String(error);
    await markStartFailed(db, failedRows.map((r) => r.id), message);
  }
  // Started, or marked failed for the client's retry: either way nothing is left for the relay.
  await settleEnrollmentStarts(db, rows.map((r) => r.id));
  if (failedRows.length) {
    const error = outcomes.find((e) => e !== undefined);
    deps.logger?.error(
      { err: error, sequenceId: sequence.id, contactIds: failedRows.map((r) => r.contactId) },
      'enrollment workflows could not be started; their rows are marked failed',
    );
    throw error;
  }

  return {
    enrolled: rows.map((r) => r.contactId),
    alreadyActive: [...plan.alreadyActive, ...raced],
    notFound: plan.notFound,
    alreadyEnrolled: plan.alreadyEnrolled,
    skipped: plan.skipped,
  };
}

/**
 * Enrolls every member of a list, tag or segment as a job (`enrollment_jobs`): stages one outbox row
 * per contact in one INSERT … SELECT and returns at once; the enrollment-outbox relay in the workers
 * makes the enrollments and starts the journeys in batches, counting each outcome on the job. The
 * relay is woken so it starts now rather than at its next interval; if the signal cannot be sent
 * (Temporal down) the staged rows wait for it, durable. A segment is evaluated once, when the job is created.
 */
export async function startBulkEnrollment(
  deps: EnrollmentDeps & { db: Db },
  input: { siteId: number; sequenceId: number; sourceKind: EnrollmentJobSourceKind; sourceId: number; source: ContactSource },
): Promise<EnrollmentJobRow> {
  await activeSequence(deps.db, input.siteId, input.sequenceId);
  const job = await createEnrollmentJob(deps.db, input);
  if (job.completedAt === null) {
    // Not awaited: the answer never waits on Temporal (with it down, the signal would hold the request
    // for its whole deadline), and a lost signal only means the relay's next interval.
    void withDeadline(deps.temporal, () => deps.temporal.workflow.getHandle(workflowIds.enrollmentOutbox()).signal(drainNowSignal)).catch((err: unknown) =>
      deps.logger?.warn({ err, jobId: job.id }, 'could not wake the enrollment-outbox relay; it drains the job at its next interval'),
    );
  }
  return job;
}

/**
 * Signals every active enrollment of a contact (unsubscribe, bounce, contact events, …). Journeys
 * that already closed are skipped; any other failure (Temporal down) propagates. Answers how many
 * running journeys were signalled.
 */
export async function signalContactEnrollments<S extends EnrollmentSignal>(
  deps: EnrollmentDeps,
  input: { siteId: number; contactId: number; signal: S; payload: EnrollmentSignalPayloads[S] },
): Promise<number> {
  const active = await activeEnrollmentsOfContact(deps.db, input.siteId, input.contactId);
  const sent = await mapLimit(active, CONCURRENCY, (e) => signalEnrollment(deps.temporal, e.workflowId, input.signal, input.payload));
  return sent.filter(Boolean).length;
}

/**
 * Tells every active enrollment of a sequence its new status (pause holds sends, resume releases them,
 * archive ends them), paging through enrollment ids so a sequence with 100,000 journeys never loads
 * them at once.
 */
export async function signalSequenceStatus(deps: EnrollmentDeps, sequenceId: number, status: SequenceStatus): Promise<number> {
  let after = 0;
  let signalled = 0;
  for (;;) {
    const page = await activeEnrollmentPage(deps.db, sequenceId, after, SIGNAL_PAGE);
    if (!page.length) break;
    const sent = await mapLimit(page, CONCURRENCY, (e) => signalEnrollment(deps.temporal, e.workflowId, 'sequenceStatusChanged', { status }));
    signalled += sent.filter(Boolean).length;
    if (page.length < SIGNAL_PAGE) break;
    after = page[page.length - 1]!.id;
  }
  return signalled;
}

/**
 * Enrolls a contact into every active sequence triggered by the named event it just did. Errors
 * propagate: POST /contacts/:id/events answers 503 and records nothing, so the client's retry
 * redoes it. (list_add and tag_add triggers go through the outbox: src/services/enrollment-outbox.ts.)
 */
export async function enrollOnEvent(
  deps: EnrollmentDeps,
  siteId: number,
  eventName: string,
  contactId: number,
): Promise<{ sequenceId: number; enrolled: number[] }[]> {
  const out: { sequenceId: number; enrolled: number[] }[] = [];
  for (const sequenceId of await sequencesForEvent(deps.db, siteId, eventName)) {
    const sequence = await getSequenceRow(deps.db, siteId, sequenceId);
    if (!sequence || sequence.status !== 'active') continue;
    const r = await enrollContacts(deps, { siteId, sequenceId, contactIds: [contactId], sequence });
    out.push({ sequenceId, enrolled: r.enrolled });
  }
  return out;
}

/** How long reading a journey's live state may take before the database row answers instead. */
const STATE_QUERY_DEADLINE_MS = 1500;

/**
 * The live state of a running journey, or undefined when its workflow cannot answer quickly (closed,
 * no worker polling, Temporal down): the row, which the workflow's activities keep current, answers then.
 */
export async function enrollmentLiveState(temporal: Client, workflowId: string): Promise<EnrollmentState | undefined> {
  try {
    return await temporal.withDeadline(Date.now() + STATE_QUERY_DEADLINE_MS, () => temporal.workflow.getHandle(workflowId).query(stateQuery));
  } catch {
    return undefined;
  }
}

/**
 * Ends a contact's active journey in a sequence on request. The workflow is told first: if Temporal is
 * down this fails (503) with nothing changed, so a retry works. Answers the enrollment's id.
 */
export async function unenrollContact(deps: EnrollmentDeps, input: { siteId: number; sequenceId: number; contactId: number }): Promise<number> {
  const { db, temporal } = deps;
  if (!(await getSequenceRow(db, input.siteId, input.sequenceId))) throw AppError.notFound('Sequence', input.sequenceId);
  const active = await findActiveEnrollment(db, input.siteId, input.sequenceId, input.contactId);
  if (!active) {
    throw new AppError('enrollment_not_found', 'not_found', `Contact ${input.contactId} has no active enrollment in sequence ${input.sequenceId}`);
  }
  await signalEnrollment(temporal, active.workflowId, 'unenroll', { reason: 'api' });
  await markEnrollmentEnded(db, active.id, 'unenrolled', 'unenrolled');
  return active.id;
}
