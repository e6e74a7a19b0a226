import { createHash } from 'node:crypto';

/** The sender of a message: the sending config's fromEmail and fromName. */
export interface Sender {
  email: string;
  name?: string | null;
}

/** A provider tag (Resend's `tags`); name and value are ASCII letters, digits, `_` and `-`. */
export interface EmailTag {
  name: string;
  value: string;
}

/**
 * One fully rendered email, ready for a provider. `to` is a single address because one message is one
 * row of the send log; `cc`/`bcc` ride along. `idempotencyKey` comes from business identity
 * (`transactional:<sendId>`, `campaign:<id>:<contact>`) so a retried activity is a no-op at the provider.
 */
export interface OutgoingEmail {
  from: Sender;
  to: string;
  cc?: string[];
  bcc?: string[];
  replyTo?: string;
  subject: string;
  html: string;
  text: string;
  headers?: Record<string, string>;
  tags?: EmailTag[];
  idempotencyKey: string;
}

/**
 * What happened to one message, normalized across providers. Adapters return this for every provider
 * answer and every network failure; they never throw for them. The calling activity decides: `sent` is
 * recorded, `rate_limited` and `transient` are retried (the former after `retryAfterMs`),
 * `invalid_recipient` and `rejected` fail the send for good, `auth_failed` fails it and points at the
 * sending config.
 */
export type SendOutcome =
  | { kind: 'sent'; providerMessageId: string }
  | { kind: 'rate_limited'; retryAfterMs: number; message?: string }
  | { kind: 'invalid_recipient'; message: string }
  | { kind: 'auth_failed'; message: string }
  /** The provider refused this message for good for a reason other than its recipient (bad field). */
  | { kind: 'rejected'; message: string }
  | { kind: 'transient'; message: string };

export type SendOutcomeKind = SendOutcome['kind'];

/** A provider refusal or deferral as one line for the send log and the activity failure. */
export function describeOutcome(outcome: Exclude<SendOutcome, { kind: 'sent' }>): string {
  return outcome.message ? `${outcome.kind}: ${outcome.message}` : outcome.kind;
}

/** What a provider can do, shown by `GET /providers` and used to pick the batch path. */
export interface MailerCapabilities {
  /** Whether sendBatch uses one provider call for many messages (otherwise it loops). */
  batch: boolean;
  /** The most messages one provider call accepts; sendBatch splits larger inputs itself. */
  maxBatchSize: number;
  /** Whether the provider reports delivery events (delivered, bounced, …) by webhook. */
  webhooks: boolean;
}

export interface VerifyResult {
  ok: boolean;
  message: string;
}

/**
 * Sends rendered email through one provider account (one sending config).
 *
 * Constraints: implementations normalize every provider answer into a {@link SendOutcome} and never
 * throw for them (a network error is `transient`); they pass `idempotencyKey` to the provider (or, for
 * SMTP, derive the Message-ID from it) so a retry after an unknown outcome does not send twice; and
 * `sendBatch` returns exactly one outcome per input message, in input order. Rate limiting across
 * workers is the caller's job, not the adapter's.
 */
export interface Mailer {
  readonly provider: string;
  readonly capabilities: MailerCapabilities;
  send(message: OutgoingEmail): Promise<SendOutcome>;
  sendBatch(messages: OutgoingEmail[]): Promise<SendOutcome[]>;
  /** A cheap authenticated call that tells whether the credentials work. Never throws. */
  verify(): Promise<VerifyResult>;
  /** Releases pooled connections; the mailer must not be used afterwards. */
  close(): Promise<void>;
}

/**
 * Formats a sender as an RFC 5322 mailbox. The display name is quoted whenever it holds anything but
 * atom characters and spaces, so names like `Acme, Inc.` do not split into two addresses.
 */
export function formatAddress(sender: Sender): string {
  const name = sender.name?.trim();
  if (!name) return sender.email;
  if (/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/.test(name)) return `${name} <${sender.email}>`;
  return `"${name.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ')}" <${sender.email}>`;
}

/** Hex SHA-256; used for deterministic ids derived from idempotency keys. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Human text of an unknown thrown value, for `transient` outcomes. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
