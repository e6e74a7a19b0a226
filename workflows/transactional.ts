import { ActivityFailure, ApplicationFailure, log, proxyActivities } from '@temporalio/workflow';
import type { DeliveryActivities } from '../activities/delivery.js';
import { PERMANENT_DELIVERY_FAILURES, DELIVERY_FAILURES, type DeliveryResult } from '../src/domain/delivery.js';
import type { TransactionalSendInput } from './transactional.contract.js';

// Delivery: 1 s, 2 s, 4 s … capped at 5 minutes, twelve attempts (about 18 minutes in all, far inside
// Resend's 24-hour idempotency window). A provider 429 replaces the backoff with its retry-after.
// The activity heartbeats, so a dead worker is noticed after 20 s rather than the 10-minute ceiling
// that only a long wait for a rate-limit slot can approach.
const delivery = proxyActivities<DeliveryActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '20 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: 12,
    nonRetryableErrorTypes: PERMANENT_DELIVERY_FAILURES,
  },
});

// Recording the failure is a single UPDATE: retried until the database answers.
const bookkeeping = proxyActivities<DeliveryActivities>({
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
      type: DELIVERY_FAILURES.sendFailed,
      message: result.error ?? `Send ${input.sendId} failed`,
      nonRetryable: true,
      details: [result],
    });
  }
  return result;
}
