import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { segments, sites, tags } from '../schema.js';

export type Site = typeof sites.$inferSelect;

export const DEFAULT_SITE_NAME = 'Default site';

export async function createSite(db: DbOrTx, input: { name: string }): Promise<Site> {
  const [site] = await db.insert(sites).values({ name: input.name }).returning();
  return site!;
}

export async function listSites(db: DbOrTx): Promise<Site[]> {
  return db.select().from(sites).orderBy(asc(sites.id));
}

export async function getSite(db: DbOrTx, id: number): Promise<Site | null> {
  const [site] = await db.select().from(sites).where(eq(sites.id, id));
  return site ?? null;
}

/** Changes the given fields; null when no site has this id. */
export async function updateSite(db: DbOrTx, id: number, patch: { name?: string; sendFrequencyCapDays?: number }): Promise<Site | null> {
  const [site] = await db
    .update(sites)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(sites.id, id))
    .returning();
  return site ?? null;
}

/**
 * The site `npm start` works with: the oldest one, created on first start. `created` tells the caller
 * to mint and print the first API key. Serialised on an advisory lock so an api and a worker
 * starting together create one site, not two.
 */
export async function ensureDefaultSite(db: DbOrTx): Promise<{ site: Site; created: boolean }> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(727275)`);
    const [existing] = await tx.select().from(sites).orderBy(asc(sites.id)).limit(1);
    if (existing) return { site: existing, created: false };
    return { site: await createSite(tx, { name: DEFAULT_SITE_NAME }), created: true };
  });
}

/** Which of these tag or segment ids belong to the site (another site's ids are simply absent). */
export async function idsOfSite(db: DbOrTx, siteId: number, table: 'tags' | 'segments', ids: readonly number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const t = table === 'tags' ? tags : segments;
  const rows = await db.select({ id: t.id }).from(t).where(and(eq(t.siteId, siteId), inArray(t.id, [...ids])));
  return rows.map((r) => r.id);
}
