import express, { Router, type Request, type Response } from 'express';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import {
  findSendByProviderMessageId,
  forgetWebhookReceipt,
  recordWebhookReceipt,
  resendWebhookConfigs,
  type WebhookConfigRow,
} from '../../db/repositories/email-events.js';
import { webhookSecretOf } from '../../db/repositories/sending-configs.js';
import type { EmailEventType } from '../../domain/email-events.js';
import { recordEmailEvent, sendEventKey } from '../../services/email-events.js';
import type { AppDeps } from '../deps.js';
import { AppError, zodDetails } from '../../errors.js';
import { sendData } from '../http.js';
import { RESEND_EVENT_TYPES, ResendEmailEvent, ResendEnvelope, ResendWebhookParams, type ResendEmailEventType } from './resend-webhooks.schema.js';

/** Resend events are a few hundred bytes; anything near this is not one. */
const BODY_LIMIT = '256kb';

interface Verified {
  config: WebhookConfigRow;
  /** The body parsed by svix after the signature matched; a SyntaxError when it is not JSON. */
  payload: unknown;
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * Which configs' secrets sign this request. Resend signs with Svix, which implements the Standard
 * Webhooks scheme under `svix-*` header names: the `standardwebhooks` library checks the HMAC and the
 * 5-minute timestamp window. Several configs can match when one Resend account's secret is
 * configured on several sites.
 */
function verifyAgainst(deps: AppDeps, req: Request, raw: Buffer, configs: WebhookConfigRow[]): { verified: Verified[]; lastError: string | null } {
  if (!deps.secretBox) throw new Error('TIDINGS_SECRET is not set, so webhook secrets cannot be decrypted');
  const headers = { 'webhook-id': header(req, 'svix-id') ?? '', 'webhook-timestamp': header(req, 'svix-timestamp') ?? '', 'webhook-signature': header(req, 'svix-signature') ?? '' };
  const verified: Verified[] = [];
  let lastError: string | null = null;
  for (const config of configs) {
    let secret: string | null;
    try {
      secret = webhookSecretOf(config, deps.secretBox);
    } catch (err) {
      req.log.warn({ err, sendingConfigId: config.id }, 'webhook secret of a sending config cannot be decrypted; skipped');
      continue;
    }
    if (!secret) continue;
    try {
      verified.push({ config, payload: new Webhook(secret).verify(raw, headers) });
    } catch (err) {
      if (err instanceof SyntaxError) verified.push({ config, payload: err });
      else if (err instanceof WebhookVerificationError) lastError = err.message;
      // A malformed stored secret (not base64) cannot verify anything.
      else req.log.warn({ err, sendingConfigId: config.id }, 'webhook secret of a sending config is unusable; skipped');
    }
  }
  return { verified, lastError };
}

function unauthorized(message: string): AppError {
  return new AppError('invalid_signature', 'unauthenticated', message);
}

/** The event details Tidings keeps from a Resend event. */
function eventData(event: ResendEmailEvent): { type: EmailEventType; data: Record<string, unknown> } {
  const base = { source: 'resend', providerMessageId: event.data.email_id };
  switch (event.type) {
    case 'email.bounced': {
      const { type, subType, message } = event.data.bounce;
      // Only a permanent bounce proves the address dead; transient/undetermined ones may deliver next time.
      const bounceType = type.toLowerCase() === 'permanent' ? 'hard' : 'soft';
      return { type: 'bounced', data: { ...base, bounceType, providerBounceType: type, subType: subType ?? null, message: message ?? null } };
    }
    case 'email.clicked': {
      const { link, ipAddress, userAgent } = event.data.click;
      return { type: 'clicked', data: { ...base, url: link, ipAddress: ipAddress ?? null, userAgent: userAgent ?? null } };
    }
    case 'email.failed':
      return { type: 'failed', data: { ...base, reason: event.data.failed?.reason ?? 'Resend reported the email as failed' } };
    case 'email.suppressed': {
      const message = event.data.suppressed?.message;
      return { type: 'failed', data: { ...base, reason: `Suppressed by Resend${message ? `: ${message}` : ''}`, suppressed: true } };
    }
    default:
      return { type: RESEND_EVENT_TYPES[event.type], data: base };
  }
}

function occurredAt(createdAt: string | undefined): Date | undefined {
  if (!createdAt) return undefined;
  const at = new Date(createdAt);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/**
 * `POST /webhooks/resend[/:sendingConfigId]`: Resend's delivery feedback. Verifies the Svix signature
 * over the raw body, de-duplicates by `svix-id` (Svix retries a message for about a day), and records
 * the event on the send it names. Answers 2xx for anything correctly signed that it will not act on
 * (unknown type, unknown email), so Resend does not retry it; a failure while recording forgets the
 * receipt and answers 500, so Resend's retry is processed.
 */
export function resendWebhooksRouter(deps: AppDeps): Router {
  const router = Router();
  const raw = express.raw({ type: () => true, limit: BODY_LIMIT });

  const handle = async (req: Request, res: Response) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const messageId = header(req, 'svix-id');
    if (!messageId || !header(req, 'svix-timestamp') || !header(req, 'svix-signature')) {
      throw unauthorized('Missing svix-id, svix-timestamp or svix-signature header');
    }

    let configs: WebhookConfigRow[];
    if (req.params.sendingConfigId === undefined) {
      configs = await resendWebhookConfigs(deps.db);
    } else {
      const parsed = ResendWebhookParams.safeParse(req.params);
      configs = parsed.success ? await resendWebhookConfigs(deps.db, parsed.data.sendingConfigId) : [];
    }
    const { verified, lastError } = verifyAgainst(deps, req, body, configs);
    if (!verified.length) {
      throw unauthorized(
        lastError?.startsWith('Message timestamp')
          ? 'The svix-timestamp is more than 5 minutes off; the request may be a replay'
          : configs.length
            ? 'No Resend webhook secret verifies this signature'
            : 'No Resend sending config has a webhook secret to verify this request with',
      );
    }

    const payload = verified[0]!.payload;
    if (payload instanceof SyntaxError || payload === undefined) {
      throw new AppError('invalid_json', 'invalid', 'The webhook body is not JSON');
    }
    const envelope = ResendEnvelope.safeParse(payload);
    if (!envelope.success) throw AppError.validation('Not a Resend webhook event', zodDetails(envelope.error));
    const known = Object.hasOwn(RESEND_EVENT_TYPES, envelope.data.type);
    let event: ResendEmailEvent | null = null;
    if (known) {
      const parsed = ResendEmailEvent.safeParse(payload);
      if (!parsed.success) throw AppError.validation(`Invalid ${envelope.data.type as ResendEmailEventType} event`, zodDetails(parsed.error));
      event = parsed.data;
    }

    // The site: the one whose send this is, else the first config that verified.
    const siteIds = [...new Set(verified.map((v) => v.config.siteId))];
    const send = event ? await findSendByProviderMessageId(deps.db, siteIds, event.data.email_id) : null;
    const config = verified.find((v) => v.config.siteId === (send?.siteId ?? siteIds[0]))!.config;
    const receipt = { siteId: config.siteId, provider: 'resend' as const, eventId: messageId, type: envelope.data.type, sendingConfigId: config.id };
    if (!(await recordWebhookReceipt(deps.db, receipt))) {
      sendData(res, { duplicate: true });
      return;
    }
    if (!event || !send) {
      req.log.debug({ type: envelope.data.type, svixId: messageId }, 'Resend webhook ignored');
      sendData(res, { duplicate: false, recorded: false, ignored: event ? 'unknown_email' : 'unknown_type' });
      return;
    }

    const { type, data } = eventData(event);
    try {
      const recorded = await recordEmailEvent(deps, {
        siteId: send.siteId,
        type,
        sendId: send.id,
        dedupeKey: sendEventKey(type, send.id, data),
        occurredAt: occurredAt(event.created_at),
        data,
      });
      sendData(res, { duplicate: false, recorded: recorded.created, eventId: recorded.event.id });
    } catch (err) {
      await forgetWebhookReceipt(deps.db, receipt.siteId, 'resend', messageId).catch((e: unknown) => req.log.error({ err: e }, 'could not forget a webhook receipt'));
      throw err;
    }
  };

  router.post('/webhooks/resend', raw, handle);
  router.post('/webhooks/resend/:sendingConfigId', raw, handle);
  return router;
}
