import type { Client } from '@temporalio/client';
import type { Db } from '../db/client.js';
import {
  advanceSendStatus,
  contactEmail,
  countOnCampaign,
  insertEmailEvent,
  lockEventSend,
  setContactFeedbackStatus,
  suppressIfAbsent,
  type EmailEventRow,
} from '../db/repositories/email-events.js';
import type { emailEvents } from '../db/schema.js';
import type { EmailEventType } from '../domain/email-events.js';
import type { Logger } from '../logger.js';
import type { ContactStatusChange } from '../../workflows/enrollment.contract.js';
import { signalContactEnrollments } from './enrollment.js';
import { stageWebhookDeliveries, startWebhookDeliveries } from './outgoing-webhooks.js';

export interface EmailEventDeps {
  db: Db;
  temporal: Client;
  logger: Logger;
}

export interface EmailEventInput {
  siteId: number;
  type: EmailEventType;
  sendId?: number | null;
  contactId?: number | null;
  /**
   * Unique per site. Status and engagement events about a send are one per send and type
   * (see {@link sendEventKey}), so a provider retry, a provider `email.opened` and our own pixel
   * collapse into one; an unsubscribe is one per send and subscription ({@link unsubscribeEventKey}).
   * Events without a send use a source-specific key.
   */
  dedupeKey: string;
  occurredAt?: Date;
  /**
   * Event details, stored as is. For `bounced`, `bounceType: 'soft'` (a transient or undetermined
   * bounce) records the bounce on the send and the campaign but leaves the contact subscribed and
   * unsuppressed; any other bounce is hard. For `failed`, `reason` becomes the send's error.
   */
  data?: Record<string, unknown>;
}

/** True for a bounce that must stop all mail to the address (anything not explicitly soft). */
export function isHardBounce(data: Record<string, unknown> | undefined): boolean {
  return data?.bounceType !== 'soft';
}

/**
 * The dedupe key of a status or engagement event about a send (`data` as recorded): one per send and
 * type, `${type}:${sendId}`. A bounce is one per send and severity: a soft bounce is
 * `bounced:soft:<sendId>`, so a hard bounce that follows it (the provider retried, then gave up) is
 * still recorded and still bounces the contact.
 */
export function sendEventKey(type: EmailEventType, sendId: number, data?: Record<string, unknown>): string {
  return type === 'bounced' && !isHardBounce(data) ? `bounced:soft:${sendId}` : `${type}:${sendId}`;
}

/**
 * The dedupe key of an unsubscribe through a send's link: one per send and subscription, named by the
 * contact's `subscribedAt` (stamped on every (re)subscribe). Repeated clicks within one subscription
 * collapse into one event; the same old link used after the contact resubscribed unsubscribes again.
 */
export function unsubscribeEventKey(sendId: number, subscribedAt: Date | null): string {
  return subscribedAt ? `unsubscribed:${sendId}:${subscribedAt.getTime()}` : `unsubscribed:${sendId}`;
}

/** The send status an event moves its send to (forward only), if any. */
const SEND_STATUS: Partial<Record<EmailEventType, 'sent' | 'delivered' | 'delivery_delayed' | 'bounced' | 'complained' | 'failed'>> = {
  sent: 'sent',
  delivered: 'delivered',
  delivery_delayed: 'delivery_delayed',
  bounced: 'bounced',
  complained: 'complained',
  failed: 'failed',
};

/** The contact status change an event implies, and the signal that ends the contact's enrollments. */
function contactChangeOf(input: EmailEventInput): Extract<ContactStatusChange, 'bounced' | 'complained' | 'unsubscribed'> | null {
  switch (input.type) {
    case 'bounced':
      return isHardBounce(input.data) ? 'bounced' : null;
    case 'complained':
      return 'complained';
    case 'unsubscribed':
      return 'unsubscribed';
    default:
      return null;
  }
}

/**
 * Records one piece of delivery feedback (provider webhook, open pixel, click, unsubscribe) and
 * applies what it means, exactly once per dedupe key. In one transaction with the event: the send's
 * status (forward only, so `delivered` after `bounced` changes nothing), the contact's status (hard
 * bounce → `bounced`, complaint → `complained`, unsubscribe → `unsubscribed`), a suppression for a hard
 * bounce or complaint (never for an unsubscribe: transactional mail must still reach that contact), and
 * the campaign counter (once per send and type, so a soft and a hard bounce of one send count as one
 * bounce). A duplicate (`created: false`) changes nothing.
 *
 * After commit, best effort and logged (the event stands either way): a contact status change ends the
 * contact's active enrollments by signal (each enrollment also re-checks the contact before every
 * send), then the outgoing webhook deliveries staged in the transaction are started (a delivery that
 * cannot start stays pending and is resumed at worker start).
 */
export async function recordEmailEvent(
  deps: EmailEventDeps,
  input: EmailEventInput,
): Promise<{ event: typeof emailEvents.$inferSelect; created: boolean }> {
  const change = contactChangeOf(input);
  const { event, created, deliveries } = await deps.db.transaction(async (tx) => {
    const send = input.sendId != null ? await lockEventSend(tx, input.siteId, input.sendId) : null;
    const contactId = input.contactId ?? send?.contactId ?? null;
    const recorded = await insertEmailEvent(tx, {
      siteId: input.siteId,
      type: input.type,
      sendId: send?.id ?? null,
      contactId,
      campaignId: send?.campaignId ?? null,
      sequenceId: send?.sequenceId ?? null,
      stepId: send?.stepId ?? null,
      data: input.data ?? {},
      dedupeKey: input.dedupeKey,
      ...(input.occurredAt ? { occurredAt: input.occurredAt } : {}),
    });
    if (!recorded.created) return { ...recorded, deliveries: [] };

    const status = SEND_STATUS[input.type];
    if (send && status) {
      const reason = input.type === 'failed' && typeof input.data?.reason === 'string' ? input.data.reason : undefined;
      await advanceSendStatus(tx, send.id, status, reason);
    }
    if (change && contactId !== null) await setContactFeedbackStatus(tx, input.siteId, contactId, change);
    if (change === 'bounced' || change === 'complained') {
      // The address the mail bounced from: the contact's, or the send's for mail to a non-contact.
      const email = (contactId !== null ? await contactEmail(tx, input.siteId, contactId) : null) ?? send?.toEmail;
      if (email) {
        const message = typeof input.data?.message === 'string' ? input.data.message : null;
        await suppressIfAbsent(tx, input.siteId, email, change === 'bounced' ? 'hard_bounce' : 'complaint', message);
      }
    }
    await countOnCampaign(tx, recorded.event);
    // Outgoing webhooks are staged with the event (an outbox): a crash or a Temporal outage after the
    // commit leaves them pending, to be started by resumePendingWebhookDeliveries, never lost.
    return { ...recorded, deliveries: await stageWebhookDeliveries(tx, recorded.event) };
  });
  if (!created) return { event, created };

  if (change && event.contactId !== null) await endEnrollments(deps, event, change);
  await startWebhookDeliveries(deps, deliveries);
  return { event, created };
}

async function endEnrollments(deps: EmailEventDeps, event: EmailEventRow, status: ContactStatusChange): Promise<void> {
  try {
    await signalContactEnrollments(deps, { siteId: event.siteId, contactId: event.contactId!, signal: 'contactStatusChanged', payload: { status } });
  } catch (err) {
    // The enrollment re-checks the contact before its next send, so a lost signal delays the end, never mails.
    deps.logger.warn({ err, eventId: event.id, contactId: event.contactId, status }, 'could not signal the contact\'s enrollments');
  }
}
