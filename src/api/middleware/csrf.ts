import type { Request } from 'express';
import type { Config } from '../../config.js';
import { safeEqual } from '../../crypto/tokens.js';
import { AppError } from '../../errors.js';

/** Methods that must not change anything, so a cross-site request with them is harmless. */
export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The origins a cookie-authenticated write may come from: this request's own (scheme and Host header)
 * and PUBLIC_URL's, which is what the browser sends behind a TLS-terminating proxy, where this process
 * sees plain HTTP.
 */
function ownOrigins(req: Request, config: Config): string[] {
  const origins = [`${req.protocol}://${req.get('host') ?? ''}`];
  if (config.PUBLIC_URL) origins.push(new URL(config.PUBLIC_URL).origin);
  return origins;
}

/**
 * A browser names the page that sent a request in `Origin`; another site's page is refused (403),
 * whatever cookie rides along. No Origin (curl, older browsers on same-origin GETs) is left to the
 * CSRF token check.
 */
export function checkOrigin(req: Request, config: Config): void {
  const origin = req.get('origin');
  if (origin === undefined) return;
  if (!ownOrigins(req, config).some((own) => own.toLowerCase() === origin.toLowerCase())) {
    throw new AppError('origin_not_allowed', 'forbidden', `Requests from ${origin} may not use this session`);
  }
}

/**
 * Double-submit check for cookie-authenticated writes: the dashboard echoes the session's CSRF token
 * (from the sign-in answer) in `X-CSRF-Token`, which another site's page cannot read or forge.
 */
export function checkCsrfToken(req: Request, expected: string): void {
  const given = req.get('x-csrf-token');
  if (!given || !safeEqual(given, expected)) {
    throw new AppError('csrf_token_invalid', 'forbidden', 'Missing or wrong X-CSRF-Token header: send the csrfToken of the session');
  }
}
