import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { WebhookDeliveryActivities, WebhookDeliveryResult } from '../activities/webhook-delivery.js';
import type { WebhookDeliveryInput } from './webhook-delivery.contract.js';

/** Failure types the delivery activity raises that no retry can fix. */
export const PERMANENT_WEBHOOK_FAILURES = ['WebhookSecretUnavailable'];

// One attempt: the POST has its own 10-second timeout; the rest is two short queries.
// Retries: 5 s, 10 s, 20 s … doubling up to one hour apart; 11 attempts take about 85 minutes, then one
// an hour, so 33 attempts span about 23 hours (Svix and Resend retry for about a day). A receiver's
// Retry-After (429/503) replaces the backoff, capped at the same hour.
const delivery = proxyActivities<WebhookDeliveryActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 hour',
    maximumAttempts: 33,
    nonRetryableErrorTypes: PERMANENT_WEBHOOK_FAILURES,
  },
});

// Recording the give-up is a single UPDATE: retried until the database answers.
const bookkeeping = proxyActivities<WebhookDeliveryActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

function failureMessage(err: ActivityFailure): string {
  const cause = err.cause;
  return cause instanceof Error ? cause.message : err.message;
}

/**
 * Delivers one outgoing webhook message to one endpoint, signed per the Standard Webhooks spec, until
 * the receiver answers 2xx, answers 410 Gone, the endpoint is disabled or deleted, or the retries run
 * out. Started under `webhook-delivery:<deliveryId>` on the main queue. Every attempt lands in the
 * delivery log; the workflow completes with where the delivery ended (a failed delivery is an outcome
 * recorded on the row, not a workflow failure).
 */
export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<WebhookDeliveryResult> {
  try {
    return await delivery.deliverWebhook({ deliveryId: input.deliveryId });
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    return bookkeeping.giveUpWebhookDelivery({ deliveryId: input.deliveryId, reason: failureMessage(err) });
  }
}
