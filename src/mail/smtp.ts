import {
  errorMessage,
  sha256Hex,
  type Mailer,
  type MailerCapabilities,
  type OutgoingEmail,
  type SendOutcome,
  type VerifyResult,
} from './mailer.js';
import { mapLimit } from '../concurrency.js';
import { buildMime } from './mime.js';
import { createSmtpPool } from './smtp-pool.js';

export interface SmtpMailerOptions {
  host: string;
  port: number;
  /** TLS from the first byte (port 465). Otherwise STARTTLS is used when the server offers it. */
  secure: boolean;
  user?: string;
  pass?: string;
  /** Pooled connections kept open to the server and reused for every message (default 5). */
  maxConnections?: number;
  /** Connect, greeting and socket-idle timeout; SMTP defaults are minutes, too long for an activity. */
  timeoutMs?: number;
  /** Wait suggested on a rate-limit reply that names no delay. */
  defaultRetryAfterMs?: number;
}

/** Carries the send's idempotency key so receivers and our own logs can tie a message to its send. */
export const IDEMPOTENCY_HEADER = 'X-Tidings-Idempotency-Key';

export const smtpCapabilities: MailerCapabilities = { batch: false, maxBatchSize: 1, webhooks: false };

/**
 * The Message-ID of a send, derived from its idempotency key: SMTP has no idempotent submission, so a
 * retried send re-submits the same Message-ID, which receivers and DSN bounces can deduplicate on.
 */
export function messageIdFor(idempotencyKey: string, fromEmail: string): string {
  const domain = fromEmail.split('@')[1] || 'tidings.invalid';
  return `<${sha256Hex(idempotencyKey).slice(0, 40)}@${domain}>`;
}

/** A Mailer over any SMTP server through a pool of kept connections (src/mail/smtp-pool.ts). */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const defaultRetryAfterMs = options.defaultRetryAfterMs ?? 60_000;
  const maxConnections = options.maxConnections ?? 5;
  const pool = createSmtpPool({
    host: options.host,
    port: options.port,
    secure: options.secure,
    ...(options.user ? { auth: { user: options.user, pass: options.pass ?? '' } } : {}),
    size: maxConnections,
    timeoutMs,
  });

  async function send(message: OutgoingEmail): Promise<SendOutcome> {
    try {
      const mail = toMail(message);
      const info = await pool.send(mail.envelope, mail.raw);
      // Mail to cc/bcc may go through while the primary recipient is refused; the send is about `to`.
      const to = message.to.toLowerCase();
      if (info.rejected.some((r) => r.toLowerCase() === to)) {
        const reason = info.rejectedErrors.find((e) => e.recipient?.toLowerCase() === to);
        return { kind: 'invalid_recipient', message: reason?.response ?? `${message.to} was rejected` };
      }
      return { kind: 'sent', providerMessageId: mail.messageId };
    } catch (err) {
      return classifySmtpError(err, defaultRetryAfterMs);
    }
  }

  return {
    provider: 'smtp',
    capabilities: smtpCapabilities,
    send,

    async sendBatch(messages) {
      // One SMTP transaction per message, at most `maxConnections` in flight so the pool is used
      // fully; once the server throttles or refuses our login, the rest are not attempted.
      let stop: SendOutcome | null = null;
      return mapLimit(messages, maxConnections, async (message) => {
        if (stop) return stop;
        const outcome = await send(message);
        if (outcome.kind === 'rate_limited' || outcome.kind === 'auth_failed') stop ??= outcome;
        return outcome;
      });
    },

    async verify(): Promise<VerifyResult> {
      try {
        await pool.verify();
        return { ok: true, message: `Connected to ${options.host}:${options.port}${options.user ? ' and logged in' : ''}` };
      } catch (err) {
        const outcome = classifySmtpError(err, defaultRetryAfterMs);
        const prefix = outcome.kind === 'auth_failed' ? 'SMTP login failed' : 'Could not verify the SMTP server';
        return { ok: false, message: `${prefix}: ${'message' in outcome && outcome.message ? outcome.message : outcome.kind}` };
      }
    },

    async close() {
      pool.close();
    },
  };
}

/** The envelope and the finished bytes of a message (src/mail/mime.ts), its Message-ID from the key. */
function toMail(message: OutgoingEmail) {
  const headers: Record<string, string> = { ...message.headers, [IDEMPOTENCY_HEADER]: message.idempotencyKey };
  if (message.tags?.length) headers['X-Tidings-Tags'] = message.tags.map((t) => `${t.name}=${t.value}`).join(', ');
  const messageId = messageIdFor(message.idempotencyKey, message.from.email);
  return {
    envelope: { from: message.from.email, to: [message.to, ...(message.cc ?? []), ...(message.bcc ?? [])] },
    raw: buildMime(message, { messageId, date: new Date(), headers }),
    messageId,
  };
}

interface SmtpErrorShape {
  code?: string;
  responseCode?: number;
  command?: string;
  response?: string;
  message?: string;
}

const AUTH_CODES = new Set([530, 534, 535, 538]);
const RATE_LIMIT_CODES = new Set([421, 450, 451]);
const RATE_WORDING = /\brate\b|rate.?limit|too many (?:messages|connections|mails|emails)|throttl|slow down|exceeded/i;
const CONNECTION_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'EPROXY']);

/**
 * Maps a nodemailer error to an outcome from its SMTP reply code and the command that drew it:
 * 5xx to RCPT TO is the recipient's fault, 5xx elsewhere refuses the message itself, 530/535 is the
 * login, 4xx is temporary (a rate limit when it says so), and a broken connection is transient.
 */
export function classifySmtpError(err: unknown, defaultRetryAfterMs = 60_000): SendOutcome {
  const e = (err && typeof err === 'object' ? err : {}) as SmtpErrorShape;
  const message = e.response ?? e.message ?? errorMessage(err);
  const code = e.responseCode;
  if (code !== undefined && AUTH_CODES.has(code)) return { kind: 'auth_failed', message };
  if (code !== undefined && code >= 400 && code < 500) {
    if (RATE_LIMIT_CODES.has(code) && RATE_WORDING.test(message)) {
      return { kind: 'rate_limited', retryAfterMs: delayIn(message) ?? defaultRetryAfterMs, message };
    }
    return { kind: 'transient', message };
  }
  if (code !== undefined && code >= 500) {
    // 503 is a session-state error, not a verdict on the message (RFC 5321, and nodemailer agrees).
    if (code === 503) return { kind: 'transient', message };
    if (e.command === 'RCPT TO') return { kind: 'invalid_recipient', message };
    return { kind: 'rejected', message };
  }
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH') return { kind: 'auth_failed', message };
  if (e.code === 'EENVELOPE') {
    // Refused before any reply: an address nodemailer cannot put in an envelope.
    return /sender/i.test(message) ? { kind: 'rejected', message } : { kind: 'invalid_recipient', message };
  }
  if (e.code && CONNECTION_CODES.has(e.code)) return { kind: 'transient', message };
  return { kind: 'transient', message };
}

/** "try again in 30 seconds" / "in 5 minutes" → milliseconds, when a server is that helpful. */
function delayIn(message: string): number | null {
  const match = /(\d+)\s*(s|sec|secs|seconds?|m|min|mins|minutes?)\b/i.exec(message);
  if (!match) return null;
  const amount = Number(match[1]);
  return /^m/i.test(match[2]!) ? amount * 60_000 : amount * 1000;
}
