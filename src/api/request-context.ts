import type { Logger } from '../logger.js';

/** What an authenticated request carries after the auth middleware. */
export interface ApiAuth {
  siteId: number;
  keyId: number;
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
