/**
 * The webhook-delivery workflow's contract, shared by the workflow, the outbox relay that starts it as
 * a child and the service that starts it after an event: its type name, input and search attributes.
 */
import { SEARCH_ATTRIBUTES } from '../src/domain/search-attributes.js';

/** The workflow type as registered on the worker (the exported function's name). */
export const WEBHOOK_DELIVERY_WORKFLOW = 'webhookDeliveryWorkflow';

export interface WebhookDeliveryInput {
  /** The webhook_deliveries row: it holds the endpoint, the message id and the payload. */
  deliveryId: number;
}

/** The custom search attributes of a delivery's workflow. */
export function webhookDeliverySearchAttributes(delivery: { siteId: number }) {
  return [{ key: SEARCH_ATTRIBUTES.SiteId, value: delivery.siteId }];
}
