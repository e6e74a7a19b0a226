import { randomBytes } from 'node:crypto';
import { and, asc, count, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import { maskKey, type SecretBox } from '../../crypto/secret-box.js';
import type { DbOrTx } from '../client.js';
import { webhookDeliveries, webhookDeliveryAttempts, webhookEndpoints } from '../schema.js';

/** A stored endpoint: the signing secret is ciphertext here. */
export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
export type WebhookDeliveryAttemptRow = typeof webhookDeliveryAttempts.$inferSelect;
export type WebhookDeliveryStatus = WebhookDeliveryRow['status'];

export interface WebhookEndpointInput {
  url: string;
  /** Outgoing event types (`email.opened`, …); empty means every type. */
  events?: string[];
  description?: string | null;
  enabled?: boolean;
}

/** `undefined` = leave as is. */
export type WebhookEndpointPatch = Partial<WebhookEndpointInput>;

/** What the API shows. `secret` is the full `whsec_…` only in the answer that created it; masked elsewhere. */
export interface WebhookEndpointView {
  id: number;
  url: string;
  description: string | null;
  events: string[];
  enabled: boolean;
  secret: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface WebhookDeliveryAttemptView {
  attempt: number;
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
  durationMs: number;
  createdAt: Date;
}

/** One delivery in the log, with every HTTP attempt made for it, oldest first. */
export interface WebhookDeliveryView {
  id: number;
  endpointId: number;
  messageId: string;
  eventType: string;
  status: WebhookDeliveryStatus;
  attemptCount: number;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  payload: Record<string, unknown>;
  attempts: WebhookDeliveryAttemptView[];
  createdAt: Date;
  updatedAt: Date;
}

/** Bytes of HMAC key behind a new secret: 256 bits, inside Standard Webhooks' 24–64 byte range. */
const SECRET_BYTES = 32;

/** A new signing secret in the Standard Webhooks format: `whsec_` + base64 of random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(SECRET_BYTES).toString('base64')}`;
}

// Bound to the site (AES-GCM associated data): ciphertext copied into another site's row does not open.
const secretContext = (siteId: number) => `site:${siteId}:webhook-endpoint:secret`;

const bySite = (siteId: number, id: number) => and(eq(webhookEndpoints.siteId, siteId), eq(webhookEndpoints.id, id))!;

/** Creates an endpoint with a fresh secret; returns the row and the secret in clear (shown once). */
export async function createWebhookEndpoint(
  db: DbOrTx,
  secretBox: SecretBox,
  siteId: number,
  input: WebhookEndpointInput,
): Promise<{ endpoint: WebhookEndpointRow; secret: string }> {
  const secret = generateWebhookSecret();
  const [endpoint] = await db
    .insert(webhookEndpoints)
    .values({
      siteId,
      url: input.url,
      description: input.description ?? null,
      events: input.events ?? [],
      enabled: input.enabled ?? true,
      secretEncrypted: secretBox.encrypt(secret, secretContext(siteId)),
    })
    .returning();
  return { endpoint: endpoint!, secret };
}

export async function listWebhookEndpoints(
  db: DbOrTx,
  siteId: number,
  page: { limit: number; offset: number },
): Promise<{ rows: WebhookEndpointRow[]; total: number }> {
  const where = eq(webhookEndpoints.siteId, siteId);
  const [rows, [totals]] = await Promise.all([
    db.select().from(webhookEndpoints).where(where).orderBy(asc(webhookEndpoints.id)).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(webhookEndpoints).where(where),
  ]);
  return { rows, total: totals?.total ?? 0 };
}

/** The site's endpoint, or null (another site's endpoint is null too). */
export async function getWebhookEndpoint(db: DbOrTx, siteId: number, id: number): Promise<WebhookEndpointRow | null> {
  const [row] = await db.select().from(webhookEndpoints).where(bySite(siteId, id));
  return row ?? null;
}

export async function updateWebhookEndpoint(
  db: DbOrTx,
  siteId: number,
  id: number,
  patch: WebhookEndpointPatch,
): Promise<WebhookEndpointRow | null> {
  const [row] = await db
    .update(webhookEndpoints)
    .set({
      url: patch.url,
      description: patch.description,
      events: patch.events,
      enabled: patch.enabled,
      updatedAt: new Date(),
    })
    .where(bySite(siteId, id))
    .returning();
  return row ?? null;
}

/** Deletes the endpoint and (cascade) its delivery log; a delivery still retrying stops at its next attempt. */
export async function deleteWebhookEndpoint(db: DbOrTx, siteId: number, id: number): Promise<boolean> {
  const rows = await db.delete(webhookEndpoints).where(bySite(siteId, id)).returning({ id: webhookEndpoints.id });
  return rows.length > 0;
}

/**
 * Replaces the signing secret at once; returns the row and the new secret in clear (shown once).
 * Deliveries still retrying are signed with the new secret from their next attempt on.
 */
export async function rotateWebhookEndpointSecret(
  db: DbOrTx,
  secretBox: SecretBox,
  siteId: number,
  id: number,
): Promise<{ endpoint: WebhookEndpointRow; secret: string } | null> {
  const secret = generateWebhookSecret();
  const [endpoint] = await db
    .update(webhookEndpoints)
    .set({ secretEncrypted: secretBox.encrypt(secret, secretContext(siteId)), updatedAt: new Date() })
    .where(bySite(siteId, id))
    .returning();
  return endpoint ? { endpoint, secret } : null;
}

/** The signing secret in clear, for the delivery activity. Throws SecretBoxError under another TIDINGS_SECRET. */
export function openWebhookSecret(secretBox: SecretBox, endpoint: WebhookEndpointRow): string {
  return secretBox.decrypt<string>(endpoint.secretEncrypted, secretContext(endpoint.siteId));
}

/** The API shape; `secret` given only right after creation or rotation, else masked (`whsec_****abcd`). */
export function toWebhookEndpointView(row: WebhookEndpointRow, secretBox: SecretBox, secret?: string): WebhookEndpointView {
  let shown = secret;
  if (shown === undefined) {
    try {
      shown = maskKey(openWebhookSecret(secretBox, row));
    } catch {
      // Saved under another TIDINGS_SECRET: still listed, so the user can rotate it.
      shown = 'whsec_****';
    }
  }
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    enabled: row.enabled,
    secret: shown,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** The site's enabled endpoints subscribed to `eventType` (an empty filter subscribes to everything). */
export async function endpointsForEvent(db: DbOrTx, siteId: number, eventType: string): Promise<WebhookEndpointRow[]> {
  return db
    .select()
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.siteId, siteId),
        eq(webhookEndpoints.enabled, true),
        sql`(jsonb_array_length(${webhookEndpoints.events}) = 0 or ${webhookEndpoints.events} ? ${eventType})`,
      ),
    )
    .orderBy(asc(webhookEndpoints.id));
}

export interface NewWebhookDelivery {
  siteId: number;
  endpointId: number;
  messageId: string;
  eventType: string;
  payload: Record<string, unknown>;
  workflowId: (deliveryId: number) => string;
}

/**
 * Records one message for one endpoint, idempotently on (endpoint, messageId): a second call returns
 * the first row (`created: false`) untouched, whatever its status. The workflow id is derived from
 * the row id, so it is written in the same statement that takes the id.
 */
export async function insertWebhookDelivery(
  db: DbOrTx,
  input: NewWebhookDelivery,
): Promise<{ delivery: WebhookDeliveryRow; created: boolean }> {
  const { rows } = await db.execute<{ id: number }>(sql`select nextval(pg_get_serial_sequence('webhook_deliveries', 'id'))::int as id`);
  const id = rows[0]!.id;
  const [inserted] = await db
    .insert(webhookDeliveries)
    .values({
      id,
      siteId: input.siteId,
      endpointId: input.endpointId,
      messageId: input.messageId,
      eventType: input.eventType,
      payload: input.payload,
      workflowId: input.workflowId(id),
    })
    .onConflictDoNothing({ target: [webhookDeliveries.endpointId, webhookDeliveries.messageId] })
    .returning();
  if (inserted) return { delivery: inserted, created: true };
  const [existing] = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.endpointId, input.endpointId), eq(webhookDeliveries.messageId, input.messageId)));
  return { delivery: existing!, created: false };
}

/** Deliveries still `pending` that were created before `before`, oldest first (to restart lost workflows). */
export async function pendingWebhookDeliveries(db: DbOrTx, before: Date, limit: number): Promise<WebhookDeliveryRow[]> {
  return db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.status, 'pending'), lt(webhookDeliveries.createdAt, before)))
    .orderBy(asc(webhookDeliveries.id))
    .limit(limit);
}

/** A delivery with its endpoint, by id alone (the workflow knows only the id); null once the endpoint is deleted. */
export async function loadWebhookDelivery(
  db: DbOrTx,
  deliveryId: number,
): Promise<{ delivery: WebhookDeliveryRow; endpoint: WebhookEndpointRow } | null> {
  const [row] = await db
    .select({ delivery: webhookDeliveries, endpoint: webhookEndpoints })
    .from(webhookDeliveries)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(eq(webhookDeliveries.id, deliveryId));
  return row ?? null;
}

export interface AttemptRecord {
  deliveryId: number;
  attempt: number;
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
  durationMs: number;
  /** Where the delivery stands after this attempt. */
  status: WebhookDeliveryStatus;
}

/**
 * Writes one attempt to the log and the delivery's summary, in one transaction. The attempt is unique
 * per (delivery, attempt number), so an activity retried after it wrote leaves one row; the delivery
 * never goes back from a final status. False when the delivery no longer exists (endpoint deleted).
 */
export async function recordWebhookAttempt(db: DbOrTx, record: AttemptRecord): Promise<boolean> {
  return db.transaction(async (tx) => {
    // Locked first: an endpoint deleted during the request took the delivery with it (nothing to record).
    const [delivery] = await tx
      .select({ id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.id, record.deliveryId))
      .for('update');
    if (!delivery) return false;
    await tx
      .insert(webhookDeliveryAttempts)
      .values({
        deliveryId: record.deliveryId,
        attempt: record.attempt,
        statusCode: record.statusCode,
        error: record.error,
        responseBody: record.responseBody,
        durationMs: record.durationMs,
      })
      .onConflictDoNothing({ target: [webhookDeliveryAttempts.deliveryId, webhookDeliveryAttempts.attempt] });
    const now = new Date();
    await tx
      .update(webhookDeliveries)
      .set({
        attempts: sql`greatest(${webhookDeliveries.attempts}, ${record.attempt})`,
        lastStatusCode: record.statusCode,
        lastError: record.error,
        status: record.status,
        ...(record.status === 'succeeded' ? { deliveredAt: now } : {}),
        updatedAt: now,
      })
      .where(and(eq(webhookDeliveries.id, record.deliveryId), eq(webhookDeliveries.status, 'pending')));
    return true;
  });
}

/** Ends a pending delivery as failed (retries exhausted, endpoint disabled); a settled one is left alone. */
export async function failWebhookDelivery(db: DbOrTx, deliveryId: number, reason: string): Promise<WebhookDeliveryRow | null> {
  await db
    .update(webhookDeliveries)
    .set({ status: 'failed', lastError: reason, updatedAt: new Date() })
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.status, 'pending')));
  const [row] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, deliveryId));
  return row ?? null;
}

/** Turns an endpoint off (410 Gone): no new deliveries, and retrying ones stop at their next attempt. */
export async function disableWebhookEndpoint(db: DbOrTx, endpointId: number): Promise<void> {
  await db.update(webhookEndpoints).set({ enabled: false, updatedAt: new Date() }).where(eq(webhookEndpoints.id, endpointId));
}

/** The endpoint's delivery log, newest first, each delivery with its attempts; optionally one status only. */
export async function listWebhookDeliveries(
  db: DbOrTx,
  endpointId: number,
  filter: { status?: WebhookDeliveryStatus },
  page: { limit: number; offset: number },
): Promise<{ rows: WebhookDeliveryView[]; total: number }> {
  const where = and(
    eq(webhookDeliveries.endpointId, endpointId),
    filter.status ? eq(webhookDeliveries.status, filter.status) : undefined,
  );
  const [deliveries, [totals]] = await Promise.all([
    db.select().from(webhookDeliveries).where(where).orderBy(desc(webhookDeliveries.id)).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(webhookDeliveries).where(where),
  ]);
  const attempts = deliveries.length
    ? await db
        .select()
        .from(webhookDeliveryAttempts)
        .where(
          inArray(
            webhookDeliveryAttempts.deliveryId,
            deliveries.map((d) => d.id),
          ),
        )
        .orderBy(asc(webhookDeliveryAttempts.deliveryId), asc(webhookDeliveryAttempts.attempt))
    : [];
  const byDelivery = new Map<number, WebhookDeliveryAttemptRow[]>();
  for (const a of attempts) byDelivery.set(a.deliveryId, [...(byDelivery.get(a.deliveryId) ?? []), a]);
  return { rows: deliveries.map((d) => toDeliveryView(d, byDelivery.get(d.id) ?? [])), total: totals?.total ?? 0 };
}

export function toDeliveryView(row: WebhookDeliveryRow, attempts: WebhookDeliveryAttemptRow[] = []): WebhookDeliveryView {
  return {
    id: row.id,
    endpointId: row.endpointId,
    messageId: row.messageId,
    eventType: row.eventType,
    status: row.status,
    attemptCount: row.attempts,
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    deliveredAt: row.deliveredAt,
    payload: row.payload,
    attempts: attempts.map((a) => ({
      attempt: a.attempt,
      statusCode: a.statusCode,
      error: a.error,
      responseBody: a.responseBody,
      durationMs: a.durationMs,
      createdAt: a.createdAt,
    })),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
