import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvWriter, neutraliseCsvCell } from '../../src/domain/csv-output.js';

describe('neutraliseCsvCell', () => {
  it.each(['=1+1', '+1', '-1', '@SUM(A1)', '\t=1', '\r=1'])('prefixes %j with a quote', (value) => {
    expect(neutraliseCsvCell(value)).toBe(`'${value}`);
  });
  it.each(['Ada', '', ' =1', 'a=b', "'already", '1-2'])('leaves %j unchanged', (value) => {
    expect(neutraliseCsvCell(value)).toBe(value);
  });
});

describe('csvWriter', () => {
  async function write(rows: Record<string, unknown>[], columns: string[]): Promise<string> {
    const writer = csvWriter({ header: true, columns });
    let out = '';
    writer.on('data', (d: Buffer) => (out += d.toString()));
    const done = new Promise((resolve) => writer.on('end', resolve));
    for (const row of rows) writer.write(row);
    writer.end();
    await done;
    return out;
  }

  it('neutralises string cells and header names, not numbers', async () => {
    const out = await write([{ name: '=cmd', n: -5 }], ['name', 'n']);
    expect(parse(out)).toEqual([
      ['name', 'n'],
      ["'=cmd", '-5'],
    ]);
    const header = await write([{ '=x': 'a' }], ['=x']);
    expect(parse(header)[0]).toEqual(["'=x"]);
  });
});
