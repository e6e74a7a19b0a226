import { and, asc, count, desc, eq, inArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { contacts, contactTags, importBatches, importErrors, imports, listMembers, lists } from '../schema.js';
import { ensureTags } from './tags.js';
import { workflowIds } from '../../domain/ids.js';
import type { ImportedContact } from '../../domain/csv-columns.js';
import type { ImportOptions, ImportProgress } from '../../domain/csv-import.js';

/** Every import column except the file itself, which only the prepare step reads. */
const summaryColumns = {
  id: imports.id,
  siteId: imports.siteId,
  filename: imports.filename,
  status: imports.status,
  totalRows: imports.totalRows,
  processedRows: imports.processedRows,
  createdCount: imports.createdCount,
  updatedCount: imports.updatedCount,
  errorCount: imports.errorCount,
  options: imports.options,
  workflowId: imports.workflowId,
  header: imports.header,
  delimiter: imports.delimiter,
  batchCount: imports.batchCount,
  nextBatch: imports.nextBatch,
  error: imports.error,
  createdAt: imports.createdAt,
  updatedAt: imports.updatedAt,
  finishedAt: imports.finishedAt,
};

/** An import as the API and the activities see it: everything but the (possibly large) file. */
export type ImportRow = Omit<typeof imports.$inferSelect, 'csv'>;

export function progressOf(row: Pick<ImportRow, 'status' | 'totalRows' | 'processedRows' | 'createdCount' | 'updatedCount' | 'errorCount'>): ImportProgress {
  return {
    status: row.status,
    totalRows: row.totalRows,
    processedRows: row.processedRows,
    created: row.createdCount,
    updated: row.updatedCount,
    errors: row.errorCount,
  };
}

/**
 * Stores an uploaded file as a queued import. The id is drawn first so the workflow id, a pure
 * function of it, is stored with the row.
 */
export async function createImport(
  db: DbOrTx,
  input: { siteId: number; filename: string | null; csv: string; options: ImportOptions },
): Promise<ImportRow> {
  const [{ id } = { id: 0 }] = (
    await db.execute<{ id: number }>(sql`select nextval(pg_get_serial_sequence('imports', 'id'))::int as id`)
  ).rows;
  const [row] = await db
    .insert(imports)
    .values({ id, siteId: input.siteId, filename: input.filename, csv: input.csv, options: input.options, workflowId: workflowIds.contactImport(id) })
    .returning(summaryColumns);
  return row!;
}

/** Removes an import whose workflow could not be started, so a failed request leaves nothing behind. */
export async function deleteImport(db: DbOrTx, id: number): Promise<void> {
  await db.delete(imports).where(eq(imports.id, id));
}

export async function getImport(db: DbOrTx, siteId: number, id: number): Promise<ImportRow | null> {
  const [row] = await db
    .select(summaryColumns)
    .from(imports)
    .where(and(eq(imports.siteId, siteId), eq(imports.id, id)));
  return row ?? null;
}

export async function listImports(
  db: DbOrTx,
  siteId: number,
  page: { limit: number; offset: number },
): Promise<{ rows: ImportRow[]; total: number }> {
  const [rows, [totals]] = await Promise.all([
    db.select(summaryColumns).from(imports).where(eq(imports.siteId, siteId)).orderBy(desc(imports.id)).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(imports).where(eq(imports.siteId, siteId)),
  ]);
  return { rows, total: totals?.total ?? 0 };
}

export interface ImportErrorRow {
  row: number;
  message: string;
  raw: Record<string, string> | null;
}

export async function listImportErrors(
  db: DbOrTx,
  importId: number,
  page: { limit: number; offset: number },
): Promise<{ rows: ImportErrorRow[]; total: number }> {
  const [rows, [totals]] = await Promise.all([
    db
      .select({ row: importErrors.row, message: importErrors.message, raw: importErrors.raw })
      .from(importErrors)
      .where(eq(importErrors.importId, importId))
      .orderBy(asc(importErrors.row))
      .limit(page.limit)
      .offset(page.offset),
    db.select({ total: count() }).from(importErrors).where(eq(importErrors.importId, importId)),
  ]);
  return { rows, total: totals?.total ?? 0 };
}

// ---- Used by the import activities, inside their transactions. ----

/** Locks the import row for the rest of the transaction; concurrent attempts at the same step queue here. */
export async function lockImport(tx: DbOrTx, id: number): Promise<ImportRow | null> {
  const [row] = await tx.select(summaryColumns).from(imports).where(eq(imports.id, id)).for('update');
  return row ?? null;
}

export async function readImportCsv(tx: DbOrTx, id: number): Promise<string> {
  const [row] = await tx.select({ csv: imports.csv }).from(imports).where(eq(imports.id, id));
  return row?.csv ?? '';
}

export async function insertImportBatch(tx: DbOrTx, importId: number, batch: { seq: number; firstLine: number; csv: string }): Promise<void> {
  await tx.insert(importBatches).values({ importId, ...batch });
}

export async function getImportBatch(tx: DbOrTx, importId: number, seq: number): Promise<{ firstLine: number; csv: string } | null> {
  const [row] = await tx
    .select({ firstLine: importBatches.firstLine, csv: importBatches.csv })
    .from(importBatches)
    .where(and(eq(importBatches.importId, importId), eq(importBatches.seq, seq)));
  return row ?? null;
}

export async function markImportPrepared(
  tx: DbOrTx,
  id: number,
  prepared: { header: string[]; delimiter: string; totalRows: number; batchCount: number; headerErrors: number },
): Promise<ImportRow> {
  const [row] = await tx
    .update(imports)
    .set({
      header: prepared.header,
      delimiter: prepared.delimiter,
      totalRows: prepared.totalRows,
      batchCount: prepared.batchCount,
      errorCount: prepared.headerErrors,
      status: 'running',
      updatedAt: new Date(),
    })
    .where(eq(imports.id, id))
    .returning(summaryColumns);
  return row!;
}

export async function insertImportErrors(
  tx: DbOrTx,
  importId: number,
  errors: { row: number; message: string; raw?: Record<string, string> }[],
): Promise<void> {
  if (!errors.length) return;
  // The (import, row) key plus DO NOTHING keeps each row's error once whatever happens around it.
  await tx
    .insert(importErrors)
    .values(errors.map((e) => ({ importId, row: e.row, message: e.message, raw: e.raw ?? null })))
    .onConflictDoNothing();
}

/**
 * Inserts or updates contacts by (site, email). Empty CSV cells arrive as undefined and become NULL in
 * `excluded`, which COALESCE turns into "keep the current value". Status only moves away from
 * `subscribed` on an update: an import must never re-subscribe someone who opted out.
 * Returns, per email, the contact id and whether the row was inserted (`xmax = 0`).
 */
export async function upsertImportedContacts(
  tx: DbOrTx,
  siteId: number,
  rows: ImportedContact[],
): Promise<{ id: number; email: string; inserted: boolean }[]> {
  if (!rows.length) return [];
  const now = new Date();
  const keep = (column: string) => sql.raw(`coalesce(excluded.${column}, contacts.${column})`);
  return tx
    .insert(contacts)
    .values(
      rows.map((c) => {
        const status = c.status ?? 'subscribed';
        return {
          siteId,
          email: c.email,
          firstName: c.firstName,
          lastName: c.lastName,
          phone: c.phone,
          company: c.company,
          city: c.city,
          country: c.country,
          timezone: c.timezone,
          source: c.source ?? 'import',
          customFields: c.customFields,
          status,
          subscribedAt: status === 'subscribed' ? now : null,
          unsubscribedAt: status === 'unsubscribed' ? now : null,
        };
      }),
    )
    .onConflictDoUpdate({
      target: [contacts.siteId, contacts.email],
      set: {
        firstName: keep('first_name'),
        lastName: keep('last_name'),
        phone: keep('phone'),
        company: keep('company'),
        city: keep('city'),
        country: keep('country'),
        timezone: keep('timezone'),
        // First-touch attribution: the source a contact first came from is kept.
        source: sql.raw('coalesce(contacts.source, excluded.source)'),
        customFields: sql.raw('contacts.custom_fields || excluded.custom_fields'),
        status: sql.raw(`case when excluded.status = 'subscribed' then contacts.status else excluded.status end`),
        unsubscribedAt: sql.raw(
          `case when excluded.status = 'unsubscribed' and contacts.status <> 'unsubscribed' then excluded.unsubscribed_at else contacts.unsubscribed_at end`,
        ),
        updatedAt: now,
      },
    })
    .returning({ id: contacts.id, email: contacts.email, inserted: sql<boolean>`(xmax = 0)` });
}

/** Creates missing tags by name and attaches them; attaching twice is a no-op. */
export async function tagContacts(tx: DbOrTx, siteId: number, pairs: { contactId: number; tag: string }[]): Promise<void> {
  if (!pairs.length) return;
  const idOf = await ensureTags(tx, siteId, pairs.map((p) => p.tag));
  const links = pairs.flatMap((p) => {
    const tagId = idOf.get(p.tag);
    return tagId === undefined ? [] : [{ contactId: p.contactId, tagId }];
  });
  for (let i = 0; i < links.length; i += 10_000) {
    await tx.insert(contactTags).values(links.slice(i, i + 10_000)).onConflictDoNothing();
  }
}

/** Adds contacts to those of `listIds` that belong to the site (others are ignored, never leaked into). */
export async function addContactsToLists(tx: DbOrTx, siteId: number, listIds: number[], contactIds: number[]): Promise<void> {
  if (!listIds.length || !contactIds.length) return;
  const owned = await tx
    .select({ id: lists.id })
    .from(lists)
    .where(and(eq(lists.siteId, siteId), inArray(lists.id, listIds)));
  const values = owned.flatMap((l) => contactIds.map((contactId) => ({ listId: l.id, contactId })));
  for (let i = 0; i < values.length; i += 10_000) {
    await tx.insert(listMembers).values(values.slice(i, i + 10_000)).onConflictDoNothing();
  }
}

/** Adds one batch's counts and moves the cursor past it; call only with the import row locked. */
export async function advanceImport(
  tx: DbOrTx,
  id: number,
  batch: { seq: number; processed: number; created: number; updated: number; errors: number },
): Promise<ImportRow> {
  const [row] = await tx
    .update(imports)
    .set({
      processedRows: sql`${imports.processedRows} + ${batch.processed}`,
      createdCount: sql`${imports.createdCount} + ${batch.created}`,
      updatedCount: sql`${imports.updatedCount} + ${batch.updated}`,
      errorCount: sql`${imports.errorCount} + ${batch.errors}`,
      nextBatch: batch.seq + 1,
      updatedAt: new Date(),
    })
    .where(eq(imports.id, id))
    .returning(summaryColumns);
  return row!;
}

/** Marks the import completed and drops its staged slices; repeating it changes nothing. */
export async function finishImport(db: DbOrTx, id: number): Promise<ImportRow | null> {
  await db.delete(importBatches).where(eq(importBatches.importId, id));
  const [row] = await db
    .update(imports)
    // A failed import stays failed even if completion is (wrongly) requested after it.
    .set({ status: sql`case when ${imports.status} = 'failed' then ${imports.status} else 'completed' end`, finishedAt: sql`coalesce(${imports.finishedAt}, now())`, updatedAt: new Date() })
    .where(eq(imports.id, id))
    .returning(summaryColumns);
  return row ?? null;
}

export async function failImport(db: DbOrTx, id: number, message: string): Promise<ImportRow | null> {
  await db.delete(importBatches).where(eq(importBatches.importId, id));
  const [row] = await db
    .update(imports)
    .set({ status: 'failed', error: message, finishedAt: sql`coalesce(${imports.finishedAt}, now())`, updatedAt: new Date() })
    .where(eq(imports.id, id))
    .returning(summaryColumns);
  return row ?? null;
}
