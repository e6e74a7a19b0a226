import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes.js';
import { startStack, type Stack } from './stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.close());

// Tests read JSON loosely; the assertions are the type check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function call(method: string, path: string, opts: { key?: string; body?: FormData; headers?: Record<string, string>; json?: unknown } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${opts.key ?? stack.siteA.key}`, ...opts.headers };
  let body: FormData | string | undefined = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${stack.apiUrl}/api/v1${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json };
}

function upload(content: string | Uint8Array, fields: Record<string, string | string[]> = {}, filename = 'contacts.csv'): FormData {
  const form = new FormData();
  form.append('file', new Blob([content], { type: 'text/csv' }), filename);
  for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) form.append(name, v);
  return form;
}

/** Polls GET /imports/:id as a client would, returning every distinct answer until it is finished. */
async function pollUntilDone(importId: number, key = stack.siteA.key): Promise<Json[]> {
  const seen: Json[] = [];
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await call('GET', `/imports/${importId}`, { key });
    expect(res.status).toBe(200);
    seen.push(res.body.data);
    if (['completed', 'failed'].includes(res.body.data.status)) return seen;
    if (Date.now() > deadline) throw new Error(`import ${importId} still ${res.body.data.status}`);
    await sleep(100);
  }
}

describe('CSV import end to end (API + worker + Temporal dev server)', () => {
  it('imports an uploaded CSV, reports progress to completion and makes the workflow findable by ImportId', async () => {
    const list = await call('POST', '/lists', { json: { name: 'Imported' } });
    expect(list.status).toBe(201);
    const rows = ['email,first_name,last_name,tags,cf_plan,shoe_size'];
    for (let i = 0; i < 2500; i++) rows.push(`person${i}@example.com,Person,${i},csv;e2e,${i % 3 ? 'free' : 'pro'},42`);
    rows.push('not-an-email,Bad,Row,,,');

    const started = await call('POST', '/contacts/import', { body: upload(`${rows.join('\n')}\n`, { listIds: String(list.body.data.id), tags: 'spring-2025' }) });

    expect(started.status).toBe(202);
    expect(started.body.data).toEqual({ importId: expect.any(Number), workflowId: `import:${started.body.data.importId}`, status: 'queued' });
    const { importId } = started.body.data;
    const answers = await pollUntilDone(importId);
    const final = answers.at(-1);
    expect(final).toMatchObject({
      id: importId,
      status: 'completed',
      filename: 'contacts.csv',
      totalRows: 2501,
      processedRows: 2501,
      created: 2500,
      updated: 0,
      errors: 2,
      options: { listIds: [list.body.data.id], tags: ['spring-2025'] },
      error: null,
    });
    // Progress only moves forward.
    const processed = answers.map((a) => a.processedRows);
    expect(processed).toEqual([...processed].sort((a, b) => a - b));

    const errors = await call('GET', `/imports/${importId}/errors?limit=10`);
    expect(errors.body.pagination).toMatchObject({ total: 2 });
    expect(errors.body.data.map((e: Json) => [e.row, e.message])).toEqual([
      [1, expect.stringMatching(/^Unknown column "shoe_size" ignored/)],
      [2502, 'Invalid email "not-an-email"'],
    ]);

    const contacts = await call('GET', `/contacts?listId=${list.body.data.id}&limit=1`);
    expect(contacts.body.pagination.total).toBe(2500);
    const ada = await call('GET', `/contacts?q=person1999@example.com`);
    expect(ada.body.data).toMatchObject([
      { email: 'person1999@example.com', firstName: 'Person', lastName: '1999', customFields: { plan: 'free' }, tags: ['csv', 'e2e', 'spring-2025'], lists: [list.body.data.id] },
    ]);

    const listed = await call('GET', '/imports');
    expect(listed.body.data.map((i: Json) => i.id)).toContain(importId);

    // Visibility is eventually consistent: give the dev server a moment to index the search attributes.
    let found: Json[] = [];
    for (let i = 0; i < 50 && found.length === 0; i++) {
      found = [];
      for await (const wf of stack.env.client.workflow.list({ query: `ImportId = ${importId}` })) found.push(wf);
      if (!found.length) await sleep(200);
    }
    expect(found).toHaveLength(1);
    expect(found[0].workflowId).toBe(`import:${importId}`);
    expect(found[0].status.name).toBe('COMPLETED');
    expect(found[0].typedSearchAttributes.get(SEARCH_ATTRIBUTES.SiteId)).toBe(stack.siteA.id);
  });

  it('rejects bad uploads with a 400 JSON error and creates nothing', async () => {
    const before = (await call('GET', '/imports', { key: stack.siteB.key })).body.pagination.total;
    const cases: [string, { body?: FormData; json?: unknown }, string][] = [
      ['no file', { json: { email: 'x' } }, 'No file uploaded'],
      ['no file part', { body: (() => { const f = new FormData(); f.append('tags', 'x'); return f; })() }, 'No file uploaded'],
      ['empty file', { body: upload('') }, 'The uploaded file is empty'],
      ['blank file', { body: upload('\n\n  \n') }, 'The uploaded file is empty'],
      ['a spreadsheet', { body: upload(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 8, 0]), {}, 'contacts.xlsx') }, 'The file is not CSV text'],
      ['no email column', { body: upload('name,phone\nAda,1\n') }, 'The CSV has no email column (its header is: "name", "phone")'],
      ['bad list id', { body: upload('email\na@example.com\n', { listIds: 'abc' }) }, 'Invalid form fields'],
    ];
    for (const [what, request, message] of cases) {
      const res = await call('POST', '/contacts/import', { key: stack.siteB.key, ...request });
      expect({ what, status: res.status, message: res.body.error.message.slice(0, message.length) }).toEqual({ what, status: 400, message });
    }
    const unknownList = await call('POST', '/contacts/import', { key: stack.siteB.key, body: upload('email\na@example.com\n', { listIds: '999999' }) });
    expect(unknownList.status).toBe(404);
    expect(unknownList.body.error.code).toBe('list_not_found');
    expect((await call('GET', '/imports', { key: stack.siteB.key })).body.pagination.total).toBe(before);
  });

  it('starts one import for a retried upload with the same Idempotency-Key', async () => {
    const headers = { 'idempotency-key': 'import-once' };
    const first = await call('POST', '/contacts/import', { key: stack.siteB.key, headers, body: upload('email\nonce@example.com\n') });
    const retry = await call('POST', '/contacts/import', { key: stack.siteB.key, headers, body: upload('email\nonce@example.com\n') });
    expect(first.status).toBe(202);
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual(first.body);
    await pollUntilDone(first.body.data.importId, stack.siteB.key);
    const imports = await call('GET', '/imports', { key: stack.siteB.key });
    expect(imports.body.data.filter((i: Json) => i.filename === 'contacts.csv' && i.totalRows === 1)).toHaveLength(1);
  });

  it("answers 404 for another site's import and its errors", async () => {
    const started = await call('POST', '/contacts/import', { body: upload('email\nmine@example.com\n') });
    await pollUntilDone(started.body.data.importId);
    for (const path of [`/imports/${started.body.data.importId}`, `/imports/${started.body.data.importId}/errors`]) {
      const res = await call('GET', path, { key: stack.siteB.key });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
  });

  it('reports a malformed file as a failed import with the reason', async () => {
    const started = await call('POST', '/contacts/import', { body: upload('email,name\nada@example.com,"Ada\n') });
    expect(started.status).toBe(202);
    const final = (await pollUntilDone(started.body.data.importId)).at(-1);
    expect(final).toMatchObject({ status: 'failed', error: expect.stringMatching(/^Malformed CSV/) });
  });
});
