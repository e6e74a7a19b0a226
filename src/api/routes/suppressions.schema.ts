import { z } from 'zod';
import { suppressionReason } from '../../db/schema.js';
import { dataOf, ErrorResponse, notFound, ok, pageOf, registerApiPath } from '../openapi.js';
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

/** Content types accepted for the CSV body (`application/vnd.ms-excel` is what Windows browsers label .csv files). */
export const CSV_MEDIA_TYPES = ['text/csv', 'application/csv', 'application/vnd.ms-excel'];

export const SuppressionImportQuery = z.object({
  siteId: siteIdField,
  reason: SuppressionReasonSchema.default('manual').meta({ description: 'Reason for rows whose reason cell is empty (or a file without a reason column).' }),
});

export const SuppressionImportResult = z
  .object({
    imported: z.int().meta({ description: 'Addresses that were not suppressed before.' }),
    updated: z.int().meta({ description: 'Addresses already suppressed (or repeated in the file); their reason, and note when given, were updated.' }),
    failed: z.int().meta({ description: 'Rows refused (invalid address, reason or note).' }),
    total: z.int().meta({ description: 'Non-blank data rows read.' }),
    errors: z
      .array(z.object({ row: z.int().meta({ description: 'Line number in the file; the header is row 1.' }), message: z.string().meta({ example: 'Invalid email "ada@"' }) }))
      .meta({ description: 'The first 100 refused rows.' }),
  })
  .meta({ id: 'SuppressionImportResult' });

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
registerApiPath({
  method: 'post',
  path: '/api/v1/suppressions/import',
  tags,
  summary: 'Import suppressions from a CSV file',
  description:
    'The request body is the CSV itself (`Content-Type: text/csv`, UTF-8, `,` `;` or tab separated, at most 50 MB), with a ' +
    'header row: `email` (required), `reason` (hard_bounce, complaint, unsubscribe or manual; empty = the `reason` query ' +
    'parameter) and `note`. It is read as it arrives and upserted in batches of 1,000. Invalid rows are skipped and ' +
    'reported with their row number; an address already suppressed takes the new reason (and note, when the cell is not ' +
    'empty). A file without an email column is a 400 and changes nothing. Importing the same file twice is harmless.',
  request: {
    query: SuppressionImportQuery,
    body: { content: { 'text/csv': { schema: z.string().meta({ example: 'email,reason,note\nada@example.com,complaint,from the old ESP\n' }) } } },
  },
  responses: {
    200: ok(dataOf(SuppressionImportResult), 'What was imported and which rows were refused.'),
    413: { description: 'The file is larger than 50 MB.', content: { 'application/json': { schema: ErrorResponse } } },
    415: { description: 'The body is not sent as text/csv.', content: { 'application/json': { schema: ErrorResponse } } },
  },
});
