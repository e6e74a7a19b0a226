import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './support.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.close();
});

async function contactIds(prefix: string, n: number, key?: string): Promise<number[]> {
  const res = await api.call('POST', '/api/v1/contacts/bulk', {
    body: { contacts: Array.from({ length: n }, (_, i) => ({ email: `${prefix}${i}@example.com` })) },
    key,
  });
  return res.body.data.ids;
}

describe('lists', () => {
  it('creates, reads, renames, lists and deletes a list', async () => {
    const created = await api.call('POST', '/api/v1/lists', { body: { name: 'Weekly', description: 'Every Monday' } });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({ name: 'Weekly', description: 'Every Monday', memberCount: 0 });
    const id = created.body.data.id;

    const renamed = await api.call('PATCH', `/api/v1/lists/${id}`, { body: { name: 'Weekly digest' } });
    expect(renamed.body.data).toMatchObject({ id, name: 'Weekly digest', description: 'Every Monday' });

    const page = await api.call('GET', '/api/v1/lists');
    expect(page.body.data.map((l: { id: number }) => l.id)).toContain(id);
    expect(page.body.pagination).toMatchObject({ page: 1, limit: 50 });

    expect((await api.call('DELETE', `/api/v1/lists/${id}`)).status).toBe(204);
    expect((await api.call('GET', `/api/v1/lists/${id}`)).status).toBe(404);
  });

  it('rejects a list without a name', async () => {
    const res = await api.call('POST', '/api/v1/lists', { body: { name: '  ' } });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe('name');
  });

  it('adds one or many of the site’s contacts, ignores other sites’ ids and reports counts', async () => {
    const list = (await api.call('POST', '/api/v1/lists', { body: { name: 'Members' } })).body.data.id;
    const [a, b, c] = await contactIds('member', 3);
    const [foreign] = await contactIds('foreign', 1, api.siteB.key);

    const one = await api.call('POST', `/api/v1/lists/${list}/contacts`, { body: { contactId: a } });
    expect(one.body.data).toEqual({ added: 1, alreadyMembers: 0, notFound: [] });

    const many = await api.call('POST', `/api/v1/lists/${list}/contacts`, { body: { contactIds: [a, b, c, foreign] } });
    expect(many.body.data).toEqual({ added: 2, alreadyMembers: 1, notFound: [foreign] });
    expect((await api.call('GET', `/api/v1/lists/${list}`)).body.data.memberCount).toBe(3);

    const removed = await api.call('DELETE', `/api/v1/lists/${list}/contacts`, { body: { contactIds: [a, b, foreign] } });
    expect(removed.body.data).toEqual({ removed: 2, notMembers: 0, notFound: [foreign] });
    expect((await api.call('GET', `/api/v1/lists/${list}`)).body.data.memberCount).toBe(1);
    expect((await api.call('GET', `/api/v1/contacts?listId=${list}`)).body.data.map((x: { id: number }) => x.id)).toEqual([c]);
  });

  it('answers 400 when neither contactId nor contactIds is sent', async () => {
    const list = (await api.call('POST', '/api/v1/lists', { body: { name: 'Empty body' } })).body.data.id;
    const res = await api.call('POST', `/api/v1/lists/${list}/contacts`, { body: {} });
    expect(res.status).toBe(400);
  });

  it('hides another site’s list behind 404', async () => {
    const list = (await api.call('POST', '/api/v1/lists', { body: { name: 'Mine' } })).body.data.id;
    const b = api.siteB.key;
    expect((await api.call('GET', `/api/v1/lists/${list}`, { key: b })).status).toBe(404);
    expect((await api.call('PATCH', `/api/v1/lists/${list}`, { key: b, body: { name: 'x' } })).status).toBe(404);
    expect((await api.call('POST', `/api/v1/lists/${list}/contacts`, { key: b, body: { contactId: 1 } })).status).toBe(404);
    expect((await api.call('DELETE', `/api/v1/lists/${list}`, { key: b })).status).toBe(404);
    expect((await api.call('GET', `/api/v1/lists/${list}`)).status).toBe(200);
  });
});

describe('tags', () => {
  it('creates a tag, refuses a duplicate with 409 and lists tags with contact counts', async () => {
    const created = await api.call('POST', '/api/v1/tags', { body: { name: 'gold' } });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({ name: 'gold', contactCount: 0 });

    const dup = await api.call('POST', '/api/v1/tags', { body: { name: 'gold' } });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('tag_exists');

    await api.call('POST', '/api/v1/contacts', { body: { email: 'goldie@example.com', tags: ['gold'] } });
    const page = await api.call('GET', '/api/v1/tags');
    expect(page.body.data.find((t: { name: string }) => t.name === 'gold')).toMatchObject({ contactCount: 1 });
  });

  it('deletes a tag and removes it from its contacts', async () => {
    const contact = await api.call('POST', '/api/v1/contacts', { body: { email: 'tagged@example.com', tags: ['temp'] } });
    const tags = await api.call('GET', '/api/v1/tags?limit=100');
    const temp = tags.body.data.find((t: { name: string }) => t.name === 'temp');
    expect((await api.call('DELETE', `/api/v1/tags/${temp.id}`, { key: api.siteB.key })).status).toBe(404);
    expect((await api.call('DELETE', `/api/v1/tags/${temp.id}`)).status).toBe(204);
    expect((await api.call('GET', `/api/v1/contacts/${contact.body.data.id}`)).body.data.tags).toEqual([]);
  });

  it('keeps each site’s tags apart', async () => {
    await api.call('POST', '/api/v1/tags', { body: { name: 'site-a-only' } });
    const b = await api.call('GET', '/api/v1/tags?limit=100', { key: api.siteB.key });
    expect(b.body.data.map((t: { name: string }) => t.name)).not.toContain('site-a-only');
    expect((await api.call('POST', '/api/v1/tags', { body: { name: 'site-a-only' }, key: api.siteB.key })).status).toBe(201);
  });
});
