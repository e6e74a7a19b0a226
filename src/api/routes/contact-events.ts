import { contactExists } from '../../db/repositories/contacts.js';
import { Router } from 'express';
import { insertContactEvent, listContactEvents } from '../../db/repositories/contact-events.js';
import { enrollOnEvent, signalContactEnrollments } from '../../services/enrollment.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../errors.js';
import { offsetOf, sendData, sendPage, siteIdOf } from '../http.js';
import { idempotent } from '../middleware/idempotency.js';
import { IdParams, parseBody, parseParams, parseQuery } from '../validation.js';
import { ContactEventBody, ContactEventQuery } from './contact-events.schema.js';

/**
 * `POST /contacts/:id/events`. The Temporal side effects run before the event row is written: if
 * Temporal is down the answer is 503 with nothing recorded, and a retry redoes everything safely
 * (enrollment never duplicates; a repeated event signal is harmless to a journey that already moved
 * on). The event therefore can never be recorded while the journeys it should move miss it.
 */
export function contactEventsRouter({ db, temporal }: AppDeps): Router {
  const router = Router();

  const mustGetContact = async (siteId: number, id: number) => {
    if (!(await contactExists(db, siteId, id))) throw AppError.notFound('Contact', id);
  };

  router.post('/contacts/:id/events', idempotent(db), async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { name, data } = parseBody(req, ContactEventBody);
    const siteId = siteIdOf(req);
    await mustGetContact(siteId, id);
    const deps = { db, temporal, logger: req.log };
    // Signal first, so a journey started by this very event does not also receive it.
    const signalled = await signalContactEnrollments(deps, { siteId, contactId: id, signal: 'contactEvent', payload: { name, data: data ?? {} } });
    const enrolled = await enrollOnEvent(deps, siteId, name, id);
    const event = await insertContactEvent(db, { siteId, contactId: id, name, data });
    const enrolledInto = enrolled.filter((e) => e.enrolled.length > 0).map((e) => e.sequenceId);
    req.log.info({ contactId: id, event: name, signalled, enrolledInto }, 'contact event recorded');
    sendData(res, { event, enrolledInto, signalled }, 201);
  });

  router.get('/contacts/:id/events', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { page, limit, siteId: _s, ...filters } = parseQuery(req, ContactEventQuery);
    const siteId = siteIdOf(req);
    await mustGetContact(siteId, id);
    const { rows, total } = await listContactEvents(db, siteId, id, filters, { limit, offset: offsetOf({ page, limit }) });
    sendPage(res, rows, { page, limit }, total);
  });

  return router;
}
