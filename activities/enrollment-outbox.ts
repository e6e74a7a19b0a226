import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../src/db/client.js';
import type { Logger } from '../src/logger.js';
import { drainEnrollmentOutbox, type DrainResult } from '../src/services/enrollment-outbox.js';
import { withHeartbeats } from './support.js';

/** A drain starts up to 500 workflows; heartbeats let a killed worker's drain be retried in seconds. */
const HEARTBEAT_EVERY_MS = 3_000;

export interface EnrollmentOutboxActivityDeps {
  db: Db;
  logger: Logger;
  /** Starts the enrollment workflows; src/main.ts gives its worker one (the relay cannot work without it). */
  temporal?: Client;
  /** See ActivityDeps.eagerStart. */
  eagerStart?: boolean;
}

export function createEnrollmentOutboxActivities(deps: EnrollmentOutboxActivityDeps) {
  return {
    /** One drain of the enrollment outbox (see src/services/enrollment-outbox.ts). */
    async drainEnrollmentOutbox(input: { strandedAfterMs: number }): Promise<DrainResult> {
      if (!deps.temporal) {
        // Retryable: another worker of the namespace, built with a client, may take the next attempt.
        throw ApplicationFailure.retryable('this worker was built without a Temporal client, so it cannot start enrollments', 'NoTemporalClient');
      }
      const temporal = deps.temporal;
      return withHeartbeats(HEARTBEAT_EVERY_MS, () => drainEnrollmentOutbox({ db: deps.db, temporal, logger: deps.logger, eagerStart: deps.eagerStart }, { strandedAfterMs: input.strandedAfterMs }));
    },
  };
}

export type EnrollmentOutboxActivities = ReturnType<typeof createEnrollmentOutboxActivities>;
