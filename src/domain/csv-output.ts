import { stringify, type Options, type Stringifier } from 'csv-stringify';

/**
 * What a spreadsheet treats as the start of a formula (OWASP "CSV Injection"): `=`, `+`, `-`, `@`,
 * a tab or a carriage return. Contact data is whatever people typed into a signup form, so a name like
 * `=HYPERLINK("https://evil.test","x")` must reach the person who opens the export as text.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One cell made safe to open in a spreadsheet: a value that could start a formula gets a leading `'`,
 * which spreadsheets show as text and do not display. Everything else is unchanged. The original
 * is the cell without that first `'` (or use the JSON export, which is always exact).
 */
export function neutraliseCsvCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/**
 * The one CSV writer for everything the product exports: csv-stringify with every string cell passed
 * through {@link neutraliseCsvCell}, header names included. Numbers and dates are not text, so a
 * negative number stays a number.
 */
export function csvWriter(options: Omit<Options, 'cast'> = {}): Stringifier {
  return stringify({
    ...options,
    cast: { string: (value) => neutraliseCsvCell(value) },
    ...(options.columns && Array.isArray(options.columns)
      ? { columns: options.columns.map((c) => (typeof c === 'string' ? { key: c, header: neutraliseCsvCell(c) } : c)) }
      : {}),
  });
}
