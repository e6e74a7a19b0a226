import { and, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import { hashToken, randomToken } from '../../crypto/tokens.js';
import type { DbOrTx } from '../client.js';
import { setupTokens, sites } from '../schema.js';
import type { UserRole } from './users.js';

/** How long a sign-up link works. */
export const SETUP_TOKEN_TTL_DAYS = 7;

/**
 * A one-time sign-up link's token for the site and role, returned this once and stored as its
 * SHA-256. `replaceUnused` first voids the site's unused links of that role: `npm start` mints a new
 * first-owner link at each start, and only the one printed last should work.
 */
export async function createSetupToken(
  db: DbOrTx,
  input: { siteId: number; role: UserRole; replaceUnused?: boolean },
): Promise<{ token: string; expiresAt: Date }> {
  const token = randomToken();
  return db.transaction(async (tx) => {
    if (input.replaceUnused) {
      await tx
        .delete(setupTokens)
        .where(and(eq(setupTokens.siteId, input.siteId), eq(setupTokens.role, input.role), isNull(setupTokens.usedAt)));
    }
    const [row] = await tx
      .insert(setupTokens)
      .values({
        tokenHash: hashToken(token),
        siteId: input.siteId,
        role: input.role,
        expiresAt: sql`now() + make_interval(days => ${SETUP_TOKEN_TTL_DAYS})`,
      })
      .returning({ expiresAt: setupTokens.expiresAt });
    return { token, expiresAt: row!.expiresAt };
  });
}

const usable = (tokenHash: string) =>
  and(eq(setupTokens.tokenHash, tokenHash), isNull(setupTokens.usedAt), gt(setupTokens.expiresAt, sql`now()`));

/** What an unused, unexpired link grants, or null. Reading it uses nothing up. */
export async function findSetupToken(db: DbOrTx, token: string): Promise<{ siteId: number; siteName: string; role: UserRole } | null> {
  if (token.length > 100) return null;
  const [row] = await db
    .select({ siteId: setupTokens.siteId, siteName: sites.name, role: setupTokens.role })
    .from(setupTokens)
    .innerJoin(sites, eq(sites.id, setupTokens.siteId))
    .where(usable(hashToken(token)));
  return row ?? null;
}

/**
 * Marks the link used and returns what it grants, or null when it is unknown, expired or already used.
 * One UPDATE, so of two concurrent uses exactly one gets it; run it in the transaction that creates the
 * user, so a failed creation leaves the link unused.
 */
export async function claimSetupToken(db: DbOrTx, token: string): Promise<{ siteId: number; role: UserRole } | null> {
  if (token.length > 100) return null;
  const [row] = await db
    .update(setupTokens)
    .set({ usedAt: sql`now()` })
    .where(usable(hashToken(token)))
    .returning({ siteId: setupTokens.siteId, role: setupTokens.role });
  return row ?? null;
}

/** Housekeeping: drops links that expired (used ones included). Returns how many were removed. */
export async function purgeExpiredSetupTokens(db: DbOrTx): Promise<number> {
  const rows = await db.delete(setupTokens).where(lt(setupTokens.expiresAt, sql`now()`)).returning({ tokenHash: setupTokens.tokenHash });
  return rows.length;
}
