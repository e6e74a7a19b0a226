import type { Client } from '@temporalio/client';
import type { Db } from '../db/client.js';
import { IDEMPOTENCY_KEY_TTL_MS, purgeExpiredIdempotencyKeys } from '../db/repositories/idempotency.js';
import type { Logger } from '../logger.js';
import { failStrandedSends } from '../services/transactional.js';

/** How often an API process purges expired Idempotency-Key answers (and fails the sends they stranded). */
export const IDEMPOTENCY_PURGE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Runs `task` now and then every `everyMs`, one run at a time; returns a stop function that waits for
 * a run in progress. Housekeeping never keeps the process alive on its own.
 */
export function runEvery(task: () => Promise<void>, everyMs: number): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    running = running.then(task);
  };
  run();
  const timer = setInterval(run, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/**
 * Purges expired Idempotency-Key answers now and then every `everyMs`, so the table holds about one
 * day of keys. Every API process runs it: the delete is idempotent, and a failure (database away) is
 * logged and tried again next time. Returns a stop function.
 */
export function startIdempotencyPurge(db: Db, logger: Logger, opts: { everyMs?: number; ttlMs?: number } = {}): () => Promise<void> {
  return runEvery(
    () =>
      purgeExpiredIdempotencyKeys(db, opts.ttlMs ?? IDEMPOTENCY_KEY_TTL_MS).then(
        (removed) => {
          if (removed > 0) logger.info({ removed }, 'purged expired Idempotency-Key answers');
        },
        (err: unknown) => logger.warn({ err }, 'could not purge expired Idempotency-Key answers; trying again later'),
      ),
    opts.everyMs ?? IDEMPOTENCY_PURGE_INTERVAL_MS,
  );
}

/**
 * Fails, now and then every `everyMs`, the transactional sends that a failed request recorded and no
 * retry picked up before the Idempotency-Key expired (failStrandedSends), so none stays `queued` for
 * ever. Every API process runs it; marking a send failed is conditional on it still being queued.
 */
export function startStrandedSendSweep(deps: { db: Db; temporal: Client }, logger: Logger, opts: { everyMs?: number } = {}): () => Promise<void> {
  return runEvery(
    () =>
      failStrandedSends(deps).then(
        (failed) => {
          if (failed > 0) logger.warn({ failed }, 'failed transactional sends whose request failed and was never retried');
        },
        (err: unknown) => logger.warn({ err }, 'could not sweep stranded transactional sends; trying again later'),
      ),
    opts.everyMs ?? IDEMPOTENCY_PURGE_INTERVAL_MS,
  );
}
