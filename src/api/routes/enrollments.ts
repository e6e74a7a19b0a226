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
import { enrollContacts, enrollmentLiveState, enrollSource, unenrollContact, type EnrollResult } from '../../services/enrollment.js';
import { getTag } from '../../db/repositories/tags.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../errors.js';
import { offsetOf, sendData, sendPage, siteIdOf } from '../http.js';
import { idempotent } from '../middleware/idempotency.js';
import { IdParams, parseBody, parseParams, parseQuery } from '../validation.js';
import { ENROLL_IDS_IN_ANSWER, EnrollBody, EnrollmentListQuery, UnenrollBody } from './enrollments.schema.js';

/** Accumulates batch results into the answer: counts always, ids while the request is small. */
function collector() {
  const ids = { enrolled: [] as number[], alreadyActive: [] as number[], alreadyEnrolled: [] as number[], notFound: [] as number[], skipped: [] as EnrollResult['skipped'] };
  let seen = 0;
  return {
    add(r: EnrollResult) {
      ids.enrolled.push(...r.enrolled);
      ids.alreadyActive.push(...r.alreadyActive);
      ids.alreadyEnrolled.push(...r.alreadyEnrolled);
      ids.notFound.push(...r.notFound);
      ids.skipped.push(...r.skipped);
      seen += r.enrolled.length + r.alreadyActive.length + r.alreadyEnrolled.length + r.notFound.length + r.skipped.length;
      // Past the threshold the ids are dropped: a 100,000-member list answers with counts only.
      if (seen > ENROLL_IDS_IN_ANSWER) for (const list of Object.values(ids)) list.length = 0;
    },
    answer(counts: { enrolled: number; alreadyActive: number; alreadyEnrolled: number; notFound: number; skipped: number }) {
      return { ...counts, ...(seen <= ENROLL_IDS_IN_ANSWER ? { ids } : {}) };
    },
  };
}

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

/** Enrollment, unenrollment and the live state of a journey. */
export function enrollmentsRouter({ db, temporal }: AppDeps): Router {
  const router = Router();

  router.post('/sequences/:id/enroll', idempotent(db), async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { siteId: _s, ...input } = parseBody(req, EnrollBody);
    const siteId = siteIdOf(req);
    const deps = { db, temporal, logger: req.log };
    const out = collector();
    if (input.contactId !== undefined || input.contactIds !== undefined) {
      const r = await enrollContacts(deps, { siteId, sequenceId: id, contactIds: input.contactIds ?? [input.contactId!] });
      out.add(r);
      const counts = {
        enrolled: r.enrolled.length,
        alreadyActive: r.alreadyActive.length,
        alreadyEnrolled: r.alreadyEnrolled.length,
        notFound: r.notFound.length,
        skipped: r.skipped.length,
      };
      req.log.info({ sequenceId: id, ...counts }, 'contacts enrolled');
      sendData(res, out.answer(counts));
      return;
    }
    if (!(await getSequenceRow(db, siteId, id))) throw AppError.notFound('Sequence', id);
    let source: ContactSource;
    if (input.listId !== undefined) {
      await assertListsOfSite(db, siteId, [input.listId]);
      source = { listId: input.listId };
    } else if (input.segmentId !== undefined) {
      // Evaluated page by page as the batches go: a contact matching by the time its page is read is enrolled.
      source = { segmentSql: segmentContactsSql(siteId, await getSegmentRules(db, siteId, input.segmentId)) };
    } else {
      const tag = await getTag(db, siteId, input.tagId!);
      if (!tag) throw new AppError('tag_not_found', 'not_found', `Tag ${input.tagId} not found`, [{ path: 'tagId', message: 'no tag with this id in this site' }]);
      source = { tagId: tag.id };
    }
    const counts = await enrollSource(deps, { siteId, sequenceId: id, source }, (r) => out.add(r));
    req.log.info({ sequenceId: id, listId: input.listId, tagId: input.tagId, segmentId: input.segmentId, ...counts }, 'audience enrolled');
    sendData(res, out.answer(counts));
  });

  router.post('/sequences/:id/unenroll', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { contactId } = parseBody(req, UnenrollBody);
    const siteId = siteIdOf(req);
    const enrollmentId = await unenrollContact({ db, temporal, logger: req.log }, { siteId, sequenceId: id, contactId });
    sendData(res, await getEnrollmentItem(db, siteId, enrollmentId));
  });

  router.get('/sequences/:id/enrollments', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { page, limit, siteId: _s, ...filters } = parseQuery(req, EnrollmentListQuery);
    const siteId = siteIdOf(req);
    if (!(await getSequenceRow(db, siteId, id))) throw AppError.notFound('Sequence', id);
    const { rows, total } = await listEnrollments(db, siteId, id, filters, { limit, offset: offsetOf({ page, limit }) });
    sendPage(res, rows, { page, limit }, total);
  });

  router.get('/enrollments/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const row: EnrollmentListItem | undefined = await getEnrollmentItem(db, siteIdOf(req), id);
    if (!row) throw AppError.notFound('Enrollment', id);
    const live = row.status === 'active' ? await enrollmentLiveState(temporal, row.workflowId) : undefined;
    if (live) {
      sendData(res, {
        ...row,
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
      ...row,
      nextStepAt: iso(row.nextStepAt),
      nextStepId: null,
      waitingFor: null,
      history: history.map((h) => ({ ...h, at: h.at.toISOString() })),
      source: 'database',
    });
  });

  return router;
}
