import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { API_KEY_PREFIX, apiKeyPrefix, generateApiKey, hashApiKey } from '../../domain/api-keys.js';
import type { DbOrTx } from '../client.js';
import { apiKeys } from '../schema.js';

/** A key as shown to users: never the hash, never the plaintext. */
export type ApiKey = Omit<typeof apiKeys.$inferSelect, 'keyHash'>;

const publicColumns = {
  id: apiKeys.id,
  siteId: apiKeys.siteId,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  lastUsedAt: apiKeys.lastUsedAt,
  revokedAt: apiKeys.revokedAt,
  createdAt: apiKeys.createdAt,
};

/** How stale lastUsedAt may get before a request refreshes it: one write a minute, not one a request. */
const LAST_USED_GRANULARITY = sql`interval '1 minute'`;

/** Creates a key for the site; the plaintext `key` is returned this once and stored only as a hash. */
export async function createApiKey(
  db: DbOrTx,
  input: { siteId: number; name?: string },
): Promise<{ apiKey: ApiKey; key: string }> {
  const { key, prefix, hash } = generateApiKey();
  const [apiKey] = await db
    .insert(apiKeys)
    .values({ siteId: input.siteId, name: input.name ?? 'default', prefix, keyHash: hash })
    .returning(publicColumns);
  return { apiKey: apiKey!, key };
}

/**
 * Makes a key chosen in advance (TIDINGS_API_KEY) valid for the site. Idempotent across restarts. A
 * key that was revoked stays revoked (check `apiKey.revokedAt`); one that belongs to another site is
 * an error rather than a silent move between tenants.
 */
export async function ensureApiKey(
  db: DbOrTx,
  siteId: number,
  key: string,
): Promise<{ apiKey: ApiKey; created: boolean }> {
  const keyHash = hashApiKey(key);
  const [inserted] = await db
    .insert(apiKeys)
    .values({ siteId, name: 'TIDINGS_API_KEY', prefix: apiKeyPrefix(key), keyHash })
    .onConflictDoNothing({ target: apiKeys.keyHash })
    .returning(publicColumns);
  if (inserted) return { apiKey: inserted, created: true };
  const [existing] = await db.select(publicColumns).from(apiKeys).where(eq(apiKeys.keyHash, keyHash));
  if (!existing) throw new Error('api key vanished while being ensured');
  if (existing.siteId !== siteId) {
    throw new Error(`this API key already belongs to site ${existing.siteId}, not site ${siteId}`);
  }
  return { apiKey: existing, created: false };
}

/** The site's keys, newest first, revoked ones included (they show when they were revoked). */
export async function listApiKeys(db: DbOrTx, siteId: number): Promise<ApiKey[]> {
  return db.select(publicColumns).from(apiKeys).where(eq(apiKeys.siteId, siteId)).orderBy(desc(apiKeys.id));
}

/** Revokes a key of this site; false if the site has no such key. Revoking twice keeps the first time. */
export async function revokeApiKey(db: DbOrTx, siteId: number, id: number): Promise<boolean> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
    .where(and(eq(apiKeys.id, id), eq(apiKeys.siteId, siteId)))
    .returning({ id: apiKeys.id });
  return rows.length > 0;
}

/** The site a bearer key grants, or null for an unknown, malformed or revoked key. */
export async function authenticateApiKey(db: DbOrTx, key: string): Promise<{ siteId: number; keyId: number } | null> {
  if (!key.startsWith(API_KEY_PREFIX) || key.length > 200) return null;
  const [row] = await db
    .select({ id: apiKeys.id, siteId: apiKeys.siteId, lastUsedAt: apiKeys.lastUsedAt })
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, hashApiKey(key)), isNull(apiKeys.revokedAt)));
  if (!row) return null;
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() >= 60_000) {
    // The condition is repeated in SQL so concurrent requests write at most once per minute.
    await db
      .update(apiKeys)
      .set({ lastUsedAt: sql`now()` })
      .where(
        and(
          eq(apiKeys.id, row.id),
          or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, sql`now() - ${LAST_USED_GRANULARITY}`)),
        ),
      );
  }
  return { siteId: row.siteId, keyId: row.id };
}
