/**
 * The enrollment-outbox relay's contract: its type name and input, for the workers that ensure it
 * runs, and the signal a bulk enrollment sends so its rows are drained at once.
 */
import { defineSignal } from '@temporalio/workflow';

/** The workflow type as registered on the worker (the exported function's name). */
export const ENROLLMENT_OUTBOX_WORKFLOW = 'enrollmentOutboxWorkflow';

export interface EnrollmentOutboxInput {
  /** How long to wait after a drain that emptied the outbox (ms); five seconds by default. */
  everyMs?: number;
  /** How old an enrollment whose workflow start is unconfirmed must be to be started again (ms). */
  strandedAfterMs?: number;
}

/** Drain now instead of at the next interval (a bulk enrollment just staged its contacts). */
export const drainNowSignal = defineSignal('drainNow');
