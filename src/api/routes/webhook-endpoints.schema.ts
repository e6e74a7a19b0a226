import { z } from 'zod';
import { OUTGOING_EVENT_TYPES } from '../../domain/email-events.js';
import { conflict, dataOf, idempotencyKeyHeader, notFound, ok, pageOf, registerApiPath } from '../openapi.js';
import { IdParams, PaginationQuery, siteIdField } from '../validation.js';

const timestamp = z.iso.datetime().meta({ example: '2026-03-10T09:00:00.000Z' });
const EVENT_TYPES: readonly string[] = OUTGOING_EVENT_TYPES;

const url = z
  .string({ error: 'url is required' })
  .trim()
  .max(2000, { error: 'url must be at most 2000 characters' })
  .refine(
    (value) => {
      if (!URL.canParse(value)) return false;
      const parsed = new URL(value);
      return (parsed.protocol === 'https:' || parsed.protocol === 'http:') && parsed.hostname !== '';
    },
    { error: 'url must be an absolute http:// or https:// URL' },
  )
  .refine((value) => !URL.canParse(value) || (new URL(value).username === '' && new URL(value).password === ''), {
    error: 'url must not contain credentials; authenticate the request by its signature',
  })
  .meta({ example: 'https://example.com/webhooks/tidings' });

const events = z
  .array(
    z.string({ error: 'each event type must be a string' }).superRefine((value, ctx) => {
      if (!EVENT_TYPES.includes(value)) {
        ctx.addIssue({ code: 'custom', message: `unknown event type "${value}"; one of ${OUTGOING_EVENT_TYPES.join(', ')}` });
      }
    }),
    { error: 'events must be an array of event types' },
  )
  .max(EVENT_TYPES.length * 2)
  .transform((types) => [...new Set(types)])
  .meta({
    description: `Event types delivered to this endpoint; empty (the default) means every type. One of: ${OUTGOING_EVENT_TYPES.join(', ')}.`,
    example: ['email.bounced', 'email.complained', 'contact.unsubscribed'],
  });

const description = z.string().trim().max(500, { error: 'description must be at most 500 characters' }).nullish().meta({ example: 'CRM sync' });

export const WebhookEndpointCreateBody = z
  .object({
    siteId: siteIdField,
    url,
    events: events.optional(),
    description,
    enabled: z.boolean({ error: 'enabled must be true or false' }).optional().meta({ description: 'Default true.' }),
  })
  .meta({ id: 'WebhookEndpointCreate' });

export const WebhookEndpointUpdateBody = z
  .object({
    siteId: siteIdField,
    url: url.optional(),
    events: events.optional(),
    description,
    enabled: z
      .boolean({ error: 'enabled must be true or false' })
      .optional()
      .meta({ description: 'Disabling stops new deliveries and ends retrying ones at their next attempt.' }),
  })
  .meta({ id: 'WebhookEndpointUpdate' });

export const WebhookEndpointQuery = PaginationQuery.extend({ siteId: siteIdField });

export const WebhookDeliveryStatusSchema = z.enum(['pending', 'succeeded', 'failed'], {
  error: 'status must be one of pending, succeeded, failed',
});

export const WebhookDeliveryQuery = PaginationQuery.extend({
  siteId: siteIdField,
  status: WebhookDeliveryStatusSchema.optional(),
});

export const WebhookEndpoint = z
  .object({
    id: z.int(),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(z.string()).meta({ description: 'Empty means every event type.' }),
    enabled: z.boolean(),
    secret: z.string().meta({
      description:
        'The Standard Webhooks signing secret (`whsec_<base64>`). In full only in the answer to create and rotate-secret; masked (`whsec_****abcd`) everywhere else.',
      example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwQpU8S8Fh2Ck=',
    }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'WebhookEndpoint' });

export const WebhookDeliveryAttempt = z
  .object({
    attempt: z.int().meta({ description: '1 for the first POST, then one per retry.' }),
    statusCode: z.int().nullable().meta({ description: 'The receiver’s HTTP status; null when there was no answer.' }),
    error: z.string().nullable().meta({ example: 'HTTP 500 Internal Server Error' }),
    responseBody: z.string().nullable().meta({ description: 'The first kilobyte of the receiver’s answer.' }),
    durationMs: z.int(),
    createdAt: timestamp,
  })
  .meta({ id: 'WebhookDeliveryAttempt' });

export const WebhookDelivery = z
  .object({
    id: z.int(),
    endpointId: z.int(),
    messageId: z.string().meta({ description: 'The `webhook-id` header: the same on every attempt and for every endpoint of one event.', example: 'msg_evt_42' }),
    eventType: z.string().meta({ example: 'email.opened' }),
    status: WebhookDeliveryStatusSchema,
    attemptCount: z.int(),
    lastStatusCode: z.int().nullable(),
    lastError: z.string().nullable(),
    deliveredAt: timestamp.nullable(),
    payload: z.record(z.string(), z.unknown()).meta({ description: 'The JSON body sent: `{type, timestamp, data}`.' }),
    attempts: z.array(WebhookDeliveryAttempt).meta({ description: 'Every HTTP attempt, oldest first.' }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'WebhookDelivery' });

const tags = ['Webhook endpoints'];
const body = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });

registerApiPath({
  method: 'post',
  path: '/api/v1/webhook-endpoints',
  tags,
  summary: 'Create a webhook endpoint',
  description:
    'An http(s) URL that receives events as signed POSTs (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`). ' +
    'The answer carries the signing secret in full; store it, it is never shown again (so, like API keys, no Idempotency-Key: ' +
    'a stored answer would keep the secret in clear). With NODE_ENV=production the URL must be a public address.',
  request: { body: body(WebhookEndpointCreateBody) },
  responses: { 201: ok(dataOf(WebhookEndpoint), 'The endpoint, with its secret in full (shown once).') },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/webhook-endpoints',
  tags,
  summary: 'List webhook endpoints',
  request: { query: WebhookEndpointQuery },
  responses: { 200: ok(pageOf(WebhookEndpoint), 'A page of endpoints, by id, secrets masked.') },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/webhook-endpoints/{id}',
  tags,
  summary: 'Get a webhook endpoint',
  request: { params: IdParams },
  responses: { 200: ok(dataOf(WebhookEndpoint), 'The endpoint, secret masked.'), ...notFound },
});
registerApiPath({
  method: 'patch',
  path: '/api/v1/webhook-endpoints/{id}',
  tags,
  summary: 'Update a webhook endpoint',
  description: 'Only the given fields change. Re-enabling does not resend deliveries that failed meanwhile.',
  request: { params: IdParams, body: body(WebhookEndpointUpdateBody) },
  responses: { 200: ok(dataOf(WebhookEndpoint), 'The updated endpoint, secret masked.'), ...notFound },
});
registerApiPath({
  method: 'delete',
  path: '/api/v1/webhook-endpoints/{id}',
  tags,
  summary: 'Delete a webhook endpoint',
  description: 'Deletes the endpoint and its delivery log; deliveries still retrying stop at their next attempt.',
  request: { params: IdParams },
  responses: { 204: { description: 'Deleted.' }, ...notFound },
});
registerApiPath({
  method: 'post',
  path: '/api/v1/webhook-endpoints/{id}/rotate-secret',
  tags,
  summary: 'Replace the signing secret',
  description: 'The old secret stops working at once (retrying deliveries are signed with the new one). The answer carries the new secret in full, once.',
  request: { params: IdParams },
  responses: { 200: ok(dataOf(WebhookEndpoint), 'The endpoint with its new secret in full (shown once).'), ...notFound },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/webhook-endpoints/{id}/deliveries',
  tags,
  summary: 'The delivery log of an endpoint',
  description: 'Deliveries newest first, each with every HTTP attempt (status code, error, first kilobyte of the answer, duration).',
  request: { params: IdParams, query: WebhookDeliveryQuery },
  responses: { 200: ok(pageOf(WebhookDelivery), 'A page of deliveries, newest first.'), ...notFound },
});
registerApiPath({
  method: 'post',
  path: '/api/v1/webhook-endpoints/{id}/test',
  tags,
  summary: 'Send a test event',
  description:
    'Sends a `webhook.test` event through the same signed, retried delivery as real events, whatever the endpoint’s event filter. ' +
    'Follow it in the delivery log.',
  request: { headers: idempotencyKeyHeader(), params: IdParams },
  responses: {
    202: ok(dataOf(WebhookDelivery), 'The delivery, queued.'),
    ...notFound,
    ...conflict('`endpoint_disabled`: the endpoint is disabled.'),
  },
});
