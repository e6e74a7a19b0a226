import { and, eq, lt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { idempotencyKeys } from '../schema.js';

/** `status_code` of a claimed key whose request is still running. */
const PENDING = 0;

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
 * `staleAfterMs` whose request never finished (the process died) is taken over.
 */
export async function claimIdempotencyKey(db: DbOrTx, scope: IdempotencyScope, staleAfterMs = 60_000): Promise<IdempotencyClaim> {
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
    if (row.statusCode !== PENDING) {
      return { state: 'done', method: row.method, path: row.path, statusCode: row.statusCode, body: row.body };
    }
    if (Date.now() - row.createdAt.getTime() < staleAfterMs) return { state: 'pending', method: row.method, path: row.path };
    await db
      .delete(idempotencyKeys)
      .where(
        and(
          eq(idempotencyKeys.siteId, scope.siteId),
          eq(idempotencyKeys.key, scope.key),
          eq(idempotencyKeys.statusCode, PENDING),
          lt(idempotencyKeys.createdAt, new Date(Date.now() - staleAfterMs)),
        ),
      );
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

/** Housekeeping: drops stored answers older than `before`. Returns how many were removed. */
export async function deleteIdempotencyKeysBefore(db: DbOrTx, before: Date): Promise<number> {
  const rows = await db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, before)).returning({ key: idempotencyKeys.key });
  return rows.length;
}
