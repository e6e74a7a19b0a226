import { z } from 'zod';
import { dataOf, ok, registerApiPath } from '../openapi.js';
import { siteIdField } from '../validation.js';

const timestamp = z.iso.datetime().meta({ example: '2025-01-31T12:00:00.000Z' });

const capDays = z
  .int({ error: 'sendFrequencyCapDays must be a whole number of days from 0 to 365' })
  .min(0, { error: 'sendFrequencyCapDays must be a whole number of days from 0 to 365' })
  .max(365, { error: 'sendFrequencyCapDays must be a whole number of days from 0 to 365' })
  .meta({
    description:
      'Minimum days between two sequence emails to one contact; 0 means no cap. A capped email waits until the cap allows it, it is never skipped. Campaigns and transactional email are not capped.',
    example: 2,
  });

export const SiteSchema = z
  .object({
    id: z.int(),
    name: z.string().meta({ example: 'Acme newsletter' }),
    sendFrequencyCapDays: capDays,
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Site' });

export const SiteUpdateBody = z
  .object({
    siteId: siteIdField,
    name: z.string({ error: 'name must be a string' }).trim().min(1, { error: 'name must not be empty' }).max(200).optional(),
    sendFrequencyCapDays: capDays.optional(),
  })
  .strict()
  .meta({ id: 'SiteUpdate' });

export const SiteQuery = z.object({ siteId: siteIdField });

const tags = ['Site'];

registerApiPath({
  method: 'get',
  path: '/api/v1/site',
  tags,
  summary: 'Get the site of the request',
  description: 'The site the API key (or the signed-in user) belongs to, with its sending settings.',
  request: { query: SiteQuery },
  responses: { 200: ok(dataOf(SiteSchema), 'The site.') },
});
registerApiPath({
  method: 'patch',
  path: '/api/v1/site',
  tags,
  summary: 'Update the site’s name and sending settings',
  description: 'Only the given fields change. The frequency cap applies to sequence emails scheduled from then on.',
  request: { body: { content: { 'application/json': { schema: SiteUpdateBody } } } },
  responses: { 200: ok(dataOf(SiteSchema), 'The updated site.') },
});
