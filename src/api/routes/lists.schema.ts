import { z } from 'zod';
import { dataOf, notFound, ok, pageOf, registerApiPath } from '../openapi.js';
import { IdParams, idParam, PaginationQuery, siteIdField } from '../validation.js';

const timestamp = z.iso.datetime();

export const ListCreateBody = z
  .object({
    siteId: siteIdField,
    name: z.string({ error: 'name is required' }).trim().min(1, { error: 'name must not be empty' }).max(200).meta({ example: 'Newsletter' }),
    description: z.string().trim().max(2000).nullish(),
  })
  .meta({ id: 'ListCreate' });

export const ListUpdateBody = ListCreateBody.partial().meta({ id: 'ListUpdate' });

export const List = z
  .object({
    id: z.int(),
    name: z.string(),
    description: z.string().nullable(),
    memberCount: z.int(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'List' });

export const ListQuery = PaginationQuery.extend({ siteId: siteIdField });

/** `{contactId}` or `{contactIds: [...]}` (up to 1,000). */
export const MembersBody = z
  .object({
    siteId: siteIdField,
    contactId: idParam.optional(),
    contactIds: z.array(idParam).min(1).max(1000).optional(),
  })
  .refine((b) => b.contactId !== undefined || b.contactIds !== undefined, {
    error: 'send contactId or contactIds',
    path: ['contactIds'],
  })
  .meta({ id: 'ListMembersChange' });

export const MembersAdded = z
  .object({
    added: z.int().meta({ description: 'Contacts that joined the list.' }),
    alreadyMembers: z.int(),
    notFound: z.array(z.int()).meta({ description: 'Ids that are not contacts of this site; ignored.' }),
  })
  .meta({ id: 'ListMembersAdded' });

export const MembersRemoved = z
  .object({
    removed: z.int().meta({ description: 'Contacts that left the list.' }),
    notMembers: z.int(),
    notFound: z.array(z.int()).meta({ description: 'Ids that are not contacts of this site; ignored.' }),
  })
  .meta({ id: 'ListMembersRemoved' });

const tags = ['Lists'];
const body = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });

registerApiPath({
  method: 'post',
  path: '/api/v1/lists',
  tags,
  summary: 'Create a list',
  request: { body: body(ListCreateBody) },
  responses: { 201: ok(dataOf(List), 'The created list.') },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/lists',
  tags,
  summary: 'List lists with member counts',
  request: { query: ListQuery },
  responses: { 200: ok(pageOf(List), 'A page of lists.') },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/lists/{id}',
  tags,
  summary: 'Get a list',
  request: { params: IdParams },
  responses: { 200: ok(dataOf(List), 'The list.'), ...notFound },
});
registerApiPath({
  method: 'patch',
  path: '/api/v1/lists/{id}',
  tags,
  summary: 'Update a list',
  request: { params: IdParams, body: body(ListUpdateBody) },
  responses: { 200: ok(dataOf(List), 'The updated list.'), ...notFound },
});
registerApiPath({
  method: 'delete',
  path: '/api/v1/lists/{id}',
  tags,
  summary: 'Delete a list (its contacts stay)',
  request: { params: IdParams },
  responses: { 204: { description: 'Deleted.' }, ...notFound },
});
registerApiPath({
  method: 'post',
  path: '/api/v1/lists/{id}/contacts',
  tags,
  summary: 'Add contacts to a list',
  request: { params: IdParams, body: body(MembersBody) },
  responses: { 200: ok(dataOf(MembersAdded), 'What changed.'), ...notFound },
});
registerApiPath({
  method: 'delete',
  path: '/api/v1/lists/{id}/contacts',
  tags,
  summary: 'Remove contacts from a list',
  request: { params: IdParams, body: body(MembersBody) },
  responses: { 200: ok(dataOf(MembersRemoved), 'What changed.'), ...notFound },
});
