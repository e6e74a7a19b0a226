import { and, eq, lt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { idempotencyKeys } from '../schema.js';

/** `status_code` of a claimed key whose request is still running. */
const PENDING = 0;

/**
 * How long a stored answer is replayed (as Stripe does): a client retries within minutes or hours, and
 * after a day the same key may name a new request. Older rows are purged by {@link purgeExpiredIdempotencyKeys}.
 */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

export interface IdempotencyScope {
  siteId: number;
  key: string;
  method: string;
  path: string;
}

export type IdempotencyClaim =
  | { state: 'claimed' }
  | { state: 'pending'; method: string; path: string }
  | { state: 'done'; method: string; path: string; statusCode: number; body: unknown };

/**
 * Claims `(site, key)` for a request, or reports what an earlier request with that key left. The
 * claim is an insert, so of two concurrent requests exactly one runs. A claim older than
 * `staleAfterMs` whose request never finished (the process died) is taken over, and so is an answer
 * older than `ttlMs` (expired, though not purged yet).
 */
export async function claimIdempotencyKey(
  db: DbOrTx,
  scope: IdempotencyScope,
  staleAfterMs = 60_000,
  ttlMs = IDEMPOTENCY_KEY_TTL_MS,
): Promise<IdempotencyClaim> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const inserted = await db
      .insert(idempotencyKeys)
      .values({ siteId: scope.siteId, key: scope.key, method: scope.method, path: scope.path, statusCode: PENDING })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    if (inserted.length) return { state: 'claimed' };

    const [row] = await db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.siteId, scope.siteId), eq(idempotencyKeys.key, scope.key)));
    if (!row) continue; // released between our insert and select: try again
    const age = Date.now() - row.createdAt.getTime();
    if (row.statusCode !== PENDING && age < ttlMs) {
      return { state: 'done', method: row.method, path: row.path, statusCode: row.statusCode, body: row.body };
    }
    if (row.statusCode === PENDING && age < staleAfterMs) return { state: 'pending', method: row.method, path: row.path };
    // Expired or abandoned: removed only if it is still that row (a concurrent claim may have replaced it).
    const cutoff = new Date(Date.now() - (row.statusCode === PENDING ? staleAfterMs : ttlMs));
    await db
      .delete(idempotencyKeys)
      .where(and(eq(idempotencyKeys.siteId, scope.siteId), eq(idempotencyKeys.key, scope.key), lt(idempotencyKeys.createdAt, cutoff)));
  }
  return { state: 'pending', method: scope.method, path: scope.path };
}

/** Stores the answer that every retry with this key will get. */
export async function completeIdempotencyKey(db: DbOrTx, siteId: number, key: string, statusCode: number, body: unknown): Promise<void> {
  await db
    .update(idempotencyKeys)
    .set({ statusCode, body: sql`${JSON.stringify(body ?? null)}::jsonb` })
    .where(and(eq(idempotencyKeys.siteId, siteId), eq(idempotencyKeys.key, key)));
}

/** Forgets a claim whose request failed unexpectedly, so a retry runs it again. */
export async function releaseIdempotencyKey(db: DbOrTx, siteId: number, key: string): Promise<void> {
  await db
    .delete(idempotencyKeys)
    .where(and(eq(idempotencyKeys.siteId, siteId), eq(idempotencyKeys.key, key), eq(idempotencyKeys.statusCode, PENDING)));
}

/**
 * Housekeeping: drops keys older than `ttlMs`, `batchSize` rows per statement (short transactions, no
 * long lock on a big backlog). Returns how many were removed.
 */
export async function purgeExpiredIdempotencyKeys(db: DbOrTx, ttlMs = IDEMPOTENCY_KEY_TTL_MS, batchSize = 5_000): Promise<number> {
  const cutoff = new Date(Date.now() - ttlMs);
  let total = 0;
  for (;;) {
    const result = await db.execute(sql`
      delete from "idempotency_keys" where ctid in (
        select ctid from "idempotency_keys" where "created_at" < ${cutoff} limit ${batchSize}
      )`);
    total += result.rowCount ?? 0;
    if ((result.rowCount ?? 0) < batchSize) return total;
  }
}
