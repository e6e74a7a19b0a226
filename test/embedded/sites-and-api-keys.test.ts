import { createHash } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey } from '../../src/domain/api-keys.js';
import {
  authenticateApiKey,
  createApiKey,
  ensureApiKey,
  listApiKeys,
  revokeApiKey,
} from '../../src/db/repositories/api-keys.js';
import { createSite, ensureDefaultSite, getSite, listSites } from '../../src/db/repositories/sites.js';
import { apiKeys } from '../../src/db/schema.js';
import { createTestDb, type TestDb } from '../helpers/db.js';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => {
  await t.close();
});

describe('API key generation', () => {
  it('makes tk_live_ keys of 32 url-safe random characters with a 12-character prefix and a SHA-256 hash', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.key).toMatch(/^tk_live_[A-Za-z0-9_-]{32}$/);
    expect(a.prefix).toBe(a.key.slice(0, 12));
    expect(a.hash).toBe(createHash('sha256').update(a.key).digest('hex'));
    expect(hashApiKey(a.key)).toBe(a.hash);
    expect(b.key).not.toBe(a.key);
  });
});

describe('sites', () => {
  it('creates the default site on first start only, even when two processes start at once', async () => {
    const db = (await createTestDb());
    try {
      const [first, second] = await Promise.all([ensureDefaultSite(db.db), ensureDefaultSite(db.db)]);
      expect([first.created, second.created].sort()).toEqual([false, true]);
      expect(first.site.id).toBe(second.site.id);
      const again = await ensureDefaultSite(db.db);
      expect(again).toMatchObject({ created: false, site: { id: first.site.id } });
      expect(await listSites(db.db)).toHaveLength(1);
    } finally {
      await db.close();
    }
  });

  it('lists sites in creation order and finds one by id', async () => {
    const a = await createSite(t.db, { name: 'Shop' });
    const b = await createSite(t.db, { name: 'Blog' });
    const names = (await listSites(t.db)).map((s) => s.name);
    expect(names.indexOf('Shop')).toBeLessThan(names.indexOf('Blog'));
    await expect(getSite(t.db, b.id)).resolves.toMatchObject({ id: b.id, name: 'Blog' });
    await expect(getSite(t.db, a.id + 100_000)).resolves.toBeNull();
  });
});

describe('API keys', () => {
  it('stores only the hash and the visible prefix, never the key itself', async () => {
    const site = await createSite(t.db, { name: 'Hashing' });
    const { apiKey, key } = await createApiKey(t.db, { siteId: site.id, name: 'deploy' });
    const [row] = await t.db.select().from(apiKeys).where(eq(apiKeys.id, apiKey.id));
    expect(row).toMatchObject({ siteId: site.id, name: 'deploy', prefix: key.slice(0, 12), keyHash: hashApiKey(key) });
    const dump = JSON.stringify(await t.db.execute(sql`select * from api_keys`));
    expect(dump).not.toContain(key);
    expect(apiKey).not.toHaveProperty('keyHash');
  });

  it('authenticates a key to its site and refuses unknown or malformed ones', async () => {
    const site = await createSite(t.db, { name: 'Auth' });
    const { apiKey, key } = await createApiKey(t.db, { siteId: site.id });
    await expect(authenticateApiKey(t.db, key)).resolves.toEqual({ siteId: site.id, keyId: apiKey.id });
    await expect(authenticateApiKey(t.db, generateApiKey().key)).resolves.toBeNull();
    await expect(authenticateApiKey(t.db, 'Bearer nonsense')).resolves.toBeNull();
    await expect(authenticateApiKey(t.db, '')).resolves.toBeNull();
  });

  it('refuses a revoked key, and revoking again keeps the first revocation time', async () => {
    const site = await createSite(t.db, { name: 'Revoke' });
    const { apiKey, key } = await createApiKey(t.db, { siteId: site.id });
    await expect(revokeApiKey(t.db, site.id, apiKey.id)).resolves.toBe(true);
    await expect(authenticateApiKey(t.db, key)).resolves.toBeNull();
    const [revoked] = await listApiKeys(t.db, site.id);
    expect(revoked?.revokedAt).toBeInstanceOf(Date);
    await expect(revokeApiKey(t.db, site.id, apiKey.id)).resolves.toBe(true);
    expect((await listApiKeys(t.db, site.id))[0]?.revokedAt).toEqual(revoked?.revokedAt);
  });

  it("cannot revoke another site's key", async () => {
    const mine = await createSite(t.db, { name: 'Mine' });
    const theirs = await createSite(t.db, { name: 'Theirs' });
    const { apiKey, key } = await createApiKey(t.db, { siteId: theirs.id });
    await expect(revokeApiKey(t.db, mine.id, apiKey.id)).resolves.toBe(false);
    await expect(authenticateApiKey(t.db, key)).resolves.toEqual({ siteId: theirs.id, keyId: apiKey.id });
  });

  it('records lastUsedAt on use, at most once a minute', async () => {
    const site = await createSite(t.db, { name: 'Usage' });
    const { apiKey, key } = await createApiKey(t.db, { siteId: site.id });
    expect(apiKey.lastUsedAt).toBeNull();
    await authenticateApiKey(t.db, key);
    const [afterFirst] = await listApiKeys(t.db, site.id);
    expect(afterFirst?.lastUsedAt).toBeInstanceOf(Date);
    await authenticateApiKey(t.db, key);
    expect((await listApiKeys(t.db, site.id))[0]?.lastUsedAt).toEqual(afterFirst?.lastUsedAt);

    await t.db.update(apiKeys).set({ lastUsedAt: sql`now() - interval '2 minutes'` }).where(eq(apiKeys.id, apiKey.id));
    const [stale] = await listApiKeys(t.db, site.id);
    await authenticateApiKey(t.db, key);
    expect((await listApiKeys(t.db, site.id))[0]!.lastUsedAt!.getTime()).toBeGreaterThan(stale!.lastUsedAt!.getTime());
  });

  it('lists a site’s keys newest first with their prefixes and without secrets', async () => {
    const site = await createSite(t.db, { name: 'Listing' });
    const older = await createApiKey(t.db, { siteId: site.id, name: 'older' });
    const newer = await createApiKey(t.db, { siteId: site.id, name: 'newer' });
    const listed = await listApiKeys(t.db, site.id);
    expect(listed.map((k) => [k.name, k.prefix])).toEqual([
      ['newer', newer.key.slice(0, 12)],
      ['older', older.key.slice(0, 12)],
    ]);
    for (const k of listed) expect(Object.keys(k)).not.toContain('keyHash');
  });

  it('ensures a key chosen in advance once, however often the process starts', async () => {
    const site = await createSite(t.db, { name: 'Preset' });
    const { key } = generateApiKey();
    const first = await ensureApiKey(t.db, site.id, key);
    const second = await ensureApiKey(t.db, site.id, key);
    expect(first.created).toBe(true);
    expect(second).toMatchObject({ created: false, apiKey: { id: first.apiKey.id } });
    await expect(authenticateApiKey(t.db, key)).resolves.toEqual({ siteId: site.id, keyId: first.apiKey.id });
    await expect(listApiKeys(t.db, site.id)).resolves.toHaveLength(1);
  });

  it("refuses to ensure a key that already belongs to another site", async () => {
    const a = await createSite(t.db, { name: 'A' });
    const b = await createSite(t.db, { name: 'B' });
    const { key } = generateApiKey();
    await ensureApiKey(t.db, a.id, key);
    await expect(ensureApiKey(t.db, b.id, key)).rejects.toThrow(`already belongs to site ${a.id}`);
  });
});
