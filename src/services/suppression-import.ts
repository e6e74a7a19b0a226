import { pipeline, Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { z } from 'zod';
import { AppError } from '../errors.js';
import type { DbOrTx } from '../db/client.js';
import { upsertSuppressions, type SuppressionReason } from '../db/repositories/suppressions.js';
import { suppressionReason } from '../db/schema.js';
import { detectDelimiter } from '../domain/csv.js';

/** Rows upserted per statement. */
export const SUPPRESSION_BATCH_SIZE = 1000;
/** Row errors returned in the answer; the rest are only counted. */
export const MAX_REPORTED_ERRORS = 100;
/** Largest accepted body. The file is streamed, so this bounds the request's duration, not memory. */
export const MAX_SUPPRESSION_CSV_BYTES = 50 * 1024 * 1024;

export interface SuppressionImportResult {
  /** Addresses that were not suppressed before. */
  imported: number;
  /** Addresses already suppressed (or repeated in the file), whose reason and note were updated. */
  updated: number;
  /** Rows refused (invalid address, reason or note). */
  failed: number;
  /** Non-blank data rows read. */
  total: number;
  /** The first refused rows; `row` is the file's line number (the header is row 1). */
  errors: { row: number; message: string }[];
}

const REASONS = suppressionReason.enumValues;
const emailCheck = z.string().max(254).check(z.email());

/** `Email Address`, `e-mail` and `email` are the same column, as in the contacts import. */
const normalizeHeader = (name: string) => name.trim().toLowerCase().replace(/[\s_-]+/g, '');
const COLUMNS: Record<string, 'email' | 'reason' | 'note'> = {
  email: 'email',
  emailaddress: 'email',
  reason: 'reason',
  note: 'note',
  notes: 'note',
};

function invalidCsv(message: string): AppError {
  return new AppError('invalid_csv', 'invalid', message, [{ path: 'body', message }]);
}

/** The upload as buffers, stopping with a 413 once it passes `maxBytes`. */
async function* withLimit(source: AsyncIterable<Buffer | string>, maxBytes: number): AsyncGenerator<Buffer> {
  let bytes = 0;
  for await (const chunk of source) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    bytes += buf.length;
    if (bytes > maxBytes) {
      throw new AppError('payload_too_large', 'too_large', `The CSV is larger than ${maxBytes / 1024 / 1024} MB; split it and import the parts`);
    }
    yield buf;
  }
}

/** The first chunks, up to the first line break: enough to pick the delimiter before parsing starts. */
async function peekHeaderLine(it: AsyncIterator<Buffer>): Promise<Buffer[]> {
  const head: Buffer[] = [];
  let size = 0;
  for (;;) {
    const next = await it.next();
    if (next.done) return head;
    head.push(next.value);
    size += next.value.length;
    if (next.value.includes(0x0a) || next.value.includes(0x0d) || size > 64 * 1024) return head;
  }
}

type Row = { email: string; reason: SuppressionReason; note: string | null };

/** Validates one data row; a string is the reason it is refused. */
function readRow(values: string[], index: { email: number; reason: number; note: number }, defaultReason: SuppressionReason): Row | string {
  const rawEmail = (values[index.email] ?? '').trim();
  if (rawEmail === '') return 'Missing email';
  const email = rawEmail.toLowerCase();
  if (!emailCheck.safeParse(email).success) return `Invalid email ${JSON.stringify(rawEmail)}`;
  const rawReason = index.reason < 0 ? '' : (values[index.reason] ?? '').trim();
  let reason = defaultReason;
  if (rawReason !== '') {
    const candidate = rawReason.toLowerCase().replace(/[\s-]+/g, '_');
    if (!(REASONS as readonly string[]).includes(candidate)) {
      return `Invalid reason ${JSON.stringify(rawReason)} (one of ${REASONS.join(', ')})`;
    }
    reason = candidate as SuppressionReason;
  }
  const note = index.note < 0 ? '' : (values[index.note] ?? '').trim();
  if (note.length > 1000) return 'Note is longer than 1000 characters';
  return { email, reason, note: note === '' ? null : note };
}

/**
 * Streams a suppression CSV (header row with `email`, optional `reason` and `note`) into the site's
 * suppression list: rows are validated one by one, bad rows are reported with their line number and
 * skipped, good rows are upserted in batches of {@link SUPPRESSION_BATCH_SIZE} with one statement each.
 * Batches commit as they go, so a failure midway leaves the earlier rows suppressed; importing the file
 * again is harmless (an upsert). A file without an email column is refused before anything is stored.
 */
export async function importSuppressionsCsv(
  db: DbOrTx,
  siteId: number,
  source: AsyncIterable<Buffer | string>,
  opts: { defaultReason?: SuppressionReason; maxBytes?: number } = {},
): Promise<SuppressionImportResult> {
  const defaultReason = opts.defaultReason ?? 'manual';
  const it = withLimit(source, opts.maxBytes ?? MAX_SUPPRESSION_CSV_BYTES)[Symbol.asyncIterator]();
  const head = await peekHeaderLine(it);
  const firstLine = Buffer.concat(head).toString('utf8').replace(/^\uFEFF/, '');
  if (firstLine.trim() === '') throw invalidCsv('The CSV is empty: send a header row (email, reason, note) and one address per row');
  const delimiter = detectDelimiter(firstLine);

  async function* replay(): AsyncGenerator<Buffer> {
    yield* head;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield next.value;
    }
  }
  const parser = parse({
    delimiter,
    bom: true,
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_quotes: true,
    relax_column_count: true,
    // Blank lines stay records so line numbers stay exact; they are skipped below.
    skip_empty_lines: false,
    info: true,
  });
  // pipeline, not pipe: an upload that fails (too large, aborted) must fail the parser's iteration too.
  pipeline(Readable.from(replay()), parser, () => {});

  const result: SuppressionImportResult = { imported: 0, updated: 0, failed: 0, total: 0, errors: [] };
  let index: { email: number; reason: number; note: number } | undefined;
  // Last row wins for an address repeated within a batch (one statement may not update a row twice);
  // each repeat counts as an update, as if the rows had been applied one after another.
  let batch = new Map<string, Row>();
  let repeats = 0;
  const flush = async () => {
    if (batch.size === 0) return;
    const { created, updated } = await upsertSuppressions(db, siteId, [...batch.values()]);
    result.imported += created;
    result.updated += updated + repeats;
    batch = new Map();
    repeats = 0;
  };

  let lastLine = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      // csv-parse reports the line a record ends on; it starts right after the previous one.
      const row = lastLine + 1;
      lastLine = info.lines;
      if (!index) {
        const header = record.map(normalizeHeader);
        const find = (name: 'email' | 'reason' | 'note') => header.findIndex((h) => COLUMNS[h] === name);
        index = { email: find('email'), reason: find('reason'), note: find('note') };
        if (index.email < 0) {
          throw invalidCsv(`The CSV has no email column (its header is: ${record.map((h) => JSON.stringify(h.trim())).join(', ')})`);
        }
        continue;
      }
      if (record.every((v) => v.trim() === '')) continue;
      result.total += 1;
      const parsed = readRow(record, index, defaultReason);
      if (typeof parsed === 'string') {
        result.failed += 1;
        if (result.errors.length < MAX_REPORTED_ERRORS) result.errors.push({ row, message: parsed });
        continue;
      }
      const earlier = batch.get(parsed.email);
      if (earlier) {
        // Re-inserted so the batch keeps file order; an empty note keeps the earlier one, as across batches.
        batch.delete(parsed.email);
        repeats += 1;
      }
      batch.set(parsed.email, { ...parsed, note: parsed.note ?? earlier?.note ?? null });
      if (batch.size >= SUPPRESSION_BATCH_SIZE) await flush();
    }
  } catch (err) {
    if (err instanceof CsvError) {
      const done = result.imported + result.updated;
      throw invalidCsv(`Malformed CSV near line ${lastLine + 1}: ${err.message.replace(/ at line \d+.*$/s, '')}${done ? ` (${done} rows before it were imported)` : ''}`);
    }
    throw err;
  }
  await flush();
  return result;
}
