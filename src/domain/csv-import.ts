/**
 * Contact-import types and constants shared by the workflow (so: no dependencies at all), the
 * activities, the API and the CLI.
 */

/** What the `progress` query returns and what the import row in the database mirrors. */
export interface ImportProgress {
  status: 'queued' | 'running' | 'completed' | 'failed';
  /** Data rows in the file (blank rows excluded); null until the file has been read. */
  totalRows: number | null;
  processedRows: number;
  created: number;
  updated: number;
  /** Recorded errors: rejected rows plus, if any, the one header problem on row 1. */
  errors: number;
}

/** ApplicationFailure types the import raises; none of them gets better by retrying. */
export const IMPORT_FAILURES = {
  notFound: 'ImportNotFound',
  invalidCsv: 'InvalidCsv',
  outOfOrder: 'ImportBatchOutOfOrder',
} as const;

/** Rows per batch: one transaction each; small enough to stay far below PostgreSQL's 65,535 parameters. */
export const DEFAULT_IMPORT_BATCH_SIZE = 1000;
export const MAX_IMPORT_BATCH_SIZE = 2000;

/** Applied to every contact of an import. */
export interface ImportOptions {
  listIds?: number[];
  tags?: string[];
}
