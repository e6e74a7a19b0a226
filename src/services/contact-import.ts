import type { Client } from '@temporalio/client';
import type { DbOrTx } from '../db/client.js';
import { createImport, deleteImport, type ImportRow } from '../db/repositories/imports.js';
import type { ImportOptions, ImportProgress } from '../domain/csv-import.js';
import { TASK_QUEUES } from '../temporal/task-queues.js';
import type { contactImportWorkflow } from '../../workflows/contact-import.js';
import { CONTACT_IMPORT_WORKFLOW, contactImportSearchAttributes, progressQuery } from '../../workflows/contact-import.contract.js';

export interface ContactImportDeps {
  db: DbOrTx;
  temporal: Client;
}

/** How long reading an import's live progress may take before the database row answers instead. */
const PROGRESS_QUERY_DEADLINE_MS = 1500;

/**
 * Stores an uploaded CSV and starts the workflow that imports it. Nothing stays behind from a start
 * that failed (Temporal down: the error propagates as a 503): without a workflow the import would
 * never run.
 */
export async function startContactImport(
  { db, temporal }: ContactImportDeps,
  input: { siteId: number; filename: string | null; csv: string; options: ImportOptions },
): Promise<ImportRow> {
  const row = await createImport(db, input);
  try {
    await temporal.workflow.start<typeof contactImportWorkflow>(CONTACT_IMPORT_WORKFLOW, {
      taskQueue: TASK_QUEUES.main,
      workflowId: row.workflowId,
      args: [{ importId: row.id }],
      typedSearchAttributes: contactImportSearchAttributes({ siteId: input.siteId, importId: row.id }),
    });
  } catch (err) {
    await deleteImport(db, row.id);
    throw err;
  }
  return row;
}

/**
 * Live progress from the running workflow, or undefined when it cannot answer quickly (no worker
 * polling, Temporal down): the database row, updated in the same transaction as every batch, is then
 * just as correct.
 */
export async function contactImportLiveProgress(temporal: Client, row: ImportRow): Promise<ImportProgress | undefined> {
  if (row.status !== 'queued' && row.status !== 'running') return undefined;
  try {
    const live = await temporal.withDeadline(Date.now() + PROGRESS_QUERY_DEADLINE_MS, () => temporal.workflow.getHandle(row.workflowId).query(progressQuery));
    // The workflow learns of a committed batch only after the activity reports back; never show less than the database.
    return live.processedRows >= row.processedRows ? live : undefined;
  } catch {
    return undefined;
  }
}
