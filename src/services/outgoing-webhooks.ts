import { createHash, randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { AppError } from '../errors.js';
import type { Db, DbOrTx } from '../db/client.js';
import {
  endpointsForEvent,
  getWebhookEndpoint,
  insertWebhookDelivery,
  pendingWebhookDeliveries,
  type WebhookDeliveryRow,
} from '../db/repositories/webhook-endpoints.js';
import type { emailEvents } from '../db/schema.js';
import { eventRecipientEmail } from '../db/repositories/email-events.js';
import { outgoingEventType, type EmailEventType } from '../domain/email-events.js';
import { workflowIds } from '../domain/ids.js';
import type { Logger } from '../logger.js';
import { isPrivateAddress } from '../net/addresses.js';
import { TASK_QUEUES } from '../temporal/task-queues.js';
import type { webhookDeliveryWorkflow } from '../../workflows/webhook-delivery.js';
import { WEBHOOK_DELIVERY_WORKFLOW, webhookDeliverySearchAttributes } from '../../workflows/webhook-delivery.contract.js';

export interface OutgoingWebhookDeps {
  db: Db;
  temporal: Client;
  logger: Logger;
}

type EmailEventRow = typeof emailEvents.$inferSelect;

/** The type of the message `POST /webhook-endpoints/:id/test` sends; not subscribable, always delivered. */
export const TEST_EVENT_TYPE = 'webhook.test';

/** How long starting one delivery workflow may take before it is left pending and logged. */
const START_DEADLINE_MS = 5_000;

/**
 * The body every endpoint receives, in the Standard Webhooks shape `{type, timestamp, data}`.
 * `data` names the send, contact, campaign and sequence step the event is about (null when it is not
 * about one) and then carries the event's own details (`url` of a click, `bounceType`, …).
 */
export function webhookPayload(event: EmailEventRow, email: string | null): Record<string, unknown> {
  return {
    type: outgoingEventType(event.type as EmailEventType),
    timestamp: event.occurredAt.toISOString(),
    data: {
      eventId: event.id,
      sendId: event.sendId,
      contactId: event.contactId,
      email,
      campaignId: event.campaignId,
      sequenceId: event.sequenceId,
      stepId: event.stepId,
      ...event.data,
    },
  };
}

/**
 * The Standard Webhooks `webhook-id` of an event's message: one per event, the same for every
 * endpoint and every retry, so a receiver can de-duplicate on it.
 */
export const eventMessageId = (eventId: number) => `msg_evt_${eventId}`;

/**
 * Starts a delivery's workflow. Safe to call again: a running workflow is kept (USE_EXISTING) and a
 * finished one is not started twice (REJECT_DUPLICATE; its "already started" answer means done).
 */
export async function startWebhookDelivery(temporal: Client, delivery: WebhookDeliveryRow): Promise<void> {
  if (delivery.status !== 'pending') return;
  try {
    await temporal.withDeadline(Date.now() + START_DEADLINE_MS, () =>
      temporal.workflow.start<typeof webhookDeliveryWorkflow>(WEBHOOK_DELIVERY_WORKFLOW, {
        taskQueue: TASK_QUEUES.main,
        workflowId: workflowIds.webhookDelivery(delivery.id),
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        args: [{ deliveryId: delivery.id }],
        typedSearchAttributes: webhookDeliverySearchAttributes(delivery),
      }),
    );
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/**
 * The outbox half of fan-out: one webhook_deliveries row per enabled endpoint of the site subscribed to
 * the event's type (idempotent on endpoint + message id). Run it in the event's own transaction, so an
 * event that is stored always has its deliveries stored with it, whatever happens after the commit.
 */
export async function stageWebhookDeliveries(db: DbOrTx, event: EmailEventRow): Promise<WebhookDeliveryRow[]> {
  const type = outgoingEventType(event.type as EmailEventType);
  const endpoints = await endpointsForEvent(db, event.siteId, type);
  if (endpoints.length === 0) return [];
  const payload = webhookPayload(event, await eventRecipientEmail(db, event));
  const staged: WebhookDeliveryRow[] = [];
  for (const endpoint of endpoints) {
    const { delivery } = await insertWebhookDelivery(db, {
      siteId: event.siteId,
      endpointId: endpoint.id,
      messageId: eventMessageId(event.id),
      eventType: type,
      payload,
      workflowId: workflowIds.webhookDelivery,
    });
    staged.push(delivery);
  }
  return staged;
}

/**
 * The second half, after commit: one delivery workflow per staged delivery. A workflow that cannot be
 * started (Temporal down) is logged and its delivery stays `pending` until
 * {@link resumePendingWebhookDeliveries} starts it; the other deliveries still start.
 */
export async function startWebhookDeliveries(deps: OutgoingWebhookDeps, deliveries: readonly WebhookDeliveryRow[]): Promise<void> {
  for (const delivery of deliveries) {
    try {
      await startWebhookDelivery(deps.temporal, delivery);
    } catch (err) {
      deps.logger.error({ err, deliveryId: delivery.id, endpointId: delivery.endpointId }, 'could not start a webhook delivery; it stays pending');
    }
  }
}

/**
 * Fans one stored email event out to the site's subscribed endpoints: stages the deliveries and starts
 * their workflows. Calling it twice for the same event delivers once. Returns how many endpoints the
 * event goes to. (recordEmailEvent stages inside its own transaction instead.)
 */
export async function enqueueWebhookDeliveries(deps: OutgoingWebhookDeps, event: EmailEventRow): Promise<number> {
  const deliveries = await stageWebhookDeliveries(deps.db, event);
  await startWebhookDeliveries(deps, deliveries);
  return deliveries.length;
}

/**
 * Starts the workflows of deliveries left `pending` without one (Temporal was unreachable when their
 * event was fanned out), oldest first, up to `limit`. Safe at any time and from several processes: a
 * delivery whose workflow runs or ran is not started again. Meant for process start-up (or a periodic
 * sweep); returns how many deliveries it looked at.
 */
export async function resumePendingWebhookDeliveries(
  deps: OutgoingWebhookDeps,
  opts: { olderThanMs?: number; limit?: number } = {},
): Promise<number> {
  const pending = await pendingWebhookDeliveries(deps.db, new Date(Date.now() - (opts.olderThanMs ?? 60_000)), opts.limit ?? 1000);
  for (const delivery of pending) {
    try {
      await startWebhookDelivery(deps.temporal, delivery);
    } catch (err) {
      deps.logger.error({ err, deliveryId: delivery.id }, 'could not resume a webhook delivery; it stays pending');
      break; // Temporal is still unreachable: the rest would fail the same way.
    }
  }
  return pending.length;
}

/**
 * `POST /webhook-endpoints/:id/test`: a `webhook.test` message through the same delivery workflow as
 * real events, whatever the endpoint's event filter. A disabled endpoint is a 409 (it would not be
 * attempted). Unlike event fan-out, a Temporal failure propagates (503) so the caller can retry.
 */
export async function sendTestWebhook(
  deps: Pick<OutgoingWebhookDeps, 'db' | 'temporal'>,
  siteId: number,
  endpointId: number,
  opts: { idempotencyKey?: string } = {},
): Promise<WebhookDeliveryRow> {
  const endpoint = await getWebhookEndpoint(deps.db, siteId, endpointId);
  if (!endpoint) throw AppError.notFound('Webhook endpoint', endpointId);
  if (!endpoint.enabled) {
    throw new AppError('endpoint_disabled', 'conflict', `Webhook endpoint ${endpointId} is disabled; enable it (PATCH enabled: true) to send a test`);
  }
  // Derived from the client's Idempotency-Key when given, so a retry after a failed start (503) finds
  // the same delivery and starts it, instead of leaving a pending one behind and making another.
  const messageId =
    opts.idempotencyKey === undefined
      ? `msg_test_${randomUUID().replaceAll('-', '')}`
      : `msg_test_${createHash('sha256').update(`${siteId}:${opts.idempotencyKey}`).digest('hex').slice(0, 32)}`;
  const { delivery } = await insertWebhookDelivery(deps.db, {
    siteId,
    endpointId,
    messageId,
    eventType: TEST_EVENT_TYPE,
    payload: {
      type: TEST_EVENT_TYPE,
      timestamp: new Date().toISOString(),
      data: { endpointId, message: 'A test event from Tidings: this endpoint receives signed webhooks.' },
    },
    workflowId: workflowIds.webhookDelivery,
  });
  await startWebhookDelivery(deps.temporal, delivery);
  return delivery;
}

/**
 * Refuses an endpoint URL on the server's own network: `localhost`, a private or reserved IP, or a
 * host name that resolves to one. Applied when NODE_ENV=production; development and tests post to
 * local receivers. A name that resolves elsewhere later (DNS rebinding) is caught at delivery, where
 * the worker checks the addresses again and connects only to a checked one (activities/webhook-delivery.ts).
 */
export async function assertPublicWebhookUrl(url: string): Promise<void> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const refuse = (why: string) => {
    throw AppError.validation(`Webhook URL ${url} is not allowed: ${why}`, [{ path: 'url', message: `must be a public address (${why})` }]);
  };
  if (host === 'localhost' || host.endsWith('.localhost')) refuse('localhost');
  if (isIP(host)) {
    if (isPrivateAddress(host)) refuse(`${host} is a private or reserved address`);
    return;
  }
  let addresses: { address: string }[];
  try {
    addresses = await lookup(host, { all: true });
  } catch {
    return refuse(`${host} does not resolve`);
  }
  const inside = addresses.find((a) => isPrivateAddress(a.address));
  if (inside) refuse(`${host} resolves to ${inside.address}, a private or reserved address`);
}
