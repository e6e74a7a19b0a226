import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import { createImport, type ImportRow } from '../../src/db/repositories/imports.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { contacts, contactTags, listMembers, lists, tags } from '../../src/db/schema.js';
import type { ImportOptions } from '../../src/domain/csv-import.js';

/** Shared by the import tests (activities, workflows, e2e): seed data and read back what a user would see. */

export async function seedSite(db: Db, name = 'Acme'): Promise<number> {
  return (await createSite(db, { name })).id;
}

export async function seedList(db: Db, siteId: number, name = 'Newsletter'): Promise<number> {
  const [row] = await db.insert(lists).values({ siteId, name }).returning({ id: lists.id });
  return row!.id;
}

export function storeImport(db: Db, siteId: number, csv: string, options: ImportOptions = {}): Promise<ImportRow> {
  return createImport(db, { siteId, filename: 'contacts.csv', csv, options });
}

/** `email,first_name,...` with `n` generated rows (`user<i>@example.com`). */
export function generatedCsv(n: number, start = 0): string {
  const lines = ['email,first_name,cf_plan'];
  for (let i = start; i < start + n; i++) lines.push(`user${i}@example.com,User ${i},${i % 2 ? 'pro' : 'free'}`);
  return `${lines.join('\n')}\n`;
}

export interface StoredContact {
  email: string;
  firstName: string | null;
  lastName: string | null;
  timezone: string | null;
  status: string;
  customFields: Record<string, unknown>;
  tags: string[];
  lists: number[];
}

/** Every contact of the site with its tags and lists, by email. */
export async function contactsOf(db: Db, siteId: number): Promise<StoredContact[]> {
  const rows = await db
    .select({
      id: contacts.id,
      email: contacts.email,
      firstName: contacts.firstName,
      lastName: contacts.lastName,
      timezone: contacts.timezone,
      status: contacts.status,
      customFields: contacts.customFields,
    })
    .from(contacts)
    .where(eq(contacts.siteId, siteId))
    .orderBy(asc(contacts.email));
  const tagRows = await db
    .select({ contactId: contactTags.contactId, name: tags.name })
    .from(contactTags)
    .innerJoin(tags, and(eq(tags.id, contactTags.tagId), eq(tags.siteId, siteId)));
  const listRows = await db.select({ contactId: listMembers.contactId, listId: listMembers.listId }).from(listMembers);
  return rows.map(({ id, ...c }) => ({
    ...c,
    tags: tagRows.filter((t) => t.contactId === id).map((t) => t.name).sort(),
    lists: listRows.filter((l) => l.contactId === id).map((l) => l.listId).sort((a, b) => a - b),
  }));
}
