import type { LookupAddress } from 'node:dns';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { Webhook } from 'standardwebhooks';
import type { SecretBox } from '../src/crypto/secret-box.js';
import type { Db } from '../src/db/client.js';
import {
  disableWebhookEndpoint,
  failWebhookDelivery,
  loadWebhookDelivery,
  openWebhookSecret,
  pendingWebhookDeliveries,
  recordWebhookAttempt,
  type WebhookDeliveryRow,
  type WebhookDeliveryStatus,
} from '../src/db/repositories/webhook-endpoints.js';
import type { Logger } from '../src/logger.js';
import { checkedLookup, postOnce, RefusedAddressError, systemResolver } from '../src/net/checked-http.js';
import { permanent } from './support.js';

export interface WebhookDeliveryDeps {
  db: Db;
  logger: Logger;
  /** Opens the endpoints' signing secrets; without it every delivery fails at once (nothing can be signed). */
  secretBox?: SecretBox;
  /**
   * Connect only to public addresses, as endpoint create and update require in production: each attempt
   * resolves the receiver's name once, refuses it if any answer is private or reserved, and connects to
   * a checked answer, so a name re-pointed at the server's own network after it was checked (DNS
   * rebinding) is never reached. Defaults to NODE_ENV=production, the API's rule for the same check.
   */
  publicAddressesOnly?: boolean;
  /** Resolves a receiver's host name to all its addresses; defaults to the system resolver (tests inject one). */
  resolveHost?: (hostname: string) => Promise<LookupAddress[]>;
}

/** Where a delivery ended; `skipped` when its endpoint was deleted (and the log with it). */
export interface WebhookDeliveryResult {
  deliveryId: number;
  status: Exclude<WebhookDeliveryStatus, 'pending'> | 'skipped';
  attempts: number;
  lastStatusCode: number | null;
  error: string | null;
}

/** A receiver must answer within this; a slower one counts as a failed attempt and is retried. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** How much of the receiver's answer the delivery log keeps. */
const RESPONSE_BODY_LIMIT = 1024;
/** A receiver's Retry-After is honoured up to the retry policy's longest interval. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;
const USER_AGENT = 'Tidings-Webhooks/1';

/** Activity failure type of an attempt worth retrying (5xx, 4xx other than 410, network error, timeout). */
export const WEBHOOK_ATTEMPT_FAILED = 'WebhookAttemptFailed';

/** The Temporal attempt number (1, 2, …): it keys the log row, so a re-run of the same attempt writes once. */
function currentAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1; // called directly, outside a worker
  }
}

/** Retry-After in ms (seconds or an HTTP date), capped; undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    // The request's timeout signal aborts it with an AbortError.
    if (err.name === 'AbortError' || err.name === 'TimeoutError') return `no answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`;
    return err.message;
  }
  return String(err);
}

/** The exact bytes sent and signed: the stored payload with its top-level keys in spec order. */
function bodyOf(delivery: WebhookDeliveryRow): string {
  const { type, timestamp, data, ...rest } = delivery.payload;
  return JSON.stringify({ type, timestamp, data, ...rest });
}

function resultOf(delivery: WebhookDeliveryRow): WebhookDeliveryResult {
  return {
    deliveryId: delivery.id,
    status: delivery.status === 'pending' ? 'failed' : delivery.status,
    attempts: delivery.attempts,
    lastStatusCode: delivery.lastStatusCode,
    error: delivery.lastError,
  };
}

/** Activities of the outgoing webhook delivery workflow. */
export function createWebhookDeliveryActivities(deps: WebhookDeliveryDeps) {
  const { db, logger } = deps;
  const publicOnly = deps.publicAddressesOnly ?? process.env.NODE_ENV === 'production';
  const lookup = checkedLookup(deps.resolveHost ?? systemResolver, publicOnly);

  return {
    /**
     * One HTTP attempt of a delivery: POSTs the payload signed with the endpoint's current secret
     * (`webhook-id` = the message id, the same on every attempt; `webhook-timestamp` = now), records
     * the attempt, and returns once the delivery is settled: 2xx → succeeded; 410 Gone → failed and the
     * endpoint disabled; a private or reserved receiver address (when `publicAddressesOnly`) → failed,
     * not sent. Any other answer or a network error throws a retryable failure, so Temporal
     * retries with the workflow's backoff (or the receiver's Retry-After). A delivery already settled,
     * or whose endpoint was disabled or deleted meanwhile, is not sent again.
     */
    async deliverWebhook({ deliveryId }: { deliveryId: number }): Promise<WebhookDeliveryResult> {
      const loaded = await loadWebhookDelivery(db, deliveryId);
      if (!loaded) {
        return { deliveryId, status: 'skipped', attempts: 0, lastStatusCode: null, error: 'the endpoint was deleted' };
      }
      const { delivery, endpoint } = loaded;
      if (delivery.status !== 'pending') return resultOf(delivery);
      if (!endpoint.enabled) {
        return resultOf((await failWebhookDelivery(db, deliveryId, 'the endpoint is disabled'))!);
      }
      if (!deps.secretBox) {
        throw permanent('WebhookSecretUnavailable', 'TIDINGS_SECRET is not set on the worker, so the webhook cannot be signed');
      }
      let secret: string;
      try {
        secret = openWebhookSecret(deps.secretBox, endpoint);
      } catch (err) {
        throw permanent('WebhookSecretUnavailable', `${errorMessage(err)}; rotate the endpoint's secret`);
      }

      const attempt = currentAttempt();
      const body = bodyOf(delivery);
      const now = new Date();
      const headers = {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'webhook-id': delivery.messageId,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': new Webhook(secret).sign(delivery.messageId, now, body),
      };

      const started = performance.now();
      let statusCode: number | null = null;
      let responseBody: string | null = null;
      let error: string | null = null;
      let retryAfter: number | undefined;
      let refused = false;
      try {
        const res = await postOnce(endpoint.url, headers, body, { lookup, publicOnly, timeoutMs: WEBHOOK_TIMEOUT_MS, bodyLimit: RESPONSE_BODY_LIMIT });
        statusCode = res.status;
        responseBody = res.body;
        if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
        if (res.status === 429 || res.status === 503) retryAfter = retryAfterMs(res.retryAfter);
      } catch (err) {
        refused = err instanceof RefusedAddressError;
        error = refused ? `refused: ${errorMessage(err)} (NODE_ENV=production allows only public receivers)` : errorMessage(err);
      }
      const durationMs = Math.round(performance.now() - started);

      const succeeded = statusCode !== null && statusCode >= 200 && statusCode < 300;
      const gone = statusCode === 410;
      const status: WebhookDeliveryStatus = succeeded ? 'succeeded' : gone || refused ? 'failed' : 'pending';
      if (!(await recordWebhookAttempt(db, { deliveryId, attempt, statusCode, error, responseBody, durationMs, status }))) {
        return { deliveryId, status: 'skipped', attempts: attempt, lastStatusCode: statusCode, error: 'the endpoint was deleted' };
      }
      const log = { deliveryId, endpointId: endpoint.id, messageId: delivery.messageId, attempt, statusCode, durationMs };

      if (succeeded) {
        logger.debug(log, 'webhook delivered');
        return { deliveryId, status: 'succeeded', attempts: attempt, lastStatusCode: statusCode, error: null };
      }
      if (gone) {
        // 410 says the receiver is gone for good: stop this delivery and every future one until re-enabled.
        await disableWebhookEndpoint(db, endpoint.id);
        logger.warn(log, 'webhook endpoint answered 410 Gone; endpoint disabled');
        return { deliveryId, status: 'failed', attempts: attempt, lastStatusCode: statusCode, error };
      }
      if (refused) {
        // The same name would resolve the same way on a retry; the endpoint stays enabled, as its URL may
        // be fixed in DNS: every later delivery is checked again.
        logger.warn({ ...log, error }, 'webhook receiver address refused; delivery failed');
        return { deliveryId, status: 'failed', attempts: attempt, lastStatusCode: null, error };
      }
      logger.warn({ ...log, error }, 'webhook attempt failed; will retry');
      throw ApplicationFailure.create({
        type: WEBHOOK_ATTEMPT_FAILED,
        message: error ?? `HTTP ${statusCode}`,
        // Expected while a receiver is down: logged once above, not again with a stack by the SDK.
        category: ApplicationFailureCategory.BENIGN,
        ...(retryAfter !== undefined ? { nextRetryDelay: retryAfter } : {}),
      });
    },

    /**
     * Deliveries still pending a while after they were staged: their workflow most likely never
     * started (Temporal was unreachable right after the event's commit). The relay starts them.
     */
    async strandedWebhookDeliveries({ olderThanMs, limit }: { olderThanMs: number; limit: number }): Promise<{ deliveryId: number; siteId: number }[]> {
      const rows = await pendingWebhookDeliveries(db, new Date(Date.now() - olderThanMs), limit);
      return rows.map((r) => ({ deliveryId: r.id, siteId: r.siteId }));
    },

    /** Records that the retries ran out (or the delivery could not be signed); a settled delivery is left alone. */
    async giveUpWebhookDelivery({ deliveryId, reason }: { deliveryId: number; reason: string }): Promise<WebhookDeliveryResult> {
      const loaded = await loadWebhookDelivery(db, deliveryId);
      if (!loaded) return { deliveryId, status: 'skipped', attempts: 0, lastStatusCode: null, error: 'the endpoint was deleted' };
      const attempts = loaded.delivery.attempts;
      const row = await failWebhookDelivery(db, deliveryId, attempts > 0 ? `gave up after ${attempts} attempts; last: ${reason}` : reason);
      logger.warn({ deliveryId, attempts, reason }, 'webhook delivery failed');
      return resultOf(row!);
    },
  };
}

export type WebhookDeliveryActivities = ReturnType<typeof createWebhookDeliveryActivities>;
