import type { RequestHandler } from 'express';
import type { Db } from '../../db/client.js';
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey } from '../../db/repositories/idempotency.js';
import { AppError } from '../../errors.js';
import { IDEMPOTENCY_KEY } from '../validation.js';
import '../request-context.js';

/** Answers that describe the outcome of the operation, as opposed to a request that never ran. */
function isFinal(status: number): boolean {
  return status < 400 || status === 404 || status === 409 || status === 422;
}

/**
 * `Idempotency-Key` support for a POST that creates, sends or starts something. The first request
 * with a key runs and its status and JSON body are stored under (site, key); a retry with the same
 * key gets that stored answer (with `Idempotent-Replayed: true`) and runs nothing. The same key on
 * another method or path is 422; a retry while the first is still running is 409. Only answers the
 * operation itself gave are stored (2xx, 404, 409, 422); a rejected input (400) or a failure (5xx)
 * frees the key, so a corrected or later retry runs. Requests without the header run as usual.
 * Must be mounted after authentication (the key is scoped to the caller's site).
 */
export function idempotent(db: Db): RequestHandler {
  return async (req, res, next) => {
    const key = req.get('idempotency-key');
    if (key === undefined) return next();
    if (!IDEMPOTENCY_KEY.test(key)) {
      throw AppError.validation('Invalid Idempotency-Key header', [
        { path: 'Idempotency-Key', message: 'must be 1–255 printable ASCII characters without spaces' },
      ]);
    }
    if (!req.auth) throw new AppError('unauthorized', 'unauthenticated', 'Authentication required');
    const siteId = req.auth.siteId;
    const path = req.originalUrl.split('?')[0]!;
    const claim = await claimIdempotencyKey(db, { siteId, key, method: req.method, path });

    if (claim.state !== 'claimed') {
      if (claim.method !== req.method || claim.path !== path) {
        throw new AppError(
          'idempotency_key_reused',
          'unprocessable',
          `Idempotency-Key "${key}" was already used for ${claim.method} ${claim.path}; use a new key for a different request`,
        );
      }
      if (claim.state === 'pending') {
        res.setHeader('Retry-After', '1');
        throw new AppError('idempotency_in_progress', 'conflict', `A request with Idempotency-Key "${key}" is still in progress; retry shortly`);
      }
      res.setHeader('Idempotent-Replayed', 'true');
      res.status(claim.statusCode).json(claim.body);
      return;
    }

    let settled = false;
    const send = res.json.bind(res);
    // The answer is stored before it is sent, so a client that retries right after reading it
    // finds it stored rather than "in progress".
    res.json = (body: unknown) => {
      settled = true;
      const status = res.statusCode;
      const store = isFinal(status) ? completeIdempotencyKey(db, siteId, key, status, body) : releaseIdempotencyKey(db, siteId, key);
      store
        .catch((err: unknown) => req.log.error({ err }, 'could not store idempotent answer'))
        .finally(() => send(body));
      return res;
    };
    // A handler that answered without JSON (or a dropped connection) must not leave the key claimed.
    res.on('close', () => {
      if (!settled) {
        releaseIdempotencyKey(db, siteId, key).catch((err: unknown) => req.log.error({ err }, 'could not release idempotency key'));
      }
    });
    next();
  };
}
