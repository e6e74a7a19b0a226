import path from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import { AppError } from '../errors.js';

/**
 * Serves the built dashboard at /app/: hashed assets cached for a year, every other path under /app
 * the single page (the client routes it), and `/` sends a browser to the dashboard. `webDir` resolves
 * to the build (src/web/build.ts); until it does, or if the build failed, /app answers 503.
 */
export function dashboardRouter(webDir: Promise<string> | undefined): Router {
  const router = Router();
  let dir: string | null = null;
  let failure: Error | null = null;
  webDir?.then(
    (d) => (dir = d),
    (err: Error) => (failure = err),
  );

  const ready: RequestHandler = (_req, _res, next) => {
    if (dir) return next();
    if (!webDir) throw new AppError('dashboard_unavailable', 'unavailable', 'The dashboard is not served by this process');
    if (failure) throw new AppError('dashboard_unavailable', 'unavailable', 'The dashboard could not be built; see the server log');
    throw new AppError('dashboard_building', 'unavailable', 'The dashboard is being built; try again in a few seconds');
  };

  router.get('/', (_req, res) => res.redirect(302, '/app/'));
  // The app's Content-Security-Policy is the one every HTML page gets (src/api/middleware/security-headers.ts).
  router.use('/app', ready);
  router.use('/app/assets', (req, res, next) =>
    express.static(path.join(dir!, 'assets'), { immutable: true, maxAge: '365d', index: false, fallthrough: false })(req, res, next),
  );
  router.get(['/app', '/app/{*rest}'], (_req, res) => {
    res.set('Cache-Control', 'no-cache');
    // `root` keeps the cache folder's own dotted path (node_modules/.cache) out of send's dotfile check.
    res.sendFile('index.html', { root: dir! });
  });
  return router;
}
