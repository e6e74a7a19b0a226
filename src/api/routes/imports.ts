import { Router, type RequestHandler } from 'express';
import multer from 'multer';
import {
  getImport,
  listImportErrors,
  listImports,
  type ImportRow,
} from '../../db/repositories/imports.js';
import { assertListsOfSite } from '../../db/repositories/lists.js';
import { CsvFormatError, decodeCsvText, readHeader } from '../../domain/csv.js';
import { mapHeader } from '../../domain/csv-columns.js';
import type { ImportProgress } from '../../domain/csv-import.js';
import { contactImportLiveProgress, startContactImport } from '../../services/contact-import.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../errors.js';
import { offsetOf, sendData, sendPage, siteIdOf } from '../http.js';
import { idempotent } from '../middleware/idempotency.js';
import { siteScope } from '../middleware/site-scope.js';
import { IdParams, PaginationQuery, parseParams, parseQuery } from '../validation.js';
import { ImportFormFields, ImportListQuery, MAX_IMPORT_BYTES } from './imports.schema.js';

const upload = multer({
  storage: multer.memoryStorage(),
  limits: { fileSize: MAX_IMPORT_BYTES, files: 1, fields: 50, parts: 60 },
}).single('file');

/** Multer's failures are the client's: turn them into the API's JSON errors instead of a 500. */
const receiveFile: RequestHandler = (req, res, next) => {
  upload(req, res, (err: unknown) => {
    if (!err) return next();
    if (err instanceof multer.MulterError) {
      if (err.code === 'LIMIT_FILE_SIZE') {
        return next(new AppError('payload_too_large', 'too_large', `The file is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MB`));
      }
      if (err.code === 'LIMIT_UNEXPECTED_FILE') {
        return next(
          AppError.validation('Unexpected file field', [
            { path: err.field ?? 'file', message: 'send exactly one file, in the multipart field "file"' },
          ]),
        );
      }
      return next(AppError.validation(`Invalid upload: ${err.message}`, [{ path: err.field ?? '', message: err.message }]));
    }
    const message = err instanceof Error ? err.message : String(err);
    next(AppError.validation(`Malformed multipart body: ${message}`, [{ path: '', message }]));
  });
};

function invalidCsv(message: string, details = [{ path: 'file', message }]): AppError {
  return new AppError('invalid_csv', 'invalid', message, details);
}

/** Checks what can be checked before anything is stored: a non-empty UTF-8 CSV whose header has `email`. */
function readUpload(file: Express.Multer.File | undefined): string {
  if (!file) {
    throw AppError.validation('No file uploaded', [
      { path: 'file', message: 'send the CSV as multipart/form-data in the field "file"' },
    ]);
  }
  if (file.size === 0) throw invalidCsv('The uploaded file is empty');
  try {
    const text = decodeCsvText(file.buffer);
    if (text.trim() === '') throw new CsvFormatError('The uploaded file is empty');
    const { header } = readHeader(text);
    if (!mapHeader(header).hasEmail) {
      throw new CsvFormatError(`The CSV has no email column (its header is: ${header.map((h) => JSON.stringify(h)).join(', ')})`);
    }
    return text;
  } catch (err) {
    if (err instanceof CsvFormatError) throw invalidCsv(err.message);
    throw err;
  }
}

function view(row: ImportRow, live?: ImportProgress) {
  const p = live ?? {
    status: row.status,
    totalRows: row.totalRows,
    processedRows: row.processedRows,
    created: row.createdCount,
    updated: row.updatedCount,
    errors: row.errorCount,
  };
  return {
    id: row.id,
    status: p.status,
    filename: row.filename,
    totalRows: p.totalRows,
    processedRows: p.processedRows,
    created: p.created,
    updated: p.updated,
    errors: p.errors,
    options: { listIds: row.options.listIds ?? [], tags: row.options.tags ?? [] },
    workflowId: row.workflowId,
    error: row.error,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    finishedAt: row.finishedAt,
  };
}

/** CSV contact import: upload (starts the workflow), progress, errors, history. */
export function importsRouter({ db, temporal }: AppDeps): Router {
  const router = Router();

  // Parsed before the site check and idempotency: the multipart fields only exist after multer ran.
  router.post('/contacts/import', receiveFile, siteScope, idempotent(db), async (req, res) => {
    const siteId = siteIdOf(req);
    const fields = ImportFormFields.safeParse(req.body ?? {});
    if (!fields.success) {
      throw AppError.validation(
        'Invalid form fields',
        fields.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    }
    const csv = readUpload(req.file);
    const { listIds, tags } = fields.data;
    await assertListsOfSite(db, siteId, listIds);

    const row = await startContactImport({ db, temporal }, { siteId, filename: req.file?.originalname ?? null, csv, options: { listIds, tags } });
    req.log.info({ importId: row.id, bytes: req.file?.size }, 'contact import started');
    sendData(res, { importId: row.id, workflowId: row.workflowId, status: row.status }, 202);
  });

  router.get('/imports', async (req, res) => {
    const { page, limit } = parseQuery(req, ImportListQuery);
    const { rows, total } = await listImports(db, siteIdOf(req), { limit, offset: offsetOf({ page, limit }) });
    sendPage(res, rows.map((r) => view(r)), { page, limit }, total);
  });

  router.get('/imports/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const row = await getImport(db, siteIdOf(req), id);
    if (!row) throw AppError.notFound('Import', id);
    sendData(res, view(row, await contactImportLiveProgress(temporal, row)));
  });

  router.get('/imports/:id/errors', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { page, limit } = parseQuery(req, PaginationQuery);
    const row = await getImport(db, siteIdOf(req), id);
    if (!row) throw AppError.notFound('Import', id);
    const { rows, total } = await listImportErrors(db, id, { limit, offset: offsetOf({ page, limit }) });
    sendPage(res, rows, { page, limit }, total);
  });

  return router;
}
