import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './support.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.close();
});

describe('API keys', () => {
  it('creates a key whose plaintext is shown once and works at once', async () => {
    const created = await api.call('POST', '/api/v1/api-keys', { body: { name: 'ci' } });
    expect(created.status).toBe(201);
    const { key, prefix, name } = created.body.data;
    expect(key).toMatch(/^tk_live_[A-Za-z0-9_-]{32}$/);
    expect(key.startsWith(prefix)).toBe(true);
    expect(name).toBe('ci');

    const withNew = await api.call('GET', '/api/v1/contacts', { key });
    expect(withNew.status).toBe(200);

    const listed = await api.call('GET', '/api/v1/api-keys');
    const entry = listed.body.data.find((k: { id: number }) => k.id === created.body.data.id);
    expect(Object.keys(entry).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt']);
    expect(entry.lastUsedAt).not.toBeNull();
    expect(listed.text).not.toContain(key);
  });

  it('lists only the calling site’s keys', async () => {
    const a = await api.call('GET', '/api/v1/api-keys');
    const b = await api.call('GET', '/api/v1/api-keys', { key: api.siteB.key });
    const ids = (res: typeof a) => res.body.data.map((k: { id: number }) => k.id);
    expect(ids(a).filter((id: number) => ids(b).includes(id))).toEqual([]);
    expect(b.body.pagination.total).toBe(1);
  });

  it('revokes a key, which then gets 401, and hides other sites’ keys behind 404', async () => {
    const created = await api.call('POST', '/api/v1/api-keys', { body: { name: 'temporary' } });
    const { id, key } = created.body.data;
    expect((await api.call('DELETE', `/api/v1/api-keys/${id}`, { key: api.siteB.key })).status).toBe(404);
    expect((await api.call('DELETE', `/api/v1/api-keys/${id}`)).status).toBe(204);
    const refused = await api.call('GET', '/api/v1/contacts', { key });
    expect(refused.status).toBe(401);
    const listed = await api.call('GET', '/api/v1/api-keys');
    expect(listed.body.data.find((k: { id: number }) => k.id === id).revokedAt).not.toBeNull();
  });
});
