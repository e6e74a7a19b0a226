import { Readable } from 'node:stream';
import { CsvError, parse, type Options } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';

/**
 * CSV reading for contact imports, built on csv-parse. The file is read in full exactly once (to
 * count rows and cut it into batches at record boundaries); each batch later parses only its slice.
 */

export type Delimiter = ',' | ';' | '\t';

/** A file that cannot be read as CSV text; the message is meant for the person who uploaded it. */
export class CsvFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvFormatError';
  }
}

/**
 * Guesses the delimiter from the header line: spreadsheets in many locales export `;`, some tools tab.
 * The header holds only column names, so counting separators outside quotes is reliable.
 */
export function detectDelimiter(text: string): Delimiter {
  const firstLine = /^[^\r\n]*/.exec(text)?.[0] ?? '';
  const unquoted = firstLine.replace(/"[^"]*"/g, '');
  const counts: [Delimiter, number][] = ([',', ';', '\t'] as const).map((d) => [d, unquoted.split(d).length - 1]);
  const best = counts.reduce((a, b) => (b[1] > a[1] ? b : a));
  return best[1] > 0 ? best[0] : ',';
}

function options(delimiter: Delimiter): Options {
  return {
    delimiter,
    bom: true,
    // Files edited on different systems mix line endings; accept all three.
    record_delimiter: ['\r\n', '\n', '\r'],
    // Real exports contain stray quotes in unquoted fields (O"Brien) and rows with missing cells.
    relax_quotes: true,
    relax_column_count: true,
    // Blank lines are kept as records so line numbers stay exact; the row mapper skips them.
    skip_empty_lines: false,
    info: true,
  };
}

function formatError(err: unknown): CsvFormatError {
  if (err instanceof CsvError) {
    const line = (err as unknown as { lines?: number }).lines;
    return new CsvFormatError(`Malformed CSV${line ? ` near line ${line}` : ''}: ${err.message.replace(/ at line \d+.*$/s, '')}`);
  }
  return new CsvFormatError(`Malformed CSV: ${err instanceof Error ? err.message : String(err)}`);
}

/**
 * Rejects what is plainly not a CSV text file (a spreadsheet, an image, a UTF-16 file) before anything
 * is stored: CSV is UTF-8 text, so a NUL byte or an invalid UTF-8 sequence means another format.
 */
export function decodeCsvText(buf: Uint8Array): string {
  if (buf.includes(0)) {
    throw new CsvFormatError('The file is not CSV text (it contains binary data; export the sheet as CSV UTF-8)');
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    throw new CsvFormatError('The file is not UTF-8 text; save it as "CSV UTF-8" and upload again');
  }
}

/** Reads only the header record. */
export function readHeader(text: string): { header: string[]; delimiter: Delimiter } {
  const delimiter = detectDelimiter(text.replace(/^\uFEFF/, ''));
  // The header ends at the first line break outside quotes; a generous prefix is enough to parse it.
  const prefix = text.slice(0, 64 * 1024);
  let records: { record: string[] }[];
  try {
    records = parseSync(prefix, { ...options(delimiter), to: 1 }) as unknown as { record: string[] }[];
  } catch (err) {
    throw formatError(err);
  }
  const header = records[0]?.record.map((h) => h.trim()) ?? [];
  if (header.every((h) => h === '')) throw new CsvFormatError('The file is empty or its first line (the header) is blank');
  return { header, delimiter };
}

/**
 * Line breaks (`\r\n`, `\n` or `\r`) in `buf[start, end)`. csv-parse counts a `\r\n` inside a quoted
 * field as two lines, so row numbers are counted here, on the same bytes csv-parse consumed.
 */
function lineBreaks(buf: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c === 0x0a) n++;
    else if (c === 0x0d) {
      n++;
      if (buf[i + 1] === 0x0a && i + 1 < end) i++;
    }
  }
  return n;
}

/** Feeding the parser in small slices keeps only a few records in memory at a time (backpressure). */
function* slices(buf: Buffer, size = 64 * 1024): Generator<Buffer> {
  for (let start = 0; start < buf.length; start += size) yield buf.subarray(start, start + size);
}

export interface CsvBatch {
  seq: number;
  /** Line of the file on which the slice starts. */
  firstLine: number;
  /** The slice, header excluded, cut at record boundaries. */
  csv: string;
}

export interface SplitResult {
  header: string[];
  delimiter: Delimiter;
  /** Non-blank data records. */
  totalRows: number;
  batchCount: number;
}

/**
 * Reads the whole file once and cuts it into slices of `batchSize` non-blank data records, handing each
 * slice to `onBatch` as soon as it is complete (so the caller can store slices while parsing goes on).
 * Offsets are bytes of the UTF-8 text as csv-parse reports them, so a slice never splits a character.
 */
export async function splitCsv(
  text: string,
  batchSize: number,
  onBatch: (batch: CsvBatch) => Promise<void> | void,
): Promise<SplitResult> {
  const { header, delimiter } = readHeader(text);
  const buf = Buffer.from(text, 'utf8');
  const parser = Readable.from(slices(buf)).pipe(parse(options(delimiter)));
  let headerSeen = false;
  let sliceStartByte = 0;
  let sliceStartLine = 1;
  let lastEndByte = 0;
  let rowsInSlice = 0;
  let totalRows = 0;
  let seq = 0;
  const cut = async () => {
    await onBatch({ seq, firstLine: sliceStartLine, csv: buf.subarray(sliceStartByte, lastEndByte).toString('utf8') });
    seq += 1;
    sliceStartLine += lineBreaks(buf, sliceStartByte, lastEndByte);
    sliceStartByte = lastEndByte;
    rowsInSlice = 0;
  };
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { bytes: number } }>) {
      lastEndByte = info.bytes;
      if (!headerSeen) {
        headerSeen = true;
        sliceStartByte = info.bytes;
        sliceStartLine = 1 + lineBreaks(buf, 0, info.bytes);
        continue;
      }
      if (record.every((v) => v.trim() === '')) continue;
      rowsInSlice += 1;
      totalRows += 1;
      if (rowsInSlice === batchSize) await cut();
    }
  } catch (err) {
    if (err instanceof CsvFormatError) throw err;
    throw formatError(err);
  }
  if (rowsInSlice > 0) await cut();
  return { header, delimiter, totalRows, batchCount: seq };
}

export interface CsvRecord {
  /** Line of the file on which the record starts. */
  line: number;
  values: string[];
}

/** Parses one stored slice; `firstLine` turns slice-relative line numbers into file line numbers. */
export function parseSlice(csv: string, delimiter: Delimiter, firstLine: number): CsvRecord[] {
  const buf = Buffer.from(csv, 'utf8');
  let parsed: { record: string[]; info: { bytes: number } }[];
  try {
    parsed = parseSync(buf, { ...options(delimiter), bom: false }) as unknown as typeof parsed;
  } catch (err) {
    throw formatError(err);
  }
  let line = firstLine;
  let start = 0;
  return parsed.map(({ record, info }) => {
    const out = { line, values: record };
    line += lineBreaks(buf, start, info.bytes);
    start = info.bytes;
    return out;
  });
}
