import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { EnrollmentOutboxActivities } from '../activities/enrollment-outbox.js';
import { drainNowSignal, type EnrollmentOutboxInput } from './enrollment-outbox.contract.js';

/** A request starts its own triggered journeys within milliseconds of committing; this leaves it room. */
const STRANDED_AFTER_MS = 30_000;
/** Rounds per run before continuing as new, which keeps the history small. */
const ROUNDS_PER_RUN = 200;

// The drain heartbeats: a worker killed mid-drain is noticed after 15 s, and the next attempt (or the
// stranded-start pass, for rows whose enrollment was made) carries on where it stopped.
const { drainEnrollmentOutbox } = proxyActivities<EnrollmentOutboxActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/**
 * The relay of the enrollment outbox (`enrollment-outbox`, one per namespace): starts the journeys of
 * bulk enrollments, those that list_add and tag_add triggers staged and no request started (CSV
 * imports, additions made while Temporal was unreachable), and those whose start a crash cut short.
 * Drains back to back while batches come back full, then every `everyMs` or as soon as a `drainNow`
 * signal arrives.
 */
export async function enrollmentOutboxWorkflow(input: EnrollmentOutboxInput = {}): Promise<void> {
  const everyMs = input.everyMs ?? 5_000;
  let drainNow = false;
  setHandler(drainNowSignal, () => {
    drainNow = true;
  });
  for (let round = 0; round < ROUNDS_PER_RUN; round += 1) {
    drainNow = false;
    const drained = await drainEnrollmentOutbox({ strandedAfterMs: input.strandedAfterMs ?? STRANDED_AFTER_MS });
    if (workflowInfo().continueAsNewSuggested) break;
    // A timer as sleep() would start (histories from before the signal replay unchanged), cut short by it.
    if (!drained.more) await condition(() => drainNow, everyMs);
  }
  await continueAsNew<typeof enrollmentOutboxWorkflow>(input);
}
