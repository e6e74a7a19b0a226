import { and, asc, count, eq, inArray, sql } from 'drizzle-orm';
import { AppError } from '../../errors.js';
import type { DbOrTx } from '../client.js';
import { contactTags, tags } from '../schema.js';

export interface TagView {
  id: number;
  name: string;
  contactCount: number;
  createdAt: Date;
}

const tagColumns = {
  id: tags.id,
  name: tags.name,
  contactCount: sql<number>`(select count(*)::int from contact_tags ct where ct.tag_id = "tags"."id")`,
  createdAt: tags.createdAt,
};

export async function listTags(
  db: DbOrTx,
  siteId: number,
  page: { limit: number; offset: number },
): Promise<{ rows: TagView[]; total: number }> {
  const [rows, [totals]] = await Promise.all([
    db.select(tagColumns).from(tags).where(eq(tags.siteId, siteId)).orderBy(asc(tags.name)).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(tags).where(eq(tags.siteId, siteId)),
  ]);
  return { rows, total: totals?.total ?? 0 };
}

/** Creates a tag; a name the site already has is 409 `tag_exists`. */
export async function createTag(db: DbOrTx, siteId: number, name: string): Promise<TagView> {
  const [row] = await db.insert(tags).values({ siteId, name }).onConflictDoNothing().returning({ id: tags.id, name: tags.name, createdAt: tags.createdAt });
  if (!row) throw new AppError('tag_exists', 'conflict', `Tag "${name}" already exists`);
  return { ...row, contactCount: 0 };
}

/** Deletes a tag (and its contact links); false when the site has no such tag. */
export async function deleteTag(db: DbOrTx, siteId: number, id: number): Promise<boolean> {
  const rows = await db.delete(tags).where(and(eq(tags.siteId, siteId), eq(tags.id, id))).returning({ id: tags.id });
  return rows.length > 0;
}

/** One tag of the site by id, or undefined (another site's tag too). */
export async function getTag(db: DbOrTx, siteId: number, id: number): Promise<{ id: number; name: string } | undefined> {
  const [row] = await db.select({ id: tags.id, name: tags.name }).from(tags).where(and(eq(tags.siteId, siteId), eq(tags.id, id)));
  return row;
}

export async function findTagByName(db: DbOrTx, siteId: number, name: string): Promise<{ id: number } | undefined> {
  const [row] = await db.select({ id: tags.id }).from(tags).where(and(eq(tags.siteId, siteId), eq(tags.name, name)));
  return row;
}

/**
 * Returns the ids of the named tags, creating the missing ones. Two statements whatever the number
 * of names; concurrent callers are safe because creation is `ON CONFLICT DO NOTHING`.
 */
export async function ensureTags(db: DbOrTx, siteId: number, names: readonly string[]): Promise<Map<string, number>> {
  const unique = [...new Set(names)];
  if (unique.length === 0) return new Map();
  await db.insert(tags).values(unique.map((name) => ({ siteId, name }))).onConflictDoNothing();
  const rows = await db.select({ id: tags.id, name: tags.name }).from(tags).where(and(eq(tags.siteId, siteId), inArray(tags.name, unique)));
  return new Map(rows.map((r) => [r.name, r.id]));
}

/** The names of a contact's tags. */
export async function contactTagNames(db: DbOrTx, contactId: number): Promise<string[]> {
  const rows = await db.select({ name: tags.name }).from(contactTags).innerJoin(tags, eq(tags.id, contactTags.tagId)).where(eq(contactTags.contactId, contactId));
  return rows.map((r) => r.name);
}

/** Whether the contact carries the site's tag of this name. */
export async function contactHasTag(db: DbOrTx, siteId: number, contactId: number, name: string): Promise<boolean> {
  const [row] = await db
    .select({ tagId: contactTags.tagId })
    .from(contactTags)
    .innerJoin(tags, eq(tags.id, contactTags.tagId))
    .where(and(eq(contactTags.contactId, contactId), eq(tags.siteId, siteId), eq(tags.name, name)))
    .limit(1);
  return row !== undefined;
}
