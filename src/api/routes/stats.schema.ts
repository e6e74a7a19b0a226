import { z } from 'zod';
import { sendStatus } from '../../db/schema.js';
import { EMAIL_EVENT_TYPES } from '../../domain/email-events.js';
import { dataOf, ok, registerApiPath } from '../openapi.js';
import { siteIdField } from '../validation.js';

/** Longest range one request may cover, in days. */
export const STATS_MAX_DAYS = 366;
export const STATS_DEFAULT_DAYS = 30;

const day = z.iso.date({ error: 'must be a date, YYYY-MM-DD' });

export const TimeSeriesQuery = z
  .object({
    siteId: siteIdField,
    from: day.optional().meta({ description: `First day (UTC), included. Default: ${STATS_DEFAULT_DAYS - 1} days before \`to\`.`, example: '2025-01-01' }),
    to: day.optional().meta({ description: 'Last day (UTC), included. Default: today.', example: '2025-01-30' }),
    interval: z.enum(['day', 'week'], { error: 'interval must be day or week' }).default('day').meta({ description: 'Bucket size; weeks start on Monday.' }),
  })
  .superRefine((q, ctx) => {
    if (q.from && q.to && q.from > q.to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'from must not be after to' });
  });

const countsOf = (keys: readonly string[]) => z.object(Object.fromEntries(keys.map((k) => [k, z.int()])) as Record<string, z.ZodInt>);

export const StatsBucket = z
  .object({
    date: z.iso.date().meta({ description: 'First day of the bucket (UTC).', example: '2025-01-06' }),
    sends: z.int().meta({ description: 'Emails of any kind created in the bucket.' }),
    sendsByStatus: countsOf(sendStatus.enumValues).meta({ description: 'The same sends by their current status.' }),
    events: countsOf(EMAIL_EVENT_TYPES).meta({ description: 'Email events that happened in the bucket, by type (an open is recorded once per send).' }),
  })
  .meta({ id: 'StatsBucket' });

export const TimeSeries = z
  .object({
    from: z.iso.date(),
    to: z.iso.date(),
    interval: z.enum(['day', 'week']),
    series: z.array(StatsBucket).meta({ description: 'Every bucket of the range, oldest first; empty ones are zeros.' }),
  })
  .meta({ id: 'StatsTimeSeries' });

registerApiPath({
  method: 'get',
  path: '/api/v1/stats/timeseries',
  tags: ['Stats'],
  summary: 'Sends and email events over time',
  description:
    'Counts per day (or week) for the site: sends by creation day and current status, email events by the day they happened and ' +
    `type. Days are UTC. At most ${STATS_MAX_DAYS} days per request; by default the last ${STATS_DEFAULT_DAYS} days.`,
  request: { query: TimeSeriesQuery },
  responses: { 200: ok(dataOf(TimeSeries), 'The series.') },
});
