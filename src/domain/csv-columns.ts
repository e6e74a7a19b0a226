import { z } from 'zod';

/**
 * How a CSV file maps onto contacts. Pure functions shared by the API (header check before anything
 * is stored) and the import activities (every batch).
 *
 * Rules (also in the README):
 * - Header names are matched case-insensitively, ignoring spaces, `_` and `-`: `email`, `first_name` /
 *   `firstName`, `last_name` / `lastName`, `phone`, `company`, `city`, `country`, `timezone` (IANA),
 *   `source`, `status` (subscribed | unsubscribed | bounced | complained), `tags` (names separated by
 *   `;` or `|`). `cf_<name>` and `customFields.<name>` columns become custom field `<name>` (string);
 *   a `customFields` column may hold a JSON object (as the contacts export writes it).
 * - An unknown or duplicate column is reported once, as an error on row 1 (the header), and ignored:
 *   the rows still import their known fields. Only a missing `email` column rejects the whole file.
 * - Row numbers are line numbers of the file (the header is row 1), so they match what a text editor
 *   shows, and a spreadsheet too unless a cell spans several lines.
 * - A row with an invalid value (email, timezone, status, too many fields) is not imported and is
 *   reported with its row number; blank rows are skipped and not counted.
 * - Empty cells never overwrite existing data; custom fields are merged into the existing ones.
 * - `status` is applied to new contacts; on an existing contact an import may record an
 *   unsubscribe/bounce/complaint but never re-subscribes someone.
 */

export const contactStatuses = ['subscribed', 'unsubscribed', 'bounced', 'complained'] as const;
export type ContactStatus = (typeof contactStatuses)[number];

export const contactTextFields = [
  'firstName',
  'lastName',
  'phone',
  'company',
  'city',
  'country',
  'timezone',
  'source',
] as const;
export type ContactTextField = (typeof contactTextFields)[number];

export type ColumnTarget =
  | { kind: 'email' }
  | { kind: 'field'; field: ContactTextField }
  | { kind: 'status' }
  | { kind: 'tags' }
  | { kind: 'custom'; name: string }
  /** A `customFields` column holding a JSON object, as the contacts CSV export writes it. */
  | { kind: 'customJson' };

const knownColumns: Record<string, ColumnTarget> = {
  email: { kind: 'email' },
  customfields: { kind: 'customJson' },
  status: { kind: 'status' },
  tags: { kind: 'tags' },
  ...Object.fromEntries(contactTextFields.map((field) => [field.toLowerCase(), { kind: 'field', field }])),
};

/** `First Name`, `first_name`, `first-name` and `firstName` are the same column. */
function normalizeHeader(name: string): string {
  return name.trim().toLowerCase().replace(/[\s_-]+/g, '');
}

function targetOf(rawName: string): ColumnTarget | null {
  const name = rawName.trim();
  const custom = /^(?:cf_|customfields\.)(.+)$/i.exec(name);
  if (custom?.[1]?.trim()) return { kind: 'custom', name: custom[1].trim() };
  return knownColumns[normalizeHeader(name)] ?? null;
}

function targetKey(target: ColumnTarget): string {
  switch (target.kind) {
    case 'field':
      return target.field;
    case 'custom':
      return `custom:${target.name}`;
    default:
      return target.kind;
  }
}

export interface ColumnMap {
  /** One entry per header position; null = ignored (unknown or duplicate). */
  columns: (ColumnTarget | null)[];
  hasEmail: boolean;
  unknown: string[];
  duplicate: string[];
}

/** Maps header fields to contact fields; unknown and duplicate columns are ignored and listed. */
export function mapHeader(header: readonly string[]): ColumnMap {
  const seen = new Set<string>();
  const unknown: string[] = [];
  const duplicate: string[] = [];
  const columns = header.map((name) => {
    const target = targetOf(name);
    if (!target) {
      unknown.push(name);
      return null;
    }
    const key = targetKey(target);
    if (seen.has(key)) {
      duplicate.push(name);
      return null;
    }
    seen.add(key);
    return target;
  });
  return { columns, hasEmail: seen.has('email'), unknown, duplicate };
}

/** The one header error message (row 1), or null when every column is understood. */
export function headerProblem(map: ColumnMap): string | null {
  const parts: string[] = [];
  const quote = (names: string[]) => names.map((n) => JSON.stringify(n)).join(', ');
  if (map.unknown.length) {
    parts.push(
      `unknown column${map.unknown.length > 1 ? 's' : ''} ${quote(map.unknown)} ignored ` +
        '(known: email, first_name, last_name, phone, company, city, country, timezone, source, status, tags, cf_<name>)',
    );
  }
  if (map.duplicate.length) {
    parts.push(`duplicate column${map.duplicate.length > 1 ? 's' : ''} ${quote(map.duplicate)} ignored (the first one is used)`);
  }
  return parts.length ? capitalize(parts.join('; ')) : null;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** A contact as one CSV row describes it; absent keys mean "keep what the contact has". */
export interface ImportedContact {
  email: string;
  firstName?: string;
  lastName?: string;
  phone?: string;
  company?: string;
  city?: string;
  country?: string;
  timezone?: string;
  source?: string;
  status?: ContactStatus;
  customFields: Record<string, unknown>;
  tags: string[];
}

export type RowResult = { ok: true; contact: ImportedContact } | { ok: false; message: string } | { ok: 'blank' };

const emailSchema = z.email().max(254);

/** Same limits as the contacts API, so an imported contact is one the API could have created. */
const maxLength: Record<ContactTextField, number> = {
  firstName: 200,
  lastName: 200,
  phone: 50,
  company: 200,
  city: 200,
  country: 100,
  timezone: 100,
  source: 100,
};

const columnLabel: Record<ContactTextField, string> = {
  firstName: 'first_name',
  lastName: 'last_name',
  phone: 'phone',
  company: 'company',
  city: 'city',
  country: 'country',
  timezone: 'timezone',
  source: 'source',
};

/** The canonical IANA name (`europe/paris` → `Europe/Paris`), or undefined for an unknown zone or an offset. */
export function canonicalTimezone(tz: string): string | undefined {
  if (/^[+-]/.test(tz)) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

function parseCustomJson(value: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(value);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Splits a `tags` cell on `;` or `|`; empty names are dropped, duplicates collapsed. */
export function splitTags(cell: string): string[] {
  return [...new Set(cell.split(/[;|]/).map((t) => t.trim()).filter(Boolean))];
}

/** Turns one CSV record into a contact, or says in one message everything wrong with it. */
export function mapRow(values: readonly string[], map: ColumnMap): RowResult {
  if (values.every((v) => v.trim() === '')) return { ok: 'blank' };
  const problems: string[] = [];
  if (values.length > map.columns.length) {
    problems.push(`has ${values.length} fields but the header has ${map.columns.length}`);
  }
  const contact: ImportedContact = { email: '', customFields: {}, tags: [] };
  map.columns.forEach((target, i) => {
    const value = (values[i] ?? '').trim();
    if (!target || value === '') return;
    switch (target.kind) {
      case 'email':
        contact.email = value.toLowerCase();
        break;
      case 'status':
        if ((contactStatuses as readonly string[]).includes(value.toLowerCase())) {
          contact.status = value.toLowerCase() as ContactStatus;
        } else {
          problems.push(`invalid status ${JSON.stringify(value)} (expected one of ${contactStatuses.join(', ')})`);
        }
        break;
      case 'tags': {
        contact.tags = splitTags(value);
        const long = contact.tags.find((t) => t.length > 100);
        if (long) problems.push(`tag ${JSON.stringify(long.slice(0, 20))}… is longer than 100 characters`);
        break;
      }
      case 'custom':
        contact.customFields[target.name] = value;
        break;
      case 'customJson': {
        const fields = parseCustomJson(value);
        if (fields) Object.assign(contact.customFields, fields);
        else problems.push('customFields is not a JSON object');
        break;
      }
      case 'field': {
        const label = columnLabel[target.field];
        if (value.length > maxLength[target.field]) {
          problems.push(`${label} is longer than ${maxLength[target.field]} characters`);
        } else if (target.field === 'timezone') {
          const tz = canonicalTimezone(value);
          if (tz) contact.timezone = tz;
          else problems.push(`invalid timezone ${JSON.stringify(value)} (expected an IANA name such as Europe/Paris)`);
        } else {
          contact[target.field] = value;
        }
        break;
      }
    }
  });
  if (contact.email === '') problems.unshift('missing email');
  else if (!emailSchema.safeParse(contact.email).success) problems.unshift(`invalid email ${JSON.stringify(contact.email)}`);
  if (problems.length) return { ok: false, message: capitalize(problems.join('; ')) };
  return { ok: true, contact };
}
