import { describe, expect, it } from 'vitest';
import { decodeCsvText, detectDelimiter, parseSlice, readHeader, splitCsv, type CsvBatch } from '../../src/domain/csv.js';
import { headerProblem, mapHeader, mapRow } from '../../src/domain/csv-columns.js';

async function split(text: string, batchSize: number) {
  const batches: CsvBatch[] = [];
  const result = await splitCsv(text, batchSize, (b) => {
    batches.push(b);
  });
  return { result, batches };
}

describe('CSV header mapping', () => {
  it('accepts snake_case, camelCase and spaced names for the same field', () => {
    for (const name of ['first_name', 'firstName', 'First Name', 'FIRST-NAME']) {
      expect(mapHeader(['email', name]).columns[1]).toEqual({ kind: 'field', field: 'firstName' });
    }
  });

  it('maps cf_ and customFields. prefixes to custom fields, keeping the name as written', () => {
    const map = mapHeader(['Email', 'cf_Plan', 'customFields.signupYear']);
    expect(map.columns).toEqual([{ kind: 'email' }, { kind: 'custom', name: 'Plan' }, { kind: 'custom', name: 'signupYear' }]);
    expect(headerProblem(map)).toBeNull();
  });

  it('reports unknown and duplicate columns in one header message and ignores them', () => {
    const map = mapHeader(['email', 'favourite_color', 'e-mail', 'shoe size', 'firstName', 'first_name']);
    expect(map.hasEmail).toBe(true);
    expect(map.unknown).toEqual(['favourite_color', 'shoe size']);
    expect(map.duplicate).toEqual(['e-mail', 'first_name']);
    expect(headerProblem(map)).toMatch(/^Unknown columns "favourite_color", "shoe size" ignored .*; duplicate columns "e-mail", "first_name" ignored/);
  });

  it('knows when the email column is missing', () => {
    expect(mapHeader(['name', 'phone']).hasEmail).toBe(false);
  });
});

describe('CSV row mapping', () => {
  const map = mapHeader(['email', 'first_name', 'timezone', 'status', 'tags', 'cf_plan', 'customFields']);

  it('lowercases the email, canonicalises the time zone and splits tags on ; and |', () => {
    const result = mapRow([' Ada@Example.COM ', 'Ada', 'europe/paris', 'Unsubscribed', 'vip; beta|vip', 'pro', '{"seats":3}'], map);
    expect(result).toEqual({
      ok: true,
      contact: {
        email: 'ada@example.com',
        firstName: 'Ada',
        timezone: 'Europe/Paris',
        status: 'unsubscribed',
        tags: ['vip', 'beta'],
        customFields: { plan: 'pro', seats: 3 },
      },
    });
  });

  it('leaves empty cells out so they never overwrite existing values', () => {
    expect(mapRow(['ada@example.com', '', '', '', '', '', ''], map)).toEqual({
      ok: true,
      contact: { email: 'ada@example.com', tags: [], customFields: {} },
    });
  });

  it('rejects a row with every problem in one message', () => {
    const result = mapRow(['not-an-email', 'x', 'Mars/Olympus', 'maybe', '', '', '[1]'], map);
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.message).toBe(
      'Invalid email "not-an-email"; invalid timezone "Mars/Olympus" (expected an IANA name such as Europe/Paris); ' +
        'invalid status "maybe" (expected one of subscribed, unsubscribed, bounced, complained); customFields is not a JSON object',
    );
  });

  it('rejects a row without an email and a row with more fields than the header', () => {
    expect(mapRow(['', 'Ada'], map)).toEqual({ ok: false, message: 'Missing email' });
    const wide = mapRow(['ada@example.com', 'a', '', '', '', '', '', 'extra'], map);
    expect(wide).toEqual({ ok: false, message: 'Has 8 fields but the header has 7' });
  });

  it('skips blank rows', () => {
    expect(mapRow(['', ' ', ''], map)).toEqual({ ok: 'blank' });
  });
});

describe('CSV reading', () => {
  it('detects comma, semicolon and tab delimiters from the header', () => {
    expect(detectDelimiter('email,first_name\n')).toBe(',');
    expect(detectDelimiter('email;first_name;"a,b"\n')).toBe(';');
    expect(detectDelimiter('email\tfirst_name\n')).toBe('\t');
    expect(detectDelimiter('email\n')).toBe(',');
  });

  it('refuses binary and non-UTF-8 files', () => {
    expect(() => decodeCsvText(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00]))).toThrow(/not CSV text/);
    expect(() => decodeCsvText(new Uint8Array([0x65, 0xe9, 0x0a]))).toThrow(/not UTF-8/);
    expect(decodeCsvText(new TextEncoder().encode('email\nzoë@example.com\n'))).toBe('email\nzoë@example.com\n');
  });

  it('reads the header of a file with a byte-order mark', () => {
    expect(readHeader('\uFEFFemail,name\r\na@example.com,A\r\n')).toEqual({ header: ['email', 'name'], delimiter: ',' });
  });

  it('cuts the file into batches at record boundaries and keeps file line numbers', async () => {
    const text = 'email,note\r\na@x.io,"one\r\ntwo"\r\n\r\nb@x.io,😀\r\nc@x.io,ç\r\nd@x.io,last';
    const { result, batches } = await split(text, 2);
    expect(result).toEqual({ header: ['email', 'note'], delimiter: ',', totalRows: 4, batchCount: 2 });
    const records = batches.flatMap((b) => parseSlice(b.csv, ',', b.firstLine));
    expect(records.filter((r) => r.values.some(Boolean))).toEqual([
      { line: 2, values: ['a@x.io', 'one\r\ntwo'] },
      { line: 5, values: ['b@x.io', '😀'] },
      { line: 6, values: ['c@x.io', 'ç'] },
      { line: 7, values: ['d@x.io', 'last'] },
    ]);
    // Slices put back together are the file without its header: nothing lost, nothing read twice.
    expect(batches.map((b) => b.csv).join('')).toBe(text.slice('email,note\r\n'.length));
  });

  it('reports a malformed file with the line where parsing stopped', async () => {
    await expect(split('email,name\na@x.io,"never closed\nb@x.io,B\n', 10)).rejects.toThrow(/^Malformed CSV near line \d+: Quote Not Closed/);
  });

  it('counts no rows for a file that is only a header', async () => {
    const { result, batches } = await split('email,first_name\n\n', 10);
    expect(result.totalRows).toBe(0);
    expect(batches).toEqual([]);
  });
});
