/**
 * Delivery feedback vocabulary shared by the provider webhooks, tracking, unsubscribe, the events API
 * and outgoing webhooks. Pure: importable by workflows.
 */

/** Types stored in `email_events.type`; segments and sequence conditions read `opened` and `clicked`. */
export const EMAIL_EVENT_TYPES = [
  'sent',
  'delivered',
  'delivery_delayed',
  'bounced',
  'complained',
  'opened',
  'clicked',
  'failed',
  'unsubscribed',
] as const;
export type EmailEventType = (typeof EMAIL_EVENT_TYPES)[number];

/** Event types an outgoing webhook endpoint can subscribe to (`email.opened`, `contact.unsubscribed`, …). */
export const OUTGOING_EVENT_TYPES = [
  ...EMAIL_EVENT_TYPES.filter((t) => t !== 'unsubscribed').map((t) => `email.${t}` as const),
  'contact.unsubscribed',
] as const;
export type OutgoingEventType = (typeof OUTGOING_EVENT_TYPES)[number];

/** The outgoing webhook type of a stored event: `opened` → `email.opened`, `unsubscribed` → `contact.unsubscribed`. */
export function outgoingEventType(type: EmailEventType): OutgoingEventType {
  return type === 'unsubscribed' ? 'contact.unsubscribed' : (`email.${type}` as OutgoingEventType);
}
