/**
 * The CSV header in the browser, for the import's column mapping. The import API matches header
 * names itself (src/domain/csv-columns.ts); mapping a column here means rewriting its header name to
 * one the API knows before the file is uploaded. Only the first line changes.
 */

export type Delimiter = ',' | ';' | '\t';

/** What a column becomes: a contact field the importer knows, a custom field, or nothing. */
export type Target = string; // 'email' | 'first_name' | … | 'tags' | 'status' | 'custom' | 'ignore'

export const TARGETS: Array<{ value: Target; label: string }> = [
  { value: 'email', label: 'Email' },
  { value: 'first_name', label: 'First name' },
  { value: 'last_name', label: 'Last name' },
  { value: 'phone', label: 'Phone' },
  { value: 'company', label: 'Company' },
  { value: 'city', label: 'City' },
  { value: 'country', label: 'Country' },
  { value: 'timezone', label: 'Time zone' },
  { value: 'source', label: 'Source' },
  { value: 'status', label: 'Status' },
  { value: 'tags', label: 'Tags (; or | separated)' },
  { value: 'customFields', label: 'Custom fields (JSON object)' },
  { value: 'custom', label: 'Custom field (named after the column)' },
  { value: 'ignore', label: 'Ignore this column' },
];

const normalize = (name: string) => name.trim().toLowerCase().replace(/[\s_-]+/g, '');
const KNOWN: Record<string, Target> = {
  email: 'email',
  emailaddress: 'email',
  mail: 'email',
  firstname: 'first_name',
  lastname: 'last_name',
  phone: 'phone',
  company: 'company',
  city: 'city',
  country: 'country',
  timezone: 'timezone',
  source: 'source',
  status: 'status',
  tags: 'tags',
  customfields: 'customFields',
};

/** What the importer would pick by itself (plus common email spellings); other named columns become custom fields. */
export function guessTarget(column: string): Target {
  if (/^(?:cf_|customfields\.)(.+)$/i.test(column.trim())) return 'custom';
  return KNOWN[normalize(column)] ?? (column.trim() ? 'custom' : 'ignore');
}

/** What the importer itself does with a header name, without mapping: a known column, a custom field, or ignored. */
function importerTarget(column: string): Target {
  if (/^(?:cf_|customfields\.)(.+)$/i.test(column.trim())) return 'custom';
  return KNOWN[normalize(column)] === undefined || normalize(column) === 'emailaddress' || normalize(column) === 'mail' ? 'ignore' : KNOWN[normalize(column)]!;
}

/** Letters, digits, `_` and `-` (what segment rules can name), from any column title. */
export function customFieldName(column: string): string {
  const stripped = column.trim().replace(/^(?:cf_|customfields\.)/i, '');
  const name = stripped.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '') || 'field';
  return /^[A-Za-z_]/.test(name) ? name : `_${name}`;
}

export function detectDelimiter(firstLine: string): Delimiter {
  const unquoted = firstLine.replace(/"[^"]*"/g, '');
  const counts = ([',', ';', '\t'] as const).map((d) => [d, unquoted.split(d).length - 1] as const);
  const best = counts.reduce((a, b) => (b[1] > a[1] ? b : a));
  return best[1] > 0 ? best[0] : ',';
}

/** The header line's cells (quotes removed), its delimiter and where the line ends in the text. */
export function readHeader(text: string): { columns: string[]; delimiter: Delimiter; end: number } {
  const start = text.startsWith('\uFEFF') ? 1 : 0;
  const match = /[\r\n]/.exec(text.slice(start));
  const end = match ? start + match.index : text.length;
  const line = text.slice(start, end);
  const delimiter = detectDelimiter(line);
  const columns: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delimiter) {
      columns.push(cell);
      cell = '';
    } else cell += ch;
  }
  columns.push(cell);
  return { columns, delimiter, end };
}

/** The header name the importer reads as `target` for this column. */
export function headerFor(column: string, target: Target, index: number): string {
  if (target === 'custom') return `cf_${customFieldName(column)}`;
  if (target === 'ignore') return importerTarget(column) === 'ignore' ? column : `ignored_${index + 1}`;
  return target;
}

/** The file's text with its first line replaced by the mapped header names. */
export function rewriteHeader(text: string, columns: string[], targets: Target[], delimiter: Delimiter): string {
  const { end } = readHeader(text);
  const quote = (s: string) => (/[",;\t\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const header = columns.map((c, i) => quote(headerFor(c, targets[i] ?? 'ignore', i))).join(delimiter);
  return header + text.slice(end);
}
