import { z } from 'zod';
import { EMAIL_EVENT_TYPES } from '../../domain/email-events.js';
import { notFound, ok, pageOf, registerApiPath } from '../openapi.js';
import { IdParams, idParam, PaginationQuery, siteIdField } from '../validation.js';
import { instant, SendEvent, SendKindSchema } from './sends.schema.js';

const timestamp = z.iso.datetime().meta({ example: '2025-01-31T12:00:00.000Z' });

export const EmailEventTypeSchema = z.enum(EMAIL_EVENT_TYPES, { error: `type must be one of ${EMAIL_EVENT_TYPES.join(', ')}` });

export const EventListQuery = PaginationQuery.extend({
  siteId: siteIdField,
  type: EmailEventTypeSchema.optional(),
  contactId: idParam.optional(),
  campaignId: idParam.optional(),
  sequenceId: idParam.optional(),
  sendId: idParam.optional(),
  from: instant.optional().meta({ description: 'Happened at or after this instant (a date means its start, UTC).', example: '2025-01-01' }),
  to: instant.optional().meta({ description: 'Happened before this instant; a date includes that whole day (UTC).', example: '2025-01-31' }),
});

export const EventListItem = SendEvent.extend({
  send: z
    .object({ id: z.int(), kind: SendKindSchema, subject: z.string(), toEmail: z.string() })
    .nullable()
    .meta({ description: 'The send it is about (null for an event without one); `GET /sends/{sendId}` has the whole message.' }),
}).meta({ id: 'EmailEventListItem' });

const links = {
  campaignId: z.int().nullable(),
  sequenceId: z.int().nullable(),
  stepId: z.int().nullable(),
  enrollmentId: z.int().nullable().meta({ description: 'The enrollment (sequence journey) that sent it; `GET /enrollments/{id}`.' }),
};

export const ActivityItemSchema = z
  .discriminatedUnion('type', [
    z
      .object({
        type: z.literal('send'),
        at: timestamp.meta({ description: 'When the provider accepted it, else when it was queued.' }),
        sendId: z.int(),
        kind: SendKindSchema,
        status: z.string().meta({ example: 'delivered', description: 'The send’s current status.' }),
        subject: z.string(),
        ...links,
      })
      .meta({ id: 'ActivitySend' }),
    z
      .object({
        type: z.literal('email_event'),
        at: timestamp,
        eventId: z.int(),
        event: EmailEventTypeSchema,
        sendId: z.int().nullable(),
        ...links,
        data: z.record(z.string(), z.unknown()),
      })
      .meta({ id: 'ActivityEmailEvent' }),
    z
      .object({
        type: z.literal('contact_event'),
        at: timestamp,
        eventId: z.int(),
        name: z.string().meta({ example: 'purchased' }),
        data: z.record(z.string(), z.unknown()),
      })
      .meta({ id: 'ActivityContactEvent' }),
    z
      .object({ type: z.literal('enrollment_started'), at: timestamp, enrollmentId: z.int(), sequenceId: z.int() })
      .meta({ id: 'ActivityEnrollmentStarted' }),
    z
      .object({
        type: z.literal('enrollment_ended'),
        at: timestamp,
        enrollmentId: z.int(),
        sequenceId: z.int(),
        status: z.enum(['completed', 'exited', 'unenrolled', 'failed']),
        exitReason: z.string().nullable().meta({ example: 'bounced' }),
      })
      .meta({ id: 'ActivityEnrollmentEnded' }),
  ])
  .meta({ id: 'ActivityItem' });

export const ActivityQuery = PaginationQuery.extend({ siteId: siteIdField });

registerApiPath({
  method: 'get',
  path: '/api/v1/events',
  tags: ['Events'],
  summary: 'List email events',
  description:
    'Normalized delivery feedback (provider webhooks, open and click tracking, unsubscribes), newest first by when it ' +
    'happened. Each event links to its send (`sendId` and a short `send` summary).',
  request: { query: EventListQuery },
  responses: { 200: ok(pageOf(EventListItem), 'A page of events.') },
});

registerApiPath({
  method: 'get',
  path: '/api/v1/contacts/{id}/activity',
  tags: ['Contacts'],
  summary: 'A contact’s activity timeline',
  description:
    'Everything that happened to the contact, newest first: each email sent to it (with its current status), the ' +
    'email events about it, the events it posted (`POST /contacts/{id}/events`) and its enrollments starting and ' +
    'ending. Items carry links (`sendId`, `campaignId`, `sequenceId`, `enrollmentId`).',
  request: { params: IdParams, query: ActivityQuery },
  responses: { 200: ok(pageOf(ActivityItemSchema), 'A page of the timeline.'), ...notFound },
});
