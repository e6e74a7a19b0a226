import { ZodError } from 'zod';
import { SecretBoxError, type SecretBox } from '../src/crypto/secret-box.js';
import type { Db } from '../src/db/client.js';
import { loadSendingConfigWithCredentials, type SendingConfigRow } from '../src/db/repositories/sending-configs.js';
import type { SendRow } from '../src/db/repositories/sends.js';
import { DELIVERY_FAILURES } from '../src/domain/delivery.js';
import type { SendContent } from '../src/mail/compose.js';
import type { Mailers } from '../src/mail/from-config.js';
import type { Mailer, OutgoingEmail } from '../src/mail/mailer.js';
import { permanent } from './support.js';

export interface MailerDeps {
  db: Db;
  /** Opens the stored provider credentials; without it every delivery fails as unusable credentials. */
  secretBox?: SecretBox;
  mailers: Mailers;
}

/**
 * The mailer of a sending config for every kind of mail (transactional, campaign, sequence), with the
 * config it was built from. Anything no retry can fix (no TIDINGS_SECRET on this worker, credentials
 * sealed under another secret or no longer valid, the config deleted) is a permanent failure.
 */
export function createMailerResolver({ db, secretBox, mailers }: MailerDeps) {
  return async function mailerFor(sendingConfigId: number): Promise<{ mailer: Mailer; config: SendingConfigRow }> {
    if (!secretBox) {
      throw permanent(DELIVERY_FAILURES.credentialsUnusable, 'This worker has no TIDINGS_SECRET, so it cannot open sending-config credentials');
    }
    let loaded;
    try {
      loaded = await loadSendingConfigWithCredentials(db, secretBox, sendingConfigId);
    } catch (err) {
      if (err instanceof SecretBoxError) throw permanent(DELIVERY_FAILURES.credentialsUnusable, `Sending config ${sendingConfigId}: ${err.message}`);
      throw err;
    }
    if (!loaded) throw permanent(DELIVERY_FAILURES.configNotFound, `Sending config ${sendingConfigId} does not exist`);
    try {
      return { mailer: mailers.forConfig(loaded), config: loaded.config };
    } catch (err) {
      if (err instanceof ZodError) {
        throw permanent(DELIVERY_FAILURES.credentialsUnusable, `Sending config ${sendingConfigId} has invalid credentials: ${err.message}`);
      }
      throw err;
    }
  };
}

export type MailerFor = ReturnType<typeof createMailerResolver>;

/** The message of a send row: its addresses and idempotency key, and its content (see sendMessage). */
export function outgoingEmail(
  send: Pick<SendRow, 'toEmail' | 'cc' | 'bcc' | 'replyTo' | 'idempotencyKey'>,
  content: SendContent,
  config: Pick<SendingConfigRow, 'fromEmail' | 'fromName' | 'replyTo'>,
): OutgoingEmail {
  const replyTo = send.replyTo ?? config.replyTo;
  return {
    from: { email: config.fromEmail, name: config.fromName },
    to: send.toEmail,
    ...(send.cc?.length ? { cc: send.cc } : {}),
    ...(send.bcc?.length ? { bcc: send.bcc } : {}),
    ...(replyTo ? { replyTo } : {}),
    subject: content.subject,
    html: content.html,
    text: content.text,
    ...(content.headers && Object.keys(content.headers).length ? { headers: content.headers } : {}),
    // The provider deduplicates on it: a retry after an unknown outcome (a worker killed between the
    // provider's answer and our write) replays the first acceptance instead of sending again.
    idempotencyKey: send.idempotencyKey,
  };
}
