import { createHash } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createApiKey } from '../../src/db/repositories/api-keys.js';
import { userSessions } from '../../src/db/schema.js';
import { startApi, type RunningApi } from '../../src/server.js';
import { createTestUser, httpClient, signIn, startTestApi, unreachableTemporal, type TestApi, type TestUser } from './support.js';

let api: TestApi;
let owner: TestUser;
beforeAll(async () => {
  // A secret, so that sending configs (encrypted credentials) can be read in the role tests.
  api = await startTestApi({ TIDINGS_SECRET: 'auth-test-secret-'.padEnd(40, 'x') });
  owner = await createTestUser(api.db, api.siteA.id, 'owner', 'Ada@Example.com');
});
afterAll(async () => {
  await api?.close();
});

/** A second API process on the same database (another replica behind the load balancer). */
async function secondApi(env: Record<string, string> = {}): Promise<{ server: RunningApi; close(): Promise<void> }> {
  const temporal = unreachableTemporal();
  const server = await startApi(
    { db: api.db, temporal: temporal.client, config: loadConfig({ NODE_ENV: 'test', ...env }), logger: pino({ level: 'silent' }) },
    { port: 0, host: '127.0.0.1' },
  );
  return {
    server,
    async close() {
      await server.close();
      await temporal.connection.close();
    },
  };
}

const login = (email: string, password: string, url = api.url, headers: Record<string, string> = {}) =>
  httpClient(url)('POST', '/api/v1/auth/login', { body: { email, password }, headers });

const sessionOf = (cookie: string) => api.call('GET', '/api/v1/auth/session', { key: null, headers: { cookie } });

const tokenOf = (cookie: string) => cookie.slice('tidings_session='.length);

const forgetFailedLogins = () => api.db.execute(sql`delete from login_failures`);

describe('sign-in', () => {
  it('signs in with email and password: the session body, an HttpOnly Lax cookie, and a hashed session row', async () => {
    const res = await login('ada@example.com', owner.password);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      user: { id: owner.id, email: 'ada@example.com', name: 'Test owner', role: 'owner', siteId: api.siteA.id },
      site: { id: api.siteA.id, name: 'Site A' },
      csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(res.headers.get('cache-control')).toBe('no-store');

    const setCookie = res.headers.get('set-cookie')!;
    const token = /^tidings_session=([A-Za-z0-9_-]{43});/.exec(setCookie)?.[1];
    expect(token).toBeDefined();
    const attributes = setCookie.split(';').slice(1).map((a) => a.trim().toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=lax', 'path=/', `max-age=${7 * 24 * 3600}`]));
    expect(attributes).not.toContain('secure');

    // The database holds the token's SHA-256, never the token.
    const rows = await api.db.select().from(userSessions).where(eq(userSessions.userId, owner.id));
    expect(rows.map((r) => r.id)).toContain(createHash('sha256').update(token!).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(token);

    const session = await sessionOf(`tidings_session=${token}`);
    expect(session.status).toBe(200);
    expect(session.body).toEqual(res.body);
    // The cookie alone reads /api/v1.
    const contacts = await api.call('GET', '/api/v1/contacts', { key: null, headers: { cookie: `tidings_session=${token}` } });
    expect(contacts.status).toBe(200);
  });

  it('answers 401 invalid_credentials alike for a wrong password and an unknown email', async () => {
    const wrong = await login('ada@example.com', 'not the password');
    const unknown = await login('nobody@example.com', 'not the password');
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(res.body.error).toEqual({ code: 'invalid_credentials', message: 'Wrong email or password' });
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    expect((await login('', 'x')).status).toBe(400);
    await forgetFailedLogins();
  });

  it('answers GET /auth/session with 401 unauthenticated without a valid session', async () => {
    const none = await api.call('GET', '/api/v1/auth/session', { key: null });
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthenticated');
    const forged = await sessionOf('tidings_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(forged.status).toBe(401);
    // An API key is not a session.
    expect((await api.call('GET', '/api/v1/auth/session')).status).toBe(401);
  });

  it('signs out: 204, the row deleted, the cookie cleared, and the old cookie refused; 204 again without a session', async () => {
    const { cookie } = await signIn(api.url, owner);
    const out = await api.call('POST', '/api/v1/auth/logout', { key: null, headers: { cookie } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^tidings_session=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax$/);
    const rows = await api.db.select().from(userSessions).where(eq(userSessions.id, createHash('sha256').update(tokenOf(cookie)).digest('hex')));
    expect(rows).toEqual([]);
    expect((await sessionOf(cookie)).status).toBe(401);
    const refused = await api.call('GET', '/api/v1/contacts', { key: null, headers: { cookie } });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('unauthenticated');

    expect((await api.call('POST', '/api/v1/auth/logout', { key: null, headers: { cookie } })).status).toBe(204);
    expect((await api.call('POST', '/api/v1/auth/logout', { key: null })).status).toBe(204);
  });

  it('ends a session 12 hours after its last request, and refreshes last_seen_at at most once a minute', async () => {
    const { cookie } = await signIn(api.url, owner);
    const id = createHash('sha256').update(tokenOf(cookie)).digest('hex');
    const lastSeen = async () => (await api.db.select().from(userSessions).where(eq(userSessions.id, id)))[0]?.lastSeenAt;

    const first = await lastSeen();
    expect((await sessionOf(cookie)).status).toBe(200);
    expect(await lastSeen()).toEqual(first); // within the minute: no write

    await api.db.update(userSessions).set({ lastSeenAt: sql`now() - interval '11 hours'` }).where(eq(userSessions.id, id));
    expect((await sessionOf(cookie)).status).toBe(200);
    expect(Date.now() - (await lastSeen())!.getTime()).toBeLessThan(60_000); // refreshed

    await api.db.update(userSessions).set({ lastSeenAt: sql`now() - interval '12 hours 1 minute'` }).where(eq(userSessions.id, id));
    const expired = await api.call('GET', '/api/v1/contacts', { key: null, headers: { cookie } });
    expect(expired.status).toBe(401);
    expect(await lastSeen()).toBeUndefined(); // deleted on the spot
  });

  it('ends a session at its absolute expiry (7 days) however active it is', async () => {
    const { cookie } = await signIn(api.url, owner);
    const id = createHash('sha256').update(tokenOf(cookie)).digest('hex');
    const [row] = await api.db.select().from(userSessions).where(eq(userSessions.id, id));
    expect(row!.expiresAt.getTime() - row!.createdAt.getTime()).toBe(7 * 24 * 3600 * 1000);

    await api.db
      .update(userSessions)
      .set({ createdAt: sql`now() - interval '7 days'`, expiresAt: sql`now() - interval '1 second'`, lastSeenAt: sql`now()` })
      .where(eq(userSessions.id, id));
    const res = await sessionOf(cookie);
    expect(res.status).toBe(401);
    // The stale cookie is cleared so the dashboard stops sending it.
    expect(res.headers.get('set-cookie')).toMatch(/^tidings_session=; Max-Age=0/);
    expect(await api.db.select().from(userSessions).where(eq(userSessions.id, id))).toEqual([]);
  });

  it('sets the Secure flag in production only', async () => {
    const production = await secondApi({ NODE_ENV: 'production', TIDINGS_SECRET: 'x'.repeat(40), PUBLIC_URL: 'https://mail.example.com' });
    try {
      const res = await login(owner.email, owner.password, production.server.url);
      expect(res.status).toBe(200);
      const attributes = res.headers.get('set-cookie')!.split(';').map((a) => a.trim().toLowerCase());
      expect(attributes).toEqual(expect.arrayContaining(['secure', 'httponly', 'samesite=lax']));
    } finally {
      await production.close();
    }
  });
});

describe('login rate limit', () => {
  it('refuses the 11th failed attempt for one email within 15 minutes, counted across two API processes', async () => {
    const user = await createTestUser(api.db, api.siteA.id, 'editor');
    const other = await secondApi();
    try {
      for (let i = 0; i < 10; i++) {
        const res = await login(user.email, 'wrong password', i % 2 === 0 ? api.url : other.server.url);
        expect(res.status, `attempt ${i + 1}`).toBe(401);
      }
      // Even the right password is refused now, on either process, before it is checked.
      for (const url of [api.url, other.server.url]) {
        const res = await login(user.email.toUpperCase(), user.password, url);
        expect(res.status).toBe(429);
        expect(res.body.error.code).toBe('too_many_attempts');
        const retryAfter = Number(res.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThan(14 * 60);
        expect(retryAfter).toBeLessThanOrEqual(15 * 60);
      }
      // Another account from the same address is not affected.
      expect((await login(owner.email, owner.password, other.server.url)).status).toBe(200);

      // Once the failures are older than the window, the account signs in again.
      await api.db.execute(sql`update login_failures set created_at = created_at - interval '15 minutes'`);
      expect((await login(user.email, user.password)).status).toBe(200);
    } finally {
      await other.close();
      await forgetFailedLogins();
    }
  });

  it('refuses the 51st failed attempt from one address, whatever the email', async () => {
    const other = await secondApi();
    try {
      // Recorded failures stand for the first 49 (50 password checks would only slow the test down).
      await api.db.execute(sql`insert into login_failures (email, ip) select 'spray' || n || '@example.com', '127.0.0.1' from generate_series(1, 49) n`);
      expect((await login('spray50@example.com', 'wrong password', other.server.url)).status).toBe(401);
      const refused = await login(owner.email, owner.password);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await other.close();
      await forgetFailedLogins();
    }
  });
});

describe('CSRF protection of cookie-authenticated writes', () => {
  it('requires X-CSRF-Token equal to the session’s token on writes, not on reads', async () => {
    const session = await signIn(api.url, owner);
    const post = (headers: Record<string, string>, email: string) => api.call('POST', '/api/v1/contacts', { key: null, headers, body: { email } });

    const missing = await post({ cookie: session.cookie }, 'csrf1@example.com');
    expect(missing.status).toBe(403);
    expect(missing.body.error.code).toBe('csrf_token_invalid');
    const wrong = await post({ cookie: session.cookie, 'x-csrf-token': `${session.csrfToken.slice(0, -1)}x` }, 'csrf2@example.com');
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe('csrf_token_invalid');
    // Another session's token is wrong for this one.
    const otherSession = await signIn(api.url, owner);
    expect((await post({ cookie: session.cookie, 'x-csrf-token': otherSession.csrfToken }, 'csrf3@example.com')).status).toBe(403);

    expect((await post(session.headers, 'csrf4@example.com')).status).toBe(201);
    expect((await api.call('GET', '/api/v1/contacts?q=csrf', { key: null, headers: { cookie: session.cookie } })).body.data).toHaveLength(1);
    // GET /auth/session hands the same token back (a reloaded dashboard reads it there).
    expect((await sessionOf(session.cookie)).body.csrfToken).toBe(session.csrfToken);
  });

  it('needs no CSRF token with an API key, even when a cookie rides along', async () => {
    const session = await signIn(api.url, owner);
    expect((await api.call('POST', '/api/v1/contacts', { body: { email: 'key-write@example.com' } })).status).toBe(201);
    const both = await api.call('POST', '/api/v1/contacts', { headers: { cookie: session.cookie }, body: { email: 'key-and-cookie@example.com' } });
    expect(both.status).toBe(201);
  });

  it('refuses a cookie-authenticated write from another Origin, and sign-in from another Origin', async () => {
    const session = await signIn(api.url, owner);
    const foreign = await api.call('POST', '/api/v1/contacts', {
      key: null,
      headers: { ...session.headers, origin: 'https://evil.example' },
      body: { email: 'origin1@example.com' },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('origin_not_allowed');
    const own = await api.call('POST', '/api/v1/contacts', {
      key: null,
      headers: { ...session.headers, origin: api.url },
      body: { email: 'origin2@example.com' },
    });
    expect(own.status).toBe(201);
    // A read from another origin is harmless (SameSite=Lax and CORS keep its answer from that page).
    expect((await api.call('GET', '/api/v1/contacts', { key: null, headers: { cookie: session.cookie, origin: 'https://evil.example' } })).status).toBe(200);
    // API keys are not browsers' credentials: Origin does not matter.
    expect((await api.call('POST', '/api/v1/contacts', { headers: { origin: 'https://evil.example' }, body: { email: 'origin3@example.com' } })).status).toBe(201);

    const loginElsewhere = await login(owner.email, owner.password, api.url, { origin: 'https://evil.example' });
    expect(loginElsewhere.status).toBe(403);
    expect(loginElsewhere.body.error.code).toBe('origin_not_allowed');
  });
});

describe('roles', () => {
  it('lets a viewer read but not write', async () => {
    const viewer = await signIn(api.url, await createTestUser(api.db, api.siteA.id, 'viewer'));
    expect((await api.call('GET', '/api/v1/contacts', { key: null, headers: viewer.headers })).status).toBe(200);
    const post = await api.call('POST', '/api/v1/contacts', { key: null, headers: viewer.headers, body: { email: 'viewer@example.com' } });
    expect(post.status).toBe(403);
    expect(post.body.error).toEqual({ code: 'forbidden_role', message: 'This needs the editor role; you are a viewer' });
    expect((await api.call('DELETE', '/api/v1/contacts/1', { key: null, headers: viewer.headers })).status).toBe(403);
    expect((await api.call('GET', '/api/v1/api-keys', { key: null, headers: viewer.headers })).status).toBe(403);
    // POSTs that only compute (the template editor's preview, a campaign's audience count) are reads.
    const preview = await api.call('POST', '/api/v1/templates/preview', { key: null, headers: viewer.headers, body: { subject: 'Hi', html: '<p>Hi {{ firstName }}</p>' } });
    expect(preview.status).toBe(200);
    expect((await api.call('POST', '/api/v1/templates/999999/preview', { key: null, headers: viewer.headers })).status).toBe(404);
    expect((await api.call('POST', '/api/v1/campaigns/audience-count', { key: null, headers: viewer.headers, body: { listIds: [] } })).status).not.toBe(403);
    expect((await api.call('POST', '/api/v1/templates', { key: null, headers: viewer.headers, body: { name: 'x', subject: 'x', html: 'x' } })).status).toBe(403);
  });

  it('lets an editor do the daily work but not manage keys, users, sending configs or webhook endpoints', async () => {
    const editor = await signIn(api.url, await createTestUser(api.db, api.siteA.id, 'editor'));
    const as = (method: string, path: string, body?: unknown) => api.call(method, `/api/v1${path}`, { key: null, headers: editor.headers, body });
    expect((await as('POST', '/contacts', { email: 'editor@example.com' })).status).toBe(201);
    expect((await as('POST', '/lists', { name: 'Editors' })).status).toBe(201);
    expect((await as('GET', '/sending-configs')).status).toBe(200);

    const key = await as('POST', '/api-keys', { name: 'nope' });
    expect(key.status).toBe(403);
    expect(key.body.error.code).toBe('forbidden_role');
    expect((await as('GET', '/api-keys')).status).toBe(403);
    expect((await as('GET', '/users')).status).toBe(403);
    expect((await as('POST', '/users/invites', { role: 'viewer' })).status).toBe(403);
    expect((await as('POST', '/sending-configs', { name: 'x', provider: 'log', fromEmail: 'a@example.com' })).status).toBe(403);
    expect((await as('POST', '/webhook-endpoints', { url: 'https://example.com/hook' })).status).toBe(403);
    // The table folds case, trailing and repeated slashes the way the router does.
    expect((await as('POST', '/API-KEYS/', { name: 'nope' })).status).toBe(403);
  });

  it('lets an owner manage API keys', async () => {
    const session = await signIn(api.url, owner);
    const key = await api.call('POST', '/api/v1/api-keys', { key: null, headers: session.headers, body: { name: 'from the dashboard' } });
    expect(key.status).toBe(201);
    expect((await api.call('DELETE', `/api/v1/api-keys/${key.body.data.id}`, { key: null, headers: session.headers })).status).toBe(204);
  });

  it('rate-limits a session per user, apart from the site’s API keys', async () => {
    const limited = await secondApi({ RATE_LIMIT_PER_MINUTE: '2' });
    // Counts are shared by every API process on the database: a user and a key with no requests yet.
    const fresh = await createTestUser(api.db, api.siteA.id, 'viewer');
    const key = (await createApiKey(api.db, { siteId: api.siteA.id })).key;
    try {
      const session = await signIn(limited.server.url, fresh);
      const call = httpClient(limited.server.url);
      expect((await call('GET', '/api/v1/tags', { headers: { cookie: session.cookie } })).headers.get('x-ratelimit-remaining')).toBe('1');
      expect((await call('GET', '/api/v1/tags', { headers: { cookie: session.cookie } })).status).toBe(200);
      expect((await call('GET', '/api/v1/tags', { headers: { cookie: session.cookie } })).status).toBe(429);
      expect((await call('GET', '/api/v1/tags', { key })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('tenancy', () => {
  it('shows a user of site B nothing of site A', async () => {
    const contact = await api.call('POST', '/api/v1/contacts', { body: { email: 'site-a-only@example.com' } });
    expect(contact.status).toBe(201);
    const ownerB = await createTestUser(api.db, api.siteB.id, 'owner');
    const b = await signIn(api.url, ownerB);
    const read = await api.call('GET', `/api/v1/contacts/${contact.body.data.id}`, { key: null, headers: b.headers });
    expect(read.status).toBe(404);
    const users = await api.call('GET', '/api/v1/users', { key: null, headers: b.headers });
    expect(users.status).toBe(200);
    expect(users.body.data.map((u: { email: string }) => u.email)).toEqual([ownerB.email]);
    const mismatch = await api.call('GET', `/api/v1/users?siteId=${api.siteA.id}`, { key: null, headers: b.headers });
    expect(mismatch.status).toBe(403);
    expect((await api.call('PATCH', `/api/v1/users/${owner.id}`, { key: null, headers: b.headers, body: { name: 'x' } })).status).toBe(404);
    expect((await api.call('DELETE', `/api/v1/users/${owner.id}`, { key: null, headers: b.headers })).status).toBe(404);
  });
});
