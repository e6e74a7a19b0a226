import { z } from 'zod';
import { CAMPAIGN_MAX_BATCH_SIZE } from '../../mail/providers.js';
import { conflict, dataOf, ErrorResponse, idempotencyKeyHeader, notFound, ok, pageOf, registerApiPath } from '../openapi.js';
import { IdParams, idParam, PaginationQuery, siteIdField } from '../validation.js';
import { EmailSchema } from './contacts.schema.js';

const timestamp = z.iso.datetime().meta({ example: '2026-03-10T09:00:00.000Z' });
const MAX_SOURCE = 1_000_000;
const id = z.int().min(1).max(2_147_483_647);
const ids = z.array(id).max(100);

const campaignStatus = z.enum(['draft', 'scheduled', 'sending', 'sent', 'paused', 'cancelled', 'failed']);
const recipientStatus = z.enum(['pending', 'sent', 'failed', 'suppressed', 'skipped']);

export const AudienceBody = z
  .object({
    listIds: ids.optional(),
    tagIds: ids.optional(),
    segmentIds: ids.optional(),
    excludeListIds: ids.optional(),
    excludeSegmentIds: ids.optional(),
  })
  .strict()
  .meta({ id: 'CampaignAudience', description: 'Contacts in any of the lists, tags or segments, minus the excluded lists and segments.' });

const fields = {
  name: z.string({ error: 'name is required' }).trim().min(1, { error: 'name must not be empty' }).max(200).meta({ example: 'March Newsletter' }),
  subject: z.string().min(1, { error: 'subject must not be empty' }).max(2000).meta({ example: "What's new in March" }),
  html: z.string().min(1, { error: 'html must not be empty' }).max(MAX_SOURCE).meta({ description: 'Liquid; contact fields are in scope.', example: '<h1>March Update</h1>' }),
  text: z.string().max(MAX_SOURCE).nullish(),
  templateId: id.nullish().meta({ description: 'Use a stored template instead of subject + html (a given subject overrides the template’s).' }),
  listId: id.optional().meta({ description: 'Shorthand for `audience.listIds: [listId]`.', example: 42 }),
  tagId: id.optional().meta({ description: 'Shorthand for `audience.tagIds: [tagId]`.' }),
  segmentId: id.optional().meta({ description: 'Shorthand for `audience.segmentIds: [segmentId]`.' }),
  audience: AudienceBody.optional(),
  sendingConfigId: id.meta({ example: 1 }),
  scheduledAt: z.iso
    .datetime({ offset: true, error: 'scheduledAt must be an ISO-8601 date-time, e.g. 2026-03-10T09:00:00Z' })
    .nullish()
    .meta({ description: 'Creating or patching with a time schedules the campaign; a time in the past sends now.', example: '2026-03-10T09:00:00Z' }),
  batchSize: z
    .int()
    .min(1)
    .max(CAMPAIGN_MAX_BATCH_SIZE)
    .optional()
    .meta({
      description:
        'Recipients per batch, one Temporal activity (default and at most 1000). A batch API takes it in calls of its own limit (Resend: 100); SMTP sends it over the config’s pooled connections. A smaller batch spreads a campaign over more activities, each with its own overhead.',
      example: 100,
    }),
  maxPerSecond: z.int().min(1).max(100_000).nullish().meta({ description: 'The campaign’s own throttle, on top of the sending config’s.' }),
};

export const CampaignCreateBody = z
  .object({ siteId: siteIdField, ...fields, subject: fields.subject.optional(), html: fields.html.optional() })
  .meta({ id: 'CampaignCreate' });

export const CampaignUpdateBody = z
  .object({
    siteId: siteIdField,
    ...fields,
    name: fields.name.optional(),
    subject: fields.subject.optional(),
    html: fields.html.optional(),
    sendingConfigId: fields.sendingConfigId.optional(),
  })
  .meta({ id: 'CampaignUpdate' });

export const ScheduleBody = z
  .object({
    siteId: siteIdField,
    scheduledAt: z.iso.datetime({ offset: true, error: 'scheduledAt must be an ISO-8601 date-time, e.g. 2026-03-10T09:00:00Z' }),
  })
  .meta({ id: 'CampaignSchedule' });

export const AudienceCountBody = z
  .object({
    siteId: siteIdField,
    listIds: ids.optional(),
    tagIds: ids.optional(),
    segmentIds: ids.optional(),
    excludeListIds: ids.optional(),
    excludeSegmentIds: ids.optional(),
  })
  .strict()
  .meta({ id: 'CampaignAudienceCount' });

export const AudienceCount = z
  .object({
    total: z.int().meta({ description: 'Subscribed contacts the audience matches now.' }),
    suppressed: z.int().meta({ description: 'Of those, addresses on the suppression list (recorded as `suppressed`, never sent to).' }),
    recipients: z.int().meta({ description: 'total − suppressed: who would be sent to if the audience were frozen now.' }),
  })
  .meta({ id: 'CampaignAudienceCountResult' });

export const TestSendBody = z
  .object({ siteId: siteIdField, to: EmailSchema.meta({ example: 'me@example.com', description: 'Where the test copy goes.' }) })
  .meta({ id: 'CampaignTestSend' });

export const TestSendResult = z
  .object({ sendId: z.int().meta({ description: 'The transactional send; follow it at `GET /sends/{sendId}`.' }), status: z.string() })
  .meta({ id: 'CampaignTestSendResult' });

export const CampaignListQuery = PaginationQuery.extend({ siteId: siteIdField, status: campaignStatus.optional() });
export const RecipientQuery = PaginationQuery.extend({ siteId: siteIdField, status: recipientStatus.optional() });

const rates = z
  .object({
    delivered: z.number(),
    opened: z.number(),
    clicked: z.number(),
    bounced: z.number(),
    complained: z.number(),
    unsubscribed: z.number(),
    failed: z.number(),
  })
  .meta({ description: 'Fractions (0–1) of sentCount; `failed` of sent + failed.' });

const counters = {
  totalRecipients: z.int(),
  sentCount: z.int(),
  failedCount: z.int(),
  suppressedCount: z.int(),
  skippedCount: z.int(),
  deliveredCount: z.int(),
  openedCount: z.int(),
  clickedCount: z.int(),
  bouncedCount: z.int(),
  complainedCount: z.int(),
  unsubscribedCount: z.int(),
  progress: z.number().meta({ description: 'Percent of recipients in a final state.' }),
  rates,
};

export const Campaign = z
  .object({
    id: z.int(),
    name: z.string(),
    status: campaignStatus,
    subject: z.string().nullable(),
    html: z.string().nullable(),
    text: z.string().nullable(),
    templateId: z.int().nullable(),
    sendingConfigId: z.int(),
    audience: z.object({
      listIds: z.array(z.int()),
      tagIds: z.array(z.int()),
      segmentIds: z.array(z.int()),
      excludeListIds: z.array(z.int()),
      excludeSegmentIds: z.array(z.int()),
    }),
    batchSize: z.int(),
    maxPerSecond: z.int().nullable(),
    scheduledAt: timestamp.nullable(),
    startedAt: timestamp.nullable(),
    completedAt: timestamp.nullable(),
    pausedReason: z.string().nullable(),
    workflowId: z.string().nullable().meta({ description: 'Find it in the Temporal Web UI (search `CampaignId = "42"`).' }),
    temporalUiUrl: z.string().nullable().meta({ description: 'The workflow’s page in the Temporal Web UI, when a UI is configured (TEMPORAL_UI_URL).' }),
    ...counters,
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Campaign' });

export const CampaignStats = z
  .object({
    id: z.int(),
    status: campaignStatus,
    pausedReason: z.string().nullable(),
    ...counters,
    recipients: z.record(recipientStatus, z.int()).meta({ description: 'Recipients by state, counted from the frozen audience.' }),
    startedAt: timestamp.nullable(),
    completedAt: timestamp.nullable(),
    elapsedSeconds: z.number(),
    sendRatePerSecond: z.number(),
  })
  .meta({ id: 'CampaignStats' });

export const Recipient = z
  .object({
    id: z.int(),
    contactId: z.int(),
    email: z.string(),
    status: recipientStatus,
    sendId: z.int().nullable(),
    error: z.string().nullable(),
    attempt: z.int(),
    updatedAt: timestamp,
  })
  .meta({ id: 'CampaignRecipient' });

export const RetryFailedResult = z
  .object({ campaign: Campaign, retrying: z.int().meta({ description: 'Failed recipients put back to pending.' }) })
  .meta({ id: 'CampaignRetry' });

export { IdParams, idParam };

const tags = ['Campaigns'];
const body = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
const idempotencyHeader = idempotencyKeyHeader('Retrying with the same key returns the first answer and starts nothing twice.');
const stateConflict = conflict('The campaign’s status does not allow this (the message names the status and the allowed ones).');

registerApiPath({
  method: 'post',
  path: '/api/v1/campaigns',
  tags,
  summary: 'Create a campaign',
  description:
    'One message to an audience of lists, tags and segments. With `scheduledAt` the campaign is scheduled at once ' +
    '(its workflow waits durably until then); without, it is a draft. Every id must belong to the key’s site.',
  request: { headers: idempotencyHeader, body: body(CampaignCreateBody) },
  responses: { 201: ok(dataOf(Campaign), 'The created campaign.'), ...notFound },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/campaigns',
  tags,
  summary: 'List campaigns',
  request: { query: CampaignListQuery },
  responses: { 200: ok(pageOf(Campaign), 'A page of campaigns, newest first.') },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/campaigns/{id}',
  tags,
  summary: 'Get a campaign with its counters and progress',
  request: { params: IdParams },
  responses: { 200: ok(dataOf(Campaign), 'The campaign.'), ...notFound },
});
registerApiPath({
  method: 'patch',
  path: '/api/v1/campaigns/{id}',
  tags,
  summary: 'Edit a draft or scheduled campaign',
  request: { params: IdParams, body: body(CampaignUpdateBody) },
  responses: { 200: ok(dataOf(Campaign), 'The updated campaign.'), ...notFound, ...stateConflict },
});
registerApiPath({
  method: 'delete',
  path: '/api/v1/campaigns/{id}',
  tags,
  summary: 'Delete a draft campaign',
  request: { params: IdParams },
  responses: { 204: { description: 'Deleted.' }, ...notFound, ...stateConflict },
});

const actions: { path: string; summary: string; description: string; withBody?: z.ZodType }[] = [
  {
    path: 'schedule',
    summary: 'Schedule or reschedule a campaign',
    description: 'A draft is scheduled; a scheduled campaign moves to the new time at once. A time in the past means now.',
    withBody: ScheduleBody,
  },
  { path: 'send', summary: 'Send a campaign now', description: 'A draft or scheduled campaign starts sending at once.' },
  { path: 'pause', summary: 'Pause a sending campaign', description: 'Batches in flight finish; no new batch starts until resumed.' },
  { path: 'resume', summary: 'Resume a paused campaign', description: 'Also after an auto-pause (see `pausedReason`), once its cause is fixed.' },
  {
    path: 'cancel',
    summary: 'Cancel a campaign',
    description: 'Before its time nothing is sent; while sending, recipients not yet sent to end as `skipped`.',
  },
];
for (const action of actions) {
  registerApiPath({
    method: 'post',
    path: `/api/v1/campaigns/{id}/${action.path}`,
    tags,
    summary: action.summary,
    description: action.description,
    request: { params: IdParams, headers: idempotencyHeader, ...(action.withBody ? { body: body(action.withBody) } : {}) },
    responses: { 200: ok(dataOf(Campaign), 'The campaign in its new state.'), ...notFound, ...stateConflict },
  });
}
registerApiPath({
  method: 'get',
  path: '/api/v1/campaigns/{id}/stats',
  tags,
  summary: 'Campaign counters, rates and recipients by state',
  request: { params: IdParams },
  responses: { 200: ok(dataOf(CampaignStats), 'The statistics, live while sending.'), ...notFound },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/campaigns/{id}/recipients',
  tags,
  summary: 'List the frozen recipients of a campaign',
  request: { params: IdParams, query: RecipientQuery },
  responses: { 200: ok(pageOf(Recipient), 'A page of recipients, in id order.'), ...notFound },
});
registerApiPath({
  method: 'post',
  path: '/api/v1/campaigns/audience-count',
  tags,
  summary: 'Count an audience before sending',
  description:
    'How many subscribed contacts the lists, tags and segments reach now, minus the exclusions, and how many of them are suppressed: ' +
    'what freezing the audience would give at this moment (the frozen count is `totalRecipients` once the campaign starts).',
  request: { body: body(AudienceCountBody) },
  responses: { 200: ok(dataOf(AudienceCount), 'The counts.'), ...notFound },
});
registerApiPath({
  method: 'post',
  path: '/api/v1/campaigns/{id}/test',
  tags,
  summary: 'Send a test copy of a campaign',
  description:
    'Renders the campaign’s current content (its template when it has one) for one address, subject prefixed `[Test]`, and delivers it ' +
    'through the campaign’s sending config as a transactional send: any status, never counted in the campaign’s statistics. A contact ' +
    'with that address lends its fields to the template; a suppressed address is refused (422).',
  request: { params: IdParams, body: body(TestSendBody) },
  responses: {
    202: ok(dataOf(TestSendResult), 'The test send, queued for delivery.'),
    ...notFound,
    422: { description: '`recipient_suppressed`: the address is suppressed; nothing was sent.', content: { 'application/json': { schema: ErrorResponse } } },
  },
});
registerApiPath({
  method: 'post',
  path: '/api/v1/campaigns/{id}/retry-failed',
  tags,
  summary: 'Send again to the failed recipients of a finished campaign',
  request: { params: IdParams, headers: idempotencyHeader },
  responses: { 200: ok(dataOf(RetryFailedResult), 'How many recipients are being retried.'), ...notFound, ...stateConflict },
});
