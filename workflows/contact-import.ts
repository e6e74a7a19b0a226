import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ContactImportActivities } from '../activities/contact-import.js';
import { IMPORT_FAILURES, type ImportProgress } from '../src/domain/csv-import.js';
import { progressQuery, type ContactImportInput } from './contact-import.contract.js';

// One profile for every import step. Each is a single short transaction that heartbeats, so a dead
// worker is noticed after the heartbeat timeout instead of the (longer) start-to-close timeout.
const activities = proxyActivities<ContactImportActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '15 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 30,
    nonRetryableErrorTypes: Object.values(IMPORT_FAILURES),
  },
});

function failureMessage(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * Imports a stored CSV file into contacts, one batch activity at a time. Holds only a cursor and
 * counters (the database holds the file and the committed cursor), so it resumes anywhere after a
 * worker restart and continues as new before its history grows large.
 */
export async function contactImportWorkflow(input: ContactImportInput): Promise<ImportProgress> {
  let progress: ImportProgress = input.progress ?? {
    status: 'queued',
    totalRows: null,
    processedRows: 0,
    created: 0,
    updated: 0,
    errors: 0,
  };
  setHandler(progressQuery, () => progress);

  try {
    // Idempotent: on a continued run (or a re-run) it returns the committed cursor instead of re-splitting.
    const prepared = await activities.prepareContactImport({ importId: input.importId, batchSize: input.batchSize });
    progress = prepared.progress;
    for (let seq = prepared.nextBatch; seq < prepared.batchCount; seq++) {
      if (workflowInfo().continueAsNewSuggested) {
        log.info('continuing as new', { importId: input.importId, nextBatch: seq });
        await continueAsNew<typeof contactImportWorkflow>({ ...input, progress });
      }
      progress = await activities.importContactBatch({ importId: input.importId, seq });
    }
    progress = await activities.completeContactImport({ importId: input.importId });
    return progress;
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    // The import cannot finish (bad file, retries exhausted): record why, so the API and CLI can say it.
    const message = failureMessage(err);
    progress = await activities.failContactImport({ importId: input.importId, message });
    const type = err.cause instanceof ApplicationFailure ? err.cause.type : undefined;
    throw ApplicationFailure.create({ type: type ?? 'ImportFailed', message, nonRetryable: true, cause: err });
  }
}
