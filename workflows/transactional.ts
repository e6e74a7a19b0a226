import { ActivityFailure, ApplicationFailure, log, patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { DeliveryActivities } from '../activities/delivery.js';
import { PERMANENT_DELIVERY_FAILURES, DELIVERY_FAILURES, type DeliveryResult } from '../src/domain/delivery.js';
import type { TransactionalSendInput } from './transactional.contract.js';

// Delivery: 1 s, 2 s, 4 s … capped at 5 minutes, twelve attempts (about 18 minutes in all, far inside
// Resend's 24-hour idempotency window). A provider 429 replaces the backoff with its retry-after.
const deliveryRetry = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '5 minutes',
  maximumAttempts: 12,
  nonRetryableErrorTypes: PERMANENT_DELIVERY_FAILURES,
} as const;
// Recording the failure is a single UPDATE: retried until the database answers.
const bookkeepingRetry = { initialInterval: '1 second', maximumInterval: '1 minute' } as const;

/**
 * Patch ids: each guards a change to the order of commands so sends in flight when a worker is upgraded
 * still replay (test/workflows/transactional-replay.test.ts). Never reuse or remove one while such runs live.
 */
const PATCHES = {
  /**
   * Delivery and the failure record as local activities: they run in the worker that runs the workflow
   * task and are recorded as one marker, so a send costs one workflow task and no activity task (the
   * task-queue round trip and three history events per activity are gone). A worker that dies mid-send
   * is noticed by the workflow task timeout, and the retry goes out under the same idempotency key.
   */
  localDelivery: 'transactional-local-delivery',
} as const;

// Before PATCHES.localDelivery: regular activities. The delivery heartbeats, so a dead worker is noticed
// after 20 s rather than the 10-minute ceiling that only a long wait for a rate-limit slot can approach.
const remoteDelivery = proxyActivities<DeliveryActivities>({ startToCloseTimeout: '10 minutes', heartbeatTimeout: '20 seconds', retry: deliveryRetry });
const remoteBookkeeping = proxyActivities<DeliveryActivities>({ startToCloseTimeout: '30 seconds', retry: bookkeepingRetry });
// A retry due within localRetryThreshold runs inside the same workflow task; a later one (a 429's
// retry-after, the longer backoffs) waits on a durable timer.
const localDelivery = proxyLocalActivities<DeliveryActivities>({ startToCloseTimeout: '10 minutes', localRetryThreshold: '10 seconds', retry: deliveryRetry });
const localBookkeeping = proxyLocalActivities<DeliveryActivities>({ startToCloseTimeout: '30 seconds', localRetryThreshold: '10 seconds', retry: bookkeepingRetry });

/**
 * Why delivery was given up. A regular activity's last failure arrives wrapped in an ActivityFailure;
 * a local activity's arrives as the ApplicationFailure it threw.
 */
function failureMessage(err: ActivityFailure | ApplicationFailure): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof Error ? cause.message : err.message;
}

/**
 * Delivers one transactional email durably. Started by `POST /send` under the id
 * `send:<sendId>` on the transactional task queue, so campaign traffic never delays it. Completes
 * when the provider accepted the message (or the recipient turned out to be suppressed) and fails
 * with `SendFailed` once the send is recorded as failed; either way the send row says what happened.
 */
export async function transactionalSendWorkflow(input: TransactionalSendInput): Promise<DeliveryResult> {
  // Decided once, at the start: a run that began on the older code keeps it to the end.
  const local = patched(PATCHES.localDelivery);
  const delivery = local ? localDelivery : remoteDelivery;
  const bookkeeping = local ? localBookkeeping : remoteBookkeeping;
  let result: DeliveryResult;
  try {
    result = await delivery.deliverSend({ sendId: input.sendId });
  } catch (err) {
    if (!(err instanceof ActivityFailure || err instanceof ApplicationFailure)) throw err;
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
