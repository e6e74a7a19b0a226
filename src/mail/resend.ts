import { Resend, type CreateEmailOptions, type ErrorResponse } from 'resend';
import {
  errorMessage,
  formatAddress,
  sha256Hex,
  type Mailer,
  type MailerCapabilities,
  type OutgoingEmail,
  type SendOutcome,
  type VerifyResult,
} from './mailer.js';

/*
 * How the resend SDK reports outcomes. Its documentation does not say, so this was read from the
 * SDK's own code (dist/index.mjs of the version package.json pins exactly, 6.38.0); test/mail/resend.test.ts
 * checks each point against a local fake of the API. Raise the pin only with those tests green:
 * - Every call resolves to `{ data, error, headers }` and never rejects. `headers` is the response's
 *   headers as a plain object (lower-case names) for HTTP answers, success or not, and null when no
 *   response arrived.
 * - On a non-2xx answer `error` is the parsed JSON body as-is, so its `statusCode` is whatever the API
 *   put in the body (Resend always does) and `name` is a code such as `rate_limit_exceeded`. Only when
 *   the body is not JSON does the SDK fill `statusCode` from the HTTP status itself.
 * - A network failure (refused, DNS, reset, our abort signal) is swallowed into
 *   `{ name: 'application_error', statusCode: null }`.
 * - 429s carry `retry-after` (seconds) and the IETF `ratelimit-reset` header; both reach us via `headers`.
 * - The base URL is `options.baseUrl`, else `process.env.RESEND_BASE_URL` read once in the constructor,
 *   else https://api.resend.com. `idempotencyKey` becomes the `Idempotency-Key` request header, and
 *   `batchValidation` the `x-batch-validation` header of POST /emails/batch.
 * Resend remembers an idempotency key for 24 hours, so retries of one send must end within that window.
 */

/** Resend's documented batch limit. */
export const RESEND_MAX_BATCH = 100;
/** Resend rejects longer idempotency keys with 400 invalid_idempotency_key. */
const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

export interface ResendMailerOptions {
  apiKey: string;
  /** API origin, e.g. a local fake in tests. Defaults to RESEND_BASE_URL, then the real API. */
  baseUrl?: string;
  /** Per-request timeout; a timed-out request is `transient` and safe to retry (idempotency key). */
  timeoutMs?: number;
  /** Wait suggested on a 429 that carries no retry-after header. */
  defaultRetryAfterMs?: number;
}

export const resendCapabilities: MailerCapabilities = { batch: true, maxBatchSize: RESEND_MAX_BATCH, webhooks: true };

/** A Mailer over the Resend API (single and batch endpoints) through the official SDK. */
export function createResendMailer(options: ResendMailerOptions): Mailer {
  const baseUrl = options.baseUrl?.replace(/\/+$/, '');
  const client = new Resend(options.apiKey, baseUrl ? { baseUrl } : undefined);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const defaultRetryAfterMs = options.defaultRetryAfterMs ?? 1_000;
  const classify = (error: ErrorResponse, headers: Record<string, string> | null) =>
    classifyResendError(error, headers, defaultRetryAfterMs);

  async function sendChunk(chunk: OutgoingEmail[]): Promise<SendOutcome[]> {
    // Permissive validation keeps one bad address from failing the 99 good messages beside it; the
    // answer lists created emails in request order and the invalid ones by index.
    const result = await client.batch.send(chunk.map(toPayload), {
      idempotencyKey: batchIdempotencyKey(chunk),
      batchValidation: 'permissive',
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (result.error) {
      const outcome = classify(result.error, result.headers);
      return chunk.map(() => outcome);
    }
    const created = result.data.data;
    const failures = new Map((result.data.errors ?? []).map((e) => [e.index, e.message]));
    if (created.length !== chunk.length - failures.size) {
      const outcome: SendOutcome = {
        kind: 'transient',
        message: `Resend batch answer lists ${created.length} emails and ${failures.size} errors for ${chunk.length} messages`,
      };
      return chunk.map(() => outcome);
    }
    let next = 0;
    return chunk.map((_, index) => {
      const failure = failures.get(index);
      if (failure !== undefined) return classifyValidationMessage(failure);
      return { kind: 'sent', providerMessageId: created[next++]!.id };
    });
  }

  return {
    provider: 'resend',
    capabilities: resendCapabilities,

    async send(message) {
      try {
        const result = await client.emails.send(toPayload(message), {
          idempotencyKey: providerIdempotencyKey(message.idempotencyKey),
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (result.error) return classify(result.error, result.headers);
        return { kind: 'sent', providerMessageId: result.data.id };
      } catch (err) {
        // The SDK resolves even on network errors; this only guards the contract against surprises.
        return { kind: 'transient', message: errorMessage(err) };
      }
    },

    async sendBatch(messages) {
      const outcomes: SendOutcome[] = [];
      for (let start = 0; start < messages.length; start += RESEND_MAX_BATCH) {
        const chunk = messages.slice(start, start + RESEND_MAX_BATCH);
        const chunkOutcomes = await sendChunk(chunk).catch((err: unknown): SendOutcome[] =>
          chunk.map(() => ({ kind: 'transient', message: errorMessage(err) })),
        );
        outcomes.push(...chunkOutcomes);
        const stop = chunkOutcomes.find((o) => o.kind === 'rate_limited' || o.kind === 'auth_failed');
        if (stop) {
          // Later chunks would get the same answer; leave them for the caller's retry instead.
          const rest = messages.length - outcomes.length;
          for (let i = 0; i < rest; i++) outcomes.push(stop);
          break;
        }
      }
      return outcomes;
    },

    async verify(): Promise<VerifyResult> {
      try {
        const result = await client.domains.list({}, { signal: AbortSignal.timeout(timeoutMs) });
        if (!result.error) {
          const verified = result.data.data.filter((d) => d.status === 'verified').map((d) => d.name);
          return {
            ok: true,
            message: `API key accepted; verified domains: ${verified.length ? verified.join(', ') : 'none'}`,
          };
        }
        // A sending-only key may not list domains, yet it is exactly what a sending config needs.
        if (result.error.name === 'restricted_api_key') {
          return { ok: true, message: 'API key accepted (restricted to sending)' };
        }
        const outcome = classify(result.error, result.headers);
        const prefix = outcome.kind === 'auth_failed' ? 'Resend rejected the API key' : 'Could not verify with Resend';
        return { ok: false, message: `${prefix}: ${describe(outcome)}` };
      } catch (err) {
        return { ok: false, message: `Could not verify with Resend: ${errorMessage(err)}` };
      }
    },

    async close() {
      // Stateless HTTP client: nothing to release.
    },
  };
}

function toPayload(message: OutgoingEmail): CreateEmailOptions {
  return {
    from: formatAddress(message.from),
    to: [message.to],
    ...(message.cc?.length ? { cc: message.cc } : {}),
    ...(message.bcc?.length ? { bcc: message.bcc } : {}),
    ...(message.replyTo ? { replyTo: message.replyTo } : {}),
    subject: message.subject,
    html: message.html,
    text: message.text,
    ...(message.headers && Object.keys(message.headers).length ? { headers: message.headers } : {}),
    ...(message.tags?.length ? { tags: message.tags } : {}),
  };
}

/** The key sent to Resend: the message's own key, hashed only when Resend would refuse its length. */
export function providerIdempotencyKey(key: string): string {
  return key.length <= MAX_IDEMPOTENCY_KEY_LENGTH ? key : `sha256:${sha256Hex(key)}`;
}

/**
 * One batch call's key, derived from its messages' keys in order, so a retried chunk with the same
 * messages replays Resend's first answer while a different chunk can never collide with it.
 */
export function batchIdempotencyKey(messages: OutgoingEmail[]): string {
  return `batch:${sha256Hex(messages.map((m) => m.idempotencyKey).join('\n'))}`;
}

const AUTH_NAMES = new Set(['missing_api_key', 'invalid_api_key', 'restricted_api_key', 'invalid_access']);
const QUOTA_NAMES = new Set(['daily_quota_exceeded', 'monthly_quota_exceeded']);
const RECIPIENT_WORDING = /`(?:to|cc|bcc)`|\brecipients?\b/i;

/** Maps a Resend error (body + response headers) to an outcome; exported for the tests' edge cases. */
export function classifyResendError(
  error: ErrorResponse,
  headers: Record<string, string> | null,
  defaultRetryAfterMs = 1_000,
): SendOutcome {
  const status = typeof error.statusCode === 'number' ? error.statusCode : null;
  const message = error.message || error.name || 'Resend error';
  if (status === null && headers === null) return { kind: 'transient', message: `Resend unreachable: ${message}` };
  if (status === 429 || error.name === 'rate_limit_exceeded' || QUOTA_NAMES.has(error.name)) {
    return { kind: 'rate_limited', retryAfterMs: retryAfterMs(headers) ?? defaultRetryAfterMs, message };
  }
  if (status === 401 || status === 403 || AUTH_NAMES.has(error.name)) return { kind: 'auth_failed', message };
  if (error.name === 'concurrent_idempotent_requests') return { kind: 'transient', message };
  if (status === 400 || status === 422) return classifyValidationMessage(message);
  if (status === null || status === 408 || status >= 500) return { kind: 'transient', message };
  return { kind: 'rejected', message };
}

function classifyValidationMessage(message: string): SendOutcome {
  return RECIPIENT_WORDING.test(message) ? { kind: 'invalid_recipient', message } : { kind: 'rejected', message };
}

/** `retry-after` (seconds or an HTTP date), else `ratelimit-reset` (seconds), in milliseconds. */
function retryAfterMs(headers: Record<string, string> | null): number | null {
  const retryAfter = headers?.['retry-after'];
  if (retryAfter) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - Date.now());
  }
  const reset = Number(headers?.['ratelimit-reset']);
  if (Number.isFinite(reset) && reset >= 0 && headers?.['ratelimit-reset']) return Math.ceil(reset * 1000);
  return null;
}

function describe(outcome: SendOutcome): string {
  return 'message' in outcome && outcome.message ? outcome.message : outcome.kind;
}
