import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Db } from '../db/client.js';
import { enrollStagedTriggers, settleOutboxRows, strandedJourneyStarts, type StagedStart } from '../db/repositories/enrollment-outbox.js';
import type { Logger } from '../logger.js';
import { mapLimit } from '../concurrency.js';
import { startEnrollmentWorkflow } from './enrollment.js';

/**
 * Journeys go through an outbox (`enrollment_outbox`). For list_add and tag_add triggers PostgreSQL
 * stages one row per contact and triggered sequence in the transaction that adds the membership
 * (migration 0006); this module drains them: each row becomes an enrollment (one transaction), then
 * its workflow is started and the row deleted. A request drains its own contacts' rows right after
 * commit, so a journey starts at once; the `enrollment-outbox` workflow drains the rest (CSV imports,
 * rows a request could not drain because Temporal was down) every few seconds, and starts journeys
 * whose start was cut short by a crash, including those of `POST /sequences/:id/enroll`.
 */
export interface EnrollmentOutboxDeps {
  db: Db;
  temporal: Client;
  logger?: Logger;
  /** The client shares a worker's connection in this process: ask for eager starts (the relay in a worker). */
  eagerStart?: boolean;
}

export interface DrainResult {
  /** Staged rows taken in this drain. */
  claimed: number;
  /** Journeys whose workflow was started (or found already started). */
  started: number;
  /** Journeys that ended before their workflow could start (unenrolled): nothing to start. */
  ended: number;
  /** Starts that failed (Temporal unreachable); their rows wait for the next drain. */
  failedStarts: number;
  /** True when a batch was full and every start succeeded: call again without waiting. */
  more: boolean;
}

/** Staged rows per transaction: one planEnrollment and one INSERT per sequence in it. */
export const DRAIN_BATCH = 500;
/** Workflow starts in flight at once. */
const START_CONCURRENCY = 16;

/**
 * Starts a staged enrollment's workflow. Its id is used once ever (`run` is in it), so an id that
 * exists (running, or even finished) means this journey was started already: never start it twice.
 */
async function startStaged(temporal: Client, s: StagedStart, eagerStart: boolean): Promise<void> {
  try {
    await startEnrollmentWorkflow(
      temporal,
      { enrollmentId: s.enrollmentId, siteId: s.siteId, sequenceId: s.sequenceId, contactId: s.contactId, contactEmail: s.contactEmail },
      s.workflowId,
      { reusePolicy: 'REJECT_DUPLICATE', eagerStart },
    );
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/**
 * One drain: enrolls up to `limit` staged rows (only those of `contactIds` when given), starts their
 * workflows, and, when `strandedAfterMs` is given, also starts the enrollments of earlier drains that
 * were cut short at least that long ago. Started rows are deleted; rows whose start failed stay
 * for the next drain. Database errors propagate; start failures are counted, not thrown.
 */
export async function drainEnrollmentOutbox(
  deps: EnrollmentOutboxDeps,
  opts: { limit?: number; contactIds?: readonly number[]; strandedAfterMs?: number } = {},
): Promise<DrainResult> {
  const limit = opts.limit ?? DRAIN_BATCH;
  const staged = await enrollStagedTriggers(deps.db, { limit, contactIds: opts.contactIds });
  const stranded = opts.strandedAfterMs === undefined ? [] : await strandedJourneyStarts(deps.db, { olderThanMs: opts.strandedAfterMs, limit });
  const fresh = new Set(staged.starts.map((s) => s.pendingId));
  const starts = [...staged.starts, ...stranded.filter((s) => !fresh.has(s.pendingId))];

  // After one failed start the rest are left for a later drain: with Temporal down, each would wait
  // out its own deadline and keep a request (or the relay's activity) busy for minutes.
  let unreachable = false;
  const outcomes = await mapLimit(starts, START_CONCURRENCY, async (s) => {
    // A journey ended before its workflow started (unenrolled) has nothing left to start.
    if (!s.active) return { s, ok: true as const, started: false };
    if (unreachable) return { s, ok: false as const, err: undefined };
    try {
      await startStaged(deps.temporal, s, deps.eagerStart ?? false);
      return { s, ok: true as const, started: true };
    } catch (err) {
      unreachable = true;
      return { s, ok: false as const, err };
    }
  });
  await settleOutboxRows(deps.db, outcomes.filter((o) => o.ok).map((o) => o.s));
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length) {
    deps.logger?.warn(
      { err: failed.find((o) => o.err)?.err, enrollmentIds: failed.map((o) => o.s.enrollmentId) },
      'could not start staged journeys; the enrollment-outbox relay starts them once Temporal answers',
    );
  }
  return {
    claimed: staged.claimed,
    started: outcomes.filter((o) => o.ok && o.started).length,
    ended: outcomes.filter((o) => o.ok && !o.started).length,
    failedStarts: failed.length,
    more: failed.length === 0 && (staged.claimed === limit || stranded.length === limit),
  };
}

/**
 * After a request committed a membership change: starts the journeys its triggers staged for these
 * contacts, so they begin at once. Never fails the request (the change is committed, and the rows
 * are durable): anything left is drained by the relay.
 */
export async function startStagedJourneysOf(deps: EnrollmentOutboxDeps, contactIds: readonly number[]): Promise<void> {
  if (!contactIds.length) return;
  try {
    for (let i = 0; i < contactIds.length; i += DRAIN_BATCH) {
      const ids = contactIds.slice(i, i + DRAIN_BATCH);
      // Rows per contact are few (one per triggered sequence): loop while a batch comes back full.
      while ((await drainEnrollmentOutbox(deps, { contactIds: ids })).more);
    }
  } catch (err) {
    deps.logger?.warn({ err, contactIds: contactIds.length }, 'could not start the journeys these contacts triggered now; the enrollment-outbox relay will');
  }
}
