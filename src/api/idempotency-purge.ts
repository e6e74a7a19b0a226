import type { Db } from '../db/client.js';
import { IDEMPOTENCY_KEY_TTL_MS, purgeExpiredIdempotencyKeys } from '../db/repositories/idempotency.js';
import type { Logger } from '../logger.js';

/** How often an API process purges expired Idempotency-Key answers. */
export const IDEMPOTENCY_PURGE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Purges expired Idempotency-Key answers now and then every `everyMs`, so the table holds about one
 * day of keys. Every API process runs it: the delete is idempotent, and a failure (database away) is
 * logged and tried again next time. Returns a stop function.
 */
export function startIdempotencyPurge(db: Db, logger: Logger, opts: { everyMs?: number; ttlMs?: number } = {}): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const purge = () => {
    running = purgeExpiredIdempotencyKeys(db, opts.ttlMs ?? IDEMPOTENCY_KEY_TTL_MS).then(
      (removed) => {
        if (removed > 0) logger.info({ removed }, 'purged expired Idempotency-Key answers');
      },
      (err: unknown) => logger.warn({ err }, 'could not purge expired Idempotency-Key answers; trying again later'),
    );
  };
  purge();
  const timer = setInterval(purge, opts.everyMs ?? IDEMPOTENCY_PURGE_INTERVAL_MS);
  // Housekeeping never keeps the process alive on its own.
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
