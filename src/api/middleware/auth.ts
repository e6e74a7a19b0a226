import type { RequestHandler } from 'express';
import type { Db } from '../../db/client.js';
import { authenticateApiKey } from '../../db/repositories/api-keys.js';
import { AppError } from '../../errors.js';
import '../request-context.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Resolves `Authorization: Bearer <key>` to `req.auth = {siteId, keyId}`; 401 otherwise. */
export function requireApiKey(db: Db): RequestHandler {
  return async (req, _res, next) => {
    const header = req.get('authorization');
    if (!header) {
      throw new AppError('unauthorized', 'unauthenticated', 'Missing API key: send Authorization: Bearer <key>');
    }
    const match = BEARER.exec(header);
    if (!match) {
      throw new AppError('unauthorized', 'unauthenticated', 'Malformed Authorization header: expected "Bearer <key>"');
    }
    const auth = await authenticateApiKey(db, match[1]!);
    if (!auth) throw new AppError('invalid_api_key', 'unauthenticated', 'Invalid or revoked API key');
    req.auth = auth;
    req.log = req.log.child({ siteId: auth.siteId, keyId: auth.keyId });
    next();
  };
}
