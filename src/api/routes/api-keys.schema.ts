import { z } from 'zod';
import { dataOf, notFound, ok, pageOf, registerApiPath } from '../openapi.js';
import { IdParams, PaginationQuery, siteIdField } from '../validation.js';

export const ApiKeyCreateBody = z
  .object({
    siteId: siteIdField,
    name: z.string().trim().min(1, { error: 'name must not be empty' }).max(100).optional().meta({ example: 'ci' }),
  })
  .meta({ id: 'ApiKeyCreate' });

const timestamp = z.iso.datetime();

/** What is ever shown about a stored key: never its hash. */
export const ApiKey = z
  .object({
    id: z.int(),
    name: z.string(),
    prefix: z.string().meta({ description: 'The first 12 characters of the key, to recognise it.', example: 'tk_live_Ab3d' }),
    lastUsedAt: timestamp.nullable(),
    createdAt: timestamp,
    revokedAt: timestamp.nullable(),
  })
  .meta({ id: 'ApiKey' });

export const CreatedApiKey = ApiKey.extend({
  key: z.string().meta({ description: 'The key itself. Shown only in this answer; store it now.' }),
}).meta({ id: 'CreatedApiKey' });

export const ApiKeyQuery = PaginationQuery.extend({ siteId: siteIdField });

const tags = ['API keys'];

registerApiPath({
  method: 'get',
  path: '/api/v1/api-keys',
  tags,
  summary: 'List the API keys of this site',
  request: { query: ApiKeyQuery },
  responses: { 200: ok(pageOf(ApiKey), 'A page of keys (revoked ones included).') },
});
registerApiPath({
  method: 'post',
  path: '/api/v1/api-keys',
  tags,
  summary: 'Create an API key for this site',
  request: { body: { content: { 'application/json': { schema: ApiKeyCreateBody } } } },
  responses: { 201: ok(dataOf(CreatedApiKey), 'The key, with its plaintext shown once.') },
});
registerApiPath({
  method: 'delete',
  path: '/api/v1/api-keys/{id}',
  tags,
  summary: 'Revoke an API key',
  description: 'The key stops working at once. Revoking the key of the request itself is allowed.',
  request: { params: IdParams },
  responses: { 204: { description: 'Revoked.' }, ...notFound },
});
