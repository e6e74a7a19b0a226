import { Router } from 'express';
import { addSuppression, listSuppressions, removeSuppression } from '../../db/repositories/suppressions.js';
import { importSuppressionsCsv, MAX_SUPPRESSION_CSV_BYTES } from '../../services/suppression-import.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../errors.js';
import { offsetOf, sendData, sendPage, siteIdOf } from '../http.js';
import { parseBody, parseParams, parseQuery } from '../validation.js';
import {
  CSV_MEDIA_TYPES,
  SuppressionCreateBody,
  SuppressionImportQuery,
  SuppressionListQuery,
  SuppressionParams,
} from './suppressions.schema.js';

export function suppressionsRouter({ db }: AppDeps): Router {
  const router = Router();

  // The CSV is the raw body (express.json leaves text/csv alone) and is parsed while it arrives.
  router.post('/suppressions/import', async (req, res) => {
    const { reason } = parseQuery(req, SuppressionImportQuery);
    const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (!type || !CSV_MEDIA_TYPES.includes(type)) {
      throw new AppError('unsupported_media_type', 'unsupported_media_type', `Send the CSV as the request body with Content-Type: text/csv (got ${type ?? 'none'})`);
    }
    if (Number(req.headers['content-length'] ?? 0) > MAX_SUPPRESSION_CSV_BYTES) {
      throw new AppError('payload_too_large', 'too_large', `The CSV is larger than ${MAX_SUPPRESSION_CSV_BYTES / 1024 / 1024} MB; split it and import the parts`);
    }
    const result = await importSuppressionsCsv(db, siteIdOf(req), req, { defaultReason: reason });
    req.log.info({ imported: result.imported, updated: result.updated, failed: result.failed, total: result.total }, 'suppressions imported');
    sendData(res, result);
  });

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
    if (!(await removeSuppression(db, siteIdOf(req), email))) throw new AppError('not_found', 'not_found', `${email} is not suppressed`);
    res.status(204).end();
  });

  return router;
}
