import { Router } from 'express';
import { getSend, listSends } from '../../db/repositories/sends.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { offsetOf, sendData, sendPage, siteIdOf } from '../http.js';
import { IdParams, parseParams, parseQuery } from '../validation.js';
import { SendListQuery } from './sends.schema.js';

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/** `to=2025-01-31` means "through that day", so a date-only bound moves to the next midnight (UTC). */
function upperBound(to: string): Date {
  const at = new Date(to);
  return DATE_ONLY.test(to) ? new Date(at.getTime() + DAY_MS) : at;
}

export function sendsRouter({ db }: AppDeps): Router {
  const router = Router();

  router.get('/sends', async (req, res) => {
    const { page, limit, siteId: _s, from, to, ...filters } = parseQuery(req, SendListQuery);
    const { rows, total } = await listSends(
      db,
      siteIdOf(req),
      { ...filters, from: from === undefined ? undefined : new Date(from), to: to === undefined ? undefined : upperBound(to) },
      { limit, offset: offsetOf({ page, limit }) },
    );
    sendPage(res, rows, { page, limit }, total);
  });

  router.get('/sends/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const send = await getSend(db, siteIdOf(req), id);
    if (!send) throw AppError.notFound('Send', id);
    const { siteId: _s, ...view } = send;
    sendData(res, view);
  });

  return router;
}
