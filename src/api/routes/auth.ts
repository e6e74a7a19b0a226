import { Router, type Request } from 'express';
import { findSetupToken } from '../../db/repositories/setup-tokens.js';
import { AppError } from '../../errors.js';
import { completeSetup, currentSession, login, logout, sessionLifetime, sessionView, setupLinkInvalid, type ClientInfo } from '../../services/auth.js';
import type { AppDeps } from '../deps.js';
import { checkOrigin } from '../middleware/csrf.js';
import { clearSessionCookie, readSessionToken, setSessionCookie } from '../session-cookie.js';
import { parseBody, parseParams } from '../validation.js';
import { LoginBody, SetupBody, SetupTokenParams } from './auth.schema.js';

function clientOf(req: Request): ClientInfo {
  return { ip: req.ip ?? req.socket.remoteAddress ?? 'unknown', userAgent: req.get('user-agent') ?? null };
}

/**
 * Sign-in for the web dashboard, under /api/v1/auth and mounted before authentication (these routes
 * are how a browser gets its session). Answers are the bare objects the dashboard reads (`{user, site,
 * csrfToken}`), not `{data}` envelopes, and are never cached. Sign-in and sign-up refuse another site's
 * `Origin`, so a page elsewhere cannot sign a visitor in to an account of its choosing.
 */
export function authRouter({ db, config }: AppDeps): Router {
  const router = Router();
  const deps = { db, lifetime: sessionLifetime(config) };

  router.use('/auth', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  router.post('/auth/login', async (req, res) => {
    checkOrigin(req, config);
    const body = parseBody(req, LoginBody);
    const result = await login(deps, body, clientOf(req));
    if ('retryAfterSeconds' in result) {
      res.setHeader('Retry-After', String(result.retryAfterSeconds));
      throw new AppError('too_many_attempts', 'rate_limited', `Too many failed sign-ins; retry in ${result.retryAfterSeconds} s`);
    }
    // A browser that was signed in as someone else leaves that session behind, not lying around.
    await logout(deps, readSessionToken(req));
    setSessionCookie(res, config, result.token);
    res.status(200).json(result.view);
  });

  router.post('/auth/logout', async (req, res) => {
    await logout(deps, readSessionToken(req));
    clearSessionCookie(res, config);
    res.status(204).end();
  });

  router.get('/auth/session', async (req, res) => {
    const token = readSessionToken(req);
    const session = await currentSession(deps, token);
    if (!session) {
      if (token) clearSessionCookie(res, config);
      throw new AppError('unauthenticated', 'unauthenticated', 'Not signed in, or the session has expired: sign in again');
    }
    res.status(200).json(sessionView(session.user, session.site, session.csrfToken));
  });

  router.get('/auth/setup/:token', async (req, res) => {
    const { token } = parseParams(req, SetupTokenParams);
    const link = await findSetupToken(db, token);
    if (!link) throw setupLinkInvalid();
    res.status(200).json({ siteName: link.siteName, role: link.role });
  });

  router.post('/auth/setup', async (req, res) => {
    checkOrigin(req, config);
    const body = parseBody(req, SetupBody);
    const result = await completeSetup(deps, body, clientOf(req));
    await logout(deps, readSessionToken(req));
    setSessionCookie(res, config, result.token);
    res.status(200).json(result.view);
  });

  return router;
}
