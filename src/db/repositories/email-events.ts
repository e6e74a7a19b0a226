import { and, eq, inArray, isNotNull, ne, sql } from 'drizzle-orm';
import type { EmailEventType } from '../../domain/email-events.js';
import type { DbOrTx } from '../client.js';
import { campaigns, contacts, emailEvents, providerWebhookReceipts, sendingConfigs, sends, suppressions, type sendStatus } from '../schema.js';

export type EmailEventRow = typeof emailEvents.$inferSelect;
export type NewEmailEvent = typeof emailEvents.$inferInsert;
type SendStatus = (typeof sendStatus.enumValues)[number];

/** What an event needs to know about its send: whom it went to and what it belongs to. */
export interface EventSend {
  id: number;
  siteId: number;
  contactId: number | null;
  toEmail: string;
  campaignId: number | null;
  sequenceId: number | null;
  stepId: number | null;
}

const eventSendColumns = {
  id: sends.id,
  siteId: sends.siteId,
  contactId: sends.contactId,
  toEmail: sends.toEmail,
  campaignId: sends.campaignId,
  sequenceId: sends.sequenceId,
  stepId: sends.stepId,
};

/**
 * The send an event is about, locked until the transaction ends: events about one send then apply one
 * at a time, so a check such as "already counted on the campaign for this send" cannot miss a
 * concurrent event of the send (a soft and a hard bounce arriving together count once).
 */
export async function lockEventSend(tx: DbOrTx, siteId: number, sendId: number): Promise<EventSend | null> {
  const [row] = await tx
    .select(eventSendColumns)
    .from(sends)
    .where(and(eq(sends.siteId, siteId), eq(sends.id, sendId)))
    .for('update');
  return row ?? null;
}

/**
 * The send a provider message id belongs to, among these sites (a Resend webhook secret may be shared
 * by configs of several sites; the message id tells which one sent it).
 */
export async function findSendByProviderMessageId(db: DbOrTx, siteIds: readonly number[], providerMessageId: string): Promise<EventSend | null> {
  if (!siteIds.length) return null;
  const [row] = await db
    .select(eventSendColumns)
    .from(sends)
    .where(and(eq(sends.providerMessageId, providerMessageId), inArray(sends.siteId, [...siteIds])))
    .limit(1);
  return row ?? null;
}

/**
 * Inserts an event unless the site already has one with its dedupe key. `created` is false for a
 * duplicate, whose stored row is returned instead (its effects were applied the first time).
 */
export async function insertEmailEvent(db: DbOrTx, row: NewEmailEvent & { dedupeKey: string }): Promise<{ event: EmailEventRow; created: boolean }> {
  const [inserted] = await db.insert(emailEvents).values(row).onConflictDoNothing({ target: [emailEvents.siteId, emailEvents.dedupeKey] }).returning();
  if (inserted) return { event: inserted, created: true };
  const [existing] = await db
    .select()
    .from(emailEvents)
    .where(and(eq(emailEvents.siteId, row.siteId), eq(emailEvents.dedupeKey, row.dedupeKey)));
  // Only possible if the holder was deleted between the two statements (its site or contact was deleted).
  if (!existing) throw new Error(`email event ${row.dedupeKey} vanished during insert`);
  return { event: existing, created: false };
}

/**
 * How far along a send is. An event moves the send only forward, so feedback arriving out of order
 * (Resend does not order webhooks; `delivered` may follow `bounced`) never regresses a final state.
 * `failed` ranks above the in-flight states (the provider gave up) and below what the recipient's
 * server reported; a complaint outranks everything (the mail was delivered and reported as spam).
 */
const STATUS_RANK: readonly SendStatus[] = ['queued', 'suppressed', 'sent', 'delivery_delayed', 'failed', 'delivered', 'bounced', 'complained'];

const rankOf = (status: SendStatus | ReturnType<typeof sql>) =>
  sql`array_position(array[${sql.join(
    STATUS_RANK.map((s) => sql`${s}`),
    sql`, `,
  )}]::send_status[], ${status}::send_status)`;

/** Moves a send to `status` when that is further along than where it stands; `error` is recorded with a failure. */
export async function advanceSendStatus(db: DbOrTx, sendId: number, status: SendStatus, error?: string | null): Promise<boolean> {
  const rows = await db
    .update(sends)
    .set({ status, ...(error !== undefined ? { error } : {}), updatedAt: new Date() })
    .where(and(eq(sends.id, sendId), sql`${rankOf(sql`${sends.status}`)} < ${rankOf(status)}`))
    .returning({ id: sends.id });
  return rows.length > 0;
}

/**
 * Moves a contact to `bounced`, `complained` or `unsubscribed` from the states it may leave for it: a
 * complaint overrides anything, a hard bounce anything but a complaint, an unsubscribe only a
 * subscribed contact (a bounced address stays bounced). Returns whether the status changed.
 */
export async function setContactFeedbackStatus(
  db: DbOrTx,
  siteId: number,
  contactId: number,
  status: 'bounced' | 'complained' | 'unsubscribed',
): Promise<boolean> {
  const from =
    status === 'complained'
      ? ne(contacts.status, 'complained')
      : status === 'bounced'
        ? inArray(contacts.status, ['subscribed', 'unsubscribed'])
        : eq(contacts.status, 'subscribed');
  const now = new Date();
  const rows = await db
    .update(contacts)
    .set({ status, ...(status === 'unsubscribed' ? { unsubscribedAt: now } : {}), updatedAt: now })
    .where(and(eq(contacts.siteId, siteId), eq(contacts.id, contactId), from))
    .returning({ id: contacts.id });
  return rows.length > 0;
}

export async function contactEmail(db: DbOrTx, siteId: number, contactId: number): Promise<string | null> {
  const [row] = await db.select({ email: contacts.email }).from(contacts).where(and(eq(contacts.siteId, siteId), eq(contacts.id, contactId)));
  return row?.email ?? null;
}

/**
 * Suppresses an address unless it already is: the first reason stands (a manual suppression stays
 * manual), since what matters for sending is only that it is suppressed.
 */
export async function suppressIfAbsent(
  db: DbOrTx,
  siteId: number,
  email: string,
  reason: 'hard_bounce' | 'complaint',
  note: string | null,
): Promise<boolean> {
  const rows = await db
    .insert(suppressions)
    .values({ siteId, email: email.trim().toLowerCase(), reason, note })
    .onConflictDoNothing({ target: [suppressions.siteId, suppressions.email] })
    .returning({ id: suppressions.id });
  return rows.length > 0;
}

/** The campaign counter each event type moves. */
const CAMPAIGN_COUNTERS = {
  delivered: 'deliveredCount',
  opened: 'openedCount',
  clicked: 'clickedCount',
  bounced: 'bouncedCount',
  complained: 'complainedCount',
  unsubscribed: 'unsubscribedCount',
} as const satisfies Partial<Record<EmailEventType, keyof typeof campaigns.$inferSelect>>;

/**
 * Counts an event on its campaign, once per send and type: an event of the same type recorded for the
 * send under another dedupe key (our own pixel and Resend's `email.opened`; a soft and a hard bounce)
 * does not count twice. Must run in the transaction that inserted `event`, with the send locked.
 */
export async function countOnCampaign(db: DbOrTx, event: EmailEventRow): Promise<boolean> {
  if (event.campaignId === null || event.sendId === null || !Object.hasOwn(CAMPAIGN_COUNTERS, event.type)) return false;
  const counter = CAMPAIGN_COUNTERS[event.type as keyof typeof CAMPAIGN_COUNTERS];
  const [earlier] = await db
    .select({ id: emailEvents.id })
    .from(emailEvents)
    .where(and(eq(emailEvents.sendId, event.sendId), eq(emailEvents.type, event.type), ne(emailEvents.id, event.id)))
    .limit(1);
  if (earlier) return false;
  const rows = await db
    .update(campaigns)
    .set({ [counter]: sql`${campaigns[counter]} + 1` })
    .where(and(eq(campaigns.id, event.campaignId), eq(campaigns.siteId, event.siteId)))
    .returning({ id: campaigns.id });
  return rows.length > 0;
}

// ---------------------------------------------------------------------------------------------
// Provider webhooks

/** A Resend config that can receive webhooks: its signing secret is still encrypted. */
export type WebhookConfigRow = typeof sendingConfigs.$inferSelect;

/** Resend configs with a webhook secret: one config by id, or every one of every site. */
export async function resendWebhookConfigs(db: DbOrTx, configId?: number): Promise<WebhookConfigRow[]> {
  return db
    .select()
    .from(sendingConfigs)
    .where(
      and(
        eq(sendingConfigs.provider, 'resend'),
        isNotNull(sendingConfigs.webhookSecretEncrypted),
        configId === undefined ? undefined : eq(sendingConfigs.id, configId),
      ),
    )
    .orderBy(sendingConfigs.id);
}

/** Records a provider webhook message; false when this site already received it (a Svix retry). */
export async function recordWebhookReceipt(
  db: DbOrTx,
  row: { siteId: number; provider: 'resend'; eventId: string; type: string; sendingConfigId: number | null },
): Promise<boolean> {
  const rows = await db
    .insert(providerWebhookReceipts)
    .values(row)
    .onConflictDoNothing({ target: [providerWebhookReceipts.siteId, providerWebhookReceipts.provider, providerWebhookReceipts.eventId] })
    .returning({ id: providerWebhookReceipts.id });
  return rows.length > 0;
}

/** Forgets a receipt whose processing failed, so the provider's retry is processed instead of skipped. */
export async function forgetWebhookReceipt(db: DbOrTx, siteId: number, provider: 'resend', eventId: string): Promise<void> {
  await db
    .delete(providerWebhookReceipts)
    .where(and(eq(providerWebhookReceipts.siteId, siteId), eq(providerWebhookReceipts.provider, provider), eq(providerWebhookReceipts.eventId, eventId)));
}
