import { z } from 'zod';
import { suppressionReason } from '../../db/schema.js';
import { dataOf, notFound, ok, pageOf, registerApiPath } from '../openapi.js';
import { PaginationQuery, siteIdField } from '../validation.js';
import { EmailSchema } from './contacts.schema.js';

const timestamp = z.iso.datetime().meta({ example: '2025-01-31T12:00:00.000Z' });

export const SuppressionReasonSchema = z.enum(suppressionReason.enumValues, {
  error: `reason must be one of ${suppressionReason.enumValues.join(', ')}`,
});

export const SuppressionCreateBody = z
  .object({
    siteId: siteIdField,
    email: EmailSchema.meta({ description: 'Trimmed and lowercased; one suppression per address and site.' }),
    reason: SuppressionReasonSchema.default('manual'),
    note: z.string().trim().max(1000).nullish(),
  })
  .meta({ id: 'SuppressionCreate' });

export const Suppression = z
  .object({
    id: z.int(),
    email: z.string(),
    reason: SuppressionReasonSchema,
    note: z.string().nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'Suppression' });

export const SuppressionListQuery = PaginationQuery.extend({
  siteId: siteIdField,
  email: EmailSchema.optional().meta({ description: 'Exactly this address (to ask "is it suppressed?").' }),
  q: z.string().trim().max(254).optional().meta({ description: 'Case-insensitive part of the address.' }),
  reason: SuppressionReasonSchema.optional(),
});

export const SuppressionParams = z.object({ email: EmailSchema });

const tags = ['Suppressions'];

registerApiPath({
  method: 'get',
  path: '/api/v1/suppressions',
  tags,
  summary: 'List suppressed addresses',
  request: { query: SuppressionListQuery },
  responses: { 200: ok(pageOf(Suppression), 'A page of suppressions, newest first.') },
});
registerApiPath({
  method: 'post',
  path: '/api/v1/suppressions',
  tags,
  summary: 'Suppress an address',
  description: 'No email of any kind is sent to it from this site. Suppressing it again updates the reason and note.',
  request: { body: { content: { 'application/json': { schema: SuppressionCreateBody } } } },
  responses: {
    201: ok(dataOf(Suppression), 'The new suppression.'),
    200: ok(dataOf(Suppression), 'The address was already suppressed; reason and note updated.'),
  },
});
registerApiPath({
  method: 'delete',
  path: '/api/v1/suppressions/{email}',
  tags,
  summary: 'Lift the suppression of an address',
  description: 'By address (URL-encode it, e.g. `ada%40example.com`), since that is what a user knows.',
  request: { params: SuppressionParams },
  responses: { 204: { description: 'No longer suppressed.' }, ...notFound },
});
