import {
  errorMessage,
  formatAddress,
  sha256Hex,
  type Mailer,
  type MailerCapabilities,
  type OutgoingEmail,
  type SendOutcome,
} from './mailer.js';

/** One message the log provider "sent": everything a real provider would have received. */
export interface LoggedEmail {
  providerMessageId: string;
  /** The From header as a provider would have put it, e.g. `Acme <hello@acme.test>`. */
  from: string;
  message: OutgoingEmail;
}

/**
 * Receives each logged message. The caller persists it (the send log row holds the rendered message);
 * a sink that throws makes the send `transient`, so the activity retries it like a provider outage.
 */
export type LogSink = (email: LoggedEmail) => void | Promise<void>;

export interface LogMailerOptions {
  sink?: LogSink;
}

export const logCapabilities: MailerCapabilities = { batch: true, maxBatchSize: 100, webhooks: false };

/** The id the log provider gives a message: stable per idempotency key, so a retry looks the same. */
export function logMessageId(idempotencyKey: string): string {
  return `log_${sha256Hex(idempotencyKey).slice(0, 32)}`;
}

/** A Mailer that delivers nothing and records every message: the no-account default of a new install. */
export function createLogMailer(options: LogMailerOptions = {}): Mailer {
  const sink = options.sink ?? (() => {});

  async function send(message: OutgoingEmail): Promise<SendOutcome> {
    const providerMessageId = logMessageId(message.idempotencyKey);
    try {
      await sink({ providerMessageId, from: formatAddress(message.from), message });
      return { kind: 'sent', providerMessageId };
    } catch (err) {
      return { kind: 'transient', message: `log sink failed: ${errorMessage(err)}` };
    }
  }

  return {
    provider: 'log',
    capabilities: logCapabilities,
    send,
    async sendBatch(messages) {
      const outcomes: SendOutcome[] = [];
      for (const message of messages) outcomes.push(await send(message));
      return outcomes;
    },
    async verify() {
      return { ok: true, message: 'The log provider needs no credentials; it records messages and sends nothing' };
    },
    async close() {},
  };
}
