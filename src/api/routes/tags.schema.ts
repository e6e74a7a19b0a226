import { z } from 'zod';
import { conflict, dataOf, notFound, ok, pageOf, registerApiPath } from '../openapi.js';
import { IdParams, PaginationQuery, siteIdField } from '../validation.js';
import { TagNameSchema } from './contacts.schema.js';

export const TagCreateBody = z.object({ siteId: siteIdField, name: TagNameSchema }).meta({ id: 'TagCreate' });

export const Tag = z
  .object({ id: z.int(), name: z.string(), contactCount: z.int(), createdAt: z.iso.datetime() })
  .meta({ id: 'Tag' });

export const TagQuery = PaginationQuery.extend({ siteId: siteIdField });

const tags = ['Tags'];

registerApiPath({
  method: 'get',
  path: '/api/v1/tags',
  tags,
  summary: 'List tags with contact counts',
  request: { query: TagQuery },
  responses: { 200: ok(pageOf(Tag), 'A page of tags, by name.') },
});
registerApiPath({
  method: 'post',
  path: '/api/v1/tags',
  tags,
  summary: 'Create a tag',
  request: { body: { content: { 'application/json': { schema: TagCreateBody } } } },
  responses: { 201: ok(dataOf(Tag), 'The created tag.'), ...conflict('`tag_exists`: the site already has this tag.') },
});
registerApiPath({
  method: 'delete',
  path: '/api/v1/tags/{id}',
  tags,
  summary: 'Delete a tag (removes it from every contact)',
  request: { params: IdParams },
  responses: { 204: { description: 'Deleted.' }, ...notFound },
});
