import { Router } from 'express';
import { sequenceStepStats } from '../../db/repositories/enrollments.js';
import {
  createSequence,
  createStep,
  deleteOrArchiveSequence,
  deleteStep,
  getSequence,
  getSequenceRow,
  getStep,
  listSequences,
  listStepViews,
  reorderSteps,
  updateSequence,
  updateStep,
} from '../../db/repositories/sequences.js';
import { signalSequenceStatus } from '../../services/enrollment.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../errors.js';
import { offsetOf, sendData, sendPage, siteIdOf } from '../http.js';
import { idempotent } from '../middleware/idempotency.js';
import { IdParams, parseBody, parseParams, parseQuery } from '../validation.js';
import { ReorderBody, SequenceCreateBody, SequenceListQuery, SequenceUpdateBody, StepCreateBody, StepParams, StepUpdateBody } from './sequences.schema.js';

/** Sequences and their steps (CRUD, reorder, stats); enrollment lives in enrollments.ts. */
export function sequencesRouter({ db, temporal, logger }: AppDeps): Router {
  const router = Router();

  const mustExist = async (siteId: number, id: number) => {
    if (!(await getSequenceRow(db, siteId, id))) throw AppError.notFound('Sequence', id);
  };

  router.post('/sequences', idempotent(db), async (req, res) => {
    const { siteId: _s, ...input } = parseBody(req, SequenceCreateBody);
    const sequence = await createSequence(db, siteIdOf(req), { ...input, sendWindow: input.sendWindow ?? null });
    sendData(res, sequence, 201);
  });

  router.get('/sequences', async (req, res) => {
    const { page, limit, siteId: _s, ...filters } = parseQuery(req, SequenceListQuery);
    const { rows, total } = await listSequences(db, siteIdOf(req), filters, { limit, offset: offsetOf({ page, limit }) });
    sendPage(res, rows, { page, limit }, total);
  });

  router.get('/sequences/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const sequence = await getSequence(db, siteIdOf(req), id);
    if (!sequence) throw AppError.notFound('Sequence', id);
    sendData(res, sequence);
  });

  router.patch('/sequences/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { siteId: _s, ...patch } = parseBody(req, SequenceUpdateBody);
    const updated = await updateSequence(db, siteIdOf(req), id, patch);
    if (!updated) throw AppError.notFound('Sequence', id);
    if (patch.status !== undefined) {
      // Sent even when unchanged, so repeating a PATCH that failed halfway (503) reaches every journey.
      const signalled = await signalSequenceStatus({ db, temporal, logger: req.log }, id, patch.status);
      req.log.info({ sequenceId: id, status: patch.status, from: updated.before.status, signalled }, 'sequence status changed');
    }
    sendData(res, updated.after);
  });

  router.delete('/sequences/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const outcome = await deleteOrArchiveSequence(db, siteIdOf(req), id);
    if (!outcome) throw AppError.notFound('Sequence', id);
    if (outcome === 'archived') await signalSequenceStatus({ db, temporal, logger }, id, 'archived');
    sendData(res, { id, outcome });
  });

  router.post('/sequences/:id/steps', idempotent(db), async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { siteId: _s, ...input } = parseBody(req, StepCreateBody);
    sendData(res, await createStep(db, siteIdOf(req), id, input), 201);
  });

  router.get('/sequences/:id/steps', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    await mustExist(siteIdOf(req), id);
    sendData(res, await listStepViews(db, id));
  });

  router.post('/sequences/:id/steps/reorder', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { stepIds } = parseBody(req, ReorderBody);
    sendData(res, await reorderSteps(db, siteIdOf(req), id, stepIds));
  });

  router.patch('/sequences/:id/steps/:stepId', async (req, res) => {
    const { id, stepId } = parseParams(req, StepParams);
    const { siteId: _s, ...patch } = parseBody(req, StepUpdateBody);
    const step = await updateStep(db, siteIdOf(req), id, stepId, patch);
    if (!step) throw AppError.notFound('Step', stepId);
    sendData(res, step);
  });

  router.delete('/sequences/:id/steps/:stepId', async (req, res) => {
    const { id, stepId } = parseParams(req, StepParams);
    if (!(await deleteStep(db, siteIdOf(req), id, stepId))) throw AppError.notFound('Step', stepId);
    res.status(204).end();
  });

  router.get('/sequences/:id/stats', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    await mustExist(siteIdOf(req), id);
    sendData(res, await sequenceStepStats(db, siteIdOf(req), id));
  });

  // GET for a single step, handy for clients; documented with the others.
  router.get('/sequences/:id/steps/:stepId', async (req, res) => {
    const { id, stepId } = parseParams(req, StepParams);
    const step = await getStep(db, siteIdOf(req), id, stepId);
    if (!step) throw AppError.notFound('Step', stepId);
    sendData(res, step);
  });

  return router;
}
