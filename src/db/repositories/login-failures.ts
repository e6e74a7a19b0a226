import { eq, lt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { loginFailures } from '../schema.js';

/** The login rate limit: at most this many failed sign-ins per window, per email and per client address. */
export const LOGIN_LIMITS = { windowMinutes: 15, perEmail: 10, perIp: 50 } as const;

export type LoginAttempt = { allowed: true; id: number } | { allowed: false; retryAfterSeconds: number };

/**
 * Claims one sign-in attempt for (email, ip) against {@link LOGIN_LIMITS}. The attempt is recorded as a
 * failure first and counted with the others, so concurrent attempts (from any API process) all see each
 * other and the limit can only be undershot, never exceeded; a refused attempt is removed again (it never
 * reached a password check). A successful sign-in calls {@link forgetLoginAttempt}: only failures count.
 */
export async function claimLoginAttempt(db: DbOrTx, email: string, ip: string): Promise<LoginAttempt> {
  const [row] = await db.insert(loginFailures).values({ email, ip }).returning({ id: loginFailures.id });
  const id = row!.id;
  const window = sql`now() - make_interval(mins => ${LOGIN_LIMITS.windowMinutes})`;
  const result = await db.execute<{ email_count: number; ip_count: number; email_oldest: Date | null; ip_oldest: Date | null; now: Date }>(sql`
    select
      (select count(*)::int from login_failures where email = ${email} and created_at > ${window} and id <> ${id}) as email_count,
      (select count(*)::int from login_failures where ip = ${ip} and created_at > ${window} and id <> ${id}) as ip_count,
      (select min(created_at) from login_failures where email = ${email} and created_at > ${window} and id <> ${id}) as email_oldest,
      (select min(created_at) from login_failures where ip = ${ip} and created_at > ${window} and id <> ${id}) as ip_oldest,
      now() as now
  `);
  const counts = result.rows[0]!;
  const overEmail = counts.email_count >= LOGIN_LIMITS.perEmail;
  const overIp = counts.ip_count >= LOGIN_LIMITS.perIp;
  if (!overEmail && !overIp) return { allowed: true, id };

  await forgetLoginAttempt(db, id);
  // The window slides: room opens when the oldest failure that fills it is older than the window.
  const windowMs = LOGIN_LIMITS.windowMinutes * 60_000;
  const now = new Date(counts.now).getTime();
  const freeAt = (oldest: Date | null) => (oldest ? new Date(oldest).getTime() + windowMs : now);
  const waitMs = Math.max(overEmail ? freeAt(counts.email_oldest) - now : 0, overIp ? freeAt(counts.ip_oldest) - now : 0);
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
}

/** Removes a claimed attempt that did not fail (the password was right) or was refused. */
export async function forgetLoginAttempt(db: DbOrTx, id: number): Promise<void> {
  await db.delete(loginFailures).where(eq(loginFailures.id, id));
}

/** Housekeeping: drops failures older than the window (they no longer count). */
export async function purgeLoginFailures(db: DbOrTx): Promise<number> {
  const rows = await db
    .delete(loginFailures)
    .where(lt(loginFailures.createdAt, sql`now() - make_interval(mins => ${LOGIN_LIMITS.windowMinutes})`))
    .returning({ id: loginFailures.id });
  return rows.length;
}
