import type { Request, RequestHandler } from 'express';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import { authenticateApiKey } from '../../db/repositories/api-keys.js';
import { AppError } from '../../errors.js';
import { currentSession, sessionLifetime } from '../../services/auth.js';
import { readSessionToken } from '../session-cookie.js';
import { checkCsrfToken, checkOrigin, SAFE_METHODS } from './csrf.js';
import '../request-context.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

async function viaApiKey(db: Db, header: string, req: Request): Promise<void> {
  const match = BEARER.exec(header);
  if (!match) {
    throw new AppError('unauthorized', 'unauthenticated', 'Malformed Authorization header: expected "Bearer <key>"');
  }
  const key = await authenticateApiKey(db, match[1]!);
  if (!key) throw new AppError('invalid_api_key', 'unauthenticated', 'Invalid or revoked API key');
  // A key is the site's own credential (scripts, the CLI): it may do everything an owner may.
  req.auth = { siteId: key.siteId, keyId: key.keyId, role: 'owner', via: 'api_key' };
  req.log = req.log.child({ siteId: key.siteId, keyId: key.keyId });
}

async function viaSession(deps: { db: Db; config: Config }, token: string, req: Request): Promise<void> {
  const session = await currentSession({ db: deps.db, lifetime: sessionLifetime(deps.config) }, token);
  if (!session) throw new AppError('unauthenticated', 'unauthenticated', 'Not signed in, or the session has expired: sign in again');
  // The browser sends the cookie whoever asks it to; a write must prove it comes from the dashboard.
  if (!SAFE_METHODS.has(req.method)) {
    checkOrigin(req, deps.config);
    checkCsrfToken(req, session.csrfToken);
  }
  req.auth = { siteId: session.user.siteId, userId: session.user.id, role: session.user.role, via: 'session' };
  req.log = req.log.child({ siteId: session.user.siteId, userId: session.user.id });
}

/**
 * Resolves the caller of /api/v1 to `req.auth`: `Authorization: Bearer <API key>` (scripts; needs no
 * CSRF token, since no browser attaches it by itself) or else the dashboard's `tidings_session` cookie,
 * whose writes must carry `X-CSRF-Token` and may not come from another origin. A request with both is
 * judged by its key. 401 when neither is valid.
 */
export function authenticate(deps: { db: Db; config: Config }): RequestHandler {
  return async (req, _res, next) => {
    const header = req.get('authorization');
    const token = header ? undefined : readSessionToken(req);
    if (header) await viaApiKey(deps.db, header, req);
    else if (token) await viaSession(deps, token, req);
    else throw new AppError('unauthorized', 'unauthenticated', 'Missing API key: send Authorization: Bearer <key>, or sign in');
    next();
  };
}
