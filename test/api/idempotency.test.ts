import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './support.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.close();
});

describe('Idempotency-Key', () => {
  it('returns the first answer to a retry with the same key and creates one contact', async () => {
    const headers = { 'idempotency-key': 'create-ada-1' };
    const first = await api.call('POST', '/api/v1/contacts', { body: { email: 'once@example.com' }, headers });
    const retry = await api.call('POST', '/api/v1/contacts', { body: { email: 'once@example.com' }, headers });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const list = await api.call('GET', '/api/v1/contacts?q=once@example.com');
    expect(list.body.pagination.total).toBe(1);
  });

  it('without the header, the same request twice is a 409 duplicate', async () => {
    await api.call('POST', '/api/v1/contacts', { body: { email: 'twice-no-key@example.com' } });
    const again = await api.call('POST', '/api/v1/contacts', { body: { email: 'twice-no-key@example.com' } });
    expect(again.status).toBe(409);
  });

  it('answers 422 when a key is reused for a different endpoint', async () => {
    const headers = { 'idempotency-key': 'reused-key' };
    await api.call('POST', '/api/v1/contacts', { body: { email: 'reuse@example.com' }, headers });
    const other = await api.call('POST', '/api/v1/contacts/bulk', { body: { contacts: [{ email: 'x@example.com' }] }, headers });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
  });

  it('scopes keys to the site, so two sites may use the same key', async () => {
    const headers = { 'idempotency-key': 'per-site' };
    const a = await api.call('POST', '/api/v1/contacts', { body: { email: 'a-site@example.com' }, headers });
    const b = await api.call('POST', '/api/v1/contacts', { body: { email: 'b-site@example.com' }, headers, key: api.siteB.key });
    expect(b.status).toBe(201);
    expect(b.body.data.email).toBe('b-site@example.com');
    expect(a.body.data.id).not.toBe(b.body.data.id);
  });

  it('does not keep a rejected request, so a corrected retry with the same key runs', async () => {
    const headers = { 'idempotency-key': 'fix-and-retry' };
    const bad = await api.call('POST', '/api/v1/contacts', { body: { email: 'nope' }, headers });
    expect(bad.status).toBe(400);
    const good = await api.call('POST', '/api/v1/contacts', { body: { email: 'fixed@example.com' }, headers });
    expect(good.status).toBe(201);
  });

  it('answers 400 for an unusable key', async () => {
    const res = await api.call('POST', '/api/v1/contacts', { body: { email: 'k@example.com' }, headers: { 'idempotency-key': 'x'.repeat(300) } });
    expect(res.status).toBe(400);
  });
});
