import { and, asc, count, eq, inArray, sql } from 'drizzle-orm';
import { AppError } from '../../errors.js';
import type { DbOrTx } from '../client.js';
import { contacts, listMembers, lists } from '../schema.js';

export interface ListView {
  id: number;
  name: string;
  description: string | null;
  memberCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface ListInput {
  name: string;
  description?: string | null;
}

const listColumns = {
  id: lists.id,
  name: lists.name,
  description: lists.description,
  memberCount: sql<number>`(select count(*)::int from list_members lm where lm.list_id = "lists"."id")`,
  createdAt: lists.createdAt,
  updatedAt: lists.updatedAt,
};

const bySite = (siteId: number, id: number) => and(eq(lists.siteId, siteId), eq(lists.id, id));

export async function createList(db: DbOrTx, siteId: number, input: ListInput): Promise<ListView> {
  const [row] = await db
    .insert(lists)
    .values({ siteId, name: input.name, description: input.description ?? null })
    .returning({ id: lists.id, name: lists.name, description: lists.description, createdAt: lists.createdAt, updatedAt: lists.updatedAt });
  return { ...row!, memberCount: 0 };
}

export async function listLists(
  db: DbOrTx,
  siteId: number,
  page: { limit: number; offset: number },
): Promise<{ rows: ListView[]; total: number }> {
  const [rows, [totals]] = await Promise.all([
    db.select(listColumns).from(lists).where(eq(lists.siteId, siteId)).orderBy(asc(lists.id)).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(lists).where(eq(lists.siteId, siteId)),
  ]);
  return { rows, total: totals?.total ?? 0 };
}

export async function getList(db: DbOrTx, siteId: number, id: number): Promise<ListView | undefined> {
  const [row] = await db.select(listColumns).from(lists).where(bySite(siteId, id));
  return row;
}

export async function updateList(db: DbOrTx, siteId: number, id: number, patch: Partial<ListInput>): Promise<ListView | undefined> {
  const updated = await db
    .update(lists)
    .set({ ...patch, updatedAt: new Date() })
    .where(bySite(siteId, id))
    .returning({ id: lists.id });
  return updated.length ? getList(db, siteId, id) : undefined;
}

/** Deletes a list and its memberships (not the contacts). */
export async function deleteList(db: DbOrTx, siteId: number, id: number): Promise<boolean> {
  const rows = await db.delete(lists).where(bySite(siteId, id)).returning({ id: lists.id });
  return rows.length > 0;
}

/** 404 `list_not_found` unless every id is a list of this site (another site's list looks absent). */
export async function assertListsOfSite(db: DbOrTx, siteId: number, ids: readonly number[]): Promise<void> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return;
  const found = await db.select({ id: lists.id }).from(lists).where(and(eq(lists.siteId, siteId), inArray(lists.id, unique)));
  const missing = unique.filter((id) => !found.some((f) => f.id === id));
  if (missing.length) {
    throw new AppError(
      'list_not_found',
      'not_found',
      `List${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found`,
      missing.map((id) => ({ path: 'lists', message: `list ${id} does not exist` })),
    );
  }
}

/** Which of these ids are contacts of the site, and which are not. */
async function partitionContacts(db: DbOrTx, siteId: number, ids: readonly number[]) {
  const unique = [...new Set(ids)];
  const rows = unique.length
    ? await db.select({ id: contacts.id }).from(contacts).where(and(eq(contacts.siteId, siteId), inArray(contacts.id, unique)))
    : [];
  const found = new Set(rows.map((r) => r.id));
  return { found: [...found], notFound: unique.filter((id) => !found.has(id)) };
}

export interface MembershipChange {
  /** Contacts that became (or stopped being) members. */
  changed: number;
  /** Contacts that already were (or already were not) members. */
  unchanged: number;
  /** Ids that are not contacts of this site; nothing was done for them. */
  notFound: number[];
  /** The contacts that became (or stopped being) members. */
  changedIds: number[];
}

/** Adds the site's contacts to a list; ids of other sites are ignored and reported. Undefined: no such list. */
export async function addListMembers(db: DbOrTx, siteId: number, listId: number, contactIds: readonly number[]): Promise<MembershipChange | undefined> {
  if (!(await getList(db, siteId, listId))) return undefined;
  const { found, notFound } = await partitionContacts(db, siteId, contactIds);
  const inserted = found.length
    ? await db
        .insert(listMembers)
        .values(found.map((contactId) => ({ listId, contactId })))
        .onConflictDoNothing()
        .returning({ contactId: listMembers.contactId })
    : [];
  return { changed: inserted.length, unchanged: found.length - inserted.length, notFound, changedIds: inserted.map((r) => r.contactId) };
}

export async function removeListMembers(db: DbOrTx, siteId: number, listId: number, contactIds: readonly number[]): Promise<MembershipChange | undefined> {
  if (!(await getList(db, siteId, listId))) return undefined;
  const { found, notFound } = await partitionContacts(db, siteId, contactIds);
  const deleted = found.length
    ? await db
        .delete(listMembers)
        .where(and(eq(listMembers.listId, listId), inArray(listMembers.contactId, found)))
        .returning({ contactId: listMembers.contactId })
    : [];
  return { changed: deleted.length, unchanged: found.length - deleted.length, notFound, changedIds: deleted.map((r) => r.contactId) };
}
