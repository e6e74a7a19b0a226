import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { purgeLoginFailures } from '../db/repositories/login-failures.js';
import { purgeExpiredSetupTokens } from '../db/repositories/setup-tokens.js';
import { purgeExpiredSessions } from '../db/repositories/user-sessions.js';
import type { Logger } from '../logger.js';
import { sessionLifetime } from '../services/auth.js';

/** How often an API process purges expired sessions, stale login failures and expired sign-up links. */
export const AUTH_PURGE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Expired sessions are refused and deleted when they are shown (lazily), but a browser that never comes
 * back never shows its cookie again: this purge removes those, failed sign-ins older than the rate
 * limit's window and expired sign-up links, now and then every `everyMs`. Every API process runs it,
 * like the Idempotency-Key purge: the deletes are idempotent, and a failure is logged and tried again
 * next time. Returns a stop function.
 */
export function startAuthPurge(db: Db, config: Config, logger: Logger, opts: { everyMs?: number } = {}): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const purge = () => {
    running = Promise.all([purgeExpiredSessions(db, sessionLifetime(config)), purgeLoginFailures(db), purgeExpiredSetupTokens(db)]).then(
      ([sessions, loginFailures, setupTokens]) => {
        if (sessions + loginFailures + setupTokens > 0) logger.info({ sessions, loginFailures, setupTokens }, 'purged expired sign-in data');
      },
      (err: unknown) => logger.warn({ err }, 'could not purge expired sign-in data; trying again later'),
    );
  };
  purge();
  const timer = setInterval(purge, opts.everyMs ?? AUTH_PURGE_INTERVAL_MS);
  // Housekeeping never keeps the process alive on its own.
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
