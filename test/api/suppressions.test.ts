import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSuppressed, suppressedEmails } from '../../src/db/repositories/suppressions.js';
import { startTestApi, type TestApi } from './support.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.close();
});

async function suppress(body: Record<string, unknown>, key?: string) {
  return api.call('POST', '/api/v1/suppressions', { body, key });
}

describe('suppressing addresses', () => {
  it('suppresses an address lowercased with reason manual by default, and answers 201', async () => {
    const res = await suppress({ email: '  Ada@Example.TEST ', note: 'asked by phone' });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ email: 'ada@example.test', reason: 'manual', note: 'asked by phone' });
    expect(await isSuppressed(api.db, api.siteA.id, 'ADA@example.test')).toBe(true);
  });

  it('updates the reason and note when the address is suppressed again, answering 200 with the same id', async () => {
    const first = await suppress({ email: 'bounce@example.test' });
    const again = await suppress({ email: 'BOUNCE@example.test', reason: 'hard_bounce', note: '550 mailbox unavailable' });
    expect(again.status).toBe(200);
    expect(again.body.data).toEqual({ ...first.body.data, reason: 'hard_bounce', note: '550 mailbox unavailable' });
    const list = await api.call('GET', '/api/v1/suppressions?email=bounce@example.test');
    expect(list.body.pagination.total).toBe(1);
  });

  it('rejects a bad address or reason with 400 and suppresses nothing', async () => {
    const res = await suppress({ email: 'not-an-email', reason: 'annoyed' });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(['email', 'reason']));
    expect((await api.call('GET', '/api/v1/suppressions?q=not-an-email')).body.data).toEqual([]);
  });
});

describe('listing suppressions', () => {
  it('lists newest first and filters by reason, exact address and part of the address', async () => {
    await suppress({ email: 'c1@complaints.test', reason: 'complaint' });
    await suppress({ email: 'c2@complaints.test', reason: 'complaint' });
    await suppress({ email: 'u1@unsub.test', reason: 'unsubscribe' });

    const complaints = await api.call('GET', '/api/v1/suppressions?reason=complaint');
    expect(complaints.body.data.map((s: { email: string }) => s.email)).toEqual(['c2@complaints.test', 'c1@complaints.test']);
    const exact = await api.call('GET', '/api/v1/suppressions?email=U1@unsub.test');
    expect(exact.body.data.map((s: { email: string }) => s.email)).toEqual(['u1@unsub.test']);
    const partial = await api.call('GET', '/api/v1/suppressions?q=COMPLAINTS&limit=1&page=2');
    expect(partial.body.data.map((s: { email: string }) => s.email)).toEqual(['c1@complaints.test']);
    expect(partial.body.pagination).toEqual({ page: 2, limit: 1, total: 2, totalPages: 2 });
  });

  it('tells which of many addresses are suppressed in one call', async () => {
    await suppress({ email: 'many1@example.test' });
    const set = await suppressedEmails(api.db, api.siteA.id, ['MANY1@example.test', 'free@example.test', 'many1@example.test']);
    expect(set).toEqual(new Set(['many1@example.test']));
    expect(await suppressedEmails(api.db, api.siteA.id, [])).toEqual(new Set());
  });
});

describe('lifting suppressions', () => {
  it('deletes by address, in any case, and answers 404 once it is gone', async () => {
    await suppress({ email: 'lift@example.test' });
    const res = await api.call('DELETE', `/api/v1/suppressions/${encodeURIComponent('Lift@Example.test')}`);
    expect(res.status).toBe(204);
    expect(await isSuppressed(api.db, api.siteA.id, 'lift@example.test')).toBe(false);
    const again = await api.call('DELETE', '/api/v1/suppressions/lift%40example.test');
    expect(again.status).toBe(404);
    expect(again.body.error.message).toBe('lift@example.test is not suppressed');
  });

  it('answers 400 for a path that is not an address', async () => {
    expect((await api.call('DELETE', '/api/v1/suppressions/12')).status).toBe(400);
  });
});

describe('suppressions across sites', () => {
  it('keeps each site’s suppressions to itself', async () => {
    await suppress({ email: 'private@example.test', reason: 'complaint' });
    expect(await isSuppressed(api.db, api.siteB.id, 'private@example.test')).toBe(false);
    const listB = await api.call('GET', '/api/v1/suppressions?q=private', { key: api.siteB.key });
    expect(listB.body.data).toEqual([]);
    const deleteB = await api.call('DELETE', '/api/v1/suppressions/private@example.test', { key: api.siteB.key });
    expect(deleteB.status).toBe(404);
    expect(await isSuppressed(api.db, api.siteA.id, 'private@example.test')).toBe(true);

    const ownB = await suppress({ email: 'private@example.test' }, api.siteB.key);
    expect(ownB.status).toBe(201);
  });
});
