import { and, asc, count, eq, gt, ilike, ne, notInArray, or, sql, type SQL } from 'drizzle-orm';
import { AppError } from '../../errors.js';
import type { DbOrTx } from '../client.js';
import { contactTags, contacts, listMembers, type contactStatus } from '../schema.js';
import { assertListsOfSite } from './lists.js';
import { ensureTags, findTagByName } from './tags.js';

export type ContactStatus = (typeof contactStatus.enumValues)[number];

/** The writable scalar fields of a contact; `undefined` = leave as is, `null` = clear. */
export interface ContactFields {
  firstName?: string | null;
  lastName?: string | null;
  phone?: string | null;
  company?: string | null;
  city?: string | null;
  country?: string | null;
  timezone?: string | null;
  customFields?: Record<string, unknown>;
  source?: string | null;
  status?: ContactStatus;
}

export interface ContactInput extends ContactFields {
  email: string;
  /** Tag names, created when missing. */
  tags?: string[];
  /** List ids; each must be a list of the same site. */
  lists?: number[];
}

export interface ContactView {
  id: number;
  email: string;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  company: string | null;
  city: string | null;
  country: string | null;
  timezone: string | null;
  customFields: Record<string, unknown>;
  source: string | null;
  status: ContactStatus;
  subscribedAt: Date | null;
  unsubscribedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** Tag names, sorted. */
  tags: string[];
  /** List ids, sorted. */
  lists: number[];
}

export interface ContactFilters {
  /** Case-insensitive substring of email, first, last or full name. */
  q?: string;
  status?: ContactStatus;
  listId?: number;
  tagId?: number;
}

/**
 * The contact columns a template renders from, plus `status` (callers skip or exit on it). `id` and
 * `source` stay with each caller: a caller spreads the row into the template context, so a column
 * added here becomes a template variable there.
 */
export const contactRenderColumns = {
  email: contacts.email,
  status: contacts.status,
  firstName: contacts.firstName,
  lastName: contacts.lastName,
  phone: contacts.phone,
  company: contacts.company,
  city: contacts.city,
  country: contacts.country,
  timezone: contacts.timezone,
  customFields: contacts.customFields,
};

// Correlated sub-selects: one round trip for a page of contacts with their tags and lists.
const contactColumns = {
  id: contacts.id,
  email: contacts.email,
  firstName: contacts.firstName,
  lastName: contacts.lastName,
  phone: contacts.phone,
  company: contacts.company,
  city: contacts.city,
  country: contacts.country,
  timezone: contacts.timezone,
  customFields: contacts.customFields,
  source: contacts.source,
  status: contacts.status,
  subscribedAt: contacts.subscribedAt,
  unsubscribedAt: contacts.unsubscribedAt,
  createdAt: contacts.createdAt,
  updatedAt: contacts.updatedAt,
  // Written out in SQL: drizzle leaves columns unqualified in a single-table select, and an
  // unqualified "id" inside the sub-select would bind to the inner table.
  tags: sql<string[]>`coalesce((select array_agg(t.name order by t.name) from contact_tags ct join tags t on t.id = ct.tag_id where ct.contact_id = "contacts"."id"), '{}')`,
  lists: sql<number[]>`coalesce((select array_agg(lm.list_id order by lm.list_id) from list_members lm where lm.contact_id = "contacts"."id"), '{}')`,
};

/** Escapes LIKE wildcards so `q=50%` searches for "50%" literally. */
function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function filterWhere(siteId: number, f: ContactFilters): SQL {
  const conditions: SQL[] = [eq(contacts.siteId, siteId)];
  if (f.q) {
    const p = likePattern(f.q);
    conditions.push(
      or(
        ilike(contacts.email, p),
        ilike(contacts.firstName, p),
        ilike(contacts.lastName, p),
        ilike(sql`concat_ws(' ', ${contacts.firstName}, ${contacts.lastName})`, p),
      )!,
    );
  }
  if (f.status) conditions.push(eq(contacts.status, f.status));
  if (f.listId !== undefined) {
    conditions.push(sql`exists (select 1 from list_members lm where lm.contact_id = "contacts"."id" and lm.list_id = ${f.listId})`);
  }
  if (f.tagId !== undefined) {
    conditions.push(sql`exists (select 1 from contact_tags ct where ct.contact_id = "contacts"."id" and ct.tag_id = ${f.tagId})`);
  }
  return and(...conditions)!;
}

const bySite = (siteId: number, id: number) => and(eq(contacts.siteId, siteId), eq(contacts.id, id))!;

/** Timestamps that follow a status: entering `subscribed`/`unsubscribed` stamps the time. */
function statusStamps(status: ContactStatus | undefined, now: Date) {
  return {
    ...(status === 'subscribed' ? { subscribedAt: now } : {}),
    ...(status === 'unsubscribed' ? { unsubscribedAt: now } : {}),
  };
}

function scalarValues(input: ContactFields) {
  return {
    firstName: input.firstName,
    lastName: input.lastName,
    phone: input.phone,
    company: input.company,
    city: input.city,
    country: input.country,
    timezone: input.timezone,
    customFields: input.customFields,
    source: input.source,
    status: input.status,
  };
}

// Link rows per INSERT: two parameters each, far below PostgreSQL's 65,535-parameter limit.
const LINK_CHUNK = 10_000;

async function attachTags(db: DbOrTx, siteId: number, pairs: { contactId: number; name: string }[]): Promise<void> {
  if (pairs.length === 0) return;
  const ids = await ensureTags(db, siteId, pairs.map((p) => p.name));
  const links = pairs.map((p) => ({ contactId: p.contactId, tagId: ids.get(p.name)! }));
  for (let i = 0; i < links.length; i += LINK_CHUNK) {
    await db.insert(contactTags).values(links.slice(i, i + LINK_CHUNK)).onConflictDoNothing();
  }
}

async function attachLists(db: DbOrTx, pairs: { contactId: number; listId: number }[]): Promise<void> {
  for (let i = 0; i < pairs.length; i += LINK_CHUNK) {
    await db.insert(listMembers).values(pairs.slice(i, i + LINK_CHUNK)).onConflictDoNothing();
  }
}

/**
 * The fields a journey renders and decides from: the template columns, `source` (a template variable
 * of sequence email) and `status`. Undefined when the contact is gone.
 */
export async function getJourneyContact(db: DbOrTx, siteId: number, id: number) {
  const [row] = await db
    .select({ id: contacts.id, ...contactRenderColumns, source: contacts.source })
    .from(contacts)
    .where(and(eq(contacts.siteId, siteId), eq(contacts.id, id)));
  return row;
}

export type JourneyContact = NonNullable<Awaited<ReturnType<typeof getJourneyContact>>>;

/** The site's contact with this id, or with this email (stored lowercased), with the fields a template renders from. */
export async function findRecipientContact(db: DbOrTx, siteId: number, by: { id: number } | { email: string }) {
  const match = 'id' in by ? eq(contacts.id, by.id) : eq(contacts.email, by.email);
  const [row] = await db.select({ id: contacts.id, ...contactRenderColumns }).from(contacts).where(and(eq(contacts.siteId, siteId), match));
  return row;
}

/** Whether the site has a contact with this id. */
export async function contactExists(db: DbOrTx, siteId: number, id: number): Promise<boolean> {
  const [row] = await db.select({ id: contacts.id }).from(contacts).where(and(eq(contacts.siteId, siteId), eq(contacts.id, id)));
  return row !== undefined;
}

/** What the unsubscribe page needs of a contact, or null when it is gone. */
export async function getUnsubscribeContact(db: DbOrTx, siteId: number, id: number) {
  const [row] = await db
    .select({ id: contacts.id, email: contacts.email, status: contacts.status, subscribedAt: contacts.subscribedAt })
    .from(contacts)
    .where(and(eq(contacts.siteId, siteId), eq(contacts.id, id)));
  return row ?? null;
}

/** A contact's status alone (the delivery path's last check), or undefined when it is gone. */
export async function getContactStatus(db: DbOrTx, siteId: number, id: number): Promise<{ status: ContactStatus } | undefined> {
  const [row] = await db.select({ status: contacts.status }).from(contacts).where(and(eq(contacts.siteId, siteId), eq(contacts.id, id)));
  return row;
}

export async function getContact(db: DbOrTx, siteId: number, id: number): Promise<ContactView | undefined> {
  const [row] = await db.select(contactColumns).from(contacts).where(bySite(siteId, id));
  return row;
}

async function mustGetContact(db: DbOrTx, siteId: number, id: number): Promise<ContactView> {
  const contact = await getContact(db, siteId, id);
  if (!contact) throw AppError.notFound('Contact', id);
  return contact;
}

function duplicateEmail(email: string, existingId: number): AppError {
  return new AppError('contact_exists', 'conflict', `A contact with email ${email} already exists`, [
    { path: 'email', message: `already used by contact ${existingId}` },
  ]);
}

/**
 * Creates a contact with its tags (by name, created when missing) and lists (ids of the same site),
 * all in one transaction. A duplicate email is 409 `contact_exists`; an unknown list is 404.
 */
export async function createContact(db: DbOrTx, siteId: number, input: ContactInput): Promise<ContactView> {
  return db.transaction(async (tx) => {
    const listIds = [...new Set(input.lists ?? [])];
    await assertListsOfSite(tx, siteId, listIds);
    const status = input.status ?? 'subscribed';
    const [row] = await tx
      .insert(contacts)
      .values({ siteId, email: input.email, ...scalarValues(input), status, ...statusStamps(status, new Date()) })
      // DO NOTHING keeps the transaction usable, unlike catching a unique violation.
      .onConflictDoNothing({ target: [contacts.siteId, contacts.email] })
      .returning({ id: contacts.id });
    if (!row) {
      const [existing] = await tx.select({ id: contacts.id }).from(contacts).where(and(eq(contacts.siteId, siteId), eq(contacts.email, input.email)));
      throw duplicateEmail(input.email, existing?.id ?? 0);
    }
    await attachTags(tx, siteId, [...new Set(input.tags ?? [])].map((name) => ({ contactId: row.id, name })));
    await attachLists(tx, listIds.map((listId) => ({ contactId: row.id, listId })));
    return mustGetContact(tx, siteId, row.id);
  });
}

export interface ContactPatch extends ContactFields {
  email?: string;
  /** Replaces the contact's tags. */
  tags?: string[];
  /** Replaces the contact's lists. */
  lists?: number[];
}

/**
 * Updates the given fields; `customFields` is merged into the existing object. `tags`/`lists`, when
 * given, replace the current sets. Undefined when the site has no such contact.
 */
export async function updateContact(db: DbOrTx, siteId: number, id: number, patch: ContactPatch): Promise<ContactView | undefined> {
  return db.transaction(async (tx) => {
    const [current] = await tx.select({ status: contacts.status }).from(contacts).where(bySite(siteId, id)).for('update');
    if (!current) return undefined;
    if (patch.email !== undefined) {
      const [other] = await tx
        .select({ id: contacts.id })
        .from(contacts)
        .where(and(eq(contacts.siteId, siteId), eq(contacts.email, patch.email), ne(contacts.id, id)));
      if (other) throw duplicateEmail(patch.email, other.id);
    }
    if (patch.lists) await assertListsOfSite(tx, siteId, patch.lists);
    const now = new Date();
    const { customFields, ...scalars } = scalarValues(patch);
    await tx
      .update(contacts)
      .set({
        ...scalars,
        ...(patch.email !== undefined ? { email: patch.email } : {}),
        ...(customFields !== undefined ? { customFields: sql`"contacts"."custom_fields" || ${JSON.stringify(customFields)}::jsonb` } : {}),
        ...(patch.status && patch.status !== current.status ? statusStamps(patch.status, now) : {}),
        updatedAt: now,
      })
      .where(bySite(siteId, id));
    // Only what leaves is deleted and only what is new is inserted: re-inserting a kept list or tag
    // would stage its sequence trigger again (PostgreSQL stages a journey for every inserted membership).
    if (patch.tags) {
      const names = [...new Set(patch.tags)];
      const tagIds = [...(await ensureTags(tx, siteId, names)).values()];
      await tx.delete(contactTags).where(and(eq(contactTags.contactId, id), tagIds.length ? notInArray(contactTags.tagId, tagIds) : undefined));
      await attachTags(tx, siteId, names.map((name) => ({ contactId: id, name })));
    }
    if (patch.lists) {
      const listIds = [...new Set(patch.lists)];
      await tx.delete(listMembers).where(and(eq(listMembers.contactId, id), listIds.length ? notInArray(listMembers.listId, listIds) : undefined));
      await attachLists(tx, listIds.map((listId) => ({ contactId: id, listId })));
    }
    return mustGetContact(tx, siteId, id);
  });
}

export async function deleteContact(db: DbOrTx, siteId: number, id: number): Promise<boolean> {
  const rows = await db.delete(contacts).where(bySite(siteId, id)).returning({ id: contacts.id });
  return rows.length > 0;
}

export async function listContacts(
  db: DbOrTx,
  siteId: number,
  filters: ContactFilters,
  page: { limit: number; offset: number },
): Promise<{ rows: ContactView[]; total: number }> {
  const where = filterWhere(siteId, filters);
  const [rows, [totals]] = await Promise.all([
    db.select(contactColumns).from(contacts).where(where).orderBy(asc(contacts.id)).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(contacts).where(where),
  ]);
  return { rows, total: totals?.total ?? 0 };
}

/**
 * Every matching contact in id order, fetched in keyset-paginated batches so an export of any size
 * holds one batch in memory and each query stays an index range scan.
 */
export async function* iterateContacts(db: DbOrTx, siteId: number, filters: ContactFilters, batchSize = 1000): AsyncGenerator<ContactView> {
  let after = 0;
  for (;;) {
    const batch = await db
      .select(contactColumns)
      .from(contacts)
      .where(and(filterWhere(siteId, filters), gt(contacts.id, after)))
      .orderBy(asc(contacts.id))
      .limit(batchSize);
    yield* batch;
    if (batch.length < batchSize) return;
    after = batch[batch.length - 1]!.id;
  }
}

/** 404 unless the contact belongs to the site. */
async function assertContactOfSite(db: DbOrTx, siteId: number, id: number): Promise<void> {
  const [row] = await db.select({ id: contacts.id }).from(contacts).where(bySite(siteId, id));
  if (!row) throw AppError.notFound('Contact', id);
}

export async function addContactToList(db: DbOrTx, siteId: number, contactId: number, listId: number): Promise<ContactView> {
  await assertContactOfSite(db, siteId, contactId);
  await assertListsOfSite(db, siteId, [listId]);
  await attachLists(db, [{ contactId, listId }]);
  return mustGetContact(db, siteId, contactId);
}

/** Idempotent: removing a contact from a list it is not in succeeds. */
export async function removeContactFromList(db: DbOrTx, siteId: number, contactId: number, listId: number): Promise<void> {
  await assertContactOfSite(db, siteId, contactId);
  await assertListsOfSite(db, siteId, [listId]);
  await db.delete(listMembers).where(and(eq(listMembers.contactId, contactId), eq(listMembers.listId, listId)));
}

export async function addTagToContact(db: DbOrTx, siteId: number, contactId: number, name: string): Promise<ContactView> {
  await assertContactOfSite(db, siteId, contactId);
  await attachTags(db, siteId, [{ contactId, name }]);
  return mustGetContact(db, siteId, contactId);
}

/** Idempotent: removing a tag the contact does not have (or that does not exist) succeeds. */
export async function removeTagFromContact(db: DbOrTx, siteId: number, contactId: number, name: string): Promise<void> {
  await assertContactOfSite(db, siteId, contactId);
  const tag = await findTagByName(db, siteId, name);
  if (tag) await db.delete(contactTags).where(and(eq(contactTags.contactId, contactId), eq(contactTags.tagId, tag.id)));
}

export interface UpsertResult {
  created: number;
  updated: number;
  /** The contact id of each input row, in input order (rows repeating an email share an id). */
  ids: number[];
}

/** Rows per INSERT … ON CONFLICT: 1,000 rows × ≤ 13 columns stays far below PostgreSQL's 65,535 parameters. */
export const UPSERT_CHUNK = 1000;

const scalarKeys = ['firstName', 'lastName', 'phone', 'company', 'city', 'country', 'timezone', 'customFields', 'source', 'status'] as const;
type ScalarKey = (typeof scalarKeys)[number];

const excluded = (column: { name: string }) => sql.raw(`excluded."${column.name}"`);

/**
 * What ON CONFLICT updates for rows that carry exactly these fields: only the given fields change
 * (so an upsert never blanks or re-subscribes what it did not mention), custom fields merge, and
 * the status timestamps move only when the status actually changes.
 */
function conflictSet(keys: readonly ScalarKey[]) {
  const set: Record<string, SQL> = { updatedAt: sql`now()` };
  for (const key of keys) {
    const column = contacts[key];
    if (key === 'customFields') {
      set.customFields = sql`"contacts"."custom_fields" || ${excluded(column)}`;
    } else if (key === 'status') {
      set.status = excluded(column);
      set.subscribedAt = sql`case when "contacts"."status" <> excluded.status and excluded.status = 'subscribed' then now() else "contacts"."subscribed_at" end`;
      set.unsubscribedAt = sql`case when "contacts"."status" <> excluded.status and excluded.status = 'unsubscribed' then now() else "contacts"."unsubscribed_at" end`;
    } else {
      set[key] = excluded(column);
    }
  }
  return set;
}

/**
 * Inserts or updates contacts by (site, email). Each chunk is one `INSERT … ON CONFLICT (site_id,
 * email) DO UPDATE` per distinct set of provided fields (normally one), then one statement each for
 * tags and lists, all in one transaction. Tags and lists are added, never removed.
 */
export async function upsertContacts(
  db: DbOrTx,
  siteId: number,
  input: readonly ContactInput[],
  options: { tags?: string[]; listIds?: number[] } = {},
): Promise<UpsertResult> {
  // Postgres refuses to update one row twice in a statement, so repeated emails merge first (last wins).
  const byEmail = new Map<string, ContactInput>();
  for (const row of input) {
    const prev = byEmail.get(row.email);
    byEmail.set(
      row.email,
      prev
        ? {
            ...prev,
            ...Object.fromEntries(Object.entries(row).filter(([, v]) => v !== undefined)),
            tags: [...(prev.tags ?? []), ...(row.tags ?? [])],
            lists: [...(prev.lists ?? []), ...(row.lists ?? [])],
          }
        : row,
    );
  }
  const rows = [...byEmail.values()];
  const allListIds = [...new Set([...(options.listIds ?? []), ...rows.flatMap((r) => r.lists ?? [])])];

  return db.transaction(async (tx) => {
    await assertListsOfSite(tx, siteId, allListIds);
    const idOf = new Map<string, number>();
    let created = 0;
    const now = new Date();
    for (let i = 0; i < rows.length; i += UPSERT_CHUNK) {
      const chunk = rows.slice(i, i + UPSERT_CHUNK);
      const groups = new Map<string, { keys: ScalarKey[]; rows: ContactInput[] }>();
      for (const row of chunk) {
        const keys = scalarKeys.filter((k) => row[k] !== undefined);
        const shape = keys.join(',');
        const group = groups.get(shape) ?? { keys, rows: [] };
        group.rows.push(row);
        groups.set(shape, group);
      }
      for (const group of groups.values()) {
        const returned = await tx
          .insert(contacts)
          .values(
            group.rows.map((row) => {
              const status = row.status ?? 'subscribed';
              return {
                siteId,
                email: row.email,
                ...scalarValues(row),
                status,
                subscribedAt: status === 'subscribed' ? now : null,
                unsubscribedAt: status === 'unsubscribed' ? now : null,
              };
            }),
          )
          .onConflictDoUpdate({ target: [contacts.siteId, contacts.email], set: conflictSet(group.keys) })
          // xmax is 0 only for a freshly inserted row version: the standard insert-vs-update tell.
          .returning({ id: contacts.id, email: contacts.email, inserted: sql<boolean>`(xmax = 0)` });
        for (const r of returned) {
          idOf.set(r.email, r.id);
          if (r.inserted) created += 1;
        }
      }
    }
    const tagPairs = rows.flatMap((r) =>
      [...new Set([...(options.tags ?? []), ...(r.tags ?? [])])].map((name) => ({ contactId: idOf.get(r.email)!, name })),
    );
    await attachTags(tx, siteId, tagPairs);
    const listPairs = rows.flatMap((r) =>
      [...new Set([...(options.listIds ?? []), ...(r.lists ?? [])])].map((listId) => ({ contactId: idOf.get(r.email)!, listId })),
    );
    await attachLists(tx, listPairs);
    return { created, updated: rows.length - created, ids: input.map((r) => idOf.get(r.email)!) };
  });
}
