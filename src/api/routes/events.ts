import { contactExists } from '../../db/repositories/contacts.js';
import { Router } from 'express';
import { contactActivity, listEmailEvents } from '../../db/repositories/email-events.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../errors.js';
import { offsetOf, sendPage, siteIdOf } from '../http.js';
import { IdParams, parseParams, parseQuery } from '../validation.js';
import { ActivityQuery, EventListQuery } from './events.schema.js';
import { timeRange } from './sends.schema.js';

/** `GET /events` (delivery feedback, filtered) and `GET /contacts/:id/activity` (one contact's timeline). */
export function eventsRouter({ db }: AppDeps): Router {
  const router = Router();

  router.get('/events', async (req, res) => {
    const { page, limit, siteId: _s, from, to, ...filters } = parseQuery(req, EventListQuery);
    const { rows, total } = await listEmailEvents(db, siteIdOf(req), { ...filters, ...timeRange(from, to) }, { limit, offset: offsetOf({ page, limit }) });
    sendPage(res, rows, { page, limit }, total);
  });

  router.get('/contacts/:id/activity', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { page, limit } = parseQuery(req, ActivityQuery);
    const siteId = siteIdOf(req);
    if (!(await contactExists(db, siteId, id))) throw AppError.notFound('Contact', id);
    const { rows, total } = await contactActivity(db, siteId, id, { limit, offset: offsetOf({ page, limit }) });
    sendPage(res, rows, { page, limit }, total);
  });

  return router;
}
