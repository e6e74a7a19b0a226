import { ApplicationFailure } from '@temporalio/common';
import { heartbeat } from '@temporalio/activity';
import type { Db } from '../src/db/client.js';
import type { Logger } from '../src/logger.js';
import {
  addContactsToLists,
  advanceImport,
  failImport,
  finishImport,
  getImportBatch,
  insertImportBatch,
  insertImportErrors,
  lockImport,
  markImportPrepared,
  progressOf,
  readImportCsv,
  tagContacts,
  upsertImportedContacts,
  type ImportRow,
} from '../src/db/repositories/imports.js';
import { CsvFormatError, parseSlice, splitCsv, type Delimiter } from '../src/domain/csv.js';
import { headerProblem, mapHeader, mapRow, type ImportedContact } from '../src/domain/csv-columns.js';
import { DEFAULT_IMPORT_BATCH_SIZE, IMPORT_FAILURES, MAX_IMPORT_BATCH_SIZE, type ImportProgress } from '../src/domain/csv-import.js';

export interface ContactImportDeps {
  db: Db;
  logger: Logger;
}

export interface PreparedImport {
  batchCount: number;
  /** The first batch not yet committed (the database cursor), so a resumed run starts there. */
  nextBatch: number;
  progress: ImportProgress;
}

function notFound(importId: number): ApplicationFailure {
  return ApplicationFailure.create({ type: IMPORT_FAILURES.notFound, message: `Import ${importId} does not exist`, nonRetryable: true });
}

function outOfOrder(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: IMPORT_FAILURES.outOfOrder, message, nonRetryable: true });
}

function isFinished(row: ImportRow): boolean {
  return row.status === 'completed' || row.status === 'failed';
}

/** Later rows for the same email win field by field; tags and custom fields accumulate. */
function merge(into: ImportedContact, next: ImportedContact): void {
  for (const [key, value] of Object.entries(next) as [keyof ImportedContact, unknown][]) {
    if (key === 'customFields' || key === 'tags' || value === undefined) continue;
    (into as unknown as Record<string, unknown>)[key] = value;
  }
  Object.assign(into.customFields, next.customFields);
  into.tags = [...new Set([...into.tags, ...next.tags])];
}

/** The offending row as the user wrote it, keyed by header, for the errors listing. */
function rawRow(header: string[], values: string[]): Record<string, string> {
  const raw: Record<string, string> = {};
  values.forEach((value, i) => {
    raw[header[i] || `column ${i + 1}`] = value;
  });
  return raw;
}

/**
 * Activities of the CSV contact import. Each is safe to run again after it committed (a worker can die
 * between the commit and reporting completion): the import row is locked first and its cursor
 * (`nextBatch`) says whether the step already happened.
 */
export function createContactImportActivities({ db, logger }: ContactImportDeps) {
  const log = logger.child({ component: 'contact-import' });

  return {
    /**
     * Reads the stored file once: checks the header, counts rows and stages the file as slices of
     * `batchSize` rows, all in one transaction. Returns the existing state if already prepared.
     */
    async prepareContactImport(input: { importId: number; batchSize?: number }): Promise<PreparedImport> {
      const batchSize = Math.min(Math.max(1, input.batchSize ?? DEFAULT_IMPORT_BATCH_SIZE), MAX_IMPORT_BATCH_SIZE);
      return db.transaction(async (tx) => {
        const row = await lockImport(tx, input.importId);
        if (!row) throw notFound(input.importId);
        if (row.batchCount !== null || isFinished(row)) {
          return { batchCount: row.batchCount ?? 0, nextBatch: row.nextBatch, progress: progressOf(row) };
        }
        const csv = await readImportCsv(tx, input.importId);
        let split;
        try {
          split = await splitCsv(csv, batchSize, async (batch) => {
            heartbeat();
            await insertImportBatch(tx, input.importId, batch);
          });
        } catch (err) {
          if (err instanceof CsvFormatError) {
            throw ApplicationFailure.create({ type: IMPORT_FAILURES.invalidCsv, message: err.message, nonRetryable: true });
          }
          throw err;
        }
        const columns = mapHeader(split.header);
        if (!columns.hasEmail) {
          throw ApplicationFailure.create({
            type: IMPORT_FAILURES.invalidCsv,
            message: `The CSV has no email column (columns: ${split.header.join(', ')})`,
            nonRetryable: true,
          });
        }
        const problem = headerProblem(columns);
        if (problem) await insertImportErrors(tx, input.importId, [{ row: 1, message: problem }]);
        const prepared = await markImportPrepared(tx, input.importId, {
          header: split.header,
          delimiter: split.delimiter,
          totalRows: split.totalRows,
          batchCount: split.batchCount,
          headerErrors: problem ? 1 : 0,
        });
        log.info({ importId: input.importId, totalRows: split.totalRows, batches: split.batchCount }, 'import prepared');
        return { batchCount: split.batchCount, nextBatch: 0, progress: progressOf(prepared) };
      });
    },

    /**
     * Imports batch `seq`: upserts its contacts, applies tags and lists, records row errors and adds
     * the counts to the import, all in one transaction. Returns the import's totals after it. If the
     * batch was already committed, changes nothing and returns the current totals.
     */
    async importContactBatch(input: { importId: number; seq: number }): Promise<ImportProgress> {
      heartbeat();
      return db.transaction(async (tx) => {
        const row = await lockImport(tx, input.importId);
        if (!row) throw notFound(input.importId);
        if (input.seq < row.nextBatch || isFinished(row)) return progressOf(row);
        if (row.batchCount === null || !row.header || input.seq > row.nextBatch) {
          throw outOfOrder(`Import ${input.importId}: batch ${input.seq} requested but the cursor is at ${row.nextBatch}`);
        }
        const batch = await getImportBatch(tx, input.importId, input.seq);
        if (!batch) throw outOfOrder(`Import ${input.importId}: batch ${input.seq} is not staged`);

        const columns = mapHeader(row.header);
        const errors: { row: number; message: string; raw: Record<string, string> }[] = [];
        const byEmail = new Map<string, ImportedContact>();
        let processed = 0;
        let repeats = 0;
        for (const record of parseSlice(batch.csv, (row.delimiter ?? ',') as Delimiter, batch.firstLine)) {
          const result = mapRow(record.values, columns);
          if (result.ok === 'blank') continue;
          processed += 1;
          if (result.ok === false) {
            errors.push({ row: record.line, message: result.message, raw: rawRow(row.header, record.values) });
            continue;
          }
          const existing = byEmail.get(result.contact.email);
          if (existing) {
            // One statement cannot upsert the same key twice; a repeated email is an update of the first.
            merge(existing, result.contact);
            repeats += 1;
          } else {
            byEmail.set(result.contact.email, result.contact);
          }
        }

        // Sorted keys make concurrent imports into one site lock contacts in the same order (no deadlock).
        const rows = [...byEmail.values()].sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
        const upserted = await upsertImportedContacts(tx, row.siteId, rows);
        const created = upserted.filter((u) => u.inserted).length;
        const idOf = new Map(upserted.map((u) => [u.email, u.id]));
        const extraTags = row.options.tags ?? [];
        await tagContacts(
          tx,
          row.siteId,
          rows.flatMap((c) => [...new Set([...c.tags, ...extraTags])].map((tag) => ({ contactId: idOf.get(c.email)!, tag }))),
        );
        await addContactsToLists(tx, row.siteId, row.options.listIds ?? [], upserted.map((u) => u.id));
        await insertImportErrors(tx, input.importId, errors);
        const after = await advanceImport(tx, input.importId, {
          seq: input.seq,
          processed,
          created,
          updated: upserted.length - created + repeats,
          errors: errors.length,
        });
        return progressOf(after);
      });
    },

    /** Marks the import completed (idempotent) and returns its final counts. */
    async completeContactImport(input: { importId: number }): Promise<ImportProgress> {
      const row = await finishImport(db, input.importId);
      if (!row) throw notFound(input.importId);
      log.info({ importId: input.importId, ...progressOf(row) }, 'import completed');
      return progressOf(row);
    },

    /** Marks the import failed with a message for the user (idempotent). */
    async failContactImport(input: { importId: number; message: string }): Promise<ImportProgress> {
      const row = await failImport(db, input.importId, input.message);
      if (!row) throw notFound(input.importId);
      log.warn({ importId: input.importId, reason: input.message }, 'import failed');
      return progressOf(row);
    },
  };
}

export type ContactImportActivities = ReturnType<typeof createContactImportActivities>;
