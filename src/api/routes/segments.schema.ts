import { z } from 'zod';
import { segmentRulesSchema } from '../../domain/segment-rules.js';
import { conflict, dataOf, notFound, ok, pageOf, registerApiPath } from '../openapi.js';
import { IdParams, PaginationQuery, siteIdField } from '../validation.js';
import { Contact } from './contacts.schema.js';

export const PREVIEW_SAMPLE_SIZE = 10;

const timestamp = z.iso.datetime();
const name = z
  .string({ error: 'name is required' })
  .trim()
  .min(1, { error: 'name must not be empty' })
  .max(200)
  .meta({ example: 'Engaged French VIPs' });

export const SegmentCreateBody = z
  .object({ siteId: siteIdField, name, rules: segmentRulesSchema })
  .meta({ id: 'SegmentCreate' });

export const SegmentUpdateBody = z
  .object({ siteId: siteIdField, name: name.optional(), rules: segmentRulesSchema.optional() })
  .meta({ id: 'SegmentUpdate' });

export const SegmentPreviewBody = z.object({ siteId: siteIdField, rules: segmentRulesSchema }).meta({ id: 'SegmentPreviewRequest' });

export const SegmentQuery = PaginationQuery.extend({ siteId: siteIdField });

export const Segment = z
  .object({ id: z.int(), name: z.string(), rules: segmentRulesSchema, createdAt: timestamp, updatedAt: timestamp })
  .meta({ id: 'Segment' });

export const SegmentCount = z.object({ count: z.int().min(0) }).meta({ id: 'SegmentCount' });

export const SegmentPreview = z
  .object({
    count: z.int().min(0).meta({ description: 'Contacts matching the rules now.' }),
    sample: z.array(Contact).meta({ description: `The first ${PREVIEW_SAMPLE_SIZE} matching contacts, by id.` }),
  })
  .meta({ id: 'SegmentPreview' });

const tags = ['Segments'];
const body = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
const invalidRules =
  'Rules are evaluated when read, so counts and members follow the contacts. An invalid rule, or a list, ' +
  'campaign or sequence id of another site, is a 400 whose `details[].path` names it (e.g. `rules.conditions.2.conditions.0.op`).';

registerApiPath({
  method: 'post',
  path: '/api/v1/segments',
  tags,
  summary: 'Create a segment',
  description: invalidRules,
  request: { body: body(SegmentCreateBody) },
  responses: { 201: ok(dataOf(Segment), 'The created segment.') },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/segments',
  tags,
  summary: 'List segments',
  request: { query: SegmentQuery },
  responses: { 200: ok(pageOf(Segment), 'A page of segments, by id.') },
});
registerApiPath({
  method: 'post',
  path: '/api/v1/segments/preview',
  tags,
  summary: 'Count and sample the contacts of unsaved rules',
  description: invalidRules,
  request: { body: body(SegmentPreviewBody) },
  responses: { 200: ok(dataOf(SegmentPreview), 'How many contacts match, and the first few.') },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/segments/{id}',
  tags,
  summary: 'Get a segment',
  request: { params: IdParams },
  responses: { 200: ok(dataOf(Segment), 'The segment.'), ...notFound },
});
registerApiPath({
  method: 'patch',
  path: '/api/v1/segments/{id}',
  tags,
  summary: 'Rename a segment or replace its rules',
  description: invalidRules,
  request: { params: IdParams, body: body(SegmentUpdateBody) },
  responses: { 200: ok(dataOf(Segment), 'The updated segment.'), ...notFound },
});
registerApiPath({
  method: 'delete',
  path: '/api/v1/segments/{id}',
  tags,
  summary: 'Delete a segment',
  request: { params: IdParams },
  responses: {
    204: { description: 'Deleted.' },
    ...notFound,
    ...conflict('`segment_in_use`: an unfinished campaign targets or excludes this segment.'),
  },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/segments/{id}/contacts',
  tags,
  summary: 'List the contacts matching a segment now',
  request: { params: IdParams, query: SegmentQuery },
  responses: { 200: ok(pageOf(Contact), 'A page of matching contacts, by id.'), ...notFound },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/segments/{id}/count',
  tags,
  summary: 'Count the contacts matching a segment now',
  request: { params: IdParams },
  responses: { 200: ok(dataOf(SegmentCount), 'The number of matching contacts.'), ...notFound },
});
