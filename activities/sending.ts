import { ApplicationFailure } from '@temporalio/common';
import { and, eq } from 'drizzle-orm';
import { ZodError } from 'zod';
import { SecretBoxError, type SecretBox } from '../src/crypto/secret-box.js';
import type { Db } from '../src/db/client.js';
import { reserveSendSlots } from '../src/db/repositories/rate-limit.js';
import { loadSendingConfigWithCredentials } from '../src/db/repositories/sending-configs.js';
import { incrementSendAttempts, markSendFailed, markSendSent, type SendRow } from '../src/db/repositories/sends.js';
import { suppressedEmails } from '../src/db/repositories/suppressions.js';
import { contacts, sends } from '../src/db/schema.js';
import { SENDING_FAILURES, type DeliveryResult } from '../src/domain/sending.js';
import type { Mailers } from '../src/mail/from-config.js';
import type { Mailer, OutgoingEmail, SendOutcome } from '../src/mail/mailer.js';
import type { Logger } from '../src/logger.js';
import { permanent, realClock, withHeartbeats, type Clock } from './support.js';

export interface SendingDeps {
  db: Db;
  /** Opens the stored provider credentials; without it every delivery fails as unusable credentials. */
  secretBox?: SecretBox;
  mailers: Mailers;
  logger: Logger;
  clock?: Clock;
}

/** How often a running delivery tells Temporal it is alive (the workflows' heartbeat timeout is 20 s). */
const HEARTBEAT_EVERY_MS = 5_000;

// Reads by id alone: the workflow knows only the send id (the row carries its site).
async function loadSend(db: Db, id: number): Promise<SendRow | null> {
  const [row] = await db.select().from(sends).where(eq(sends.id, id));
  return row ?? null;
}

/** A queued send whose recipient became suppressed before delivery; a send already settled is left alone. */
async function markSendSuppressed(db: Db, id: number, reason: string): Promise<void> {
  await db
    .update(sends)
    .set({ status: 'suppressed', error: reason, updatedAt: new Date() })
    .where(and(eq(sends.id, id), eq(sends.status, 'queued')));
}

/**
 * Why this send must not go out now, or null. The API checked at request time; this catches a
 * bounce, complaint, unsubscribe or manual suppression that arrived while the send waited for a
 * retry. Every address on the message counts (cc and bcc too). An unsubscribe stops marketing mail
 * only: transactional mail (a password reset) still reaches an unsubscribed contact.
 */
async function suppressionReason(db: Db, send: SendRow): Promise<string | null> {
  const addresses = [send.toEmail, ...(send.cc ?? []), ...(send.bcc ?? [])];
  const suppressed = await suppressedEmails(db, send.siteId, addresses);
  if (suppressed.size > 0) return `${[...suppressed].join(', ')} ${suppressed.size === 1 ? 'is' : 'are'} on the suppression list`;
  if (send.contactId !== null) {
    const [contact] = await db
      .select({ status: contacts.status })
      .from(contacts)
      .where(and(eq(contacts.id, send.contactId), eq(contacts.siteId, send.siteId)));
    const stops = contact && (contact.status === 'bounced' || contact.status === 'complained' || (contact.status === 'unsubscribed' && send.kind !== 'transactional'));
    if (stops) return `contact ${send.contactId} is ${contact.status}`;
  }
  return null;
}

function outgoing(send: SendRow, config: { fromEmail: string; fromName: string | null; replyTo: string | null }): OutgoingEmail {
  const replyTo = send.replyTo ?? config.replyTo;
  return {
    from: { email: config.fromEmail, name: config.fromName },
    to: send.toEmail,
    ...(send.cc?.length ? { cc: send.cc } : {}),
    ...(send.bcc?.length ? { bcc: send.bcc } : {}),
    ...(replyTo ? { replyTo } : {}),
    subject: send.subject,
    html: send.html,
    text: send.text,
    ...(send.headers && Object.keys(send.headers).length ? { headers: send.headers } : {}),
    // The provider deduplicates on it: a retry after an unknown outcome (a worker killed between the
    // provider's answer and our write) replays the first acceptance instead of sending again.
    idempotencyKey: send.idempotencyKey,
  };
}

function describe(outcome: Exclude<SendOutcome, { kind: 'sent' }>): string {
  return outcome.message ? `${outcome.kind}: ${outcome.message}` : outcome.kind;
}

/**
 * Activities that deliver one row of the send log through its sending config. Used by transactional
 * sends today and by campaigns and sequences later; every kind goes through the same per-config rate
 * limit. Safe to run again at any point: a settled send is a no-op and the provider sees the same
 * idempotency key on every attempt.
 */
export function createSendingActivities({ db, secretBox, mailers, logger, clock = realClock }: SendingDeps) {
  const log = logger.child({ component: 'sending' });

  async function mailerFor(send: SendRow): Promise<{ mailer: Mailer; config: { fromEmail: string; fromName: string | null; replyTo: string | null; maxPerSecond: number | null; id: number } }> {
    if (!secretBox) {
      throw permanent(SENDING_FAILURES.credentialsUnusable, 'This worker has no TIDINGS_SECRET, so it cannot open sending-config credentials');
    }
    let loaded;
    try {
      loaded = await loadSendingConfigWithCredentials(db, secretBox, send.sendingConfigId);
    } catch (err) {
      if (err instanceof SecretBoxError) {
        throw permanent(SENDING_FAILURES.credentialsUnusable, `Sending config ${send.sendingConfigId}: ${err.message}`);
      }
      throw err;
    }
    if (!loaded) throw permanent(SENDING_FAILURES.configNotFound, `Sending config ${send.sendingConfigId} does not exist`);
    try {
      return { mailer: mailers.forConfig(loaded), config: loaded.config };
    } catch (err) {
      if (err instanceof ZodError) {
        throw permanent(SENDING_FAILURES.credentialsUnusable, `Sending config ${send.sendingConfigId} has invalid credentials: ${err.message}`);
      }
      throw err;
    }
  }

  return {
    /**
     * Delivers a queued send once: re-checks suppression, takes a slot of the config's rate limit,
     * hands the message to the provider and records the outcome. Provider throttling and outages throw
     * retryable failures (a 429 carries the provider's retry-after as `nextRetryDelay`); a refusal that
     * retrying cannot change (bad recipient, rejected message, bad credentials) is recorded as failed
     * and returned, so it is attempted exactly once.
     */
    async deliverSend(input: { sendId: number }): Promise<DeliveryResult> {
      return withHeartbeats(HEARTBEAT_EVERY_MS, async () => {
        const send = await loadSend(db, input.sendId);
        if (!send) throw permanent(SENDING_FAILURES.sendNotFound, `Send ${input.sendId} does not exist`);
        if (send.status !== 'queued') {
          return { sendId: send.id, status: send.status, providerMessageId: send.providerMessageId, error: send.error, alreadySettled: true };
        }
        // Independent reads and the attempt count in parallel: a delivery's latency is mostly round trips.
        const [attempt, suppressed, resolved] = await Promise.all([
          incrementSendAttempts(db, send.id),
          suppressionReason(db, send),
          mailerFor(send).then(
            (value) => ({ value }),
            (error: unknown) => ({ error }),
          ),
        ]);
        const slog = log.child({ sendId: send.id, attempt });
        if (suppressed) {
          await markSendSuppressed(db, send.id, suppressed);
          slog.info({ reason: suppressed }, 'send suppressed before delivery');
          return { sendId: send.id, status: 'suppressed', error: suppressed };
        }
        if ('error' in resolved) throw resolved.error;
        const { mailer, config } = resolved.value;
        if (config.maxPerSecond) {
          const waitMs = await reserveSendSlots(db, config.id, config.maxPerSecond);
          if (waitMs > 0) await clock.sleep(waitMs);
        }

        const outcome = await mailer.send(outgoing(send, config));
        switch (outcome.kind) {
          case 'sent': {
            const row = await markSendSent(db, send.id, outcome.providerMessageId);
            slog.info({ providerMessageId: outcome.providerMessageId, provider: mailer.provider }, 'send accepted by provider');
            const status = row && row.status !== 'queued' ? row.status : 'sent';
            return { sendId: send.id, status, providerMessageId: row?.providerMessageId ?? outcome.providerMessageId };
          }
          case 'rate_limited':
            slog.warn({ retryAfterMs: outcome.retryAfterMs }, 'provider rate limited the send');
            throw ApplicationFailure.create({
              type: SENDING_FAILURES.rateLimited,
              message: describe(outcome),
              // Overrides the backoff for this retry only: the provider said when it will take more.
              nextRetryDelay: Math.max(1, outcome.retryAfterMs),
            });
          case 'transient':
            slog.warn({ reason: outcome.message }, 'provider unavailable; will retry');
            throw ApplicationFailure.create({ type: SENDING_FAILURES.providerUnavailable, message: describe(outcome) });
          case 'invalid_recipient':
          case 'rejected':
          case 'auth_failed': {
            const error = describe(outcome);
            await markSendFailed(db, send.id, error);
            slog.warn({ reason: error }, 'provider refused the send for good');
            return { sendId: send.id, status: 'failed', error };
          }
          default: {
            const unknown: never = outcome;
            throw new Error(`Unknown send outcome ${JSON.stringify(unknown)}`);
          }
        }
      });
    },

    /**
     * Records that delivery was given up (retries exhausted, or a permanent failure thrown before the
     * provider was asked). A send the provider accepted meanwhile keeps its status.
     */
    async failSend(input: { sendId: number; reason: string }): Promise<DeliveryResult> {
      const send = await loadSend(db, input.sendId);
      if (!send) return { sendId: input.sendId, status: 'failed', error: input.reason };
      const error = send.attempts > 1 ? `${input.reason} (gave up after ${send.attempts} attempts)` : input.reason;
      const failed = await markSendFailed(db, send.id, error);
      if (!failed) {
        return { sendId: send.id, status: send.status === 'queued' ? 'failed' : send.status, providerMessageId: send.providerMessageId, error: send.error, alreadySettled: true };
      }
      log.warn({ sendId: send.id, reason: error }, 'send failed');
      return { sendId: send.id, status: 'failed', error };
    },
  };
}

export type SendingActivities = ReturnType<typeof createSendingActivities>;
