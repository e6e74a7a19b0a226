import express, { Router } from 'express';
import { createSecretBox } from '../crypto/secret-box.js';
import { createLinks } from '../mail/links.js';
import type { AppDeps } from './deps.js';
import { docsRouter } from './docs.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { authenticate } from './middleware/auth.js';
import { methodNotAllowed } from './middleware/method-not-allowed.js';
import { createApiRateLimiter, rateLimit } from './middleware/rate-limit.js';
import { rememberMountPath, requestContext } from './middleware/request-context.js';
import { requireRole } from './middleware/roles.js';
import { siteScope } from './middleware/site-scope.js';
import { requireDecodableUrl } from './middleware/url-encoding.js';
import { securityHeaders } from './middleware/security-headers.js';
import { opsRouter } from './ops.js';
import { dashboardRouter } from '../web/serve.js';
import { publicRouters } from './public/index.js';
import './ops.schema.js';
import { authRouter } from './routes/auth.js';
import { featureRouters } from './routes/index.js';

export type { AppDeps } from './deps.js';

/** Largest accepted JSON body: a 1,000-contact bulk upsert with custom fields fits comfortably. */
const JSON_LIMIT = '5mb';

/**
 * Bodies read as JSON: JSON media types, plus a missing type, `text/plain` and curl's default
 * `application/x-www-form-urlencoded`, because the API speaks only JSON and `curl -d '{…}'` should
 * just work. Multipart and other types are left to the routes that take them (CSV upload).
 */
function isJsonBody(req: { headers: { 'content-type'?: string } }): boolean {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  return !type || type === 'application/json' || type.endsWith('+json') || type === 'text/plain' || type === 'application/x-www-form-urlencoded';
}

/**
 * Builds the HTTP application without listening, so tests and `startApi` share it. Order matters:
 * request id and logging first; the JSON parser before authentication so malformed JSON is a 400
 * whoever sends it; operational endpoints and docs unauthenticated; the dashboard's sign-in routes
 * (/api/v1/auth) public; everything else under /api/v1 behind an API key or a session cookie (with its
 * CSRF checks), the per-caller rate limit, the site check and the role table; then JSON 404s and one
 * error handler.
 */
export function createApp(input: AppDeps): express.Express {
  // The keys are derived once per app, not per request (HKDF).
  const { TIDINGS_SECRET: secret, PUBLIC_URL: publicUrl } = input.config;
  const deps: AppDeps = {
    ...input,
    ...(!input.secretBox && secret ? { secretBox: createSecretBox(secret) } : {}),
    ...(!input.links && secret && publicUrl ? { links: createLinks({ secret, publicUrl }) } : {}),
  };
  const app = express();
  app.disable('x-powered-by');

  app.use(requestContext(deps.logger));
  app.use(securityHeaders({ production: deps.config.NODE_ENV === 'production' }));
  // Before anything decodes a path or query: a malformed escape is a 400, not a URIError deep inside.
  app.use(requireDecodableUrl);
  // Before everything that routes: a documented path asked with another method is a 405, whoever asks.
  app.use(methodNotAllowed());
  // Before the JSON parser: provider webhooks verify signatures over the raw body.
  for (const build of publicRouters) app.use(build(deps));
  app.use(express.json({ limit: JSON_LIMIT, type: isJsonBody }));
  app.use(opsRouter(deps));
  app.use(docsRouter());
  app.use(dashboardRouter(deps.webApp));

  const api = Router();
  api.use(rememberMountPath);
  // Sign-in is how the dashboard gets its session cookie, so it comes before authentication.
  api.use(authRouter(deps));
  api.use(authenticate(deps));
  api.use(rateLimit(createApiRateLimiter(deps.db, deps.config.RATE_LIMIT_PER_MINUTE)));
  api.use(siteScope);
  api.use(requireRole);
  for (const build of featureRouters) api.use(build(deps));
  app.use('/api/v1', api);

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
