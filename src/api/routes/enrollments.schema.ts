import { z } from 'zod';
import { dataOf, ErrorResponse, idempotencyKeyHeader, notFound, ok, pageOf, registerApiPath } from '../openapi.js';
import { IdParams, idParam, PaginationQuery, siteIdField } from '../validation.js';

export const ENROLLMENT_STATUSES = ['active', 'completed', 'exited', 'unenrolled', 'failed'] as const;
export const ENROLL_IDS_MAX = 1000;

const timestamp = z.iso.datetime().meta({ example: '2025-01-31T12:00:00.000Z' });

const SOURCES = ['contactId', 'contactIds', 'listId', 'tagId', 'segmentId'] as const;

export const EnrollBody = z
  .object({
    siteId: siteIdField,
    contactId: idParam.optional(),
    contactIds: z
      .array(idParam)
      .min(1, { error: 'send at least one contact id' })
      .max(ENROLL_IDS_MAX, { error: `at most ${ENROLL_IDS_MAX} contact ids per request; enroll a list or tag for more` })
      .optional(),
    listId: idParam.optional().meta({ description: 'Every member of this list: a bulk enrollment job (202).' }),
    tagId: idParam.optional().meta({ description: 'Every contact with this tag: a bulk enrollment job (202).' }),
    segmentId: idParam.optional().meta({ description: 'Every contact matching this segment now: a bulk enrollment job (202).' }),
  })
  .refine((b) => SOURCES.filter((k) => b[k] !== undefined).length === 1, {
    error: 'send exactly one of contactId, contactIds, listId, tagId or segmentId',
    path: ['contactId'],
  })
  .meta({ id: 'Enroll' });

export const UnenrollBody = z.object({ siteId: siteIdField, contactId: idParam }).meta({ id: 'Unenroll' });

const ids = z.array(z.int());
export const EnrollResult = z
  .object({
    enrolled: z.int(),
    alreadyActive: z.int().meta({ description: 'Already in an active journey of this sequence; not duplicated.' }),
    alreadyEnrolled: z.int().meta({ description: 'Finished a journey before and the sequence does not allow re-enrollment.' }),
    notFound: z.int(),
    skipped: z.int().meta({ description: 'Not subscribed (unsubscribed, bounced, complained) or suppressed.' }),
    ids: z
      .object({
        enrolled: ids,
        alreadyActive: ids,
        alreadyEnrolled: ids,
        notFound: ids,
        skipped: z.array(z.object({ contactId: z.int(), reason: z.enum(['unsubscribed', 'bounced', 'complained', 'suppressed']) })),
      })
      .meta({ description: 'The contact ids behind each count.' }),
  })
  .meta({ id: 'EnrollResult' });

export const EnrollmentJob = z
  .object({
    id: z.int(),
    sequenceId: z.int(),
    source: z.object({ kind: z.enum(['list', 'tag', 'segment']), id: z.int() }),
    status: z.enum(['running', 'completed']),
    total: z.int().meta({ description: 'Contacts of the source when the job was created (a segment is evaluated then).' }),
    enrolled: z.int().meta({ description: 'Enrollments made so far.' }),
    started: z.int().meta({ description: 'Enrollments whose journey (workflow) has started.' }),
    alreadyActive: z.int().meta({ description: 'Already in an active journey of this sequence; not duplicated.' }),
    alreadyEnrolled: z.int().meta({ description: 'Finished a journey before and the sequence does not allow re-enrollment.' }),
    skipped: z.int().meta({ description: 'Not subscribed or suppressed when their turn came, or the sequence was no longer active.' }),
    notFound: z.int().meta({ description: 'Once completed: contacts deleted before their turn.' }),
    progress: z.number().min(0).max(1).meta({ description: 'Share of the contacts settled: journey started, or set aside with a reason.' }),
    createdAt: timestamp,
    completedAt: timestamp.nullable(),
  })
  .meta({ id: 'EnrollmentJob' });

const HistoryEntry = z.object({ stepId: z.int(), outcome: z.string(), sendId: z.int().nullable(), at: timestamp });

export const Enrollment = z
  .object({
    id: z.int(),
    sequenceId: z.int(),
    contactId: z.int(),
    contactEmail: z.string(),
    run: z.int().meta({ description: '1 for the first journey, n for the n-th re-enrollment.' }),
    workflowId: z.string().meta({ example: 'enrollment:5:123' }),
    temporalUiUrl: z
      .string()
      .nullable()
      .meta({ description: 'The journey’s workflow in the Temporal Web UI, when a UI is configured (TEMPORAL_UI_URL); null otherwise.' }),
    status: z.enum(ENROLLMENT_STATUSES),
    exitReason: z.string().nullable(),
    currentStepId: z.int().nullable(),
    nextStepAt: timestamp.nullable(),
    enrolledAt: timestamp,
    completedAt: timestamp.nullable(),
  })
  .meta({ id: 'Enrollment' });

export const EnrollmentDetail = Enrollment.extend({
  nextStepId: z.int().nullable(),
  waitingFor: z.string().nullable().meta({ description: 'The contact event a wait_for_event step is waiting for.' }),
  history: z.array(HistoryEntry).meta({ description: 'Steps done, oldest first, with the send of each email.' }),
  source: z.enum(['workflow', 'database']).meta({ description: 'workflow: live answer of the running journey; database: its last recorded state.' }),
}).meta({ id: 'EnrollmentDetail' });

export const EnrollmentListQuery = PaginationQuery.extend({
  siteId: siteIdField,
  status: z.enum(ENROLLMENT_STATUSES).optional(),
  contactId: idParam.optional(),
});

const tags = ['Sequences'];
const body = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
const idempotencyHeader = idempotencyKeyHeader('Retrying with the same key returns the first answer.');
const notActive = {
  422: { description: '`sequence_not_active`: the sequence is paused or archived.', content: { 'application/json': { schema: ErrorResponse } } },
};

registerApiPath({
  method: 'post',
  path: '/api/v1/sequences/{id}/enroll',
  tags,
  summary: 'Enroll contacts',
  description:
    'One contact or up to 1,000 ids: enrolled before the answer (200), which counts every outcome with the contact ids; if Temporal is ' +
    'unreachable the answer is 503 and repeating the request (same Idempotency-Key or not) enrolls whoever is missing, never anyone twice. ' +
    'Every member of a list, tag or segment: a bulk enrollment job (202, `Location: /api/v1/enrollment-jobs/{jobId}`). The members are ' +
    'staged in one statement before the answer; the workers enroll them and start their journeys in batches, and ' +
    '`GET /enrollment-jobs/{id}` reports the progress. Only subscribed, unsuppressed contacts are enrolled.',
  request: { params: IdParams, headers: idempotencyHeader, body: body(EnrollBody) },
  responses: {
    200: ok(dataOf(EnrollResult), 'Contacts by id: what happened to each.'),
    202: ok(dataOf(EnrollmentJob), 'A list, tag or segment: the job that enrolls its members.'),
    ...notFound,
    ...notActive,
  },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/enrollment-jobs/{id}',
  tags,
  summary: 'Progress of a bulk enrollment',
  description: 'Counts of a list, tag or segment enrollment as the workers carry it out; `status` turns `completed` when every contact is settled.',
  request: { params: IdParams },
  responses: { 200: ok(dataOf(EnrollmentJob), 'The job.'), ...notFound },
});
registerApiPath({
  method: 'post',
  path: '/api/v1/sequences/{id}/unenroll',
  tags,
  summary: 'Unenroll a contact',
  description: 'Ends the contact’s active journey at once (even mid-delay).',
  request: { params: IdParams, body: body(UnenrollBody) },
  responses: { 200: ok(dataOf(Enrollment), 'The ended enrollment.'), ...notFound },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/sequences/{id}/enrollments',
  tags,
  summary: 'List the enrollments of a sequence',
  request: { params: IdParams, query: EnrollmentListQuery },
  responses: { 200: ok(pageOf(Enrollment), 'Newest first.'), ...notFound },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/enrollments/{id}',
  tags,
  summary: 'Live state of an enrollment',
  description: 'Asked of the running workflow (current step, next step and when it fires, history with send ids); the database row once it has ended or if Temporal does not answer.',
  request: { params: IdParams },
  responses: { 200: ok(dataOf(EnrollmentDetail), 'The enrollment.'), ...notFound },
});
