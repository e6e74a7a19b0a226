import { describe, expect, it } from 'vitest';
import { readHeader as serverReadHeader } from '../../src/domain/csv.js';
import { mapHeader } from '../../src/domain/csv-columns.js';
import { TARGETS, guessTarget, readHeader, rewriteHeader } from '../../web/src/pages/contacts/csvHeader.js';

/** The dashboard's column mapping rewrites the header the import API then reads: both must agree. */
describe('the import column mapping (web/src/pages/contacts/csvHeader.ts)', () => {
  it('reads a header like the server does: BOM, quotes, semicolons and tabs', () => {
    for (const text of ['\uFEFFemail,"First, name",Plan\r\na@x.io,A,pro\n', 'email;"First, name";Plan\na@x.io;A;pro\n', 'email\t"First, name"\tPlan\n']) {
      const ours = readHeader(text);
      const theirs = serverReadHeader(text);
      expect(ours.columns).toEqual(theirs.header);
      expect(ours.delimiter).toBe(theirs.delimiter);
    }
  });

  it('guesses known columns, common email spellings, and makes other named columns custom fields', () => {
    expect(['E-mail Address', 'First Name', 'last_name', 'Plan', 'cf_seats', ''].map(guessTarget)).toEqual([
      'email',
      'first_name',
      'last_name',
      'custom',
      'custom',
      'ignore',
    ]);
  });

  it('rewrites only the header, into names the server maps to the chosen targets', () => {
    const text = 'E-mail Address;Vorname;Plan;Phone;Notes\nada@example.com;Ada;pro;123;x\n';
    const { columns, delimiter } = readHeader(text);
    const out = rewriteHeader(text, columns, ['email', 'first_name', 'custom', 'ignore', 'ignore'], delimiter);
    expect(out.split('\n').slice(1)).toEqual(text.split('\n').slice(1));
    const map = mapHeader(serverReadHeader(out).header);
    expect(map.hasEmail).toBe(true);
    expect(map.columns).toEqual([{ kind: 'email' }, { kind: 'field', field: 'firstName' }, { kind: 'custom', name: 'Plan' }, null, null]);
  });

  it('offers every target the server understands', () => {
    const header = TARGETS.filter((t) => !['custom', 'ignore'].includes(t.value)).map((t) => t.value);
    const map = mapHeader(header);
    expect(map.unknown).toEqual([]);
    expect(map.columns.every((c) => c !== null)).toBe(true);
  });
});
