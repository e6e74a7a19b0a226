import { Router } from 'express';
import {
  enrollmentHistory,
  getEnrollmentItem,
  listEnrollments,
  type ContactSource,
  type EnrollmentListItem,
} from '../../db/repositories/enrollments.js';
import { assertListsOfSite } from '../../db/repositories/lists.js';
import { getSequenceRow } from '../../db/repositories/sequences.js';
import { getSegmentRules, segmentContactsSql } from '../../db/segments.js';
import { getEnrollmentJob, type EnrollmentJobRow, type EnrollmentJobSourceKind } from '../../db/repositories/enrollment-jobs.js';
import { temporalWorkflowUrl } from '../../temporal/ui.js';
import { enrollContacts, enrollmentLiveState, startBulkEnrollment, unenrollContact } from '../../services/enrollment.js';
import { getTag } from '../../db/repositories/tags.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../errors.js';
import { offsetOf, sendData, sendPage, siteIdOf } from '../http.js';
import { idempotent } from '../middleware/idempotency.js';
import { IdParams, parseBody, parseParams, parseQuery } from '../validation.js';
import { EnrollBody, EnrollmentListQuery, UnenrollBody } from './enrollments.schema.js';

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

/**
 * A bulk enrollment as the API shows it. `progress` is the share of its contacts settled (journey
 * started, or set aside with a reason); once completed, contacts deleted before their turn count as `notFound`.
 */
function enrollmentJobView(job: EnrollmentJobRow) {
  const completed = job.completedAt !== null;
  const settled = job.started + job.alreadyActive + job.alreadyEnrolled + job.skipped;
  const decided = job.enrolled + job.alreadyActive + job.alreadyEnrolled + job.skipped;
  return {
    id: job.id,
    sequenceId: job.sequenceId,
    source: { kind: job.sourceKind, id: job.sourceId },
    status: completed ? ('completed' as const) : ('running' as const),
    total: job.total,
    enrolled: job.enrolled,
    started: job.started,
    alreadyActive: job.alreadyActive,
    alreadyEnrolled: job.alreadyEnrolled,
    skipped: job.skipped,
    notFound: completed ? Math.max(0, job.total - decided) : 0,
    progress: completed || job.total === 0 ? 1 : Math.min(1, settled / job.total),
    createdAt: job.createdAt.toISOString(),
    completedAt: iso(job.completedAt),
  };
}

/** Enrollment, unenrollment and the live state of a journey. */
export function enrollmentsRouter({ db, temporal, config }: AppDeps): Router {
  const router = Router();
  const withUiUrl = <T extends { workflowId: string }>(row: T) => ({ ...row, temporalUiUrl: temporalWorkflowUrl(config, row.workflowId) });

  router.post('/sequences/:id/enroll', idempotent(db), async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { siteId: _s, ...input } = parseBody(req, EnrollBody);
    const siteId = siteIdOf(req);
    const deps = { db, temporal, logger: req.log };
    if (input.contactId !== undefined || input.contactIds !== undefined) {
      const r = await enrollContacts(deps, { siteId, sequenceId: id, contactIds: input.contactIds ?? [input.contactId!] });
      const counts = {
        enrolled: r.enrolled.length,
        alreadyActive: r.alreadyActive.length,
        alreadyEnrolled: r.alreadyEnrolled.length,
        notFound: r.notFound.length,
        skipped: r.skipped.length,
      };
      req.log.info({ sequenceId: id, ...counts }, 'contacts enrolled');
      sendData(res, { ...counts, ids: r });
      return;
    }
    // A list, tag or segment: a job that the workers carry out (202), followed at GET /enrollment-jobs/:id.
    if (!(await getSequenceRow(db, siteId, id))) throw AppError.notFound('Sequence', id);
    let source: ContactSource;
    let sourceKind: EnrollmentJobSourceKind;
    let sourceId: number;
    if (input.listId !== undefined) {
      await assertListsOfSite(db, siteId, [input.listId]);
      [source, sourceKind, sourceId] = [{ listId: input.listId }, 'list', input.listId];
    } else if (input.segmentId !== undefined) {
      [source, sourceKind, sourceId] = [{ segmentSql: segmentContactsSql(siteId, await getSegmentRules(db, siteId, input.segmentId)) }, 'segment', input.segmentId];
    } else {
      const tag = await getTag(db, siteId, input.tagId!);
      if (!tag) throw new AppError('tag_not_found', 'not_found', `Tag ${input.tagId} not found`, [{ path: 'tagId', message: 'no tag with this id in this site' }]);
      [source, sourceKind, sourceId] = [{ tagId: tag.id }, 'tag', tag.id];
    }
    const job = await startBulkEnrollment(deps, { siteId, sequenceId: id, sourceKind, sourceId, source });
    req.log.info({ sequenceId: id, jobId: job.id, source: sourceKind, sourceId, total: job.total }, 'bulk enrollment staged');
    res.location(`/api/v1/enrollment-jobs/${job.id}`);
    sendData(res, enrollmentJobView(job), 202);
  });

  router.get('/enrollment-jobs/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const job = await getEnrollmentJob(db, siteIdOf(req), id);
    if (!job) throw AppError.notFound('Enrollment job', id);
    sendData(res, enrollmentJobView(job));
  });

  router.post('/sequences/:id/unenroll', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { contactId } = parseBody(req, UnenrollBody);
    const siteId = siteIdOf(req);
    const enrollmentId = await unenrollContact({ db, temporal, logger: req.log }, { siteId, sequenceId: id, contactId });
    const row = await getEnrollmentItem(db, siteId, enrollmentId);
    sendData(res, row && withUiUrl(row));
  });

  router.get('/sequences/:id/enrollments', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { page, limit, siteId: _s, ...filters } = parseQuery(req, EnrollmentListQuery);
    const siteId = siteIdOf(req);
    if (!(await getSequenceRow(db, siteId, id))) throw AppError.notFound('Sequence', id);
    const { rows, total } = await listEnrollments(db, siteId, id, filters, { limit, offset: offsetOf({ page, limit }) });
    sendPage(res, rows.map(withUiUrl), { page, limit }, total);
  });

  router.get('/enrollments/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const row: EnrollmentListItem | undefined = await getEnrollmentItem(db, siteIdOf(req), id);
    if (!row) throw AppError.notFound('Enrollment', id);
    const live = row.status === 'active' ? await enrollmentLiveState(temporal, row.workflowId) : undefined;
    if (live) {
      sendData(res, {
        ...withUiUrl(row),
        status: live.status,
        exitReason: live.exitReason ?? row.exitReason,
        currentStepId: live.currentStepId,
        nextStepId: live.nextStepId,
        nextStepAt: live.nextStepAt,
        waitingFor: live.waitingFor,
        history: live.history.map((h) => ({ stepId: h.stepId, outcome: h.outcome, sendId: h.sendId ?? null, at: h.at })),
        source: 'workflow',
      });
      return;
    }
    const history = await enrollmentHistory(db, row.id);
    sendData(res, {
      ...withUiUrl(row),
      nextStepAt: iso(row.nextStepAt),
      nextStepId: null,
      waitingFor: null,
      history: history.map((h) => ({ ...h, at: h.at.toISOString() })),
      source: 'database',
    });
  });

  return router;
}
