import { z } from 'zod';
import { conflict, dataOf, idempotencyKeyHeader, notFound, ok, pageOf, registerApiPath } from '../openapi.js';
import { IdParams, idParam, PaginationQuery, siteIdField } from '../validation.js';

export const CONTACT_STATUSES = ['subscribed', 'unsubscribed', 'bounced', 'complained'] as const;
export const BULK_MAX = 1000;

const text = (max: number) => z.string().trim().max(max);
const optionalText = (max: number) => text(max).nullish();

export const EmailSchema = z
  .string({ error: 'email must be a string' })
  .trim()
  .toLowerCase()
  .max(254)
  .check(z.email({ error: 'must be a valid email address' }))
  .meta({ example: 'ada@example.com', description: 'Trimmed and lowercased; unique per site.' });

function canonicalTimeZone(tz: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** An IANA zone name, stored canonically (`europe/paris` → `Europe/Paris`); offsets are refused. */
export const TimeZoneSchema = z
  .string()
  .trim()
  .refine((tz) => !/^[+-]/.test(tz) && canonicalTimeZone(tz) !== undefined, {
    error: 'must be an IANA time zone such as Europe/Paris',
    abort: true,
  })
  .overwrite((tz) => canonicalTimeZone(tz) ?? tz)
  .meta({ example: 'Europe/Paris' });

export const TagNameSchema = z
  .string({ error: 'tag must be a string' })
  .trim()
  .min(1, { error: 'tag name must not be empty' })
  .max(100)
  .meta({ example: 'vip' });

const fields = {
  firstName: optionalText(200),
  lastName: optionalText(200),
  phone: optionalText(50),
  company: optionalText(200),
  city: optionalText(200),
  country: optionalText(100),
  timezone: TimeZoneSchema.nullish(),
  customFields: z
    .record(z.string().max(100), z.unknown())
    .meta({ description: 'Free-form attributes, merged into the existing ones on update.', example: { plan: 'pro' } })
    .optional(),
  source: optionalText(100),
  status: z.enum(CONTACT_STATUSES).optional(),
};

const tagsField = z.array(TagNameSchema).max(100).meta({ description: 'Tag names; missing tags are created.' });
const listsField = z.array(idParam).max(100).meta({ description: 'List ids of the same site.' });

export const ContactCreateBody = z
  .object({ siteId: siteIdField, email: EmailSchema, ...fields, tags: tagsField.optional(), lists: listsField.optional() })
  .meta({ id: 'ContactCreate' });

export const ContactUpdateBody = z
  .object({
    siteId: siteIdField,
    email: EmailSchema.optional(),
    ...fields,
    tags: tagsField.optional().meta({ description: 'Replaces the contact’s tags.' }),
    lists: listsField.optional().meta({ description: 'Replaces the contact’s lists.' }),
  })
  .meta({ id: 'ContactUpdate' });

export const BulkContact = z
  .object({ email: EmailSchema, ...fields, tags: tagsField.optional(), lists: listsField.optional() })
  .meta({ id: 'BulkContact' });

export const BulkUpsertBody = z
  .object({
    siteId: siteIdField,
    contacts: z
      .array(BulkContact)
      .min(1, { error: 'send at least one contact' })
      .max(BULK_MAX, { error: `at most ${BULK_MAX} contacts per request; split larger sets into several requests` }),
  })
  .meta({ id: 'BulkUpsert' });

const timestamp = z.iso.datetime().meta({ example: '2025-01-31T12:00:00.000Z' });

export const Contact = z
  .object({
    id: z.int(),
    email: z.string(),
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    phone: z.string().nullable(),
    company: z.string().nullable(),
    city: z.string().nullable(),
    country: z.string().nullable(),
    timezone: z.string().nullable(),
    customFields: z.record(z.string(), z.unknown()),
    source: z.string().nullable(),
    status: z.enum(CONTACT_STATUSES),
    subscribedAt: timestamp.nullable(),
    unsubscribedAt: timestamp.nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
    tags: z.array(z.string()).meta({ description: 'Tag names, sorted.' }),
    lists: z.array(z.int()).meta({ description: 'List ids, sorted.' }),
  })
  .meta({ id: 'Contact' });

export const ContactFilterQuery = z.object({
  siteId: siteIdField,
  q: z.string().trim().max(200).optional().meta({ description: 'Case-insensitive search in email, first, last and full name.' }),
  status: z.enum(CONTACT_STATUSES).optional(),
  listId: idParam.optional().meta({ description: 'Only members of this list.' }),
  tagId: idParam.optional().meta({ description: 'Only contacts with this tag.' }),
});

export const ContactListQuery = ContactFilterQuery.extend(PaginationQuery.shape);

export const ExportQuery = ContactFilterQuery.extend({
  format: z.enum(['csv', 'json'], { error: 'format must be csv or json' }).default('csv'),
});

export const BulkUpsertResult = z
  .object({
    created: z.int(),
    updated: z.int(),
    ids: z.array(z.int()).meta({ description: 'Contact id of each input row, in input order.' }),
  })
  .meta({ id: 'BulkUpsertResult' });

export const ContactListParams = z.object({ id: idParam, listId: idParam });
export const ContactTagParams = z.object({ id: idParam, tag: TagNameSchema });
export const AddToListBody = z.object({ siteId: siteIdField, listId: idParam });
export const AddTagBody = z.object({ siteId: siteIdField, tag: TagNameSchema });

const tags = ['Contacts'];
const body = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
const idempotencyHeader = idempotencyKeyHeader('Retrying with the same key returns the first answer.');
const noContent = { 204: { description: 'Done.' } };

registerApiPath({
  method: 'post',
  path: '/api/v1/contacts',
  tags,
  summary: 'Create a contact',
  description: 'Creates a contact with tags (by name, created when missing) and lists (ids).',
  request: { headers: idempotencyHeader, body: body(ContactCreateBody) },
  responses: { 201: ok(dataOf(Contact), 'The created contact.'), ...notFound, ...conflict('`contact_exists`: the email is taken in this site.') },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/contacts',
  tags,
  summary: 'List contacts',
  request: { query: ContactListQuery },
  responses: { 200: ok(pageOf(Contact), 'A page of contacts, by id.') },
});
registerApiPath({
  method: 'post',
  path: '/api/v1/contacts/bulk',
  tags,
  summary: 'Upsert up to 1,000 contacts',
  description:
    'Inserts or updates by email. Only the fields given change; custom fields merge; tags and lists are added. ' +
    'Repeated emails in one request are merged (last value wins).',
  request: { headers: idempotencyHeader, body: body(BulkUpsertBody) },
  responses: { 200: ok(dataOf(BulkUpsertResult), 'How many contacts were created and updated.'), ...notFound },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/contacts/export',
  tags,
  summary: 'Export contacts as CSV or JSON',
  description: 'Streams every contact matching the filters (no pagination). JSON is `{"data": [Contact…]}`.',
  request: { query: ExportQuery },
  responses: {
    200: {
      description: 'The export file.',
      content: { 'text/csv': { schema: z.string() }, 'application/json': { schema: z.object({ data: z.array(Contact) }) } },
    },
  },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/contacts/{id}',
  tags,
  summary: 'Get a contact',
  request: { params: IdParams },
  responses: { 200: ok(dataOf(Contact), 'The contact.'), ...notFound },
});
registerApiPath({
  method: 'patch',
  path: '/api/v1/contacts/{id}',
  tags,
  summary: 'Update a contact',
  request: { params: IdParams, body: body(ContactUpdateBody) },
  responses: { 200: ok(dataOf(Contact), 'The updated contact.'), ...notFound, ...conflict('`contact_exists`: the new email is taken.') },
});
registerApiPath({
  method: 'delete',
  path: '/api/v1/contacts/{id}',
  tags,
  summary: 'Delete a contact',
  request: { params: IdParams },
  responses: { ...noContent, ...notFound },
});
registerApiPath({
  method: 'post',
  path: '/api/v1/contacts/{id}/lists',
  tags,
  summary: 'Add a contact to a list',
  request: { params: IdParams, body: body(AddToListBody) },
  responses: { 200: ok(dataOf(Contact), 'The contact with its lists.'), ...notFound },
});
registerApiPath({
  method: 'delete',
  path: '/api/v1/contacts/{id}/lists/{listId}',
  tags,
  summary: 'Remove a contact from a list',
  request: { params: ContactListParams },
  responses: { ...noContent, ...notFound },
});
registerApiPath({
  method: 'post',
  path: '/api/v1/contacts/{id}/tags',
  tags,
  summary: 'Tag a contact',
  description: 'The tag is created when missing.',
  request: { params: IdParams, body: body(AddTagBody) },
  responses: { 200: ok(dataOf(Contact), 'The contact with its tags.'), ...notFound },
});
registerApiPath({
  method: 'delete',
  path: '/api/v1/contacts/{id}/tags/{tag}',
  tags,
  summary: 'Untag a contact',
  request: { params: ContactTagParams },
  responses: { ...noContent, ...notFound },
});
