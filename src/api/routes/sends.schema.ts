import { z } from 'zod';
import { sendKind, sendStatus } from '../../db/schema.js';
import { EMAIL_EVENT_TYPES } from '../../domain/email-events.js';
import { dataOf, notFound, ok, pageOf, registerApiPath } from '../openapi.js';
import { IdParams, idParam, PaginationQuery, siteIdField } from '../validation.js';

const timestamp = z.iso.datetime().meta({ example: '2025-01-31T12:00:00.000Z' });

export const SendKindSchema = z.enum(sendKind.enumValues, { error: `kind must be one of ${sendKind.enumValues.join(', ')}` });
export const SendStatusSchema = z.enum(sendStatus.enumValues, { error: `status must be one of ${sendStatus.enumValues.join(', ')}` });

/** `2025-01-31` or `2025-01-31T12:00:00Z` (an offset is allowed). */
export const instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()], { error: 'must be an ISO-8601 date or date-time' });

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/**
 * A `from`/`to` query pair as a half-open range. `to=2025-01-31` means "through that day", so a
 * date-only upper bound moves to the next midnight (UTC).
 */
export function timeRange(from: string | undefined, to: string | undefined): { from?: Date; to?: Date } {
  const upper = to === undefined ? undefined : new Date(new Date(to).getTime() + (DATE_ONLY.test(to) ? DAY_MS : 0));
  return { from: from === undefined ? undefined : new Date(from), to: upper };
}

export const SendListQuery = PaginationQuery.extend({
  siteId: siteIdField,
  kind: SendKindSchema.optional(),
  status: SendStatusSchema.optional(),
  contactId: idParam.optional(),
  campaignId: idParam.optional(),
  sequenceId: idParam.optional(),
  toEmail: z
    .string()
    .trim()
    .min(1, { error: 'toEmail must not be empty' })
    .max(254)
    .optional()
    .meta({ description: 'Only sends to this recipient address (case-insensitive, whole address).', example: 'ada@example.com' }),
  from: instant.optional().meta({ description: 'Created at or after this instant (a date means its start, UTC).', example: '2025-01-01' }),
  to: instant.optional().meta({ description: 'Created before this instant; a date includes that whole day (UTC).', example: '2025-01-31' }),
});

const summaryFields = {
  id: z.int(),
  kind: SendKindSchema,
  status: SendStatusSchema,
  contactId: z.int().nullable(),
  toEmail: z.string(),
  subject: z.string(),
  sendingConfigId: z.int(),
  templateId: z.int().nullable(),
  campaignId: z.int().nullable(),
  sequenceId: z.int().nullable(),
  stepId: z.int().nullable(),
  enrollmentId: z.string().nullable(),
  providerMessageId: z.string().nullable(),
  error: z.string().nullable().meta({ description: 'Why the send failed, for status failed.' }),
  attempts: z.int().meta({ description: 'Delivery attempts made so far.' }),
  idempotencyKey: z.string(),
  sentAt: timestamp.nullable().meta({ description: 'When the provider accepted the message.' }),
  createdAt: timestamp,
  updatedAt: timestamp,
};

/** One normalized delivery event of a send (the events API lists the same rows with their send). */
export const SendEvent = z
  .object({
    id: z.int(),
    type: z.enum(EMAIL_EVENT_TYPES),
    sendId: z.int().nullable(),
    contactId: z.int().nullable(),
    campaignId: z.int().nullable(),
    sequenceId: z.int().nullable(),
    stepId: z.int().nullable(),
    data: z.record(z.string(), z.unknown()).meta({ description: 'Details from the source, e.g. the clicked URL or the bounce message.' }),
    occurredAt: timestamp.meta({ description: 'When it happened (the provider’s time when it reports one).' }),
    createdAt: timestamp.meta({ description: 'When Tidings recorded it.' }),
  })
  .meta({ id: 'EmailEvent' });

export const SendSummarySchema = z.object(summaryFields).meta({ id: 'SendSummary' });

export const Send = z
  .object({
    ...summaryFields,
    cc: z.array(z.string()).nullable(),
    bcc: z.array(z.string()).nullable(),
    replyTo: z.string().nullable(),
    headers: z.record(z.string(), z.string()).nullable(),
    html: z.string().nullable().meta({ description: 'The rendered HTML as sent, byte for byte (a campaign email is rendered again from what it was sent with); null when bodyPruned.' }),
    text: z.string().nullable().meta({ description: 'The rendered plain text as sent; null when bodyPruned.' }),
    bodyPruned: z.boolean().meta({
      description: 'True when the message body is no longer kept: sends older than TIDINGS_MESSAGE_RETENTION_DAYS keep their subject, status and events only.',
    }),
    workflowId: z.string().nullable().meta({ description: 'The Temporal workflow that delivers it, for the Web UI.' }),
    events: z.array(SendEvent).meta({ description: 'What happened to it after it left (delivered, opened, bounced …), oldest first.' }),
  })
  .meta({ id: 'Send' });

const tags = ['Sends'];

registerApiPath({
  method: 'get',
  path: '/api/v1/sends',
  tags,
  summary: 'List the send log',
  description: 'One row per email of any kind, newest first, without the rendered bodies.',
  request: { query: SendListQuery },
  responses: { 200: ok(pageOf(SendSummarySchema), 'A page of sends.') },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/sends/{id}',
  tags,
  summary: 'Get a send with its rendered message and its events',
  request: { params: IdParams },
  responses: { 200: ok(dataOf(Send), 'The send.'), ...notFound },
});
