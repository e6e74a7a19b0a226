import { continueAsNew, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { EnrollmentOutboxActivities } from '../activities/enrollment-outbox.js';
import type { EnrollmentOutboxInput } from './enrollment-outbox.contract.js';

/** A request starts its own triggered journeys within milliseconds of committing; this leaves it room. */
const STRANDED_AFTER_MS = 30_000;
/** Rounds per run before continuing as new, which keeps the history small. */
const ROUNDS_PER_RUN = 200;

const { drainEnrollmentOutbox } = proxyActivities<EnrollmentOutboxActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/**
 * The relay of the enrollment outbox (`enrollment-outbox`, one per namespace): starts the journeys that
 * list_add and tag_add triggers staged and no request started (CSV imports, additions made while
 * Temporal was unreachable), and those whose start a crash cut short. Drains back to back while
 * batches come back full, then every `everyMs`.
 */
export async function enrollmentOutboxWorkflow(input: EnrollmentOutboxInput = {}): Promise<void> {
  const everyMs = input.everyMs ?? 5_000;
  for (let round = 0; round < ROUNDS_PER_RUN; round += 1) {
    const drained = await drainEnrollmentOutbox({ strandedAfterMs: input.strandedAfterMs ?? STRANDED_AFTER_MS });
    if (workflowInfo().continueAsNewSuggested) break;
    if (!drained.more) await sleep(everyMs);
  }
  await continueAsNew<typeof enrollmentOutboxWorkflow>(input);
}
