import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../../logger.js';
import { httpRequestDuration } from '../../metrics.js';
import '../request-context.js';

// A caller-supplied id is reused for tracing across services, but only if it is short and tame.
const SAFE_ID = /^[\w.:-]{1,128}$/;

/** Paths scraped or probed every few seconds: logged at debug so they do not drown real traffic. */
const QUIET = new Set(['/healthz', '/readyz', '/metrics']);

// Unsubscribe (/u/<token>) and tracking (/t/o/<token>, /t/c/<token>) paths carry signed per-recipient
// tokens: whoever reads them could unsubscribe that person or forge their clicks. A sign-up link's check
// (/api/v1/auth/setup/<token>) carries a one-time token that makes an account. Matched like the router
// would (any case, repeated slashes, an absolute-form request target) so no variant slips by.
const TOKEN_PATH = /^((?:[a-z][\w+.-]*:\/\/[^/?#]*)?\/+(?:u|t\/+[oc]|api\/+v1\/+auth\/+setup)\/+)[^?#]+/i;

// The dashboard's sign-up page carries the same one-time token in its query: /app/setup?token=<token>.
const TOKEN_QUERY = /^((?:[a-z][\w+.-]*:\/\/[^/?#]*)?\/+app\/+setup\/*\?(?:[^#]*&)?token=)[^&#]*/i;

/** The URL as it may be logged: the token of an unsubscribe, tracking or sign-up link replaced by `[redacted]`. */
export function loggableUrl(url: string): string {
  return url.replace(TOKEN_PATH, '$1[redacted]').replace(TOKEN_QUERY, '$1[redacted]');
}

/**
 * Request id (X-Request-Id in and out), a child logger on `req.log`, one pino-http-style line per
 * completed request, and the duration histogram labelled by the matched route pattern.
 */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    req.id = incoming && SAFE_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', req.id);
    req.log = logger.child({ reqId: req.id });
    const started = process.hrtime.bigint();
    const url = loggableUrl(req.originalUrl);

    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeLabel(req, res);
      httpRequestDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      const level = res.statusCode >= 500 ? 'error' : QUIET.has(req.path) ? 'debug' : 'info';
      req.log[level](
        {
          req: { method: req.method, url, remoteAddress: req.socket.remoteAddress },
          res: { statusCode: res.statusCode },
          responseTime: Math.round(seconds * 1000),
        },
        'request completed',
      );
    });
    next();
  };
}

/**
 * The Express pattern that served the request (`/api/v1/contacts/:id`). Routers restore
 * `req.baseUrl` when an error leaves them, so the mount path is captured on the way in
 * (`res.locals.mountPath`, set by `rememberMountPath`).
 */
function routeLabel(req: Request, res: Response): string {
  const route = (req as { route?: { path?: unknown } }).route;
  // Unmatched requests share one label: raw URLs would make the series count unbounded.
  if (!route || typeof route.path !== 'string') return 'unmatched';
  const mount = typeof res.locals.mountPath === 'string' ? res.locals.mountPath : req.baseUrl;
  return `${mount}${route.path}`;
}

/** Placed first in a mounted router so metrics can name its routes in full. */
export const rememberMountPath: RequestHandler = (req, res, next) => {
  res.locals.mountPath = req.baseUrl;
  next();
};
