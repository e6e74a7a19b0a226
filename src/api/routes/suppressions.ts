import { Router } from 'express';
import { addSuppression, listSuppressions, removeSuppression } from '../../db/repositories/suppressions.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { offsetOf, sendData, sendPage, siteIdOf } from '../http.js';
import { parseBody, parseParams, parseQuery } from '../validation.js';
import { SuppressionCreateBody, SuppressionListQuery, SuppressionParams } from './suppressions.schema.js';

export function suppressionsRouter({ db }: AppDeps): Router {
  const router = Router();

  router.get('/suppressions', async (req, res) => {
    const { page, limit, siteId: _s, ...filters } = parseQuery(req, SuppressionListQuery);
    const { rows, total } = await listSuppressions(db, siteIdOf(req), filters, { limit, offset: offsetOf({ page, limit }) });
    sendPage(res, rows, { page, limit }, total);
  });

  router.post('/suppressions', async (req, res) => {
    const { siteId: _s, ...input } = parseBody(req, SuppressionCreateBody);
    const { suppression, created } = await addSuppression(db, siteIdOf(req), input);
    sendData(res, suppression, created ? 201 : 200);
  });

  router.delete('/suppressions/:email', async (req, res) => {
    const { email } = parseParams(req, SuppressionParams);
    if (!(await removeSuppression(db, siteIdOf(req), email))) throw new AppError('not_found', 404, `${email} is not suppressed`);
    res.status(204).end();
  });

  return router;
}
