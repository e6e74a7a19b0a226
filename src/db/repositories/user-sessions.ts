import { and, eq, lt, or, sql } from 'drizzle-orm';
import { hashToken, randomToken } from '../../crypto/tokens.js';
import type { DbOrTx } from '../client.js';
import { sites, userSessions, users } from '../schema.js';
import type { User } from './users.js';

/** How long a session may live: idle (since its last request) and absolute (since sign-in). */
export interface SessionLifetime {
  idleHours: number;
  maxDays: number;
}

/** A valid session with who it signs in. */
export interface ActiveSession {
  id: string;
  csrfToken: string;
  expiresAt: Date;
  user: User;
  site: { id: number; name: string };
}

/** How stale last_seen_at may get before a request refreshes it: one write a minute, not one a request. */
const LAST_SEEN_GRANULARITY = sql`interval '1 minute'`;

const hours = (n: number) => sql`make_interval(secs => ${n * 3600}::float8)`;

/**
 * Starts a session for the user. The cookie `token` is returned this once and stored only as its
 * SHA-256 (the row id). Expiry is computed by PostgreSQL's clock, the one every check reads.
 */
export async function createSession(
  db: DbOrTx,
  input: { userId: number; lifetime: SessionLifetime; userAgent?: string | null; ip?: string | null },
): Promise<{ token: string; csrfToken: string; expiresAt: Date }> {
  const token = randomToken();
  const csrfToken = randomToken();
  const [row] = await db
    .insert(userSessions)
    .values({
      id: hashToken(token),
      userId: input.userId,
      csrfToken,
      expiresAt: sql`now() + ${hours(input.lifetime.maxDays * 24)}`,
      // Both are informational (a future "your sessions" list); capped so a client cannot store a novel.
      userAgent: input.userAgent?.slice(0, 512) ?? null,
      ip: input.ip?.slice(0, 64) ?? null,
    })
    .returning({ expiresAt: userSessions.expiresAt });
  return { token, csrfToken, expiresAt: row!.expiresAt };
}

/**
 * The session a cookie token names, or null. A session past its idle or absolute expiry, or of a
 * disabled user, is deleted on the spot (lazy expiry; the hourly purge removes the ones never shown
 * again). A live one gets last_seen_at refreshed, at most once a minute.
 */
export async function findSession(db: DbOrTx, token: string, lifetime: SessionLifetime): Promise<ActiveSession | null> {
  // A cookie that is not one of our tokens is not worth a query.
  if (token.length < 32 || token.length > 100) return null;
  const id = hashToken(token);
  const [row] = await db
    .select({
      id: userSessions.id,
      csrfToken: userSessions.csrfToken,
      expiresAt: userSessions.expiresAt,
      expired: sql<boolean>`${userSessions.expiresAt} <= now() or ${userSessions.lastSeenAt} <= now() - ${hours(lifetime.idleHours)} or ${users.disabledAt} is not null`,
      stale: sql<boolean>`${userSessions.lastSeenAt} < now() - ${LAST_SEEN_GRANULARITY}`,
      user: {
        id: users.id,
        siteId: users.siteId,
        email: users.email,
        name: users.name,
        role: users.role,
        createdAt: users.createdAt,
        lastLoginAt: users.lastLoginAt,
        disabledAt: users.disabledAt,
      },
      site: { id: sites.id, name: sites.name },
    })
    .from(userSessions)
    .innerJoin(users, eq(users.id, userSessions.userId))
    .innerJoin(sites, eq(sites.id, users.siteId))
    .where(eq(userSessions.id, id));
  if (!row) return null;
  if (row.expired) {
    await db.delete(userSessions).where(eq(userSessions.id, id));
    return null;
  }
  if (row.stale) {
    // The condition is repeated in SQL so concurrent requests write at most once per minute.
    await db
      .update(userSessions)
      .set({ lastSeenAt: sql`now()` })
      .where(and(eq(userSessions.id, id), lt(userSessions.lastSeenAt, sql`now() - ${LAST_SEEN_GRANULARITY}`)));
  }
  return { id: row.id, csrfToken: row.csrfToken, expiresAt: row.expiresAt, user: row.user, site: row.site };
}

/** Ends the session a cookie token names; nothing happens for an unknown token. */
export async function deleteSession(db: DbOrTx, token: string): Promise<void> {
  await db.delete(userSessions).where(eq(userSessions.id, hashToken(token)));
}

/** Signs a user out everywhere (disabled, demoted by force, or deleted). */
export async function deleteUserSessions(db: DbOrTx, userId: number): Promise<void> {
  await db.delete(userSessions).where(eq(userSessions.userId, userId));
}

/** Housekeeping: drops sessions past either expiry. Returns how many were removed. */
export async function purgeExpiredSessions(db: DbOrTx, lifetime: SessionLifetime): Promise<number> {
  const rows = await db
    .delete(userSessions)
    .where(or(lt(userSessions.expiresAt, sql`now()`), lt(userSessions.lastSeenAt, sql`now() - ${hours(lifetime.idleHours)}`)))
    .returning({ id: userSessions.id });
  return rows.length;
}
