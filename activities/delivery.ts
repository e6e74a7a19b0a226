import { ApplicationFailure } from '@temporalio/common';
import type { SecretBox } from '../src/crypto/secret-box.js';
import type { Db } from '../src/db/client.js';
import { getContactStatus } from '../src/db/repositories/contacts.js';
import { reserveSendSlots } from '../src/db/repositories/rate-limit.js';
import { getSendById, incrementSendAttempts, markSendFailed, markSendSent, markSendSuppressed, type SendRow } from '../src/db/repositories/sends.js';
import { suppressedEmails } from '../src/db/repositories/suppressions.js';
import { DELIVERY_FAILURES, type DeliveryResult } from '../src/domain/delivery.js';
import { sendMessage } from '../src/mail/campaign-copy.js';
import type { Mailers } from '../src/mail/from-config.js';
import { describeOutcome } from '../src/mail/mailer.js';
import type { Logger } from '../src/logger.js';
import { createMailerResolver, outgoingEmail } from './mailer.js';
import { permanent, realClock, withHeartbeats, type Clock } from './support.js';

export interface DeliveryDeps {
  db: Db;
  /** Opens the stored provider credentials; without it every delivery fails as unusable credentials. */
  secretBox?: SecretBox;
  mailers: Mailers;
  logger: Logger;
  clock?: Clock;
}

/** How often a running delivery tells Temporal it is alive (the workflows' heartbeat timeout is 20 s). */
const HEARTBEAT_EVERY_MS = 5_000;

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
    const contact = await getContactStatus(db, send.siteId, send.contactId);
    const stops = contact && (contact.status === 'bounced' || contact.status === 'complained' || (contact.status === 'unsubscribed' && send.kind !== 'transactional'));
    if (stops) return `contact ${send.contactId} is ${contact.status}`;
  }
  return null;
}

/**
 * Activities that deliver one row of the send log through its sending config: each transactional
 * send and each sequence step (campaigns deliver whole batches, see campaign.ts), all through the same
 * per-config rate limit. Safe to run again at any point: a settled send is a no-op and the provider sees the same
 * idempotency key on every attempt.
 */
export function createDeliveryActivities({ db, secretBox, mailers, logger, clock = realClock }: DeliveryDeps) {
  const log = logger.child({ component: 'delivery' });
  const mailerFor = createMailerResolver({ db, secretBox, mailers });

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
        const send = await getSendById(db, input.sendId);
        if (!send) throw permanent(DELIVERY_FAILURES.sendNotFound, `Send ${input.sendId} does not exist`);
        if (send.status !== 'queued') {
          return { sendId: send.id, status: send.status, providerMessageId: send.providerMessageId, error: send.error, alreadySettled: true };
        }
        // Independent reads and the attempt count in parallel: a delivery's latency is mostly round trips.
        const [attempt, suppressed, resolved] = await Promise.all([
          incrementSendAttempts(db, send.id),
          suppressionReason(db, send),
          mailerFor(send.sendingConfigId).then(
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

        // Transactional and sequence sends store their body, and the purge leaves queued sends alone.
        const message = sendMessage(send, null, undefined);
        if (!message) throw new Error(`Send ${send.id} is queued but has lost its message`);
        const outcome = await mailer.send(outgoingEmail(send, message, config));
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
              type: DELIVERY_FAILURES.rateLimited,
              message: describeOutcome(outcome),
              // Overrides the backoff for this retry only: the provider said when it will take more.
              nextRetryDelay: Math.max(1, outcome.retryAfterMs),
            });
          case 'transient':
            slog.warn({ reason: outcome.message }, 'provider unavailable; will retry');
            throw ApplicationFailure.create({ type: DELIVERY_FAILURES.providerUnavailable, message: describeOutcome(outcome) });
          case 'invalid_recipient':
          case 'rejected':
          case 'auth_failed': {
            const error = describeOutcome(outcome);
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
      const send = await getSendById(db, input.sendId);
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

export type DeliveryActivities = ReturnType<typeof createDeliveryActivities>;
