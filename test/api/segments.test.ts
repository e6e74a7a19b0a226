import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaigns, emailEvents, sendingConfigs } from '../../src/db/schema.js';
import { startTestApi, type TestApi } from './support.js';

let api: TestApi;
let listId: number;
let ids: Record<string, number>;

beforeAll(async () => {
  api = await startTestApi();
  listId = (await api.call('POST', '/api/v1/lists', { body: { name: 'Newsletter' } })).body.data.id;
  const people = [
    { email: 'ada@example.com', firstName: 'Ada', city: 'Paris', customFields: { plan: 'pro', seats: 12 }, tags: ['vip'], lists: [listId] },
    { email: 'bob@example.com', firstName: 'Bob', city: 'Paris', customFields: { plan: 'free', seats: 1 }, lists: [listId] },
    { email: 'chloe@example.com', firstName: 'Chloé', city: 'Lyon', customFields: { plan: 'pro', seats: '30' }, tags: ['vip'] },
  ];
  const res = await api.call('POST', '/api/v1/contacts/bulk', { body: { contacts: people } });
  ids = Object.fromEntries(people.map((p, i) => [p.firstName, res.body.data.ids[i]]));
  // Another site with a lookalike contact, list and tag: it must never show up for site A.
  await api.call('POST', '/api/v1/contacts/bulk', {
    key: api.siteB.key,
    body: { contacts: [{ email: 'eve@example.com', city: 'Paris', customFields: { plan: 'pro', seats: 50 }, tags: ['vip'] }] },
  });
  await api.db.insert(emailEvents).values({ siteId: api.siteA.id, type: 'opened', contactId: ids.Ada!, occurredAt: new Date() });
});
afterAll(async () => {
  await api?.close();
});

const proInParis = () => ({
  operator: 'AND',
  conditions: [
    { type: 'attribute', field: 'city', op: 'eq', value: 'Paris' },
    { type: 'group', operator: 'OR', conditions: [{ type: 'attribute', field: 'customFields.plan', op: 'eq', value: 'pro' }, { type: 'tag', op: 'has', tag: 'vip' }] },
  ],
});

describe('segments API', () => {
  it('creates, reads, lists, updates and deletes a segment', async () => {
    const created = await api.call('POST', '/api/v1/segments', { body: { name: 'Pro in Paris', rules: proInParis() } });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({ name: 'Pro in Paris', rules: proInParis() });
    const id = created.body.data.id;

    expect((await api.call('GET', `/api/v1/segments/${id}`)).body.data).toMatchObject({ id, name: 'Pro in Paris' });
    const page = await api.call('GET', '/api/v1/segments');
    expect(page.body.data.map((s: { id: number }) => s.id)).toContain(id);
    expect(page.body.pagination).toMatchObject({ page: 1, limit: 50 });

    const rules = { operator: 'OR', conditions: [{ type: 'attribute', field: 'customFields.seats', op: 'gte', value: 10 }] };
    const updated = await api.call('PATCH', `/api/v1/segments/${id}`, { body: { name: 'Big teams', rules } });
    expect(updated.status).toBe(200);
    expect(updated.body.data).toMatchObject({ id, name: 'Big teams', rules });

    expect((await api.call('DELETE', `/api/v1/segments/${id}`)).status).toBe(204);
    expect((await api.call('GET', `/api/v1/segments/${id}`)).status).toBe(404);
  });

  it('counts and lists the contacts that match now, and follows contact changes', async () => {
    const id = (await api.call('POST', '/api/v1/segments', { body: { name: 'Pro in Paris', rules: proInParis() } })).body.data.id;
    expect((await api.call('GET', `/api/v1/segments/${id}/count`)).body.data).toEqual({ count: 1 });
    const members = await api.call('GET', `/api/v1/segments/${id}/contacts`);
    expect(members.status).toBe(200);
    expect(members.body.data.map((c: { email: string }) => c.email)).toEqual(['ada@example.com']);
    expect(members.body.data[0]).toMatchObject({ tags: ['vip'], lists: [listId], customFields: { plan: 'pro' } });
    expect(members.body.pagination).toEqual({ page: 1, limit: 50, total: 1, totalPages: 1 });

    await api.call('PATCH', `/api/v1/contacts/${ids.Bob}`, { body: { customFields: { plan: 'pro' } } });
    expect((await api.call('GET', `/api/v1/segments/${id}/count`)).body.data).toEqual({ count: 2 });
    const second = await api.call('GET', `/api/v1/segments/${id}/contacts?limit=1&page=2`);
    expect(second.body.data.map((c: { email: string }) => c.email)).toEqual(['bob@example.com']);
    expect(second.body.pagination).toEqual({ page: 2, limit: 1, total: 2, totalPages: 2 });
    await api.call('PATCH', `/api/v1/contacts/${ids.Bob}`, { body: { customFields: { plan: 'free' } } });
  });

  it('previews unsaved rules with a count and the first contacts', async () => {
    const res = await api.call('POST', '/api/v1/segments/preview', {
      body: { rules: { operator: 'AND', conditions: [{ type: 'attribute', field: 'customFields.seats', op: 'gt', value: 5 }] } },
    });
    expect(res.status).toBe(200);
    expect(res.body.data.count).toBe(2);
    expect(res.body.data.sample.map((c: { email: string }) => c.email)).toEqual(['ada@example.com', 'chloe@example.com']);

    const engaged = await api.call('POST', '/api/v1/segments/preview', {
      body: { rules: { operator: 'AND', conditions: [{ type: 'engagement', metric: 'opened', op: 'within_days', days: 7 }] } },
    });
    expect(engaged.body.data).toMatchObject({ count: 1, sample: [{ email: 'ada@example.com' }] });

    const nobody = await api.call('POST', '/api/v1/segments/preview', {
      body: { rules: { operator: 'AND', conditions: [{ type: 'tag', op: 'has', tag: 'nobody' }] } },
    });
    expect(nobody.body.data).toEqual({ count: 0, sample: [] });
  });

  it('answers 400 naming the path of an invalid rule', async () => {
    const rules = {
      operator: 'AND',
      conditions: [
        { type: 'tag', op: 'has', tag: 'vip' },
        { type: 'list', op: 'in', listId },
        { type: 'group', operator: 'OR', conditions: [{ type: 'attribute', field: 'city', op: 'matches', value: 'P.*' }] },
      ],
    };
    for (const [method, path] of [
      ['POST', '/api/v1/segments'],
      ['POST', '/api/v1/segments/preview'],
    ]) {
      const res = await api.call(method!, path!, { body: { name: 'Bad', rules } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(['rules.conditions.2.conditions.0.op']);
    }
    const field = await api.call('POST', '/api/v1/segments/preview', {
      body: { rules: { operator: 'AND', conditions: [{ type: 'attribute', field: `customFields.x'; drop table contacts; --`, op: 'exists' }] } },
    });
    expect(field.status).toBe(400);
    expect(field.body.error.details[0].path).toBe('rules.conditions.0.field');
    expect((await api.call('POST', '/api/v1/segments', { body: { name: 'No rules' } })).body.error.details[0].path).toBe('rules');
  });

  it('answers 400 naming the path when rules refer to another site’s list, campaign or sequence', async () => {
    const foreignList = (await api.call('POST', '/api/v1/lists', { key: api.siteB.key, body: { name: 'B list' } })).body.data.id;
    const rules = {
      operator: 'OR',
      conditions: [
        { type: 'list', op: 'in', listId },
        { type: 'group', operator: 'AND', conditions: [{ type: 'list', op: 'not_in', listId: foreignList }] },
        { type: 'send_history', op: 'received', campaignId: 999_999 },
        { type: 'send_history', op: 'opened', sequenceId: 999_999 },
      ],
    };
    const res = await api.call('POST', '/api/v1/segments', { body: { name: 'Foreign', rules } });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      'rules.conditions.1.conditions.0.listId',
      'rules.conditions.2.campaignId',
      'rules.conditions.3.sequenceId',
    ]);
    expect((await api.call('POST', '/api/v1/segments/preview', { body: { rules } })).status).toBe(400);
  });

  it('keeps each site’s segments and contacts to itself', async () => {
    const id = (await api.call('POST', '/api/v1/segments', { body: { name: 'Paris', rules: proInParis() } })).body.data.id;
    for (const path of [`/api/v1/segments/${id}`, `/api/v1/segments/${id}/count`, `/api/v1/segments/${id}/contacts`]) {
      expect((await api.call('GET', path, { key: api.siteB.key })).status).toBe(404);
    }
    expect((await api.call('PATCH', `/api/v1/segments/${id}`, { key: api.siteB.key, body: { name: 'Mine' } })).status).toBe(404);
    expect((await api.call('DELETE', `/api/v1/segments/${id}`, { key: api.siteB.key })).status).toBe(404);

    const fromB = await api.call('POST', '/api/v1/segments/preview', { key: api.siteB.key, body: { rules: proInParis() } });
    expect(fromB.body.data.sample.map((c: { email: string }) => c.email)).toEqual(['eve@example.com']);
    expect((await api.call('GET', '/api/v1/segments', { key: api.siteB.key })).body.data).toEqual([]);
  });

  it('refuses to delete a segment an unfinished campaign targets, with 409', async () => {
    const id = (await api.call('POST', '/api/v1/segments', { body: { name: 'Target', rules: proInParis() } })).body.data.id;
    const [config] = await api.db
      .insert(sendingConfigs)
      .values({ siteId: api.siteA.id, name: 'log', provider: 'log', fromEmail: 'a@example.com', credentialsEncrypted: 'none' })
      .returning({ id: sendingConfigs.id });
    await api.db.insert(campaigns).values({
      siteId: api.siteA.id,
      name: 'Launch',
      sendingConfigId: config!.id,
      audience: { listIds: [listId], excludeSegmentIds: [id] },
      status: 'scheduled',
    });
    const res = await api.call('DELETE', `/api/v1/segments/${id}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('segment_in_use');
    expect((await api.call('GET', `/api/v1/segments/${id}`)).status).toBe(200);
  });

  it('rejects bad ids and pagination with 400', async () => {
    expect((await api.call('GET', '/api/v1/segments/abc')).status).toBe(400);
    expect((await api.call('GET', '/api/v1/segments/1/contacts?limit=500')).status).toBe(400);
    expect((await api.call('GET', '/api/v1/segments/99999999999/count')).status).toBe(400);
  });
});
