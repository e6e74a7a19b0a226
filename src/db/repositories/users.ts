import { and, asc, count, eq, isNull, ne, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { AppError } from '../../errors.js';
import type { DbOrTx } from '../client.js';
import { sites, users } from '../schema.js';

export type UserRole = (typeof users.$inferSelect)['role'];
/** A user as shown anywhere: never the password hash. */
export type User = Omit<typeof users.$inferSelect, 'passwordHash'>;

const publicColumns = {
  id: users.id,
  siteId: users.siteId,
  email: users.email,
  name: users.name,
  role: users.role,
  createdAt: users.createdAt,
  lastLoginAt: users.lastLoginAt,
  disabledAt: users.disabledAt,
};

/** Emails are compared case-insensitively by storing them lowercased (a check constraint holds it). */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === '23505') return true;
  }
  return false;
}

/** Creates a user; an email that already has an account (in any site) is a 409 `email_taken`. */
export async function createUser(
  db: DbOrTx,
  input: { siteId: number; email: string; name: string; role: UserRole; passwordHash: string },
): Promise<User> {
  try {
    const [user] = await db
      .insert(users)
      .values({ ...input, email: normalizeEmail(input.email) })
      .returning(publicColumns);
    return user!;
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('email_taken', 'conflict', 'An account with this email already exists');
    throw err;
  }
}

/** What sign-in needs: the user, its hash and its site's name; null for an unknown email. */
export async function findUserForLogin(
  db: DbOrTx,
  email: string,
): Promise<{ user: User; passwordHash: string; siteName: string } | null> {
  const [row] = await db
    .select({ user: publicColumns, passwordHash: users.passwordHash, siteName: sites.name })
    .from(users)
    .innerJoin(sites, eq(sites.id, users.siteId))
    .where(eq(users.email, normalizeEmail(email)));
  return row ?? null;
}

export async function getUser(db: DbOrTx, siteId: number, id: number): Promise<User | null> {
  const [user] = await db.select(publicColumns).from(users).where(and(eq(users.siteId, siteId), eq(users.id, id)));
  return user ?? null;
}

/** The site's users, oldest first (the first owner on top). */
export async function listUsers(db: DbOrTx, siteId: number): Promise<User[]> {
  return db.select(publicColumns).from(users).where(eq(users.siteId, siteId)).orderBy(asc(users.id));
}

export async function countUsers(db: DbOrTx, siteId: number): Promise<number> {
  const [row] = await db.select({ n: count() }).from(users).where(eq(users.siteId, siteId));
  return row?.n ?? 0;
}

/**
 * Owners of the site who can still sign in, other than `exceptId`. Call it inside a transaction that
 * holds {@link lockSiteUsers}, or two concurrent changes could each leave the other as the last owner.
 */
export async function countOtherActiveOwners(db: DbOrTx, siteId: number, exceptId: number): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(users)
    .where(and(eq(users.siteId, siteId), eq(users.role, 'owner'), isNull(users.disabledAt), ne(users.id, exceptId)));
  return row?.n ?? 0;
}

/** Serialises changes to a site's users (role, disabled, delete) until the transaction ends. */
export async function lockSiteUsers(db: DbOrTx, siteId: number): Promise<void> {
  // Two-key advisory lock: 727276 names "a site's users", the second key is the site.
  await db.execute(sql`select pg_advisory_xact_lock(727276, ${siteId})`);
}

export async function updateUser(
  db: DbOrTx,
  siteId: number,
  id: number,
  changes: { role?: UserRole; name?: string; disabled?: boolean },
): Promise<User | null> {
  const set: PgUpdateSetSource<typeof users> = {};
  if (changes.role !== undefined) set.role = changes.role;
  if (changes.name !== undefined) set.name = changes.name;
  // Disabling twice keeps the first time; enabling clears it.
  if (changes.disabled === true) set.disabledAt = sql`coalesce(${users.disabledAt}, now())`;
  if (changes.disabled === false) set.disabledAt = null;
  if (Object.keys(set).length === 0) return getUser(db, siteId, id);
  const [user] = await db
    .update(users)
    .set(set)
    .where(and(eq(users.siteId, siteId), eq(users.id, id)))
    .returning(publicColumns);
  return user ?? null;
}

/** Deletes a user of this site (its sessions go with it); false if the site has no such user. */
export async function deleteUser(db: DbOrTx, siteId: number, id: number): Promise<boolean> {
  const rows = await db.delete(users).where(and(eq(users.siteId, siteId), eq(users.id, id))).returning({ id: users.id });
  return rows.length > 0;
}

export async function recordLogin(db: DbOrTx, id: number): Promise<void> {
  await db.update(users).set({ lastLoginAt: sql`now()` }).where(eq(users.id, id));
}
