import { Router } from 'express';
import { eventsOfSend } from '../../db/repositories/email-events.js';
import { getSend, listSends } from '../../db/repositories/sends.js';
import { loadSendMessage } from '../../services/send-message.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../errors.js';
import { offsetOf, sendData, sendPage, siteIdOf } from '../http.js';
import { IdParams, parseParams, parseQuery } from '../validation.js';
import { SendListQuery, timeRange } from './sends.schema.js';

export function sendsRouter({ db, links }: AppDeps): Router {
  const router = Router();

  router.get('/sends', async (req, res) => {
    const { page, limit, siteId: _s, from, to, ...filters } = parseQuery(req, SendListQuery);
    const { rows, total } = await listSends(db, siteIdOf(req), { ...filters, ...timeRange(from, to) }, { limit, offset: offsetOf({ page, limit }) });
    sendPage(res, rows, { page, limit }, total);
  });

  router.get('/sends/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const siteId = siteIdOf(req);
    const [send, events] = await Promise.all([getSend(db, siteId, id), eventsOfSend(db, siteId, id)]);
    if (!send) throw AppError.notFound('Send', id);
    const message = await loadSendMessage(db, send, links);
    const { siteId: _s, copyContext: _c, ...view } = send;
    sendData(res, {
      ...view,
      subject: message?.subject ?? send.subject,
      html: message?.html ?? null,
      text: message?.text ?? null,
      headers: message?.headers ?? send.headers,
      bodyPruned: message === null,
      events,
    });
  });

  return router;
}
