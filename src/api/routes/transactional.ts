import { Router } from 'express';
import { queueTransactionalBatch, queueTransactionalSend } from '../../services/transactional.js';
import type { AppDeps } from '../deps.js';
import { sendData, siteIdOf } from '../http.js';
import { idempotent } from '../middleware/idempotency.js';
import { parseBody } from '../validation.js';
import { SendBatchBody, SendBody } from './transactional.schema.js';

/**
 * Transactional email: `POST /send` and `POST /send/batch` answer 202 once the email is recorded and
 * its delivery workflow started. Idempotency works twice over: the middleware replays the first
 * answer, and the send row's unique key (derived from the same header) holds even when no answer
 * was stored (the first request hit a 503).
 */
export function transactionalRouter({ db, temporal, eagerStart }: AppDeps): Router {
  const router = Router();

  router.post('/send', idempotent(db), async (req, res) => {
    const { siteId: _s, ...email } = parseBody(req, SendBody);
    const queued = await queueTransactionalSend({ db, temporal, eagerStart }, siteIdOf(req), email, { idempotencyKey: req.get('idempotency-key') });
    req.log.info({ sendId: queued.sendId }, 'transactional send queued');
    sendData(res, queued, 202);
  });

  router.post('/send/batch', idempotent(db), async (req, res) => {
    const { emails } = parseBody(req, SendBatchBody);
    const results = await queueTransactionalBatch({ db, temporal, eagerStart }, siteIdOf(req), emails, { idempotencyKey: req.get('idempotency-key') });
    req.log.info({ emails: emails.length, queued: results.filter((r) => 'sendId' in r).length }, 'transactional batch queued');
    sendData(res, results, 202);
  });

  return router;
}
