import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { pruneMessageBodies } from '../db/repositories/sends.js';
import type { Logger } from '../logger.js';
import { runEvery } from './idempotency-purge.js';

/** How often an API process prunes message bodies past the retention. */
export const MESSAGE_RETENTION_INTERVAL_MS = 60 * 60 * 1000;
/** Sends pruned per statement: each is a short transaction however large the backlog. */
const PRUNE_BATCH = 1_000;
const DAY_MS = 86_400_000;

/**
 * Prunes every send's message body once it is older than TIDINGS_MESSAGE_RETENTION_DAYS, in batches
 * until none is left; answers how many. Sends that a delivery may still need are left alone
 * (pruneMessageBodies).
 */
export async function pruneExpiredMessages(db: Db, retentionDays: number, now = new Date()): Promise<number> {
  const before = new Date(now.getTime() - retentionDays * DAY_MS);
  let pruned = 0;
  for (;;) {
    const n = await pruneMessageBodies(db, before, PRUNE_BATCH);
    pruned += n;
    if (n < PRUNE_BATCH) return pruned;
  }
}

/**
 * Runs the retention now and then every `everyMs` (nothing with a retention of 0). Every API process
 * runs it, like the Idempotency-Key purge: pruning is idempotent and concurrent runs skip each other's
 * rows, and a failure is logged and tried again next time. Returns a stop function.
 */
export function startMessageRetention(db: Db, config: Config, logger: Logger, opts: { everyMs?: number } = {}): () => Promise<void> {
  const days = config.TIDINGS_MESSAGE_RETENTION_DAYS;
  if (days === 0) return async () => {};
  return runEvery(
    () =>
      pruneExpiredMessages(db, days).then(
        (pruned) => {
          if (pruned > 0) logger.info({ pruned, retentionDays: days }, 'pruned message bodies past their retention');
        },
        (err: unknown) => logger.warn({ err }, 'could not prune message bodies; trying again later'),
      ),
    opts.everyMs ?? MESSAGE_RETENTION_INTERVAL_MS,
  );
}
