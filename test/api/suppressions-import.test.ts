import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSuppressed } from '../../src/db/repositories/suppressions.js';
import { importSuppressionsCsv } from '../../src/services/suppression-import.js';
import { startTestApi, type TestApi } from './support.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.close();
});

function importCsv(csv: string | Uint8Array, opts: { query?: string; key?: string; contentType?: string } = {}) {
  if (typeof csv !== 'string') {
    return fetch(`${api.url}/api/v1/suppressions/import${opts.query ?? ''}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${opts.key ?? api.siteA.key}`, 'content-type': opts.contentType ?? 'text/csv' },
      body: csv,
    }).then(async (res) => ({ status: res.status, body: (await res.json()) as { data?: Record<string, unknown>; error?: Record<string, unknown> } }));
  }
  return api.call('POST', `/api/v1/suppressions/import${opts.query ?? ''}`, {
    raw: csv,
    key: opts.key,
    headers: { 'content-type': opts.contentType ?? 'text/csv' },
  });
}

async function suppression(email: string, key?: string) {
  const res = await api.call('GET', `/api/v1/suppressions?email=${encodeURIComponent(email)}`, { key });
  return res.body.data[0] as { email: string; reason: string; note: string | null } | undefined;
}

describe('POST /suppressions/import', () => {
  it('suppresses every address of the file, lowercased, with reason manual unless the row gives one', async () => {
    const res = await importCsv('email,reason,note\nAda@Import.test,complaint,from the old ESP\nbob@import.test,,\n cy@import.test ,hard_bounce,\n');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { imported: 3, updated: 0, failed: 0, total: 3, errors: [] } });
    expect(await suppression('ada@import.test')).toMatchObject({ email: 'ada@import.test', reason: 'complaint', note: 'from the old ESP' });
    expect(await suppression('bob@import.test')).toMatchObject({ reason: 'manual', note: null });
    expect(await suppression('cy@import.test')).toMatchObject({ reason: 'hard_bounce' });
    expect(await isSuppressed(api.db, api.siteA.id, 'CY@import.test')).toBe(true);
  });

  it('reports bad rows with their line numbers and still imports the good ones', async () => {
    const csv = [
      'email,reason,note',
      'good1@rows.test,manual,',
      'not-an-email,manual,',
      '',
      'good2@rows.test,annoyed,',
      ',complaint,no address',
      `good3@rows.test,,${'x'.repeat(1001)}`,
      'good4@rows.test,Hard Bounce,case and spaces are fine',
    ].join('\n');
    const res = await importCsv(csv);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({
      imported: 2,
      updated: 0,
      failed: 4,
      total: 6,
      errors: [
        { row: 3, message: 'Invalid email "not-an-email"' },
        { row: 5, message: 'Invalid reason "annoyed" (one of hard_bounce, complaint, unsubscribe, manual)' },
        { row: 6, message: 'Missing email' },
        { row: 7, message: 'Note is longer than 1000 characters' },
      ],
    });
    expect(await suppression('good1@rows.test')).toBeDefined();
    expect(await suppression('good4@rows.test')).toMatchObject({ reason: 'hard_bounce', note: 'case and spaces are fine' });
    expect(await suppression('good2@rows.test')).toBeUndefined();
  });

  it('updates addresses already suppressed on a re-import, keeping a note the new row leaves empty', async () => {
    await importCsv('email,reason,note\nre1@again.test,manual,first note\nre2@again.test,manual,keep me\n');
    const res = await importCsv('email,reason,note\nre1@again.test,complaint,second note\nre2@again.test,unsubscribe,\nre3@again.test,,\n');
    expect(res.body.data).toMatchObject({ imported: 1, updated: 2, failed: 0, total: 3 });
    expect(await suppression('re1@again.test')).toMatchObject({ reason: 'complaint', note: 'second note' });
    expect(await suppression('re2@again.test')).toMatchObject({ reason: 'unsubscribe', note: 'keep me' });
    const list = await api.call('GET', '/api/v1/suppressions?q=again.test');
    expect(list.body.pagination.total).toBe(3);
  });

  it('refuses a file without an email column with 400 and suppresses nothing', async () => {
    const res = await importCsv('name,reason\nAda,manual\n');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_csv', message: 'The CSV has no email column (its header is: "name", "reason")' });
    const empty = await importCsv('');
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('invalid_csv');
  });

  it('takes the default reason from ?reason=, a semicolon-separated file with a BOM and CRLF, and Email Address headers', async () => {
    const csv = '\uFEFFEmail Address;Notes\r\nsemi1@format.test;imported\r\nsemi2@format.test;\r\n';
    const res = await importCsv(csv, { query: '?reason=unsubscribe' });
    expect(res.body.data).toMatchObject({ imported: 2, failed: 0, total: 2 });
    expect(await suppression('semi1@format.test')).toMatchObject({ reason: 'unsubscribe', note: 'imported' });
    const bad = await importCsv('email\nx@format.test\n', { query: '?reason=annoyed' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe('reason');
  });

  it('counts an address repeated in the file once as imported and then as updated, the last row winning', async () => {
    const res = await importCsv('email,reason\ntwice@dup.test,manual\nTWICE@dup.test,complaint\n');
    expect(res.body.data).toMatchObject({ imported: 1, updated: 1, total: 2, failed: 0 });
    expect(await suppression('twice@dup.test')).toMatchObject({ reason: 'complaint' });
  });

  it('imports a file of several batches and reports only the first 100 row errors', async () => {
    const lines = ['email'];
    for (let i = 0; i < 2500; i++) lines.push(`bulk${i}@batch.test`);
    for (let i = 0; i < 150; i++) lines.push(`broken${i}`);
    const res = await importCsv(lines.join('\n'));
    expect(res.status).toBe(200);
    const data = res.body.data as { imported: number; updated: number; failed: number; total: number; errors: { row: number }[] };
    expect(data).toMatchObject({ imported: 2500, updated: 0, failed: 150, total: 2650 });
    expect(data.errors).toHaveLength(100);
    expect(data.errors[0]).toEqual({ row: 2502, message: 'Invalid email "broken0"' });
    const list = await api.call('GET', '/api/v1/suppressions?q=batch.test&limit=1');
    expect(list.body.pagination.total).toBe(2500);
  });

  it('imports into the key’s site only', async () => {
    await importCsv('email\nsiteb@tenant.test\n', { key: api.siteB.key });
    expect(await suppression('siteb@tenant.test', api.siteB.key)).toBeDefined();
    expect(await suppression('siteb@tenant.test')).toBeUndefined();
    expect(await isSuppressed(api.db, api.siteA.id, 'siteb@tenant.test')).toBe(false);
  });

  it('answers 415 for a JSON or multipart body and 403 for another site id', async () => {
    const json = await api.call('POST', '/api/v1/suppressions/import', { body: { email: 'json@body.test' } });
    expect(json.status).toBe(415);
    expect(json.body.error.code).toBe('unsupported_media_type');
    const multipart = await importCsv(new TextEncoder().encode('email\nm@body.test\n'), { contentType: 'multipart/form-data; boundary=x' });
    expect(multipart.status).toBe(415);
    const otherSite = await importCsv('email\nx@site.test\n', { query: `?siteId=${api.siteB.id}` });
    expect(otherSite.status).toBe(403);
    expect(await suppression('m@body.test')).toBeUndefined();
  });

  it('stops with 413 once the upload passes the size limit', async () => {
    async function* upload() {
      yield Buffer.from('email\nfirst@limit.test\n');
      yield Buffer.from('second@limit.test\n'.repeat(10));
    }
    await expect(importSuppressionsCsv(api.db, api.siteA.id, upload(), { maxBytes: 64 })).rejects.toMatchObject({ kind: 'too_large', code: 'payload_too_large' });
  });
});
