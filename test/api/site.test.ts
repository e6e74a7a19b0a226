import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUser, signIn, startTestApi, type TestApi } from './support.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.close();
});

describe('the site settings', () => {
  it('shows the request’s own site with its frequency cap', async () => {
    const a = await api.call('GET', '/api/v1/site');
    expect(a.status).toBe(200);
    expect(a.body.data).toMatchObject({ id: api.siteA.id, sendFrequencyCapDays: 0 });
    expect(Object.keys(a.body.data).sort()).toEqual(['createdAt', 'id', 'name', 'sendFrequencyCapDays', 'updatedAt']);
    const b = await api.call('GET', '/api/v1/site', { key: api.siteB.key });
    expect(b.body.data.id).toBe(api.siteB.id);
  });

  it('updates the name and the cap of the request’s site only', async () => {
    const res = await api.call('PATCH', '/api/v1/site', { body: { name: '  Acme news  ', sendFrequencyCapDays: 3 } });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id: api.siteA.id, name: 'Acme news', sendFrequencyCapDays: 3 });
    expect((await api.call('GET', '/api/v1/site')).body.data).toMatchObject({ name: 'Acme news', sendFrequencyCapDays: 3 });
    expect((await api.call('GET', '/api/v1/site', { key: api.siteB.key })).body.data.sendFrequencyCapDays).toBe(0);

    const capOnly = await api.call('PATCH', '/api/v1/site', { body: { sendFrequencyCapDays: 0 } });
    expect(capOnly.body.data).toMatchObject({ name: 'Acme news', sendFrequencyCapDays: 0 });
  });

  it('rejects a bad cap, an empty name and unknown fields with 400 naming each', async () => {
    const res = await api.call('PATCH', '/api/v1/site', { body: { name: ' ', sendFrequencyCapDays: -1 } });
    expect(res.status).toBe(400);
    const paths = res.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'sendFrequencyCapDays']));
    expect((await api.call('PATCH', '/api/v1/site', { body: { sendFrequencyCapDays: 1.5 } })).status).toBe(400);
    expect((await api.call('PATCH', '/api/v1/site', { body: { id: 7 } })).status).toBe(400);
  });
});

describe('who may change the site', () => {
  it('lets every role read it and only owners change it', async () => {
    for (const role of ['viewer', 'editor', 'owner'] as const) {
      const session = await signIn(api.url, await createTestUser(api.db, api.siteA.id, role));
      const read = await api.call('GET', '/api/v1/site', { key: null, headers: session.headers });
      expect([role, read.status]).toEqual([role, 200]);
      const write = await api.call('PATCH', '/api/v1/site', { key: null, headers: session.headers, body: { sendFrequencyCapDays: 4 } });
      expect([role, write.status]).toEqual([role, role === 'owner' ? 200 : 403]);
    }
  });
});
