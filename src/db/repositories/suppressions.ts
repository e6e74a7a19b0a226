import { and, count, desc, eq, ilike, inArray, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { suppressions, type suppressionReason } from '../schema.js';

export type SuppressionRow = typeof suppressions.$inferSelect;
export type SuppressionReason = (typeof suppressionReason.enumValues)[number];

export interface SuppressionView {
  id: number;
  email: string;
  reason: SuppressionReason;
  note: string | null;
  createdAt: Date;
}

export interface SuppressionFilters {
  /** Exact address. */
  email?: string;
  /** Case-insensitive substring of the address. */
  q?: string;
  reason?: SuppressionReason;
}

const suppressionColumns = {
  id: suppressions.id,
  email: suppressions.email,
  reason: suppressions.reason,
  note: suppressions.note,
  createdAt: suppressions.createdAt,
};

/** Addresses are stored and compared lowercased, like contact emails. */
const normalize = (email: string) => email.trim().toLowerCase();

export async function isSuppressed(db: DbOrTx, siteId: number, email: string): Promise<boolean> {
  const [row] = await db
    .select({ id: suppressions.id })
    .from(suppressions)
    .where(and(eq(suppressions.siteId, siteId), eq(suppressions.email, normalize(email))));
  return row !== undefined;
}

/** Which of these addresses the site suppresses (lowercased), in one query. */
export async function suppressedEmails(db: DbOrTx, siteId: number, emails: readonly string[]): Promise<Set<string>> {
  const unique = [...new Set(emails.map(normalize))];
  if (unique.length === 0) return new Set();
  const rows = await db
    .select({ email: suppressions.email })
    .from(suppressions)
    .where(and(eq(suppressions.siteId, siteId), inArray(suppressions.email, unique)));
  return new Set(rows.map((r) => r.email));
}

/**
 * Suppresses an address (upsert): suppressing it again replaces the reason and note and keeps the
 * original time. `created` tells a new suppression from an update.
 */
export async function addSuppression(
  db: DbOrTx,
  siteId: number,
  input: { email: string; reason: SuppressionReason; note?: string | null },
): Promise<{ suppression: SuppressionView; created: boolean }> {
  const [row] = await db
    .insert(suppressions)
    .values({ siteId, email: normalize(input.email), reason: input.reason, note: input.note ?? null })
    .onConflictDoUpdate({
      target: [suppressions.siteId, suppressions.email],
      set: { reason: input.reason, note: input.note ?? null },
    })
    // xmax is 0 only for a freshly inserted row version: the standard insert-vs-update tell.
    .returning({ ...suppressionColumns, created: sql<boolean>`(xmax = 0)` });
  const { created, ...suppression } = row!;
  return { suppression, created };
}

/** Lifts the suppression of an address; false when it was not suppressed. */
export async function removeSuppression(db: DbOrTx, siteId: number, email: string): Promise<boolean> {
  const rows = await db
    .delete(suppressions)
    .where(and(eq(suppressions.siteId, siteId), eq(suppressions.email, normalize(email))))
    .returning({ id: suppressions.id });
  return rows.length > 0;
}

function filterWhere(siteId: number, f: SuppressionFilters): SQL {
  const conditions: SQL[] = [eq(suppressions.siteId, siteId)];
  if (f.email) conditions.push(eq(suppressions.email, normalize(f.email)));
  if (f.q) conditions.push(ilike(suppressions.email, `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`));
  if (f.reason) conditions.push(eq(suppressions.reason, f.reason));
  return and(...conditions)!;
}

/** Newest first. */
export async function listSuppressions(
  db: DbOrTx,
  siteId: number,
  filters: SuppressionFilters,
  page: { limit: number; offset: number },
): Promise<{ rows: SuppressionView[]; total: number }> {
  const where = filterWhere(siteId, filters);
  const [rows, [totals]] = await Promise.all([
    db.select(suppressionColumns).from(suppressions).where(where).orderBy(desc(suppressions.id)).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(suppressions).where(where),
  ]);
  return { rows, total: totals?.total ?? 0 };
}

/**
 * Suppresses many addresses in one statement (a CSV import batch): new ones are inserted, existing ones
 * take the new reason and, when one is given, the new note (an empty note cell keeps the old note).
 * Addresses must be normalized and unique within the call (PostgreSQL refuses to update one row twice
 * in a statement). Returns how many were new.
 */
export async function upsertSuppressions(
  db: DbOrTx,
  siteId: number,
  rows: readonly { email: string; reason: SuppressionReason; note: string | null }[],
): Promise<{ created: number; updated: number }> {
  if (rows.length === 0) return { created: 0, updated: 0 };
  const result = await db
    .insert(suppressions)
    .values(rows.map((r) => ({ siteId, email: r.email, reason: r.reason, note: r.note })))
    .onConflictDoUpdate({
      target: [suppressions.siteId, suppressions.email],
      set: { reason: sql`excluded.reason`, note: sql`coalesce(excluded.note, ${suppressions.note})` },
    })
    .returning({ created: sql<boolean>`(xmax = 0)` });
  const created = result.filter((r) => r.created).length;
  return { created, updated: result.length - created };
}
