import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdempotencyPurge } from '../../src/api/idempotency-purge.js';
import { IDEMPOTENCY_KEY_TTL_MS, purgeExpiredIdempotencyKeys } from '../../src/db/repositories/idempotency.js';
import { createLogger } from '../../src/logger.js';
import { idempotencyKeys } from '../../src/db/schema.js';
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

  describe('expiry after a day', () => {
    const HOUR = 60 * 60 * 1000;
    /** Moves a stored key's creation back in time, as if it had been used that long ago. */
    const age = (key: string, ms: number) =>
      api.db
        .update(idempotencyKeys)
        .set({ createdAt: sql`now() - ${`${ms} milliseconds`}::interval` })
        .where(and(eq(idempotencyKeys.siteId, api.siteA.id), eq(idempotencyKeys.key, key)));

    it('replays an answer for 24 hours, then lets the same key name a new request', async () => {
      const headers = { 'idempotency-key': 'daily-key' };
      const first = await api.call('POST', '/api/v1/contacts', { body: { email: 'monday@example.com' }, headers });
      expect(first.status).toBe(201);

      await age('daily-key', IDEMPOTENCY_KEY_TTL_MS - HOUR);
      const retry = await api.call('POST', '/api/v1/contacts', { body: { email: 'monday@example.com' }, headers });
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(retry.body).toEqual(first.body);

      await age('daily-key', IDEMPOTENCY_KEY_TTL_MS + HOUR);
      const later = await api.call('POST', '/api/v1/contacts', { body: { email: 'tuesday@example.com' }, headers });
      expect(later.status).toBe(201);
      expect(later.headers.get('idempotent-replayed')).toBeNull();
      expect(later.body.data.email).toBe('tuesday@example.com');
      // And the new answer is the one replayed from now on.
      const laterRetry = await api.call('POST', '/api/v1/contacts', { body: { email: 'tuesday@example.com' }, headers });
      expect(laterRetry.headers.get('idempotent-replayed')).toBe('true');
      expect(laterRetry.body).toEqual(later.body);
    });

    it('purges only expired keys, in batches', async () => {
      const keys = ['old-1', 'old-2', 'old-3', 'old-4', 'old-5', 'fresh-1'];
      for (const key of keys) {
        await api.call('POST', '/api/v1/contacts', { body: { email: `${key}@example.com` }, headers: { 'idempotency-key': key } });
      }
      for (const key of keys.filter((k) => k.startsWith('old-'))) await age(key, IDEMPOTENCY_KEY_TTL_MS + HOUR);
      // Older than a day on purpose: other tests' keys in this database are all fresh.
      expect(await purgeExpiredIdempotencyKeys(api.db, IDEMPOTENCY_KEY_TTL_MS, 2)).toBe(5);
      const left = await api.db.select({ key: idempotencyKeys.key }).from(idempotencyKeys).where(eq(idempotencyKeys.siteId, api.siteA.id));
      expect(left.map((r) => r.key)).toContain('fresh-1');
      expect(left.map((r) => r.key).filter((k) => k.startsWith('old-'))).toEqual([]);
    });

    it('is purged by every API process in the background, and stops with it', async () => {
      await api.call('POST', '/api/v1/contacts', { body: { email: 'background@example.com' }, headers: { 'idempotency-key': 'background' } });
      await age('background', IDEMPOTENCY_KEY_TTL_MS + HOUR);
      const stop = startIdempotencyPurge(api.db, createLogger('silent'), { everyMs: 50 });
      const gone = async () => (await api.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, 'background'))).length === 0;
      for (let i = 0; i < 100 && !(await gone()); i++) await new Promise((r) => setTimeout(r, 20));
      await stop();
      expect(await gone()).toBe(true);
    });
  });
});
