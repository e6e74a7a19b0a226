import { Router } from 'express';
import { createSegment, deleteSegment, getSegment, listSegments, updateSegment, assertRuleReferences } from '../../db/repositories/segments.js';
import { countSegment, getSegmentRules, listSegmentContacts } from '../../db/segments.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../errors.js';
import { offsetOf, sendData, sendPage, siteIdOf } from '../http.js';
import { IdParams, parseBody, parseParams, parseQuery } from '../validation.js';
import { PREVIEW_SAMPLE_SIZE, SegmentCreateBody, SegmentPreviewBody, SegmentQuery, SegmentUpdateBody } from './segments.schema.js';

export function segmentsRouter({ db }: AppDeps): Router {
  const router = Router();

  router.post('/segments', async (req, res) => {
    const { siteId: _s, ...input } = parseBody(req, SegmentCreateBody);
    sendData(res, await createSegment(db, siteIdOf(req), input), 201);
  });

  router.get('/segments', async (req, res) => {
    const { page, limit } = parseQuery(req, SegmentQuery);
    const { rows, total } = await listSegments(db, siteIdOf(req), { limit, offset: offsetOf({ page, limit }) });
    sendPage(res, rows, { page, limit }, total);
  });

  // Before /segments/:id so "preview" is never read as an id (only POST here, but keep the order safe).
  router.post('/segments/preview', async (req, res) => {
    const { rules } = parseBody(req, SegmentPreviewBody);
    const siteId = siteIdOf(req);
    await assertRuleReferences(db, siteId, rules);
    const { rows, total } = await listSegmentContacts(db, siteId, rules, { page: 1, limit: PREVIEW_SAMPLE_SIZE });
    sendData(res, { count: total, sample: rows });
  });

  router.get('/segments/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const segment = await getSegment(db, siteIdOf(req), id);
    if (!segment) throw AppError.notFound('Segment', id);
    sendData(res, segment);
  });

  router.patch('/segments/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { siteId: _s, ...patch } = parseBody(req, SegmentUpdateBody);
    const segment = await updateSegment(db, siteIdOf(req), id, patch);
    if (!segment) throw AppError.notFound('Segment', id);
    sendData(res, segment);
  });

  router.delete('/segments/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    if (!(await deleteSegment(db, siteIdOf(req), id))) throw AppError.notFound('Segment', id);
    res.status(204).end();
  });

  router.get('/segments/:id/contacts', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { page, limit } = parseQuery(req, SegmentQuery);
    const siteId = siteIdOf(req);
    const rules = await getSegmentRules(db, siteId, id);
    const { rows, total } = await listSegmentContacts(db, siteId, rules, { page, limit });
    sendPage(res, rows, { page, limit }, total);
  });

  router.get('/segments/:id/count', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const siteId = siteIdOf(req);
    sendData(res, { count: await countSegment(db, siteId, await getSegmentRules(db, siteId, id)) });
  });

  return router;
}
