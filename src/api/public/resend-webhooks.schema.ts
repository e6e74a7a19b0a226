import { z } from 'zod';
import type { EmailEventType } from '../../domain/email-events.js';
import { ErrorResponse, openApiRegistry } from '../openapi.js';
import { idParam } from '../validation.js';

/**
 * Resend's email event types and the Tidings event each becomes. `email.suppressed` (Resend refused to
 * send to an address on its own suppression list) is a failed send. Any other type (Resend adds
 * types, e.g. `email.received`, `contact.*`) is acknowledged and ignored.
 */
export const RESEND_EVENT_TYPES = {
  'email.sent': 'sent',
  'email.delivered': 'delivered',
  'email.delivery_delayed': 'delivery_delayed',
  'email.bounced': 'bounced',
  'email.complained': 'complained',
  'email.opened': 'opened',
  'email.clicked': 'clicked',
  'email.failed': 'failed',
  'email.suppressed': 'failed',
} as const satisfies Record<string, EmailEventType>;
export type ResendEmailEventType = keyof typeof RESEND_EVENT_TYPES;

/** The part every Resend webhook shares; checked first so an unknown type can be ignored. */
export const ResendEnvelope = z.object({ type: z.string().min(1), created_at: z.string().optional(), data: z.unknown() });

const emailData = {
  email_id: z.string().min(1).meta({ description: 'Resend’s id of the email: Tidings’ `providerMessageId` of the send.' }),
  created_at: z.string().optional(),
  from: z.string().optional(),
  to: z.array(z.string()).optional(),
  subject: z.string().optional(),
};

const event = <T extends ResendEmailEventType, D extends z.ZodRawShape>(type: T, extra: D) =>
  z.object({ type: z.literal(type), created_at: z.string().optional(), data: z.looseObject({ ...emailData, ...extra }) });

/** The Resend email events Tidings acts on, with the fields it reads (others are allowed and ignored). */
export const ResendEmailEvent = z
  .discriminatedUnion('type', [
    event('email.sent', {}),
    event('email.delivered', {}),
    event('email.delivery_delayed', {}),
    event('email.complained', {}),
    event('email.opened', {}),
    event('email.bounced', {
      bounce: z.looseObject({
        type: z.string().meta({ description: '`Permanent` is a hard bounce; `Transient` and `Undetermined` are soft.' }),
        subType: z.string().optional(),
        message: z.string().optional(),
      }),
    }),
    event('email.clicked', {
      click: z.looseObject({ link: z.string(), ipAddress: z.string().optional(), userAgent: z.string().optional(), timestamp: z.string().optional() }),
    }),
    event('email.failed', { failed: z.looseObject({ reason: z.string() }).optional() }),
    event('email.suppressed', { suppressed: z.looseObject({ message: z.string().optional(), type: z.string().optional() }).optional() }),
  ])
  .meta({ id: 'ResendWebhookEvent' });
export type ResendEmailEvent = z.output<typeof ResendEmailEvent>;

export const ResendWebhookParams = z.object({ sendingConfigId: idParam.meta({ description: 'The Resend sending config whose webhook secret signs these requests.' }) });

const svixHeaders = z.object({
  'svix-id': z.string().meta({ description: 'Message id; a retried message keeps it, so it is processed once.' }),
  'svix-timestamp': z.string().meta({ description: 'Unix seconds; more than 5 minutes off is refused.' }),
  'svix-signature': z.string().meta({ description: '`v1,<base64 HMAC-SHA256>` over `<id>.<timestamp>.<raw body>` with the config’s `whsec_` secret.' }),
});

const WebhookAck = z
  .object({
    data: z.object({
      duplicate: z.boolean().meta({ description: 'True when this message id was received before; nothing changed.' }),
      recorded: z.boolean().optional().meta({ description: 'Whether a new email event was recorded.' }),
      ignored: z.enum(['unknown_type', 'unknown_email']).optional().meta({ description: 'Why nothing was recorded.' }),
      eventId: z.int().optional(),
    }),
  })
  .meta({ id: 'WebhookAck' });

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });

for (const withConfig of [false, true]) {
  openApiRegistry.registerPath({
    method: 'post',
    path: withConfig ? '/webhooks/resend/{sendingConfigId}' : '/webhooks/resend',
    tags: ['Provider webhooks'],
    summary: withConfig ? 'Receive Resend events for one sending config' : 'Receive Resend events',
    description:
      'Point a Resend webhook here. The Svix signature is verified on the raw body against the webhook secret ' +
      (withConfig
        ? 'of this sending config.'
        : 'of every Resend sending config (the one that verifies names the site); use the `/{sendingConfigId}` form when a site has several Resend configs.') +
      ' Each message id is processed once. A permanent bounce marks the contact `bounced` and suppresses the address; a complaint marks it `complained` and suppresses it; both end its enrollments. ' +
      'Transient and undetermined bounces mark only the send. Unknown event types and unknown emails are acknowledged and ignored.',
    request: {
      ...(withConfig ? { params: ResendWebhookParams } : {}),
      headers: svixHeaders,
      body: { content: { 'application/json': { schema: ResendEmailEvent } } },
    },
    responses: {
      200: json(WebhookAck, 'Accepted (or a duplicate, or ignored).'),
      400: json(ErrorResponse, 'Correctly signed, but not a Resend event (not JSON, or the wrong shape).'),
      401: json(ErrorResponse, 'Signature headers missing, no webhook secret verifies the signature, or the timestamp is more than 5 minutes off.'),
      413: json(ErrorResponse, 'Body too large.'),
    },
  });
}
