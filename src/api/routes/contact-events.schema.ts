import { z } from 'zod';
import { dataOf, idempotencyKeyHeader, notFound, ok, pageOf, registerApiPath } from '../openapi.js';
import { IdParams, PaginationQuery, siteIdField } from '../validation.js';

const timestamp = z.iso.datetime().meta({ example: '2025-01-31T12:00:00.000Z' });
const eventName = z
  .string({ error: 'name is required' })
  .trim()
  .min(1, { error: 'name must not be empty' })
  .max(200)
  .meta({ example: 'purchased' });

export const ContactEventBody = z
  .object({
    siteId: siteIdField,
    name: eventName,
    data: z.record(z.string().max(200), z.unknown()).optional().meta({ example: { plan: 'pro', amount: 49 } }),
  })
  .meta({ id: 'ContactEventCreate' });

export const ContactEvent = z
  .object({ id: z.int(), contactId: z.int(), name: z.string(), data: z.record(z.string(), z.unknown()), createdAt: timestamp })
  .meta({ id: 'ContactEvent' });

export const ContactEventResult = z
  .object({
    event: ContactEvent,
    enrolledInto: z.array(z.int()).meta({ description: 'Sequences (trigger `event` of this name) the contact was enrolled into.' }),
    signalled: z.int().meta({ description: 'Active enrollments of the contact that received the event (wait_for_event, exitOn).' }),
  })
  .meta({ id: 'ContactEventResult' });

export const ContactEventQuery = PaginationQuery.extend({ siteId: siteIdField, name: eventName.optional() });

const tags = ['Contacts'];
const idempotencyHeader = idempotencyKeyHeader('Retrying with the same key returns the first answer.');

registerApiPath({
  method: 'post',
  path: '/api/v1/contacts/{id}/events',
  tags,
  summary: 'Record a contact event',
  description:
    'Records what the contact did (`purchased`), enrolls them into every active sequence triggered by this event, and tells their ' +
    'active enrollments (a wait_for_event step continues, an exitOn event ends the journey). If Temporal is unreachable the answer is ' +
    '503 and nothing is recorded, so the client can simply retry.',
  request: { params: IdParams, headers: idempotencyHeader, body: { content: { 'application/json': { schema: ContactEventBody } } } },
  responses: { 201: ok(dataOf(ContactEventResult), 'The recorded event and what it set off.'), ...notFound },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/contacts/{id}/events',
  tags,
  summary: 'List a contact’s events',
  request: { params: IdParams, query: ContactEventQuery },
  responses: { 200: ok(pageOf(ContactEvent), 'Newest first.'), ...notFound },
});
