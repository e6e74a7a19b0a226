import { ActivityFailure, ApplicationFailure, log, proxyActivities } from '@temporalio/workflow';
import type { SendingActivities } from '../activities/sending.js';
import { PERMANENT_SENDING_FAILURES, SENDING_FAILURES, type DeliveryResult } from '../src/domain/sending.js';

export interface TransactionalSendInput {
  /** The queued row of the send log; it holds the rendered message and its idempotency key. */
  sendId: number;
}

// Delivery: 1 s, 2 s, 4 s … capped at 5 minutes, twelve attempts (about 18 minutes in all, far inside
// Resend's 24-hour idempotency window). A provider 429 replaces the backoff with its retry-after.
// The activity heartbeats, so a dead worker is noticed after 20 s rather than the 10-minute ceiling
// that only a long wait for a rate-limit slot can approach.
const delivery = proxyActivities<SendingActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '20 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: 12,
    nonRetryableErrorTypes: PERMANENT_SENDING_FAILURES,
  },
});

// Recording the failure is a single UPDATE: retried until the database answers.
const bookkeeping = proxyActivities<SendingActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

function failureMessage(err: ActivityFailure): string {
  const cause = err.cause;
  return cause instanceof Error ? cause.message : err.message;
}

/**
 * Delivers one transactional email durably. Started by `POST /send` under the id
 * `send:<sendId>` on the transactional task queue, so campaign traffic never delays it. Completes
 * when the provider accepted the message (or the recipient turned out to be suppressed) and fails
 * with `SendFailed` once the send is recorded as failed; either way the send row says what happened.
 */
export async function transactionalSendWorkflow(input: TransactionalSendInput): Promise<DeliveryResult> {
  let result: DeliveryResult;
  try {
    result = await delivery.deliverSend({ sendId: input.sendId });
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    // Retries exhausted or a permanent failure before the provider was asked: record it for GET /sends/:id.
    result = await bookkeeping.failSend({ sendId: input.sendId, reason: failureMessage(err) });
  }
  if (result.status === 'failed') {
    log.warn('transactional send failed', { sendId: input.sendId, error: result.error });
    throw ApplicationFailure.create({
      type: SENDING_FAILURES.sendFailed,
      message: result.error ?? `Send ${input.sendId} failed`,
      nonRetryable: true,
      details: [result],
    });
  }
  return result;
}
