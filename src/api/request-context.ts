import type { Logger } from '../logger.js';

/** What a caller may do: viewer < editor < owner (see src/api/middleware/roles.ts). */
export type Role = 'owner' | 'editor' | 'viewer';

/**
 * What an authenticated request carries after the auth middleware: an API key (which acts as the
 * site's owner) or a dashboard user's session cookie.
 */
export interface ApiAuth {
  siteId: number;
  role: Role;
  via: 'api_key' | 'session';
  /** Set when `via` is `api_key`. */
  keyId?: number;
  /** Set when `via` is `session`. */
  userId?: number;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Request id (echoed as X-Request-Id). */
      id: string;
      /** Child logger carrying the request id. */
      log: Logger;
      /** Set by the auth middleware on /api/v1 routes. */
      auth?: ApiAuth;
    }
  }
}

export {};
