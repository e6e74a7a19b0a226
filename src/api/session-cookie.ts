import type { Request, Response } from 'express';
import { parse, serialize } from 'cookie';
import type { Config } from '../config.js';

/** The dashboard's session cookie: a random token whose SHA-256 names a `user_sessions` row. */
export const SESSION_COOKIE = 'tidings_session';

/** The session token a request carries, if any. */
export function readSessionToken(req: Request): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  const token = parse(header)[SESSION_COOKIE];
  return token ? token : undefined;
}

/**
 * HttpOnly (page scripts never read it; the dashboard gets the CSRF token from the JSON body instead),
 * SameSite=Lax (no cookie on cross-site subrequests and form POSTs), the whole origin (the SPA at /app/
 * calls /api/v1), Secure in production, where PUBLIC_URL is HTTPS.
 */
function options(config: Config, maxAgeSeconds: number) {
  return { httpOnly: true, sameSite: 'lax', path: '/', secure: config.NODE_ENV === 'production', maxAge: maxAgeSeconds } as const;
}

/** Sets the cookie of a new session to live as long as the session may (TIDINGS_SESSION_MAX_DAYS). */
export function setSessionCookie(res: Response, config: Config, token: string): void {
  const maxAge = Math.round(config.TIDINGS_SESSION_MAX_DAYS * 24 * 3600);
  res.append('Set-Cookie', serialize(SESSION_COOKIE, token, options(config, maxAge)));
}

export function clearSessionCookie(res: Response, config: Config): void {
  res.append('Set-Cookie', serialize(SESSION_COOKIE, '', { ...options(config, 0), expires: new Date(0) }));
}
