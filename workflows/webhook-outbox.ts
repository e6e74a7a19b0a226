import {
  ParentClosePolicy,
  continueAsNew,
  proxyActivities,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { WebhookDeliveryActivities } from '../activities/webhook-delivery.js';
import { workflowIds } from '../src/domain/ids.js';
import { webhookDeliveryWorkflow } from './webhook-delivery.js';
import type { WebhookOutboxInput } from './webhook-outbox.contract.js';

/** A delivery younger than this is left to the request that staged it, which is starting it right now. */
const STRANDED_AFTER_MS = 60_000;
const BATCH = 200;
/** Rounds per run before continuing as new, which keeps the history small. */
const ROUNDS_PER_RUN = 100;

const { strandedWebhookDeliveries } = proxyActivities<WebhookDeliveryActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/**
 * The relay of the outgoing-webhook outbox: deliveries are staged in the same transaction as their
 * event and started right after commit; one whose start failed (Temporal down at that moment) would
 * otherwise wait for the next worker start. This workflow (`webhook-outbox`, one per namespace) looks
 * every minute for deliveries pending without progress and starts their delivery workflow as an
 * abandoned child under the delivery's own id, so a delivery that did start is never started twice.
 */
export async function webhookOutboxWorkflow(input: WebhookOutboxInput = {}): Promise<void> {
  const everyMs = input.everyMs ?? 60_000;
  for (let round = 0; round < ROUNDS_PER_RUN; round += 1) {
    const stranded = await strandedWebhookDeliveries({ olderThanMs: input.strandedAfterMs ?? STRANDED_AFTER_MS, limit: BATCH });
    for (const { deliveryId } of stranded) {
      try {
        await startChild(webhookDeliveryWorkflow, {
          workflowId: workflowIds.webhookDelivery(deliveryId),
          args: [{ deliveryId }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
      } catch (err) {
        // Running or already ran: the delivery workflow settles the row itself.
        // (Matched by name: the error class lives in @temporalio/common, which workflow code does not import.)
        if (!(err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError')) throw err;
      }
    }
    if (workflowInfo().continueAsNewSuggested) break;
    await sleep(everyMs);
  }
  await continueAsNew<typeof webhookOutboxWorkflow>(input);
}
