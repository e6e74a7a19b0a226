import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './support.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.close();
});

async function createList(name: string, key?: string): Promise<number> {
  const res = await api.call('POST', '/api/v1/lists', { body: { name }, key });
  expect(res.status).toBe(201);
  return res.body.data.id;
}

describe('creating contacts', () => {
  it('creates a contact with tags and lists and returns 201 with them', async () => {
    const listId = await createList('Newsletter');
    const res = await api.call('POST', '/api/v1/contacts', {
      body: {
        email: '  Ada@Example.COM ',
        firstName: 'Ada',
        lastName: 'Lovelace',
        timezone: 'europe/london',
        customFields: { plan: 'pro' },
        tags: ['vip', 'beta'],
        lists: [listId],
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({
      email: 'ada@example.com',
      firstName: 'Ada',
      timezone: 'Europe/London',
      customFields: { plan: 'pro' },
      status: 'subscribed',
      tags: ['beta', 'vip'],
      lists: [listId],
    });
    expect(Number.isInteger(res.body.data.id)).toBe(true);
    expect(res.body.data.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(res.body.data.subscribedAt).not.toBeNull();

    const fetched = await api.call('GET', `/api/v1/contacts/${res.body.data.id}`);
    expect(fetched.body.data).toEqual(res.body.data);
  });

  it('answers 409 contact_exists for an email the site already has, whatever its case', async () => {
    await api.call('POST', '/api/v1/contacts', { body: { email: 'dup@example.com' } });
    const res = await api.call('POST', '/api/v1/contacts', { body: { email: 'DUP@example.com' } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('contact_exists');
  });

  it('lets another site use the same email', async () => {
    await api.call('POST', '/api/v1/contacts', { body: { email: 'shared@example.com' } });
    const res = await api.call('POST', '/api/v1/contacts', { body: { email: 'shared@example.com' }, key: api.siteB.key });
    expect(res.status).toBe(201);
  });

  it('rejects wrong types and bad values with 400 naming each bad field', async () => {
    const res = await api.call('POST', '/api/v1/contacts', {
      body: { email: 'not-an-email', firstName: 42, timezone: 'Mars/Olympus', status: 'happy', tags: [''] },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    const paths = res.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['email', 'firstName', 'timezone', 'status', 'tags.0']));
  });

  it('answers 404 for a list id of another site, and creates nothing', async () => {
    const foreignList = await createList('B only', api.siteB.key);
    const res = await api.call('POST', '/api/v1/contacts', { body: { email: 'nolist@example.com', lists: [foreignList] } });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('list_not_found');
    const search = await api.call('GET', '/api/v1/contacts?q=nolist');
    expect(search.body.pagination.total).toBe(0);
  });
});

describe('reading, updating and deleting a contact', () => {
  it('updates fields, merges custom fields, replaces tags and stamps an unsubscribe', async () => {
    const created = await api.call('POST', '/api/v1/contacts', {
      body: { email: 'grace@example.com', customFields: { a: 1 }, tags: ['old'] },
    });
    const id = created.body.data.id;
    const res = await api.call('PATCH', `/api/v1/contacts/${id}`, {
      body: { lastName: 'Hopper', customFields: { b: 2 }, tags: ['new'], status: 'unsubscribed' },
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ lastName: 'Hopper', customFields: { a: 1, b: 2 }, tags: ['new'], status: 'unsubscribed' });
    expect(res.body.data.unsubscribedAt).not.toBeNull();
  });

  it('answers 409 when a patch moves a contact onto another contact’s email', async () => {
    await api.call('POST', '/api/v1/contacts', { body: { email: 'taken@example.com' } });
    const other = await api.call('POST', '/api/v1/contacts', { body: { email: 'mover@example.com' } });
    const res = await api.call('PATCH', `/api/v1/contacts/${other.body.data.id}`, { body: { email: 'taken@example.com' } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('contact_exists');
  });

  it('deletes a contact, after which it is 404', async () => {
    const created = await api.call('POST', '/api/v1/contacts', { body: { email: 'gone@example.com' } });
    const id = created.body.data.id;
    expect((await api.call('DELETE', `/api/v1/contacts/${id}`)).status).toBe(204);
    expect((await api.call('GET', `/api/v1/contacts/${id}`)).status).toBe(404);
    expect((await api.call('DELETE', `/api/v1/contacts/${id}`)).status).toBe(404);
  });

  it('shows another site’s contact as 404 to every verb', async () => {
    const created = await api.call('POST', '/api/v1/contacts', { body: { email: 'private@example.com' } });
    const id = created.body.data.id;
    const b = api.siteB.key;
    for (const [method, path, body] of [
      ['GET', `/api/v1/contacts/${id}`],
      ['PATCH', `/api/v1/contacts/${id}`, { firstName: 'Mallory' }],
      ['DELETE', `/api/v1/contacts/${id}`],
      ['POST', `/api/v1/contacts/${id}/tags`, { tag: 'x' }],
    ] as const) {
      const res = await api.call(method, path, { key: b, body });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
    expect((await api.call('GET', `/api/v1/contacts/${id}`)).body.data.firstName).toBeNull();
  });

  it('answers 400, never 500, for ids that are not positive 32-bit integers', async () => {
    for (const id of ['abc', '1.5', '-3', '0', '99999999999']) {
      const res = await api.call('GET', `/api/v1/contacts/${id}`);
      expect(res.status, id).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
  });
});

describe('searching and filtering contacts', () => {
  let listId: number;
  let tagId: number;
  beforeAll(async () => {
    listId = await createList('Search list');
    await api.call('POST', '/api/v1/contacts', { body: { email: 'under_score@search.test', firstName: 'Linus', lists: [listId] } });
    await api.call('POST', '/api/v1/contacts', { body: { email: 'underxscore@search.test', firstName: 'Margaret', tags: ['search-tag'] } });
    await api.call('POST', '/api/v1/contacts', {
      body: { email: 'third@search.test', firstName: 'Linus', lastName: 'Pauling', status: 'bounced' },
    });
    const tags = await api.call('GET', '/api/v1/tags?limit=100');
    tagId = tags.body.data.find((t: { name: string }) => t.name === 'search-tag').id;
  });

  const emails = (res: { body: { data: { email: string }[] } }) => res.body.data.map((c) => c.email);

  it('matches q against email and names, treating LIKE wildcards literally', async () => {
    expect(emails(await api.call('GET', '/api/v1/contacts?q=under_score'))).toEqual(['under_score@search.test']);
    expect(emails(await api.call('GET', '/api/v1/contacts?q=linus%20pauling'))).toEqual(['third@search.test']);
    expect(emails(await api.call('GET', '/api/v1/contacts?q=MARGARET'))).toEqual(['underxscore@search.test']);
    expect((await api.call('GET', '/api/v1/contacts?q=%25')).body.data).toEqual([]);
  });

  it('filters by status, list and tag', async () => {
    expect(emails(await api.call('GET', '/api/v1/contacts?status=bounced'))).toEqual(['third@search.test']);
    expect(emails(await api.call('GET', `/api/v1/contacts?listId=${listId}`))).toEqual(['under_score@search.test']);
    expect(emails(await api.call('GET', `/api/v1/contacts?tagId=${tagId}`))).toEqual(['underxscore@search.test']);
  });

  it('paginates with page and limit and reports the totals', async () => {
    const res = await api.call('GET', '/api/v1/contacts?q=search.test&limit=2&page=2');
    expect(res.status).toBe(200);
    expect(res.body.pagination).toEqual({ page: 2, limit: 2, total: 3, totalPages: 2 });
    expect(emails(res)).toEqual(['third@search.test']);
    const first = await api.call('GET', '/api/v1/contacts?q=search.test');
    expect(first.body.pagination).toMatchObject({ page: 1, limit: 50 });
  });

  it('answers 400 for a bad page, limit or status', async () => {
    for (const query of ['page=0', 'page=abc', 'limit=0', 'limit=101', 'limit=2.5', 'page=', 'status=nope', 'listId=x']) {
      const res = await api.call('GET', `/api/v1/contacts?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
  });
});

describe('contact membership endpoints', () => {
  it('adds and removes a contact’s list and tag', async () => {
    const listId = await createList('Membership');
    const { body } = await api.call('POST', '/api/v1/contacts', { body: { email: 'member@example.com' } });
    const id = body.data.id;

    const added = await api.call('POST', `/api/v1/contacts/${id}/lists`, { body: { listId } });
    expect(added.status).toBe(200);
    expect(added.body.data.lists).toEqual([listId]);
    const tagged = await api.call('POST', `/api/v1/contacts/${id}/tags`, { body: { tag: 'fresh tag' } });
    expect(tagged.body.data.tags).toEqual(['fresh tag']);

    expect((await api.call('DELETE', `/api/v1/contacts/${id}/lists/${listId}`)).status).toBe(204);
    expect((await api.call('DELETE', `/api/v1/contacts/${id}/tags/${encodeURIComponent('fresh tag')}`)).status).toBe(204);
    const after = await api.call('GET', `/api/v1/contacts/${id}`);
    expect(after.body.data).toMatchObject({ lists: [], tags: [] });
  });

  it('answers 404 when the list belongs to another site', async () => {
    const foreign = await createList('Foreign', api.siteB.key);
    const { body } = await api.call('POST', '/api/v1/contacts', { body: { email: 'lonely@example.com' } });
    const res = await api.call('POST', `/api/v1/contacts/${body.data.id}/lists`, { body: { listId: foreign } });
    expect(res.status).toBe(404);
  });
});

describe('bulk upsert', () => {
  const batch = (n: number, extra: (i: number) => object = () => ({})) =>
    Array.from({ length: n }, (_, i) => ({ email: `bulk${i}@example.com`, ...extra(i) }));

  it('creates 1,000 contacts, then updates all 1,000 when sent again', async () => {
    const first = await api.call('POST', '/api/v1/contacts/bulk', {
      body: { contacts: batch(1000, (i) => ({ firstName: `First ${i}`, tags: ['bulk'] })) },
    });
    expect(first.status).toBe(200);
    expect(first.body.data).toMatchObject({ created: 1000, updated: 0 });
    expect(first.body.data.ids).toHaveLength(1000);

    const second = await api.call('POST', '/api/v1/contacts/bulk', {
      body: { contacts: batch(1000, (i) => ({ lastName: `Last ${i}` })) },
    });
    expect(second.body.data).toMatchObject({ created: 0, updated: 1000 });
    expect(second.body.data.ids).toEqual(first.body.data.ids);

    const one = await api.call('GET', `/api/v1/contacts/${first.body.data.ids[7]}`);
    // Fields not sent in the second request were kept.
    expect(one.body.data).toMatchObject({ email: 'bulk7@example.com', firstName: 'First 7', lastName: 'Last 7', tags: ['bulk'] });
  });

  it('never re-subscribes a contact when the upsert does not mention status, and merges custom fields', async () => {
    const created = await api.call('POST', '/api/v1/contacts', {
      body: { email: 'quiet@example.com', status: 'unsubscribed', customFields: { a: 1 } },
    });
    await api.call('POST', '/api/v1/contacts/bulk', { body: { contacts: [{ email: 'quiet@example.com', city: 'Paris', customFields: { b: 2 } }] } });
    const res = await api.call('GET', `/api/v1/contacts/${created.body.data.id}`);
    expect(res.body.data).toMatchObject({ status: 'unsubscribed', city: 'Paris', customFields: { a: 1, b: 2 } });
  });

  it('merges repeated emails in one request instead of failing', async () => {
    const res = await api.call('POST', '/api/v1/contacts/bulk', {
      body: [
        { email: 'twice@example.com', firstName: 'One' },
        { email: 'TWICE@example.com', lastName: 'Two' },
      ],
    });
    expect(res.body.data).toMatchObject({ created: 1, updated: 0 });
    expect(res.body.data.ids[0]).toBe(res.body.data.ids[1]);
    const contact = await api.call('GET', `/api/v1/contacts/${res.body.data.ids[0]}`);
    expect(contact.body.data).toMatchObject({ firstName: 'One', lastName: 'Two' });
  });

  it('answers 400 for more than 1,000 contacts and stores none of them', async () => {
    const res = await api.call('POST', '/api/v1/contacts/bulk', { body: { contacts: batch(1001, () => ({ source: 'toolarge' })) } });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0]).toMatchObject({ path: 'contacts' });
    expect(res.body.error.details[0].message).toMatch(/1000/);
  });

  it('answers 400 naming the row of an invalid contact', async () => {
    const res = await api.call('POST', '/api/v1/contacts/bulk', { body: { contacts: [{ email: 'ok@example.com' }, { email: 'bad' }] } });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'contacts.1.email', message: 'must be a valid email address' }]);
  });
});

describe('export', () => {
  let tagId: number;
  beforeAll(async () => {
    await api.call('POST', '/api/v1/contacts/bulk', {
      body: { contacts: [1, 2, 3].map((i) => ({ email: `export${i}@example.com`, firstName: `Ex, "${i}"`, tags: ['export'] })) },
    });
    const tags = await api.call('GET', '/api/v1/tags?limit=100');
    tagId = tags.body.data.find((t: { name: string }) => t.name === 'export').id;
  });

  it('streams matching contacts as CSV with a header row', async () => {
    const res = await api.call('GET', `/api/v1/contacts/export?format=csv&tagId=${tagId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="contacts-.*\.csv"/);
    const rows = parse(res.text, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.email)).toEqual(['export1@example.com', 'export2@example.com', 'export3@example.com']);
    expect(rows[1]).toMatchObject({ firstName: 'Ex, "2"', tags: 'export', status: 'subscribed' });
  });

  it('streams matching contacts as JSON in the data envelope', async () => {
    const res = await api.call('GET', `/api/v1/contacts/export?format=json&tagId=${tagId}`);
    expect(res.status).toBe(200);
    expect(res.body.data.map((c: { email: string }) => c.email)).toEqual(['export1@example.com', 'export2@example.com', 'export3@example.com']);
    expect(res.body.data[0].tags).toEqual(['export']);
  });

  it('neutralises cells a spreadsheet would run as a formula, and keeps JSON exact (OWASP CSV injection)', async () => {
    const hostile = {
      email: 'formula@example.com',
      firstName: '=HYPERLINK("https://evil.test","x")',
      lastName: '+1+cmd|" /C calc"!A0',
      company: '@SUM(A1:A2)',
      city: '-2+3',
      // Leading tabs and CRs are trimmed on input; the writer's unit test covers them.
      phone: '=1',
      tags: ['formula-export'],
    };
    await api.call('POST', '/api/v1/contacts/bulk', { body: { contacts: [hostile] } });
    const csv = await api.call('GET', '/api/v1/contacts/export?format=csv&q=formula@example.com');
    const [row] = parse(csv.text, { columns: true }) as Record<string, string>[];
    expect(row).toMatchObject({
      firstName: `'${hostile.firstName}`,
      lastName: `'${hostile.lastName}`,
      company: `'${hostile.company}`,
      city: `'${hostile.city}`,
      phone: `'${hostile.phone}`,
      email: 'formula@example.com',
    });
    const json = await api.call('GET', '/api/v1/contacts/export?format=json&q=formula@example.com');
    expect(json.body.data[0]).toMatchObject({ firstName: hostile.firstName, lastName: hostile.lastName, company: hostile.company, city: hostile.city });
  });

  it('exports only the calling site’s contacts', async () => {
    const res = await api.call('GET', '/api/v1/contacts/export?format=json&q=export', { key: api.siteB.key });
    expect(res.body.data).toEqual([]);
  });

  it('answers 400 for an unknown format', async () => {
    const res = await api.call('GET', '/api/v1/contacts/export?format=xml');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/json/);
  });
});
