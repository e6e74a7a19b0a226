import { z } from 'zod';
import { DELAY_UNITS } from '../../domain/delays.js';
import { dataOf, ErrorResponse, idempotencyKeyHeader, notFound, ok, pageOf, registerApiPath } from '../openapi.js';
import { IdParams, idParam, PaginationQuery, siteIdField } from '../validation.js';
import { TagNameSchema, TimeZoneSchema } from './contacts.schema.js';

export const SEQUENCE_STATUSES = ['active', 'paused', 'archived'] as const;
export const STEP_TYPES = ['email', 'condition', 'wait_for_event'] as const;
export const FIELD_OPS = ['eq', 'neq', 'contains', 'starts_with', 'gt', 'gte', 'lt', 'lte', 'exists', 'not_exists', 'in'] as const;

const timestamp = z.iso.datetime().meta({ example: '2025-01-31T12:00:00.000Z' });
const name = z.string({ error: 'name is required' }).trim().min(1, { error: 'name must not be empty' }).max(200);
const eventName = z
  .string({ error: 'must be an event name' })
  .trim()
  .min(1, { error: 'event name must not be empty' })
  .max(200)
  .meta({ example: 'purchased' });

export const TriggerSchema = z
  .discriminatedUnion(
    'type',
    [
      z.object({ type: z.literal('manual') }),
      z.object({ type: z.literal('list_add'), listId: idParam }),
      z.object({ type: z.literal('tag_add'), tagId: idParam }),
      z.object({ type: z.literal('event'), name: eventName }),
    ],
    { error: 'trigger.type must be manual, list_add (with listId), tag_add (with tagId) or event (with name)' },
  )
  .meta({
    id: 'SequenceTrigger',
    description: 'What enrolls contacts automatically: `manual` (only the API), `list_add`, `tag_add` (when the contact is added, however: API, bulk upsert or CSV import) or a named contact `event`.',
  });

export const SendWindowSchema = z
  .object({
    days: z
      .array(z.int().min(1, { error: 'days are ISO weekdays 1 (Monday) to 7 (Sunday)' }).max(7, { error: 'days are ISO weekdays 1 (Monday) to 7 (Sunday)' }))
      .min(1, { error: 'give at least one day' })
      .max(7)
      .refine((d) => new Set(d).size === d.length, { error: 'each day at most once' }),
    startHour: z.int().min(0).max(23),
    endHour: z.int().min(1).max(24),
    timezone: TimeZoneSchema.optional().meta({ description: 'Used for contacts without a timezone (default UTC).' }),
  })
  .refine((w) => w.startHour < w.endHour, { error: 'startHour must be before endHour', path: ['endHour'] })
  .meta({
    id: 'SendWindow',
    description: 'Emails go out only on these ISO weekdays (1 = Monday) between startHour and endHour in the contact’s timezone.',
    example: { days: [1, 2, 3, 4, 5], startHour: 9, endHour: 17 },
  });

export const ExitOnSchema = z
  .object({
    events: z.array(eventName).max(50).optional(),
    tags: z.array(TagNameSchema).max(50).optional(),
  })
  .meta({ id: 'SequenceExitOn', description: 'Contact events or tags that end an enrollment at once.', example: { events: ['purchased'] } });

const sequenceFields = {
  name: name.meta({ example: 'Onboarding Flow' }),
  sendingConfigId: idParam.meta({ description: 'A sending config of the same site.' }),
  trigger: TriggerSchema.optional(),
  allowReenrollment: z.boolean().optional().meta({ description: 'Whether a contact whose journey ended may be enrolled again (run n+1). Default false.' }),
  sendWindow: SendWindowSchema.nullish(),
  exitOn: ExitOnSchema.optional(),
  status: z.enum(SEQUENCE_STATUSES).optional(),
};

export const SequenceCreateBody = z.object({ siteId: siteIdField, ...sequenceFields }).meta({ id: 'SequenceCreate' });

export const SequenceUpdateBody = z
  .object({
    siteId: siteIdField,
    name: sequenceFields.name.optional(),
    sendingConfigId: sequenceFields.sendingConfigId.optional(),
    trigger: sequenceFields.trigger,
    allowReenrollment: sequenceFields.allowReenrollment,
    sendWindow: sequenceFields.sendWindow,
    exitOn: sequenceFields.exitOn,
    status: z
      .enum(SEQUENCE_STATUSES)
      .optional()
      .meta({ description: 'paused holds every active enrollment’s next send until active again; archived ends them.' }),
  })
  .meta({ id: 'SequenceUpdate' });

export const ConditionSchema = z
  .discriminatedUnion(
    'kind',
    [
      z.object({ kind: z.enum(['opened', 'clicked']), stepId: idParam.meta({ description: 'An email step of the same sequence.' }) }),
      z.object({ kind: z.literal('has_tag'), tag: TagNameSchema }),
      z.object({
        kind: z.literal('field'),
        field: z.string().trim().min(1).max(200).meta({ example: 'customFields.plan' }),
        op: z.enum(FIELD_OPS),
        value: z.unknown().optional(),
      }),
    ],
    { error: 'condition.kind must be opened, clicked, has_tag or field' },
  )
  .meta({ id: 'StepCondition' });

const stepRef = idParam.nullable().meta({ description: 'A step id of the same sequence; null ends the enrollment.' });
const delayValue = z.int({ error: 'must be a whole number' }).min(0, { error: 'must not be negative' });

const stepFields = {
  type: z.enum(STEP_TYPES, { error: 'type must be email, condition or wait_for_event' }).meta({ description: 'Default email.' }),
  subject: z.string().max(1000).meta({ description: 'Liquid; with html, or use templateId.', example: 'Welcome!' }),
  html: z.string().max(500_000).meta({ example: '<p>Hi {{ firstName | default: "there" }}</p>' }),
  text: z.string().max(500_000).nullable().meta({ description: 'Plain-text part; derived from html when absent.' }),
  templateId: idParam.nullable().meta({ description: 'A template of the same site instead of subject/html.' }),
  delayValue: delayValue.meta({ description: 'Wait before this step, counted from the previous step (or enrollment). Default 0.', example: 1 }),
  delayUnit: z.enum(DELAY_UNITS, { error: 'delayUnit must be minutes, hours, days or weeks' }).meta({ example: 'days' }),
  condition: ConditionSchema,
  then: stepRef,
  else: stepRef,
  event: eventName.meta({ description: 'wait_for_event: the contact event to wait for.' }),
  timeoutValue: delayValue,
  timeoutUnit: z.enum(DELAY_UNITS, { error: 'timeoutUnit must be minutes, hours, days or weeks' }),
  position: z.int().min(1).max(10_000).meta({ description: '1 = first; later steps shift down. Default: last.' }),
};

const optionalFields = Object.fromEntries(Object.entries(stepFields).map(([k, v]) => [k, v.optional()])) as {
  [K in keyof typeof stepFields]: z.ZodOptional<(typeof stepFields)[K]>;
};

export const StepCreateBody = z
  .object({ siteId: siteIdField, ...optionalFields })
  .meta({
    id: 'StepCreate',
    description:
      'email: `{subject, html | templateId, delayValue, delayUnit}`; condition: `{type:"condition", condition, then, else}`; ' +
      'wait_for_event: `{type:"wait_for_event", event, timeoutValue, timeoutUnit, then, else}`.',
  });

export const StepUpdateBody = z.object({ siteId: siteIdField, ...optionalFields }).meta({ id: 'StepUpdate' });

export const ReorderBody = z
  .object({ siteId: siteIdField, stepIds: z.array(idParam).min(1, { error: 'list every step id in the new order' }).max(1000) })
  .meta({ id: 'StepReorder' });

export const Step = z
  .object({
    id: z.int(),
    sequenceId: z.int(),
    position: z.int().meta({ description: '1 = first.' }),
    type: z.enum(STEP_TYPES),
    delayValue: z.int(),
    delayUnit: z.enum(DELAY_UNITS),
    subject: z.string().nullable(),
    html: z.string().nullable(),
    text: z.string().nullable(),
    templateId: z.int().nullable(),
    condition: ConditionSchema.nullable(),
    then: z.int().nullable(),
    else: z.int().nullable(),
    event: z.string().nullable(),
    timeoutValue: z.int().nullable(),
    timeoutUnit: z.enum(DELAY_UNITS).nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'SequenceStep' });

export const Sequence = z
  .object({
    id: z.int(),
    name: z.string(),
    sendingConfigId: z.int(),
    status: z.enum(SEQUENCE_STATUSES),
    trigger: TriggerSchema,
    allowReenrollment: z.boolean(),
    sendWindow: SendWindowSchema.nullable(),
    exitOn: ExitOnSchema,
    createdAt: timestamp,
    updatedAt: timestamp,
    steps: z.array(Step),
  })
  .meta({ id: 'Sequence' });

export const SequenceListQuery = PaginationQuery.extend({ siteId: siteIdField, status: z.enum(SEQUENCE_STATUSES).optional() });
export const StepParams = z.object({ id: idParam, stepId: idParam });

export const StepStats = z
  .object({
    stepId: z.int(),
    position: z.int(),
    type: z.enum(STEP_TYPES),
    subject: z.string().nullable(),
    entered: z.int().meta({ description: 'Enrollments that reached this step (recorded an outcome at it).' }),
    sent: z.int(),
    opened: z.int().meta({ description: 'Distinct sends of this step opened at least once.' }),
    clicked: z.int().meta({ description: 'Distinct sends of this step clicked at least once.' }),
    active: z.int().meta({ description: 'Active enrollments whose last step is this one, waiting for the next.' }),
    exited: z.int().meta({ description: 'Enrollments that ended early (exited, unenrolled or failed) with this as their last step.' }),
  })
  .meta({ id: 'SequenceStepStats' });

const DeleteResult = z.object({ id: z.int(), outcome: z.enum(['deleted', 'archived']) });

const tags = ['Sequences'];
const body = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const stepInvalid = {
  400: json(
    ErrorResponse,
    'Invalid step: `validation_failed` (missing fields for its type, `then`/`else` not steps of this sequence) or ' +
      '`template_syntax` with `details: [{path, field, line, column, message}]`.',
  ),
};
const seqPath = '/api/v1/sequences/{id}';
const idempotencyHeader = idempotencyKeyHeader('Retrying with the same key returns the first answer and creates nothing twice.');

registerApiPath({
  method: 'post',
  path: '/api/v1/sequences',
  tags,
  summary: 'Create a sequence',
  request: { headers: idempotencyHeader, body: body(SequenceCreateBody) },
  responses: { 201: ok(dataOf(Sequence), 'The sequence (no steps yet).'), ...notFound },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/sequences',
  tags,
  summary: 'List sequences',
  request: { query: SequenceListQuery },
  responses: { 200: ok(pageOf(Sequence), 'A page of sequences with their steps.') },
});
registerApiPath({
  method: 'get',
  path: seqPath,
  tags,
  summary: 'Get a sequence with its steps',
  request: { params: IdParams },
  responses: { 200: ok(dataOf(Sequence), 'The sequence.'), ...notFound },
});
registerApiPath({
  method: 'patch',
  path: seqPath,
  tags,
  summary: 'Update a sequence',
  description:
    'Changing `status` tells every active enrollment at once (paused holds sends, active releases them, archived ends them); ' +
    'the request fails with 503 if Temporal cannot be reached, and repeating it re-sends the change.',
  request: { params: IdParams, body: body(SequenceUpdateBody) },
  responses: { 200: ok(dataOf(Sequence), 'The updated sequence.'), ...notFound },
});
registerApiPath({
  method: 'delete',
  path: seqPath,
  tags,
  summary: 'Delete (or archive) a sequence',
  description: 'A sequence that never enrolled anyone is deleted. One with enrollments is archived instead (its journeys end, its history and stats stay).',
  request: { params: IdParams },
  responses: { 200: ok(dataOf(DeleteResult), 'What happened.'), ...notFound },
});
registerApiPath({
  method: 'post',
  path: `${seqPath}/steps`,
  tags,
  summary: 'Add a step',
  request: { params: IdParams, headers: idempotencyHeader, body: body(StepCreateBody) },
  responses: { 201: ok(dataOf(Step), 'The step.'), ...stepInvalid, ...notFound },
});
registerApiPath({
  method: 'get',
  path: `${seqPath}/steps`,
  tags,
  summary: 'List the steps in order',
  request: { params: IdParams },
  responses: { 200: ok(dataOf(z.array(Step)), 'The live steps, first to last.'), ...notFound },
});
registerApiPath({
  method: 'patch',
  path: `${seqPath}/steps/{stepId}`,
  tags,
  summary: 'Update a step',
  description: 'Content changes reach future sends of running enrollments. Giving templateId clears subject/html and vice versa.',
  request: { params: StepParams, body: body(StepUpdateBody) },
  responses: { 200: ok(dataOf(Step), 'The step.'), ...stepInvalid, ...notFound },
});
registerApiPath({
  method: 'delete',
  path: `${seqPath}/steps/{stepId}`,
  tags,
  summary: 'Delete a step',
  description: 'Soft delete: enrollments waiting on it move on to the next step.',
  request: { params: StepParams },
  responses: { 204: { description: 'Deleted.' }, ...notFound },
});
registerApiPath({
  method: 'post',
  path: `${seqPath}/steps/reorder`,
  tags,
  summary: 'Reorder the steps',
  request: { params: IdParams, body: body(ReorderBody) },
  responses: { 200: ok(dataOf(z.array(Step)), 'The steps in their new order.'), ...notFound },
});
registerApiPath({
  method: 'get',
  path: `${seqPath}/stats`,
  tags,
  summary: 'Per-step stats',
  request: { params: IdParams },
  responses: { 200: ok(dataOf(z.array(StepStats)), 'Entered, sent, opened, clicked, waiting and exited per live step: the funnel.'), ...notFound },
});
registerApiPath({
  method: 'get',
  path: `${seqPath}/steps/{stepId}`,
  tags,
  summary: 'Get a step',
  request: { params: StepParams },
  responses: { 200: ok(dataOf(Step), 'The step.'), ...notFound },
});
