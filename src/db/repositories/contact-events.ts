import { and, count, desc, eq } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { contactEvents } from '../schema.js';

export interface ContactEventView {
  id: number;
  contactId: number;
  name: string;
  data: Record<string, unknown>;
  createdAt: Date;
}

const columns = {
  id: contactEvents.id,
  contactId: contactEvents.contactId,
  name: contactEvents.name,
  data: contactEvents.data,
  createdAt: contactEvents.createdAt,
};

/** Records a named event of a contact (the contact must already be known to belong to the site). */
export async function insertContactEvent(
  db: DbOrTx,
  input: { siteId: number; contactId: number; name: string; data?: Record<string, unknown> },
): Promise<ContactEventView> {
  const [row] = await db
    .insert(contactEvents)
    .values({ siteId: input.siteId, contactId: input.contactId, name: input.name, data: input.data ?? {} })
    .returning(columns);
  return row!;
}

/** A contact's events, newest first, optionally only those with one name. */
export async function listContactEvents(
  db: DbOrTx,
  siteId: number,
  contactId: number,
  filters: { name?: string },
  page: { limit: number; offset: number },
): Promise<{ rows: ContactEventView[]; total: number }> {
  const where = and(
    eq(contactEvents.siteId, siteId),
    eq(contactEvents.contactId, contactId),
    filters.name ? eq(contactEvents.name, filters.name) : undefined,
  );
  const [rows, [totals]] = await Promise.all([
    db.select(columns).from(contactEvents).where(where).orderBy(desc(contactEvents.id)).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(contactEvents).where(where),
  ]);
  return { rows, total: totals?.total ?? 0 };
}
