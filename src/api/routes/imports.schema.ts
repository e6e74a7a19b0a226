import { z } from 'zod';
import { dataOf, ErrorResponse, idempotencyKeyHeader, notFound, ok, pageOf, registerApiPath } from '../openapi.js';
import { IdParams, idParam, PaginationQuery, siteIdField } from '../validation.js';

/** Largest accepted upload. The file is kept in PostgreSQL until the import is done. */
export const MAX_IMPORT_BYTES = 50 * 1024 * 1024;

/** A multipart field given once, repeated, or as a comma-separated string: always a list of strings. */
const listField = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(','))).map((s) => s.trim()).filter(Boolean));

/** The text fields of the multipart upload (the file itself is the `file` part). */
export const ImportFormFields = z.object({
  siteId: siteIdField,
  listIds: listField.pipe(z.array(idParam).max(100)),
  tags: listField.pipe(
    z
      .array(z.string().max(100, { error: 'tag names are at most 100 characters' }))
      .max(100)
      .transform((tags) => [...new Set(tags)]),
  ),
});

const multipartBody = z
  .object({
    file: z.string().meta({ format: 'binary', description: `The CSV file (UTF-8, at most ${MAX_IMPORT_BYTES / 1024 / 1024} MB).` }),
    listIds: z.string().optional().meta({ description: 'List ids every imported contact joins: repeat the field or separate with commas.', example: '1,2' }),
    tags: z.string().optional().meta({ description: 'Tags every imported contact gets: repeat the field or separate with commas.', example: 'imported,2025' }),
  })
  .meta({ id: 'ContactImportUpload' });

const timestamp = z.iso.datetime().meta({ example: '2025-01-31T12:00:00.000Z' });
const importStatus = z.enum(['queued', 'running', 'completed', 'failed']);

export const ImportStarted = z
  .object({
    importId: z.int(),
    workflowId: z.string().meta({ example: 'import:42', description: 'Find it in the Temporal Web UI (search `ImportId = 42`).' }),
    status: importStatus,
  })
  .meta({ id: 'ImportStarted' });

export const ImportView = z
  .object({
    id: z.int(),
    status: importStatus,
    filename: z.string().nullable(),
    totalRows: z.int().nullable().meta({ description: 'Data rows in the file (blank rows excluded); null until the file has been read.' }),
    processedRows: z.int(),
    created: z.int(),
    updated: z.int(),
    errors: z.int().meta({ description: 'Entries in /imports/{id}/errors: rejected rows, plus row 1 when the header has unknown columns.' }),
    options: z.object({ listIds: z.array(z.int()), tags: z.array(z.string()) }),
    workflowId: z.string(),
    error: z.string().nullable().meta({ description: 'Why the import failed, when status is failed.' }),
    createdAt: timestamp,
    updatedAt: timestamp,
    finishedAt: timestamp.nullable(),
  })
  .meta({ id: 'Import' });

export const ImportErrorView = z
  .object({
    row: z.int().meta({ description: 'Line number in the file; the header is row 1.' }),
    message: z.string().meta({ example: 'Invalid email "ada@"' }),
    raw: z.record(z.string(), z.string()).nullable().meta({ description: 'The row as uploaded, by column name.' }),
  })
  .meta({ id: 'ImportError' });

export const ImportListQuery = PaginationQuery.extend({ siteId: siteIdField });
export { IdParams };

const tags = ['Imports'];

registerApiPath({
  method: 'post',
  path: '/api/v1/contacts/import',
  tags,
  summary: 'Import contacts from a CSV file',
  description:
    'Stores the file and starts an import workflow that upserts contacts by email in batches; poll ' +
    '`GET /imports/{id}` for progress. Columns: email (required), first_name, last_name, phone, company, city, ' +
    'country, timezone, source, status, tags (`;` or `|` separated), `cf_<name>` or `customFields.<name>` for custom ' +
    'fields. Unknown columns are ignored and reported once on row 1; invalid rows are skipped and reported with ' +
    'their row number. Empty cells never overwrite existing values, and an import never re-subscribes a contact.',
  request: {
    headers: idempotencyKeyHeader('Retrying with the same key returns the first answer and starts nothing.'),
    body: { content: { 'multipart/form-data': { schema: multipartBody } } },
  },
  responses: {
    202: ok(dataOf(ImportStarted), 'The import is queued; its workflow has started.'),
    413: { description: 'The file is larger than the upload limit.', content: { 'application/json': { schema: ErrorResponse } } },
    ...notFound,
  },
});

registerApiPath({
  method: 'get',
  path: '/api/v1/imports',
  tags,
  summary: 'List imports',
  request: { query: ImportListQuery },
  responses: { 200: ok(pageOf(ImportView), 'A page of imports, newest first.') },
});

registerApiPath({
  method: 'get',
  path: '/api/v1/imports/{id}',
  tags,
  summary: 'Get an import and its progress',
  description: 'While the import runs, the counts come live from the workflow’s `progress` query; afterwards from the database.',
  request: { params: IdParams },
  responses: { 200: ok(dataOf(ImportView), 'The import.'), ...notFound },
});

registerApiPath({
  method: 'get',
  path: '/api/v1/imports/{id}/errors',
  tags,
  summary: 'List the rows an import rejected',
  request: { params: IdParams, query: PaginationQuery },
  responses: { 200: ok(pageOf(ImportErrorView), 'A page of errors, by row number.'), ...notFound },
});
