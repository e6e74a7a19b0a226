import { z } from 'zod';
import { dataOf, ErrorResponse, idempotencyKeyHeader, notFound, ok, pageOf, registerApiPath } from '../openapi.js';
import { IdParams, idParam, PaginationQuery, siteIdField } from '../validation.js';

const timestamp = z.iso.datetime().meta({ example: '2025-01-31T12:00:00.000Z' });
/** Matches the render engine's parse limit: a template larger than this could not be parsed anyway. */
const MAX_SOURCE = 1_000_000;

const fields = {
  name: z.string({ error: 'name is required' }).trim().min(1, { error: 'name must not be empty' }).max(200).meta({ example: 'Welcome' }),
  subject: z
    .string({ error: 'subject is required' })
    .min(1, { error: 'subject must not be empty' })
    .max(2000)
    .meta({ example: 'Welcome, {{ firstName | default: "there" }}!' }),
  html: z
    .string({ error: 'html is required' })
    .min(1, { error: 'html must not be empty' })
    .max(MAX_SOURCE)
    .meta({ description: 'Liquid; every output is HTML-escaped (`| raw` opts out).', example: '<p>Hi {{ firstName }}</p>' }),
  text: z
    .string()
    .max(MAX_SOURCE)
    .nullish()
    .meta({ description: 'Liquid for the plain-text part; when absent it is derived from the rendered HTML.' }),
};

export const TemplateCreateBody = z.object({ siteId: siteIdField, ...fields }).meta({ id: 'TemplateCreate' });

export const TemplateUpdateBody = z
  .object({
    siteId: siteIdField,
    name: fields.name.optional(),
    subject: fields.subject.optional(),
    html: fields.html.optional(),
    text: fields.text,
  })
  .meta({ id: 'TemplateUpdate' });

export const Template = z
  .object({
    id: z.int(),
    name: z.string(),
    subject: z.string(),
    html: z.string(),
    text: z.string().nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Template' });

export const TemplateQuery = PaginationQuery.extend({ siteId: siteIdField });

export const PreviewBody = z
  .object({
    siteId: siteIdField,
    contactId: idParam.optional().meta({ description: 'Render with this contact’s fields (a contact of the same site).' }),
    variables: z
      .record(z.string().max(100), z.unknown())
      .optional()
      .meta({ description: 'Per-send variables; they win over contact fields of the same name.', example: { orderId: 'A-1001' } }),
  })
  .meta({ id: 'TemplatePreview' });

export const SourcePreviewBody = PreviewBody.extend({
  subject: z.string({ error: 'subject is required' }).max(2000),
  html: z.string({ error: 'html is required' }).max(MAX_SOURCE),
  text: fields.text,
}).meta({ id: 'TemplateSourcePreview' });

export const RenderedEmailSchema = z
  .object({ subject: z.string(), html: z.string(), text: z.string() })
  .meta({ id: 'RenderedEmail' });

const tags = ['Templates'];
const body = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
const idempotencyHeader = idempotencyKeyHeader('Retrying with the same key returns the first answer.');
const syntaxError = {
  description:
    '`template_syntax`: the template does not parse; `details` is `[{path, field, line, column, message}]` (1-based line and column within `field`). ' +
    'Other 400s are invalid input.',
  content: { 'application/json': { schema: ErrorResponse } },
};

registerApiPath({
  method: 'post',
  path: '/api/v1/templates',
  tags,
  summary: 'Create a template',
  description: 'Subject, HTML and text are Liquid, parsed at save time.',
  request: { headers: idempotencyHeader, body: body(TemplateCreateBody) },
  responses: { 201: ok(dataOf(Template), 'The created template.'), 400: syntaxError },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/templates',
  tags,
  summary: 'List templates',
  request: { query: TemplateQuery },
  responses: { 200: ok(pageOf(Template), 'A page of templates, by id.') },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/templates/{id}',
  tags,
  summary: 'Get a template',
  request: { params: IdParams },
  responses: { 200: ok(dataOf(Template), 'The template.'), ...notFound },
});
registerApiPath({
  method: 'patch',
  path: '/api/v1/templates/{id}',
  tags,
  summary: 'Update a template',
  description: 'Future sends use the new content; the send log keeps what was sent.',
  request: { params: IdParams, body: body(TemplateUpdateBody) },
  responses: { 200: ok(dataOf(Template), 'The updated template.'), 400: syntaxError, ...notFound },
});
registerApiPath({
  method: 'delete',
  path: '/api/v1/templates/{id}',
  tags,
  summary: 'Delete a template',
  request: { params: IdParams },
  responses: { 204: { description: 'Deleted.' }, ...notFound },
});
registerApiPath({
  method: 'post',
  path: '/api/v1/templates/preview',
  tags,
  summary: 'Render unsaved template source without sending',
  description:
    'The same as previewing a stored template, for source not saved yet (an editor’s live preview). The unsubscribe link is a placeholder (`…/u/preview`).',
  request: { body: body(SourcePreviewBody) },
  responses: {
    200: ok(dataOf(RenderedEmailSchema), 'The rendered subject, HTML and text.'),
    400: syntaxError,
    ...notFound,
    422: {
      description: '`template_render_failed`: the source parsed but failed while rendering; `details` is `[{path, field, line?, column?, message}]`.',
      content: { 'application/json': { schema: ErrorResponse } },
    },
  },
});
registerApiPath({
  method: 'post',
  path: '/api/v1/templates/{id}/preview',
  tags,
  summary: 'Render a template without sending',
  description: 'Renders for a contact and/or variables. The unsubscribe link is a placeholder (`…/u/preview`).',
  request: { params: IdParams, body: body(PreviewBody) },
  responses: {
    200: ok(dataOf(RenderedEmailSchema), 'The rendered subject, HTML and text.'),
    ...notFound,
    422: {
      description: '`template_render_failed`: the template parsed but failed while rendering (e.g. a filter error).',
      content: { 'application/json': { schema: ErrorResponse } },
    },
  },
});
