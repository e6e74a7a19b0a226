/**
 * The contact-import workflow's contract, shared by the workflow and everything that starts or
 * queries it: its type name, input, progress query and search attributes.
 */
import { defineQuery } from '@temporalio/workflow';
import type { ImportProgress } from '../src/domain/csv-import.js';
import { SEARCH_ATTRIBUTES } from '../src/domain/search-attributes.js';

/** The workflow type as registered on the worker (the exported function's name). */
export const CONTACT_IMPORT_WORKFLOW = 'contactImportWorkflow';

export interface ContactImportInput {
  importId: number;
  /** Rows per batch (default 1,000); fixed when the file is first split. */
  batchSize?: number;
  /** Carried over `continueAsNew` so the progress query never goes back to zero. */
  progress?: ImportProgress;
}

/** `{status, totalRows, processedRows, created, updated, errors}`; the import row mirrors it. */
export const progressQuery = defineQuery<ImportProgress>('progress');

/** The custom search attributes of an import's workflow. */
export function contactImportSearchAttributes(input: { siteId: number; importId: number }) {
  return [
    { key: SEARCH_ATTRIBUTES.SiteId, value: input.siteId },
    { key: SEARCH_ATTRIBUTES.ImportId, value: input.importId },
  ];
}
